"""Runs `suit complete` on function bodies taken out of real Python files.

For each chosen function (2-12 body lines, in a file of 30-300 lines), the
body is replaced by an empty line indented like it, the cursor is put there,
and `suit complete FILE:LINE:COL` is timed. The completion "ends in the block"
when none of its lines is indented less than the body and the file with it
inserted still parses. Prints one line per cursor and a JSON summary last.
"""

import ast
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

source_dir, model, count, max_tokens = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
suit = os.environ["SUIT_BIN"]


def candidates():
    for path in sorted(pathlib.Path(source_dir).rglob("*.py")):
        if {"test", "tests", "site-packages", "dist-packages", "idlelib"} & set(path.parts):
            continue
        try:
            text = path.read_text(encoding="utf-8")
            tree = ast.parse(text)
        except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
            continue
        lines = text.splitlines(keepends=True)
        if not 30 <= len(lines) <= 300:
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef) or not node.body:
                continue
            first, last = node.body[0], node.body[-1]
            if isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None), ast.Constant):
                continue  # keep it simple: bodies without a docstring
            start, end = first.lineno, last.end_lineno
            if 2 <= end - start + 1 <= 12 and node.lineno < start:
                yield path, lines, node, start, end
                break  # one function per file


chosen = list(candidates())
step = max(1, len(chosen) // count)
chosen = chosen[::step][:count]
rows = []
with tempfile.TemporaryDirectory() as work:
    for path, lines, node, start, end in chosen:
        indent = len(lines[start - 1]) - len(lines[start - 1].lstrip())
        body = "".join(lines[start - 1:end])
        cut = lines[:start - 1] + [" " * indent + "\n"] + lines[end:]
        target = pathlib.Path(work) / path.name
        target.write_text("".join(cut))
        at = f"{target}:{start}:{indent + 1}"
        began = time.monotonic()
        out = subprocess.run([suit, "complete", at, "--model", model, "--max-tokens", max_tokens],
                             capture_output=True, text=True)
        secs = time.monotonic() - began
        if out.returncode != 0:
            print(f"{path.name}: suit failed: {out.stderr.strip()}", file=sys.stderr)
            rows.append({"file": path.name, "ok": False, "secs": secs, "error": out.stderr[-300:]})
            continue
        insertion = out.stdout[:-1] if out.stdout.endswith("\n") else out.stdout
        outside = [l for l in insertion.splitlines()[1:] if l.strip()
                   and len(l) - len(l.lstrip()) < indent]
        filled = "".join(lines[:start - 1]) + " " * indent + insertion + "\n" + "".join(lines[end:])
        try:
            ast.parse(filled)
            parses = True
        except SyntaxError:
            parses = False
        in_block = not outside and parses and insertion.strip() != ""
        rows.append({"file": path.name, "function": node.name, "ok": in_block, "secs": secs,
                     "lines": len(insertion.splitlines()), "original_lines": body.count("\n"),
                     "parses": parses, "leaves_block": bool(outside)})
        print(f"{path.name:<24} {node.name:<24} {secs:6.1f} s  {len(insertion.splitlines()):2} lines "
              f"(original {body.count(chr(10))})  {'in block' if in_block else 'NOT in block'}"
              f"{'' if parses else ', does not parse'}", file=sys.stderr)

secs = [r["secs"] for r in rows]
print(json.dumps({
    "model": model,
    "cursors": len(rows),
    "ended_in_block": sum(r["ok"] for r in rows),
    "share_in_block": sum(r["ok"] for r in rows) / max(1, len(rows)),
    "median_secs": statistics.median(secs) if secs else None,
    "rows": rows,
}))
