#!/usr/bin/env python3
"""`suit serve` under bad input and crowds: the status of each answer, the
time a slow client is held, and the server's resident memory.

`suit serve` runs in front of an upstream that answers at once (see
`common.py`), so what is measured is suit's own handling:

- malformed JSON, wrong types, an unknown model, a body over the limit:
  each must get its 4xx in OpenAI's error shape;
- a client that sends its request one byte a second: how long suit keeps
  the connection, and what it answers;
- clients that vanish right after sending a streamed request;
- 1,000 connections at once, each sending one chat request: every answer
  must be 200 or 429 (the queue is bounded by `--max-queue`);
- resident memory (VmRSS, and the peak VmHWM) before, after the crowd, and
  at the end; the server must still answer.

usage: bench/serve/abuse.py [--suit PATH] [--connections 1000] [--slow-seconds 40]
Prints a line per check and, last, one JSON object with every figure.
Standard library only; Linux (reads /proc).
"""

import argparse
import asyncio
import json
import resource
import socket
import time

from common import start_instant_upstream, start_suit_in_front, stop


def memory_kib(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0])
    return fields


def raw_request(port, body, content_type="application/json", timeout=30):
    """Sends one POST /v1/chat/completions; returns (status, parsed body)."""
    head = (
        "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(head + body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # answered (413) before the whole body was read
        data = b""
        try:
            while chunk := s.recv(65536):
                data += chunk
        except ConnectionResetError:
            pass
    if not data:
        return 0, "no answer"
    status = int(data.split(b" ", 2)[1])
    payload = data.split(b"\r\n\r\n", 1)[1]
    try:
        return status, json.loads(payload)
    except ValueError:
        return status, payload[:200].decode(errors="replace")


def chat_body(**extra):
    body = {"model": "instant", "messages": [{"role": "user", "content": "hi"}]}
    body.update(extra)
    return json.dumps(body).encode()


def bad_inputs(port):
    cases = [
        ("malformed JSON", b'{"model": "instant", "messages": [', 400),
        ("wrong type", chat_body(max_tokens="ten"), 400),
        ("unknown model", chat_body(model="no-such-model"), 404),
        ("body over the limit", chat_body(pad="x" * (64 << 20)), 413),
    ]
    out = {}
    for name, body, expected in cases:
        status, payload = raw_request(port, body)
        shaped = isinstance(payload, dict) and "message" in payload.get("error", {})
        ok = status == expected and shaped
        print(f"{name:22} -> {status} (expected {expected}), OpenAI error shape: {shaped}")
        out[name] = {"status": status, "expected": expected, "ok": ok}
    return out


def slow_client(port, seconds):
    """Sends a request a byte a second; returns how it ended and when."""
    body = chat_body()
    request = (
        "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=seconds + 10) as s:
        s.settimeout(1.0)
        for i in range(len(request)):
            if time.monotonic() - start > seconds:
                return {"ended": "still open", "after_s": round(time.monotonic() - start, 1),
                        "bytes_sent": i}
            try:
                s.send(request[i:i + 1])
            except OSError as e:
                return {"ended": f"closed by the server ({e.__class__.__name__})",
                        "after_s": round(time.monotonic() - start, 1), "bytes_sent": i}
            try:
                data = s.recv(65536)
                if not data:
                    return {"ended": "closed by the server",
                            "after_s": round(time.monotonic() - start, 1), "bytes_sent": i + 1}
                status = int(data.split(b" ", 2)[1])
                return {"ended": f"answered {status}",
                        "after_s": round(time.monotonic() - start, 1), "bytes_sent": i + 1}
            except socket.timeout:
                pass
    return {"ended": "request completed", "after_s": round(time.monotonic() - start, 1)}


def vanishing_clients(port, count):
    """Streamed requests whose clients close the socket right after sending."""
    body = chat_body(stream=True)
    head = (
        "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    for _ in range(count):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(head + body)


async def crowd(port, connections):
    """`connections` sockets at once, each sending one chat request."""
    body = chat_body(max_tokens=16)
    request = (
        "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode() + body
    opened = asyncio.Event()
    ready = 0

    async def one():
        nonlocal ready
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError as e:
            return f"connect failed: {e.__class__.__name__}"
        ready += 1
        if ready == connections:
            opened.set()
        try:
            await asyncio.wait_for(opened.wait(), 60)
        except asyncio.TimeoutError:
            pass
        writer.write(request)
        await writer.drain()
        try:
            line = await asyncio.wait_for(reader.readline(), 120)
            await reader.read()
        except (asyncio.TimeoutError, OSError) as e:
            return f"no answer: {e.__class__.__name__}"
        finally:
            writer.close()
        parts = line.split(b" ", 2)
        return parts[1].decode() if len(parts) > 1 else f"bad status line {line!r}"

    start = time.monotonic()
    results = await asyncio.gather(*(one() for _ in range(connections)))
    counts = {}
    for r in results:
        counts[r] = counts.get(r, 0) + 1
    return counts, time.monotonic() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suit", default="target/release/suit")
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--slow-seconds", type=float, default=40)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4 * args.connections)), hard))

    upstream, upstream_port = start_instant_upstream()
    server, port = start_suit_in_front(args.suit, upstream_port)
    results = {}
    try:
        results["memory_start_kib"] = memory_kib(server.pid)
        results["bad_inputs"] = bad_inputs(port)
        results["slow_client"] = slow_client(port, args.slow_seconds)
        print(f"slow client (1 byte/s)  -> {results['slow_client']}")
        vanishing_clients(port, 200)
        results["memory_after_vanished_kib"] = memory_kib(server.pid)
        counts, took = asyncio.run(crowd(port, args.connections))
        results["crowd"] = {"connections": args.connections, "answers": counts,
                            "seconds": round(took, 2),
                            "only_200_or_429": set(counts) <= {"200", "429"}}
        print(f"{args.connections} connections at once -> {counts} in {took:.1f} s")
        results["memory_after_crowd_kib"] = memory_kib(server.pid)
        status, _ = raw_request(port, chat_body())
        results["answers_after"] = status
        results["alive"] = server.poll() is None and status == 200
        results["memory_end_kib"] = memory_kib(server.pid)
        for key in ("memory_start_kib", "memory_after_vanished_kib", "memory_after_crowd_kib",
                    "memory_end_kib"):
            m = results[key]
            print(f"{key:26} VmRSS {m['VmRSS'] / 1024:.1f} MiB, peak {m['VmHWM'] / 1024:.1f} MiB")
        print(f"still serving afterwards: {results['alive']}")
        print(json.dumps(results))
    finally:
        stop(server)
        upstream.shutdown()


if __name__ == "__main__":
    main()
