#!/usr/bin/env python3
"""The latency `suit serve` adds in front of an upstream server.

An upstream OpenAI-compatible server that answers at once (a canned chat
completion, streamed or whole) runs on loopback. The same client sends the
same requests to it directly and through `suit serve` configured with it as
its only backend, alternating in rounds so that both see the same machine.
The difference of the latency percentiles is what suit adds: parsing,
routing, metering, the upstream call (suit always streams from upstream)
and re-encoding the reply.

usage: bench/serve/proxy.py [--suit PATH] [--requests 2000] [--rounds 4]
Prints a line per path and, last, one JSON object with every figure.
Standard library only.
"""

import argparse
import http.client
import json
import statistics
import time

from common import REPLY_TEXT, start_instant_upstream, start_suit_in_front, stop


def timed_requests(port, n, stream):
    """Latencies in ms of `n` chat requests on one keep-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps({
        "model": "instant",
        "messages": [{"role": "user", "content": "Say hello."}],
        "max_tokens": 16,
        "stream": stream,
    })
    headers = {"Content-Type": "application/json", "Authorization": "Bearer unused"}
    out = []
    for _ in range(n):
        start = time.perf_counter()
        conn.request("POST", "/v1/chat/completions", body, headers)
        response = conn.getresponse()
        data = response.read()
        out.append((time.perf_counter() - start) * 1000)
        if response.status != 200 or REPLY_TEXT.split()[0].encode() not in data:
            raise SystemExit(f"bad reply on port {port}: {response.status} {data[:200]!r}")
    conn.close()
    return out


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suit", default="target/release/suit")
    parser.add_argument("--requests", type=int, default=2000, help="per path and mode, in all")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()

    upstream, upstream_port = start_instant_upstream()

    server, suit_port = start_suit_in_front(args.suit, upstream_port)
    try:
        results = {}
        for stream in (False, True):
            mode = "stream" if stream else "whole"
            # Warm both paths (connections, caches), then alternate rounds.
            timed_requests(upstream_port, 50, stream)
            timed_requests(suit_port, 50, stream)
            direct, proxied = [], []
            per_round = max(1, args.requests // args.rounds)
            for _ in range(args.rounds):
                direct += timed_requests(upstream_port, per_round, stream)
                proxied += timed_requests(suit_port, per_round, stream)
            figures = {}
            for name, xs in (("direct", direct), ("suit", proxied)):
                figures[name] = {"p50_ms": percentile(xs, 50), "p99_ms": percentile(xs, 99),
                                 "mean_ms": statistics.fmean(xs), "requests": len(xs)}
                print(f"{mode:6} {name:6} p50 {figures[name]['p50_ms']:.3f} ms  "
                      f"p99 {figures[name]['p99_ms']:.3f} ms  ({len(xs)} requests)")
            figures["added_p50_ms"] = figures["suit"]["p50_ms"] - figures["direct"]["p50_ms"]
            figures["added_p99_ms"] = figures["suit"]["p99_ms"] - figures["direct"]["p99_ms"]
            print(f"{mode:6} added  p50 {figures['added_p50_ms']:.3f} ms  "
                  f"p99 {figures['added_p99_ms']:.3f} ms")
            results[mode] = figures
        print(json.dumps(results))
    finally:
        stop(server)
        upstream.shutdown()


if __name__ == "__main__":
    main()
