"""wordcount: count lines, words and characters of a file (or stdin)."""

import argparse
import sys


def counts(text):
    return len(text.splitlines()), len(text.split()), len(text)


def main(argv=None, stdin=None, stdout=None):
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    parser = argparse.ArgumentParser(prog="wordcount")
    parser.add_argument("file", nargs="?", help="input file (default: stdin)")
    args = parser.parse_args(argv)
    if args.file:
        with open(args.file, encoding="utf-8") as f:
            text = f.read()
    else:
        text = stdin.read()
    stdout.write("%d %d %d\n" % counts(text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
