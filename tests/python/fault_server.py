"""A static HTTP file server on 127.0.0.1 that misbehaves on purpose, for
wikitok's fault tests: it serves a directory (with HTML index pages, like
Wikimedia's dump site and `python -m http.server`) and, on request,

  --cut-every N --cut-after BYTES   closes every Nth body GET after BYTES of it
  --fail-every M [--fail-status S]  answers every Mth request with S (503)
  --fail-always                     answers every request after discovery with S
  --stall-every K --stall-seconds T stops sending every Kth body after BYTES for T s
  --no-ranges                       ignores Range headers (whole body, 200)

Bodies and HEADs carry no ETag, so object_store's own mid-body retry (which
needs one) does not hide the cuts: wikitok's resume must handle them. The
server exits by itself after --lifetime seconds, so a failed test never
leaves it running.

    python3 fault_server.py --port 8123 --directory data/samples --cut-every 3 --cut-after 400000
"""

import argparse
import html
import os
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Faults:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.requests = 0
        self.bodies = 0

    def next_request(self):
        with self.lock:
            self.requests += 1
            return self.requests

    def next_body(self):
        with self.lock:
            self.bodies += 1
            return self.bodies


def make_handler(root, faults):
    args = faults.args

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_):
            pass

        def local_path(self):
            path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
            full = os.path.realpath(os.path.join(root, path.lstrip("/")))
            if not (full == root or full.startswith(root + os.sep)):
                return None
            return full

        def failing(self):
            n = faults.next_request()
            is_file = os.path.isfile(self.local_path() or "")
            if args.fail_always and is_file:
                return True
            return args.fail_every and n % args.fail_every == 0

        def refuse(self):
            body = b"slow down\n"
            self.send_response(args.fail_status)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Retry-After", "0")
            self.end_headers()
            if self.command == "GET":
                self.wfile.write(body)

        def do_HEAD(self):
            self.serve(head=True)

        def do_GET(self):
            self.serve(head=False)

        def serve(self, head):
            if self.failing():
                return self.refuse()
            path = self.local_path()
            if path is None or not os.path.exists(path):
                self.send_error(404)
                return
            if os.path.isdir(path):
                return self.index(path, head)
            size = os.path.getsize(path)
            start, end = 0, size
            ranged = False
            header = self.headers.get("Range")
            if header and not args.no_ranges and header.startswith("bytes="):
                first, _, last = header[6:].partition("-")
                if first:
                    start = int(first)
                    end = min(size, int(last) + 1) if last else size
                else:
                    start = max(0, size - int(last))
                ranged = True
                if start >= size:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{size}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
            self.send_response(206 if ranged else 200)
            self.send_header("Content-Length", str(end - start))
            self.send_header("Content-Type", "application/octet-stream")
            if not args.no_ranges:
                self.send_header("Accept-Ranges", "bytes")
            if ranged:
                self.send_header("Content-Range", f"bytes {start}-{end - 1}/{size}")
            self.send_header("Last-Modified", self.date_time_string(int(os.path.getmtime(path))))
            self.end_headers()
            if head:
                return
            body = faults.next_body()
            cut = args.cut_every and body % args.cut_every == 0
            stall = args.stall_every and body % args.stall_every == 0
            limit = args.cut_after if (cut or stall) else None
            sent = 0
            with open(path, "rb") as f:
                f.seek(start)
                remaining = end - start
                while remaining > 0:
                    chunk = f.read(min(65536, remaining))
                    if not chunk:
                        break
                    if limit is not None and sent + len(chunk) > limit:
                        chunk = chunk[: max(0, limit - sent)]
                        self.wfile.write(chunk)
                        self.wfile.flush()
                        if stall:
                            time.sleep(args.stall_seconds)
                        self.close_connection = True
                        try:
                            import socket

                            self.connection.shutdown(socket.SHUT_RDWR)
                        except OSError:
                            pass
                        return
                    self.wfile.write(chunk)
                    sent += len(chunk)
                    remaining -= len(chunk)

        def index(self, path, head):
            if not self.path.endswith("/"):
                self.send_response(301)
                self.send_header("Location", self.path + "/")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            names = sorted(os.listdir(path))
            links = "".join(
                f'<a href="{urllib.parse.quote(n)}{"/" if os.path.isdir(os.path.join(path, n)) else ""}">'
                f"{html.escape(n)}</a>\n"
                for n in names
            )
            body = f"<html><body>\n{links}</body></html>\n".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)

    return Handler


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--directory", required=True)
    parser.add_argument("--cut-every", type=int, default=0)
    parser.add_argument("--cut-after", type=int, default=400_000)
    parser.add_argument("--fail-every", type=int, default=0)
    parser.add_argument("--fail-always", action="store_true")
    parser.add_argument("--fail-status", type=int, default=503)
    parser.add_argument("--stall-every", type=int, default=0)
    parser.add_argument("--stall-seconds", type=float, default=30)
    parser.add_argument("--no-ranges", action="store_true")
    parser.add_argument("--lifetime", type=float, default=600)
    args = parser.parse_args()
    root = os.path.realpath(args.directory)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(root, Faults(args)))
    server.daemon_threads = True
    threading.Timer(args.lifetime, server.shutdown).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
