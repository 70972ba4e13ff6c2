"""Merging nested dicts, for layered configuration."""


def deep_merge(base, override):
    """A new dict: `base` with `override` laid over it.

    Where both have a dict under the same key, the two are merged key by key
    (at any depth); any other value in `override` replaces the one in
    `base`. Neither argument is modified.
    """
    result = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _merge_into(result[key], value)
        else:
            result[key] = value
    return result


def _merge_into(target, source):
    for key, value in source.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge_into(target[key], value)
        else:
            target[key] = value
    return target


def flatten(config, prefix=""):
    """{'a': {'b': 1}, 'c': 2} -> {'a.b': 1, 'c': 2}"""
    flat = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, name + "."))
        else:
            flat[name] = value
    return flat
