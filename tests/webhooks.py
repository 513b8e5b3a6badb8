"""A real HTTP server standing in for a customer's webhook target."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.conftest import free_port


class WebhookReceiver:
    """Records what it receives (headers and body) and answers 204, after `delay` seconds if given;
    `first_request` is set when the first request arrives."""

    def __init__(self, delay: float = 0.0):
        self.port = free_port()
        self.delay = delay
        self.requests: list[tuple[dict, bytes]] = []
        self.first_request = threading.Event()
        self.server = None

    def start(self) -> "WebhookReceiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                receiver.first_request.set()
                time.sleep(receiver.delay)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"
