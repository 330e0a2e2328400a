#!/usr/bin/env python3
"""A fake helpdesk for the connector tests (SPEC §17): it receives the outbox's deliveries on
127.0.0.1 and records each one, checking its Standard Webhooks signature itself.

    fake_helpdesk.py --secret-file FILE

Prints "listening on PORT" once it accepts. Every POST to any path other than /control is a
delivery: it is recorded (method, path, headers, body, whether the signature verifies, the time)
and answered by the next step of the script, or 200 when the script is empty. Steps:
    "200", "503", "400", ...   answer with that status
    "429:N"                    429 with Retry-After: N
    "timeout:S"                read the request, then say nothing for S seconds and close
POST /control {"script": [...]} replaces the script; GET /control answers
{"deliveries": [...], "script": [...]}. Standard library only.
"""
import argparse
import base64
import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
script = []
deliveries = []
key = b""


def verify(headers, body):
    msg_id = headers.get("webhook-id", "")
    ts = headers.get("webhook-timestamp", "")
    expected = base64.b64encode(
        hmac.new(key, msg_id.encode() + b"." + ts.encode() + b"." + body, hashlib.sha256).digest()).decode()
    given = [s.split(",", 1)[1] for s in headers.get("webhook-signature", "").split(" ") if s.startswith("v1,")]
    return any(hmac.compare_digest(expected, g) for g in given)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body=b"{}", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        with lock:
            out = json.dumps({"deliveries": deliveries, "script": script}).encode()
        self.reply(200, out)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path == "/control":
            with lock:
                script[:] = json.loads(body)["script"]
            self.reply(200)
            return
        with lock:
            step = script.pop(0) if script else "200"
            deliveries.append({
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode("utf-8", "replace"),
                "signature_ok": verify({k.lower(): v for k, v in self.headers.items()}, body),
                "at": time.time(),
                "answer": step,
            })
        if step.startswith("timeout:"):
            time.sleep(float(step.split(":", 1)[1]))
            self.close_connection = True
            return
        if step.startswith("429:"):
            self.reply(429, extra=[("Retry-After", step.split(":", 1)[1])])
            return
        self.reply(int(step))


def main():
    global key
    p = argparse.ArgumentParser()
    p.add_argument("--secret-file", required=True)
    args = p.parse_args()
    secret = open(args.secret_file).read().strip()
    key = base64.b64decode(secret[len("whsec_"):]) if secret.startswith("whsec_") else secret.encode()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print("listening on %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
