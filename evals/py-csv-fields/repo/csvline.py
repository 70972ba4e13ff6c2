"""Split one line of CSV into fields (a small subset of RFC 4180)."""


def split_fields(line, sep=","):
    """Split `line` on `sep`, honouring double-quoted fields.

    'a,"b,c",d' -> ['a', 'b,c', 'd']. Inside quotes, a doubled quote ""
    stands for one literal quote character.
    """
    fields = []
    current = []
    in_quotes = False
    i = 0
    while i < len(line):
        ch = line[i]
        if in_quotes:
            if ch == '"':
                in_quotes = False
            else:
                current.append(ch)
        elif ch == '"':
            in_quotes = True
        elif ch == sep:
            fields.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    if in_quotes:
        raise ValueError("unterminated quoted field")
    fields.append("".join(current))
    return fields
