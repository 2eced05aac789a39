#!/usr/bin/env python3
"""A Switchboard function in plain Python 3: the standard library only, no Switchboard code.

It serves two routes:

  POST /upstream       the gateway's events (--upstream http://127.0.0.1:7073/upstream): checks the
                       signatures, answers invocations of `hello`, `add` and `say`
  POST /api/negotiate  where a SignalR client starts: answers {url, accessToken} for the gateway

Run: SWITCHBOARD_CONNECTION_STRING='Endpoint=http://127.0.0.1:8080;AccessKey=K;Version=1.0;' \\
       python3 samples/python-function/function.py
The wire format is in docs/upstream.md; docs/functions.md explains each step.
"""

import base64
import collections
import hashlib
import hmac
import json
import os
import re
import signal
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HUB = os.environ.get("HUB", "chat")
PORT = int(os.environ.get("PORT", "7073"))
# "switchboard" (default): check X-Switchboard-Signature v2, which covers the body, the path, the time
# and the caller's identity. "azure": check only X-ASRS-Signature (behind Azure SignalR Service).
SIGNATURE_MODE = os.environ.get("SIGNATURE_MODE", "switchboard")
TOLERANCE_SECONDS = 300  # how old (or new) an X-Switchboard-Timestamp may be
MAX_BODY_BYTES = 1 << 20


def parse_connection_string(text):
    """'Endpoint=http://host[:port];[Port=p;]AccessKey=k;Version=1.0;': keys are case-insensitive."""
    fields = {}
    for part in (text or "").split(";"):
        name, eq, value = part.partition("=")
        if eq and name.strip():
            fields[name.strip().lower()] = value.strip()
    if not fields.get("endpoint") or not fields.get("accesskey"):
        sys.exit("set SWITCHBOARD_CONNECTION_STRING to Endpoint=http://host[:port];AccessKey=<key>;Version=1.0;")
    url = urllib.parse.urlsplit(fields["endpoint"])
    host = url.hostname if ":" not in (url.hostname or "") else f"[{url.hostname}]"
    port = fields.get("port") or url.port
    return f"{url.scheme}://{host}" + (f":{port}" if port else ""), fields["accesskey"]


ENDPOINT, ACCESS_KEY = parse_connection_string(os.environ.get("SWITCHBOARD_CONNECTION_STRING"))
KEYS = [ACCESS_KEY]  # during a key rotation, list the old and the new key: any of them may sign


def sign(key, message):
    return hmac.new(key.encode("utf-8"), message, hashlib.sha256).digest()


def base64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def any_entry_matches(header, expected):
    """Constant time: does any entry of the comma-separated header equal any expected value?"""
    matched = None
    for entry in (header or "").split(","):
        candidate = entry.strip().lower()
        for value in expected:
            if hmac.compare_digest(candidate.encode(), value.encode()):
                matched = value
    return matched


def check_asrs_signature(headers):
    """X-ASRS-Signature: "sha256=" + hex(HMAC-SHA256(access key, connection id)), one entry per key. It
    signs only the connection id (a `connect` event has none: the empty string), as Azure does."""
    connection_id = headers.get("X-ASRS-Connection-Id", "")
    expected = ["sha256=" + sign(key, connection_id.encode("latin-1")).hex() for key in KEYS]
    return any_entry_matches(headers.get("X-ASRS-Signature"), expected) is not None


def check_switchboard_signature(method, path, headers, body):
    """X-Switchboard-Signature v2 over "v2\\n" timestamp "\\n" method "\\n" path-and-query "\\n" signed
    headers "\\n" body, where the signed headers are "name:value\\n" for every X-ASRS-* header but
    X-ASRS-Signature, plus X-Switchboard-Event-Id and Content-Type, names lower-cased and sorted.
    Returns the matching entry, or None."""
    timestamp = headers.get("X-Switchboard-Timestamp", "")
    if not re.fullmatch(r"[0-9]{1,12}", timestamp):
        return None
    if abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
        return None
    lines = []
    for name, value in headers.items():
        name = name.lower()
        if (name.startswith("x-asrs-") and name != "x-asrs-signature") or name in (
            "x-switchboard-event-id",
            "content-type",
        ):
            lines.append((name, value.strip(" \t")))
    lines.sort(key=lambda line: line[0])  # stable: a repeated name keeps its order
    signed_headers = "".join(f"{name}:{value}\n" for name, value in lines)
    # http.server reads header bytes as latin-1; encoding back gives the same bytes (claims may hold UTF-8).
    message = f"v2\n{timestamp}\n{method}\n{path}\n{signed_headers}\n".encode("latin-1") + body
    expected = ["v2=" + sign(key, message).hex() for key in KEYS]
    return any_entry_matches(headers.get("X-Switchboard-Signature"), expected)


class ServedRequests:
    """Requests already served, so a captured one can't be played again within the tolerance (409). Only
    a request that was answered 2xx counts: the gateway may send one whose answer failed again."""

    def __init__(self, limit=100_000):
        self.lock = threading.Lock()
        self.forget_at = collections.OrderedDict()  # signature -> when it may be forgotten, oldest first
        self.limit = limit

    def was_served(self, signature):
        now = time.time()
        with self.lock:
            while self.forget_at and (next(iter(self.forget_at.values())) <= now or len(self.forget_at) >= self.limit):
                self.forget_at.popitem(last=False)
            return signature in self.forget_at

    def remember(self, signature):
        with self.lock:
            self.forget_at[signature] = time.time() + 2 * TOLERANCE_SECONDS


SERVED = ServedRequests()


# The client's methods. Each gets the invocation's arguments and the event's identity and returns the
# reply: "result" for the caller's invoke(), "actions" the gateway runs first (docs/upstream.md).
def hello(arguments, caller):
    return {"result": f"Hello, {arguments[0]}! (from Python, connection {caller['connection_id']})"}


def add(arguments, caller):
    return {"result": arguments[0] + arguments[1]}


def say(arguments, caller):
    # To everyone in the hub: a message action without an address.
    return {"result": True, "actions": [{"target": "message", "arguments": [caller["connection_id"], arguments[0]]}]}


METHODS = {"hello": hello, "add": add, "say": say}  # lower case: SignalR method names are case-insensitive


def negotiate(user_id):
    """The client token: HS256, signed with the access key, for the gateway's client URL of this hub."""
    url = f"{ENDPOINT}/client/?hub={urllib.parse.quote(HUB, safe='')}"
    now = int(time.time())
    claims = {"aud": url, "iat": now, "nbf": now, "exp": now + 3600}
    if user_id:
        claims["asrs.s.uid"] = user_id
    header = base64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = base64url(json.dumps(claims, separators=(",", ":")).encode())
    unsigned = f"{header}.{payload}"
    return {"url": url, "accessToken": f"{unsigned}.{base64url(sign(ACCESS_KEY, unsigned.encode()))}"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the gateway pools its connections to functions

    served_signature = None

    def answer(self, status, body=None):
        if self.served_signature and 200 <= status < 300:
            SERVED.remember(self.served_signature)
        self.served_signature = None
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            return self.answer(413, {"code": "PayloadTooLarge", "message": "The body is too large."})
        body = self.rfile.read(length)
        path = self.path.split("?")[0]
        if path == "/upstream":
            return self.on_upstream(body)
        if path == "/api/negotiate":
            # Your sign-in decides who this is (a session cookie, your identity provider), never a name the
            # request merely states. This sample has no sign-in: its clients are anonymous.
            return self.answer(200, negotiate(""))
        return self.answer(404, {"code": "NotFound", "message": "No such endpoint."})

    def do_GET(self):
        self.answer(404, {"code": "NotFound", "message": "No such endpoint."})

    def on_upstream(self, body):
        is_asrs_valid = check_asrs_signature(self.headers)
        signature = "unused" if SIGNATURE_MODE == "azure" else check_switchboard_signature(
            self.command, self.path, self.headers, body)
        if not is_asrs_valid or not signature:
            log(f"info python-function bad_signature conn={self.headers.get('X-ASRS-Connection-Id', '')}")
            return self.answer(401, {"code": "Unauthorized", "message": "The request is not signed with our access key."})
        if SIGNATURE_MODE != "azure":
            if SERVED.was_served(signature):
                return self.answer(409, {"code": "Replayed", "message": "This request was served already."})
            self.served_signature = signature  # remembered by answer() once it answers 2xx
        caller = {
            "hub": self.headers.get("X-ASRS-Hub"),
            "connection_id": self.headers.get("X-ASRS-Connection-Id"),
            "user_id": self.headers.get("X-ASRS-User-Id", ""),
        }
        if self.headers.get("X-ASRS-Category") == "connections":
            log(f"info python-function {self.headers.get('X-ASRS-Event')} conn={caller['connection_id']}")
            return self.answer(204)  # nothing to do; a 401 or 403 to `connected` would refuse the client
        if not self.headers.get("Content-Type", "").startswith("application/json"):
            return self.answer(415, {"code": "UnsupportedMediaType", "message": "Use the JSON hub protocol."})
        try:
            invocation = json.loads(body)  # {"type":1,"invocationId":"0","target":…,"arguments":[…]}
        except ValueError:
            return self.answer(400, {"code": "InvalidBody", "message": "The body is not JSON."})
        target = str(invocation.get("target"))
        method = METHODS.get(target.lower())
        if method is None:
            return self.answer(200, {"error": f"Unknown method '{target}'."})
        try:
            return self.answer(200, method(invocation.get("arguments") or [], caller))
        except Exception as error:  # a bug or bad arguments: the caller gets a fixed text, the log the cause
            log(f"warn python-function handler_failed target={target} error={json.dumps(str(error))}")
            return self.answer(200, {"error": f"An unexpected error occurred invoking '{target}'."})

    def log_message(self, format, *args):  # one line per request is noise; events are logged above
        pass


def log(line):
    print(line, file=sys.stderr, flush=True)


def main():
    server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    port = server.server_address[1]
    print(f"python-function listening on http://127.0.0.1:{port}", flush=True)
    print(f'gateway: --upstream http://127.0.0.1:{port}/upstream; clients: withUrl("http://127.0.0.1:{port}/api")',
          flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
