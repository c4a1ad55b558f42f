"""An HTTP proxy on 127.0.0.1 in front of an S3-compatible server that
misbehaves on purpose, for wikitok's bucket-output fault tests:

  --fail-every M     answers every Mth request with 503 Slow Down (not forwarded)
  --delay-parts S    holds every part upload S seconds before forwarding it
  --cut-parts-every N  forwards every Nth part upload (PUT ...?partNumber=) and
                     then closes the connection without an answer, as a cut
                     connection after the server took the part

Everything else is forwarded as it came (the request is read whole, then sent
on). The proxy exits by itself after --lifetime seconds.

    python3 fault_proxy.py --port 8124 --target http://127.0.0.1:5000 --fail-every 7 --cut-parts-every 3
"""

import argparse
import http.client
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--fail-every", type=int, default=0)
    parser.add_argument("--cut-parts-every", type=int, default=0)
    parser.add_argument("--delay-parts", type=float, default=0)
    parser.add_argument("--lifetime", type=float, default=600)
    args = parser.parse_args()
    target = urllib.parse.urlsplit(args.target)
    lock = threading.Lock()
    counts = {"requests": 0, "parts": 0}

    def count(kind):
        with lock:
            counts[kind] += 1
            return counts[kind]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_):
            pass

        def forward(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            if args.fail_every and count("requests") % args.fail_every == 0:
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            is_part = self.command == "PUT" and "partNumber=" in self.path
            if is_part and args.delay_parts:
                time.sleep(args.delay_parts)
            cut = is_part and args.cut_parts_every and count("parts") % args.cut_parts_every == 0
            connection = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
            connection.request(self.command, self.path, body=body, headers=headers)
            answer = connection.getresponse()
            data = answer.read()
            connection.close()
            if cut:
                self.close_connection = True
                self.connection.shutdown(2)
                return
            self.send_response(answer.status)
            for key, value in answer.getheaders():
                if key.lower() not in ("connection", "transfer-encoding", "content-length"):
                    self.send_header(key, value)
            # A HEAD's length is the object's, not of its (empty) body.
            length = answer.getheader("Content-Length") if self.command == "HEAD" else None
            self.send_header("Content-Length", length or str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = forward

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    time.sleep(args.lifetime)


if __name__ == "__main__":
    main()
