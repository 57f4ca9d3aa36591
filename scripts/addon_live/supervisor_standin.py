"""A stand-in for the two Supervisor API endpoints the add-on's start-up calls.

CI replays the add-on's s6 scripts in a Debian root (scripts/addon_live.sh), where the real
Supervisor cannot run. This serves only what ``python -m optimizer.addon generate
--supervisor`` asks, in the Supervisor's answer format, and checks the bearer token as the
Supervisor does: ``GET /addons/self/info`` (ingress port, hostname) and ``GET
/services/mqtt`` (answered "not available": the replayed add-on runs its own broker).
Standard library only: it runs on the root's Debian Python, outside the add-on's venv.

Usage: python3 supervisor_standin.py PORT INGRESS_PORT TOKEN
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def handler(ingress_port: int, token: str) -> type[BaseHTTPRequestHandler]:
    class Supervisor(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: dict[str, object]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.headers.get("Authorization") != f"Bearer {token}":
                self._answer(401, {"result": "error", "message": "Unauthorized"})
            elif self.path == "/addons/self/info":
                info = {"slug": "local_bess_dispatch", "hostname": "local-bess-dispatch"}
                self._answer(200, {"result": "ok", "data": info | {"ingress_port": ingress_port}})
            elif self.path == "/services/mqtt":
                self._answer(400, {"result": "error", "message": "No MQTT service available"})
            else:
                self._answer(404, {"result": "error", "message": f"not served: {self.path}"})

        def log_message(self, format: str, *args: object) -> None:
            print("[supervisor stand-in]", format % args, flush=True)

    return Supervisor


def main() -> None:
    port, ingress_port, token = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    server = ThreadingHTTPServer(("127.0.0.1", port), handler(ingress_port, token))
    print(f"[supervisor stand-in] listening on 127.0.0.1:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
