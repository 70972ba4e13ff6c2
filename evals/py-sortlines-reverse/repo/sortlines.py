"""sortlines: print the lines of a file (or stdin) in sorted order."""

import argparse
import sys


def build_parser():
    parser = argparse.ArgumentParser(prog="sortlines")
    parser.add_argument("file", nargs="?", help="input file (default: stdin)")
    parser.add_argument("-n", "--numeric", action="store_true", help="compare lines as numbers")
    parser.add_argument("-u", "--unique", action="store_true", help="drop repeated lines")
    return parser


def sort_lines(lines, numeric=False, unique=False):
    if unique:
        lines = list(dict.fromkeys(lines))
    key = float if numeric else None
    return sorted(lines, key=key)


def main(argv=None, stdin=None, stdout=None):
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    args = build_parser().parse_args(argv)
    if args.file:
        with open(args.file, encoding="utf-8") as f:
            text = f.read()
    else:
        text = stdin.read()
    for line in sort_lines(text.splitlines(), numeric=args.numeric, unique=args.unique):
        stdout.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
