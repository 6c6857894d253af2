# STAND-IN for Immich machine learning, used only by the harness: answers GET /ping with "pong"
# on IMMICH_HOST/IMMICH_PORT, as `python -m immich_ml` does.
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"pong" if self.path == "/ping" else b'{"message":"Immich ML"}'
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


host = os.environ.get("IMMICH_HOST", "127.0.0.1").strip("[]")
port = int(os.environ.get("IMMICH_PORT", "3003"))
server = ThreadingHTTPServer((host, port), Handler)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
print(f"immich_ml stand-in listening on {host}:{port}", flush=True)
server.serve_forever()
