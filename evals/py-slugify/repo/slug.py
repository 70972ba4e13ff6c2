"""URL slugs for blog post titles."""

import re


def slugify(title, max_length=60):
    """'Hello, World!' -> 'hello-world'.

    Accented letters lose their accents ('Crème brûlée' -> 'creme-brulee');
    every other run of characters that are not ASCII letters or digits
    becomes a single dash. The slug is cut to at most `max_length` characters
    and never starts or ends with a dash.
    """
    slug = title.lower()
    slug = re.sub(r"[^a-z0-9]+", "-", slug)
    slug = slug.strip("-")
    return slug[:max_length].rstrip("-")


def unique_slug(title, taken):
    """slugify(title), with -2, -3, ... appended until it is not in `taken`."""
    base = slugify(title)
    slug, n = base, 2
    while slug in taken:
        slug = f"{base}-{n}"
        n += 1
    return slug
