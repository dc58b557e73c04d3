"""A fake of both registers for tests and `make run` in dev mode: a stdlib HTTP server answering
from a JSON file (`data/registers.json` unless another is given). A number listed under
`unavailable` answers 503, and `FakeRegisters.down` makes every answer 503 (an outage).

    python -m sellerflow.registries.fake --port 8099 [--data FILE]
"""

import argparse
import json
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

DATA = Path(__file__).resolve().parent / "data" / "registers.json"


class FakeRegisters:
    def __init__(self, data: dict[str, Any], port: int = 0) -> None:
        self.data, self.down = data, False
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    @classmethod
    def from_file(cls, path: Path = DATA, port: int = 0) -> "FakeRegisters":
        return cls(json.loads(path.read_text()), port)

    def answer(self, path: str) -> tuple[HTTPStatus, dict[str, Any]]:
        parts = [unquote(part) for part in path.strip("/").split("/")]
        if self.down or parts[-1] in self.data.get("unavailable", []):
            return HTTPStatus.SERVICE_UNAVAILABLE, {"error": "unavailable"}
        if parts[0] == "companies" and len(parts) == 3:
            found = self.data.get("companies", {}).get(f"{parts[1]}/{parts[2]}")
        elif parts[0] == "vat" and len(parts) == 2:
            found = self.data.get("vat", {}).get(parts[1])
            if found is None:
                return HTTPStatus.OK, {"valid": False}
            found = {"valid": True, **found}
        else:
            return HTTPStatus.NOT_FOUND, {"error": "no such resource"}
        if found is None:
            return HTTPStatus.NOT_FOUND, {"error": "not found"}
        return HTTPStatus.OK, found

    def start(self) -> "FakeRegisters":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _handler(registers: FakeRegisters) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = registers.answer(self.path)
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, format: str, *args: Any) -> None:
            return  # the numbers asked for stay out of the logs

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m sellerflow.registries.fake")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    registers = FakeRegisters.from_file(args.data, args.port)
    print(f"fake registers on {registers.url}", flush=True)
    registers.server.serve_forever()


if __name__ == "__main__":
    main()
