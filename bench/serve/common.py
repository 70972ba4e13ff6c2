"""What the `suit serve` benchmarks share: an OpenAI-compatible upstream
that answers every chat request at once with a canned completion (whole, or
as server-sent events when the request streams), and `suit serve` started in
front of it, so that what is measured is suit itself. Standard library.
"""

import json
import os
import socket
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPLY_TEXT = "Hello! How can I help you today?"


class Instant(BaseHTTPRequestHandler):
    """A canned chat completion, whole or as server-sent events."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without this, Nagle's
    # algorithm holds the body until the client's delayed ACK (40 ms).
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        usage = {"prompt_tokens": 12, "completion_tokens": 9, "total_tokens": 21}
        if body.get("stream"):
            chunks = [
                {"choices": [{"index": 0, "delta": {"role": "assistant", "content": REPLY_TEXT},
                              "finish_reason": None}]},
                {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
                {"choices": [], "usage": usage},
            ]
            payload = "".join(
                "data: " + json.dumps(dict(c, id="c1", object="chat.completion.chunk",
                                           created=0, model="instant")) + "\n\n"
                for c in chunks
            ) + "data: [DONE]\n\n"
            content_type = "text/event-stream"
        else:
            payload = json.dumps({
                "id": "c1", "object": "chat.completion", "created": 0, "model": "instant",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": REPLY_TEXT}}],
                "usage": usage,
            })
            content_type = "application/json"
        data = payload.encode()
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)



def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_instant_upstream():
    """Serves `Instant` on a free loopback port in a daemon thread; returns
    the server and its port."""
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Instant)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, port


def start_suit_in_front(suit, upstream_port, extra_args=()):
    """`suit serve` on a free loopback port with the upstream as its only
    backend (`up`), in a fresh SUIT_HOME; returns the process and its port
    once it accepts connections."""
    workdir = tempfile.mkdtemp(prefix="suit-serve-bench-")
    config = os.path.join(workdir, "suit.toml")
    with open(config, "w") as f:
        f.write(
            "[backends.up]\nkind = \"openai\"\n"
            f"base_url = \"http://127.0.0.1:{upstream_port}/v1\"\nmodel = \"instant\"\n"
        )
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("SUIT_KEYS", "SUIT_API_KEY")}
    env["SUIT_HOME"] = workdir
    process = subprocess.Popen(
        [suit, "serve", "--addr", f"127.0.0.1:{port}", "--config", config, "--backend", "up",
         *extra_args],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.time() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, port
        except OSError:
            if process.poll() is not None or time.time() > deadline:
                process.kill()
                raise SystemExit(f"suit serve did not start: {process.stderr.read()}")
            time.sleep(0.2)


def stop(process):
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
