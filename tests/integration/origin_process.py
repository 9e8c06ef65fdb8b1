"""A minimal HTTP/1.1 keep-alive origin as its own process, for tests that must kill an origin (SIGKILL) and start
it again on the same port: `python3 origin_process.py NAME PORT` (PORT 0 = any); prints "listening PORT" once
ready. Every response carries `X-Origin: NAME`; /healthz answers 200."""

import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = self.server.origin_name.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Origin", self.server.origin_name)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True  # the restarted origin binds the port its killed predecessor held

    def server_bind(self):
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        super().server_bind()


def main():
    name, port = sys.argv[1], int(sys.argv[2])
    server = Server(("127.0.0.1", port), Handler)
    server.origin_name = name
    print(f"listening {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
