#!/usr/bin/env python3
"""A riptide backend written with Python's standard library only.

riptide POSTs connections and events to it (backend.url, signed with backend.secret); it
answers with JSON. Run: backend.py SECRET; it prints {"port": N} on its first line and
serves until stdin closes. Connect: auth {"token": "user:<name>"} is that user; events:
"echo" acks its arguments, "whoami" acks the user, anything else is refused.
"""
import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = sys.argv[1].encode()


def verify(headers, body):
    """The signature check of docs/tier.md: HMAC-SHA256 over "timestamp.body"."""
    ts = headers.get("X-Riptide-Timestamp", "")
    sig = headers.get("X-Riptide-Signature", "")
    if not ts.isdigit() or abs(time.time() - int(ts)) > 300:
        return False
    want = "v1=" + hmac.new(SECRET, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(sig, want)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if not verify(self.headers, body):
            return self.reply(401, {"error": {"code": "BAD_SIGNATURE", "message": "bad signature"}})
        req = json.loads(body)
        kind = self.headers.get("X-Riptide-Kind")
        if kind == "connect":
            token = (req.get("auth") or {}).get("token", "")
            if not token.startswith("user:"):
                return self.reply(200, {"error": {"code": "PY_AUTH", "message": "who are you?"}})
            return self.reply(200, {"user": token[5:], "data": {"backend": "python"}})
        if kind == "event":
            if req["event"] == "echo":
                return self.reply(200, {"ack": req["args"]})
            if req["event"] == "whoami":
                return self.reply(200, {"ack": [req["socket"]["user"]]})
            return self.reply(200, {"error": {"code": "PY_UNKNOWN", "message": "unknown event"}})
        return self.reply(200, {})


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(json.dumps({"port": server.server_address[1]}), flush=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
sys.stdin.read()  # the test closes stdin to stop it
