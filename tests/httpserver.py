"""A real local HTTP server for capture tests: a folder served with ETags and byte ranges
(as object stores and CDNs serve files), in a thread of the test process."""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def _served(self) -> tuple[Path, bytes] | None:
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404)
            return None
        return path, path.read_bytes()

    def _headers(self, path: Path, data: bytes, status: int, length: int) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length))
        self.send_header("ETag", '"' + hashlib.md5(data).hexdigest() + '"')
        self.send_header("Last-Modified", self.date_time_string(int(os.stat(path).st_mtime)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()

    def do_HEAD(self) -> None:
        served = self._served()
        if served is not None:
            self._headers(*served, 200, len(served[1]))

    def do_GET(self) -> None:
        served = self._served()
        if served is None:
            return
        path, data = served
        self.server.gets += 1  # type: ignore[attr-defined]
        ranged = self.headers.get("Range", "")
        if ranged.startswith("bytes="):
            start_text, _, end_text = ranged[6:].partition("-")
            start = int(start_text or 0)
            end = min(int(end_text) if end_text else len(data) - 1, len(data) - 1)
            body = data[start : end + 1]
            self._headers(path, data, 206, len(body))
            self.wfile.write(body)
            return
        self._headers(path, data, 200, len(data))
        self.wfile.write(data)

    def _upload(self, status: int) -> None:
        """PUT stores the body at the path (served by later GETs); POST keeps it in
        ``server.uploads``. Both answer with the ETag of what arrived."""
        length = int(self.headers.get("Content-Length") or 0)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            body = b"".join(chunks)
        else:
            body = self.rfile.read(length)
        self.server.uploads.append((self.command, self.path, body))  # type: ignore[attr-defined]
        if self.command == "PUT":
            target = Path(self.translate_path(self.path))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
        self.send_response(status)
        self.send_header("ETag", '"' + hashlib.md5(body).hexdigest() + '"')
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def do_PUT(self) -> None:
        self._upload(201)

    def do_POST(self) -> None:
        self._upload(200)


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[tuple[str, http.server.ThreadingHTTPServer]]:
    """``http://127.0.0.1:PORT`` serving ``folder``; the server counts the GETs it answered and
    keeps what was uploaded to it (``uploads``: method, path, body)."""
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), lambda *a: _Handler(*a, directory=str(folder))
    )
    server.gets = 0  # type: ignore[attr-defined]
    server.uploads = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server
    finally:
        server.shutdown()
        server.server_close()
