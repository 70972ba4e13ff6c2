#!/usr/bin/env python3
"""Fair sharing of `suit serve` among keys, against arrival order.

Four keys keep the server backlogged; one of them ("heavy") sends four times
as many requests at once as each of the others. For each scheduling mode
(`fair_share = false`: arrival order; `true`: least-served key first) the
script starts `suit serve` on the same model, runs the load for a fixed
time, and reads the tokens each key was served from `GET /v1/usage`.
Jain's fairness index over those tokens is 1 when every key got the same
and 1/4 when one key got everything.

usage: bench/serve/fairness.py [--suit PATH] [--model NAME] [--seconds 120]
                               [--parallel 4] [--max-tokens 48]
Prints a line per mode and, last, one JSON object with every figure.
Standard library only.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

KEYS = {"heavy": 16, "a": 4, "b": 4, "c": 4}  # concurrent request loops per key
ADMIN = "sk-bench-admin"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url, key, body, timeout=600):
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


def get(url, key):
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def jain(xs):
    squares = sum(x * x for x in xs)
    return 1.0 if squares == 0 else sum(xs) ** 2 / (len(xs) * squares)


def run_mode(args, fair, workdir):
    env = dict(os.environ, SUIT_KEYS=os.path.join(workdir, f"keys-{fair}.db"))
    secrets = {}
    for name in KEYS:
        out = subprocess.run(
            [args.suit, "keys", "add", name], env=env, check=True, capture_output=True, text=True
        )
        secrets[name] = out.stdout.strip()
    config = os.path.join(workdir, f"suit-{fair}.toml")
    with open(config, "w") as f:
        f.write(
            "[backends.local]\nkind = \"embedded\"\n"
            f"model = \"{args.model}\"\nparallel = {args.parallel}\n"
            f"fair_share = {'true' if fair else 'false'}\nprompt_cache = false\n"
        )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [args.suit, "serve", "--addr", f"127.0.0.1:{port}", "--config", config,
         "--api-key", ADMIN, "--max-queue", "256"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.time() + 600
        while True:
            try:
                get(f"{base}/healthz", ADMIN)
                break
            except (urllib.error.URLError, ConnectionError):
                if server.poll() is not None or time.time() > deadline:
                    raise SystemExit(f"suit serve did not start: {server.stderr.read()}")
                time.sleep(0.5)
        model = get(f"{base}/v1/models", ADMIN)["data"][0]["id"]
        stop = threading.Event()
        errors = []

        def loop(name, i):
            n = 0
            while not stop.is_set():
                n += 1
                body = {
                    "model": model,
                    "messages": [{"role": "user", "content":
                                  f"Request {name}-{i}-{n}. Write a short poem about the sea."}],
                    "max_tokens": args.max_tokens,
                    "temperature": 0.8,
                    "seed": n,
                }
                try:
                    post(f"{base}/v1/chat/completions", secrets[name], body)
                except Exception as e:  # a failure is a finding: report it
                    errors.append(f"{name}: {e}")
                    time.sleep(1)

        threads = [threading.Thread(target=loop, args=(name, i), daemon=True)
                   for name, count in KEYS.items() for i in range(count)]
        # Warm up until every key has had a reply, then measure a window.
        for t in threads:
            t.start()
        time.sleep(10)
        before = {e["name"]: e for e in get(f"{base}/v1/usage", ADMIN)["data"]}
        time.sleep(args.seconds)
        after = {e["name"]: e for e in get(f"{base}/v1/usage", ADMIN)["data"]}
        stop.set()
        served = {
            name: (after[name]["completion_tokens"] - before[name]["completion_tokens"])
            for name in KEYS
        }
        prompt = {
            name: (after[name]["prompt_tokens"] - before[name]["prompt_tokens"]) for name in KEYS
        }
        return {"completion_tokens": served, "prompt_tokens": prompt,
                "jain": jain(list(served.values())), "errors": errors[:5],
                "error_count": len(errors)}
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suit", default="target/release/suit")
    parser.add_argument("--model", default="qwen2.5-coder-0.5b-instruct-q4_k_m")
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=48)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as workdir:
        for fair in (False, True):
            mode = "fair" if fair else "fifo"
            r = run_mode(args, fair, workdir)
            results[mode] = r
            print(f"{mode}: tokens served {r['completion_tokens']}, Jain {r['jain']:.3f}, "
                  f"{r['error_count']} errors", file=sys.stderr)
    print(json.dumps({"model": args.model, "seconds": args.seconds, "parallel": args.parallel,
                      "load": KEYS, **results}))


if __name__ == "__main__":
    main()
