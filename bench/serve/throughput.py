#!/usr/bin/env python3
"""`suit serve` against llama.cpp's `llama-server` and llama-cpp-python's
server: the same GGUF, the same threads, on loopback, with 1 and with 4
clients at once.

Each client loops for a fixed window: a streamed chat request (a different
short coding prompt each time, the same sequence for every server), greedy,
at most `--max-tokens` tokens. Per request it records the time to the first
content chunk, the whole latency and the completion tokens (from the usage
chunk, or the number of content chunks when a server sends none). Per server
and client count it reports the aggregate completion tokens/s over the
window, TTFT and latency p50/p99, and the ratios of suit to the others.

usage: bench/serve/throughput.py [--suit PATH] [--llama-server PATH]
           [--llama-cpp-python PYTHON] [--model NAME] [--threads 2]
           [--clients 1,4] [--seconds 60] [--max-tokens 128]
A server whose flag is not given is left out. Prints a line per run and,
last, one JSON object with every figure. Standard library only.
"""

import argparse
import http.client
import json
import os
import subprocess
import tempfile
import threading
import time

from common import free_port, stop

TASKS = [
    "reverses a string", "checks whether a number is prime", "merges two sorted lists",
    "counts the words in a text", "parses a date in ISO format", "flattens a nested list",
    "computes a moving average", "removes duplicates keeping order", "converts Celsius to Fahrenheit",
    "finds the longest common prefix", "validates an email address", "computes a factorial",
    "transposes a matrix", "groups items by a key", "chunks a list into pieces",
    "capitalizes each word", "computes the median", "rotates a list by k",
    "finds the second largest number", "checks balanced brackets",
]


def prompt(n):
    return f"Request {n}. Write a short Python function that {TASKS[n % len(TASKS)]}."


def wait_ready(port, process, log, seconds=600):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise SystemExit(f"server exited: {log.read()[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/v1/models")
            response = conn.getresponse()
            body = response.read()
            if response.status == 200:
                return json.loads(body)["data"][0]["id"]
        except (OSError, ValueError, KeyError, IndexError):
            pass
        time.sleep(0.5)
    raise SystemExit("server did not become ready")


def one_request(port, model, n, max_tokens):
    """One streamed chat request: (ttft s, latency s, completion tokens)."""
    body = json.dumps({
        "model": model,
        "messages": [{"role": "user", "content": prompt(n)}],
        "max_tokens": max_tokens,
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
    })
    start = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.request("POST", "/v1/chat/completions", body,
                 {"Content-Type": "application/json", "Authorization": "Bearer unused"})
    response = conn.getresponse()
    if response.status != 200:
        raise RuntimeError(f"HTTP {response.status}: {response.read()[:200]!r}")
    ttft, chunks, usage = None, 0, None
    for raw in response:
        line = raw.decode().strip()
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        event = json.loads(line[6:])
        if event.get("usage"):
            usage = event["usage"].get("completion_tokens")
        for choice in event.get("choices", []):
            if choice.get("delta", {}).get("content"):
                chunks += 1
                if ttft is None:
                    ttft = time.perf_counter() - start
    conn.close()
    latency = time.perf_counter() - start
    return ttft if ttft is not None else latency, latency, usage if usage else chunks


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] if xs else None


def load(port, model, clients, seconds, max_tokens):
    """`clients` loops for `seconds`; figures of the requests that ended in it."""
    records, errors = [], []
    lock = threading.Lock()
    counter = iter(range(10**9))
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()

    def loop():
        while time.perf_counter() < deadline:
            with lock:
                n = next(counter)
            try:
                ttft, latency, tokens = one_request(port, model, n, max_tokens)
            except Exception as e:  # a failure is a finding: report it
                with lock:
                    errors.append(str(e))
                continue
            if time.perf_counter() <= deadline:
                with lock:
                    records.append((ttft, latency, tokens))

    threads = [threading.Thread(target=loop) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    window = time.perf_counter() - started
    tokens = sum(r[2] for r in records)
    return {
        "clients": clients, "requests": len(records), "completion_tokens": tokens,
        "tokens_per_s": tokens / window,
        "ttft_p50_s": percentile([r[0] for r in records], 50),
        "ttft_p99_s": percentile([r[0] for r in records], 99),
        "latency_p50_s": percentile([r[1] for r in records], 50),
        "latency_p99_s": percentile([r[1] for r in records], 99),
        "errors": len(errors), "first_error": errors[0] if errors else None,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suit", default="target/release/suit")
    parser.add_argument("--llama-server", help="path of llama.cpp's llama-server")
    parser.add_argument("--llama-cpp-python", help="a python with llama-cpp-python[server]")
    parser.add_argument("--model", default="qwen2.5-coder-1.5b-instruct-q4_k_m")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--clients", default="1,4")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--max-tokens", type=int, default=128)
    args = parser.parse_args()
    clients = [int(c) for c in args.clients.split(",")]
    gguf = subprocess.run([args.suit, "models", "path", args.model], check=True,
                          capture_output=True, text=True).stdout.strip()
    workdir = tempfile.mkdtemp(prefix="suit-throughput-")
    slots = max(clients)
    ctx_per_slot = 2048

    servers = {}
    config = os.path.join(workdir, "suit.toml")
    with open(config, "w") as f:
        f.write(f"[backends.local]\nkind = \"embedded\"\nmodel = \"{gguf}\"\n"
                f"threads = {args.threads}\nparallel = {slots}\n"
                f"ctx_size = {ctx_per_slot * slots}\n"
                "prompt_cache = false\n")
    servers["suit"] = lambda port: [args.suit, "serve", "--addr", f"127.0.0.1:{port}",
                                    "--config", config, "--backend", "local"]
    if args.llama_server:
        servers["llama-server"] = lambda port: [
            args.llama_server, "-m", gguf, "-t", str(args.threads), "-np", str(slots),
            "-c", str(ctx_per_slot * slots), "--host", "127.0.0.1", "--port", str(port)]
    if args.llama_cpp_python:
        servers["llama-cpp-python"] = lambda port: [
            args.llama_cpp_python, "-m", "llama_cpp.server", "--model", gguf,
            "--n_threads", str(args.threads), "--n_ctx", str(ctx_per_slot),
            # By default a new request cancels the one being decoded (its
            # client gets an empty reply); without that, requests queue.
            "--interrupt_requests", "False",
            "--host", "127.0.0.1", "--port", str(port)]

    env = {k: v for k, v in os.environ.items() if k not in ("SUIT_KEYS", "SUIT_API_KEY")}
    env["SUIT_HOME"] = workdir
    results = {}
    for name, command in servers.items():
        port = free_port()
        # Logs go to a file: a pipe nobody reads fills up (llama-cpp-python
        # logs every request) and blocks the server mid-run.
        log = open(os.path.join(workdir, f"{name}.log"), "w+")
        process = subprocess.Popen(command(port), env=env, stdout=subprocess.DEVNULL,
                                   stderr=log, text=True)
        try:
            model = wait_ready(port, process, log)
            one_request(port, model, 10**6, 8)  # warm-up: weights paged in
            results[name] = {}
            for c in clients:
                figures = load(port, model, c, args.seconds, args.max_tokens)
                results[name][str(c)] = figures
                print(f"{name:17} {c} client(s): {figures['tokens_per_s']:6.1f} tokens/s, "
                      f"TTFT p50 {figures['ttft_p50_s']:.2f} s p99 {figures['ttft_p99_s']:.2f} s, "
                      f"latency p50 {figures['latency_p50_s']:.2f} s, "
                      f"{figures['requests']} requests, {figures['errors']} errors", flush=True)
        finally:
            stop(process)
            log.close()
    ratios = {}
    for other in ("llama-server", "llama-cpp-python"):
        if other in results:
            ratios[other] = {c: results["suit"][c]["tokens_per_s"] / results[other][c]["tokens_per_s"]
                             for c in results["suit"] if results[other][c]["tokens_per_s"] > 0}
            for c, r in ratios[other].items():
                print(f"suit / {other} at {c} client(s): {r:.2f}x tokens/s")
    print(json.dumps({"model": args.model, "threads": args.threads, "seconds": args.seconds,
                      "max_tokens": args.max_tokens, "results": results, "ratios": ratios}))


if __name__ == "__main__":
    main()
