"""A stand-in for Twilio's Messages API on a local port: records each request and answers
what it is told to, per recipient number; anything else is accepted with a new sid."""

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


def twilio_error(status: int, code: int, message: str, **headers) -> Answer:
    return Answer(status, {"code": code, "message": message, "status": status}, headers)


INVALID_NUMBER = twilio_error(400, 21211, "The 'To' number is not a valid phone number.")
TOO_MANY_REQUESTS = twilio_error(429, 20429, "Too Many Requests", **{"Retry-After": "7"})
SERVER_ERROR = twilio_error(500, 20500, "Internal Server Error")


@dataclass(frozen=True)
class Request:
    path: str
    authorization: str
    form: dict[str, str]
    client_port: int

    @property
    def to(self) -> str:
        return self.form["To"]


class TwilioStub(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), StubHandler)
        self.answers: dict[str, Answer] = {}
        self.requests: list[Request] = []
        self.sids = (f"SM{number:032x}" for number in itertools.count(1))
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def answer(self, to: str, answer: Answer) -> str:
        """Answer ``answer`` to every message to ``to``; returns ``to``."""
        self.answers[to] = answer
        return to

    def accepted(self) -> list[str]:
        """The numbers of the messages the stub accepted, in order."""
        return [request.to for request in self.requests if request.to not in self.answers]

    def next_answer(self, request: Request) -> Answer:
        with self.lock:
            self.requests.append(request)
            if request.to in self.answers:
                return self.answers[request.to]
            return Answer(201, {"sid": next(self.sids), "to": request.to, "status": "queued"})

    def __enter__(self):
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info):
        self.shutdown()
        self.server_close()


class StubHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keeps connections open, as Twilio does

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        form = {
            key: values[0] for key, values in parse_qs(self.rfile.read(length).decode()).items()
        }
        request = Request(
            self.path, self.headers.get("Authorization", ""), form, self.client_address[1]
        )
        answer = self.server.next_answer(request)
        time.sleep(answer.delay)
        body = json.dumps(answer.body).encode()
        self.send_response(answer.status)
        for name, value in {**answer.headers, "Content-Type": "application/json"}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass  # quiet test output
