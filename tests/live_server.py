"""The application behind a real socket on 127.0.0.1, served from a thread of the test process
(browser tests, and gateways such as Kannel that call the application back)."""
from __future__ import annotations

import threading
import traceback

from werkzeug.serving import WSGIRequestHandler, make_server


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # one line per request would drown pytest's output
        pass


class LiveServer:
    """The app behind a real socket; remembers exceptions raised while serving a page."""

    def __init__(self, app, port: int = 0):
        self.app = app
        self.errors: list[str] = []
        self._server = make_server("127.0.0.1", port, self._wsgi, threaded=True, request_handler=_QuietHandler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="live-server", daemon=True)

    def _wsgi(self, environ, start_response):
        try:
            return self.app.wsgi_app(environ, start_response)
        except Exception:
            path = environ.get("PATH_INFO", "")
            self.errors.append(f"{environ.get('REQUEST_METHOD')} {path}\n{traceback.format_exc()}")
            start_response("500 INTERNAL SERVER ERROR", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"server error (see the test failure)"]

    def start(self):
        self._thread.start()

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
