"""The emulator's HTTP server and its fault injection (see the package docstring)."""
from __future__ import annotations

import json
import logging
import os
import random
import re
import threading
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from components.common import uris

logger = logging.getLogger(__name__)
_PUT = re.compile(r"^/v1/projects/([^/]+)/data_transfer/?$")
_GET = re.compile(r"^/v1/projects/([^/]+)/data_transfer/([^/]+)$")


@dataclass
class Faults:
    """What goes wrong, and how often (shares are 0..1, drawn from a seeded generator)."""

    error_rate: float = 0.0     # answers replaced by one of `error_statuses` with Retry-After
    error_statuses: tuple[int, ...] = (429, 503)
    error_first: int = 0        # the first N requests answered 503 with Retry-After
    retry_after: str = "1"
    slow_rate: float = 0.0      # answers held back for `delay` seconds
    delay: float = 0.0
    drop_rate: float = 0.0      # connections closed without an answer, after the work is done
    copy_delay: float = 0.0     # seconds a transfer stays `running` before copying
    end_status: str = "success"  # "failed": copy half, then fail; other values are reported as-is
    seed: int = 0


@dataclass
class Transfer:
    id: str
    key: tuple
    status: str = "running"
    message: str = ""
    files: int = 0


@dataclass
class Request:
    method: str
    path: str
    code: int          # 0: connection dropped
    fault: str = ""


class UnitySimulationEmulator:
    """The two data-transfer endpoints on a ThreadingHTTPServer (see the module docstring).

    Args:
        store: folder holding ``projects/...`` as Unity keeps it.
        buckets: folder holding one folder per bucket (local destination).
        token: the only bearer token accepted; None accepts any non-empty token.
        destination: "auto" (GCS emulator when STORAGE_EMULATOR_HOST is set, else ``buckets``),
            "local" or "gcs".
    """

    def __init__(self, store: str, buckets: str | None = None, *, token: str | None = None,
                 host: str = "127.0.0.1", port: int = 0, faults: Faults | None = None,
                 id_field: str = "id", destination: str = "auto") -> None:
        if destination not in ("auto", "local", "gcs"):
            raise ValueError(f"destination: {destination!r}; expected auto, local or gcs")
        self.store, self.buckets, self.destination = store, buckets, destination
        self.faults = faults or Faults()
        self.id_field = id_field
        self.transfers: dict[str, Transfer] = {}
        self.requests: list[Request] = []
        self._token = token
        self._rng = random.Random(self.faults.seed)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._server.daemon_threads = True
        self._server.emulator = self  # type: ignore[attr-defined]
        self._server.handle_error = lambda request, address: logger.debug("connection %s ended", address)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "UnitySimulationEmulator":
        thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="usim-emulator",
                                  daemon=True)
        thread.start()
        self._threads.append(thread)
        logger.info("Unity Simulation emulator on %s (store %s)", self.url, self.store)
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=10)

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (the CLI's way)."""
        try:
            self._server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            self._stopping.set()
            self._server.server_close()

    def __enter__(self) -> "UnitySimulationEmulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def count(self, code: int) -> int:
        """How many answers had this status (0 = dropped connections)."""
        with self._lock:
            return sum(1 for r in self.requests if r.code == code)

    # Request handling, called from the handler threads.
    def fault_for(self) -> tuple[str, int]:
        f = self.faults
        with self._lock:
            n = len(self.requests)
            if n < f.error_first:
                return "error", 503
            if f.error_rate and self._rng.random() < f.error_rate:
                return "error", self._rng.choice(tuple(f.error_statuses))
            if f.slow_rate and self._rng.random() < f.slow_rate:
                return "slow", 0
        return "", 0

    def drop_now(self) -> bool:
        with self._lock:
            return bool(self.faults.drop_rate) and self._rng.random() < self.faults.drop_rate

    def authorized(self, header: str | None) -> bool:
        scheme, _, value = (header or "").partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return False
        return self._token is None or value.strip() == self._token

    def record(self, method: str, path: str, code: int, fault: str = "") -> None:
        with self._lock:
            self.requests.append(Request(method, path, code, fault))

    def start_transfer(self, project: str, body: dict) -> tuple[int, dict]:
        names = ("destination_bucket", "run_definition_id", "run_execution_id")
        missing = [n for n in names if not isinstance(body.get(n), str) or not body[n]]
        if missing:
            return 400, {"message": f"missing or empty fields: {', '.join(missing)}"}
        bucket, definition, execution = (body[n] for n in names)
        rel = f"projects/{project}/run_executions/urn:run_definitions:{definition}/urn:run_executions:{execution}"
        if not os.path.isdir(os.path.join(self.store, rel)):
            return 404, {"message": f"run execution {execution} of run definition {definition} not found "
                                    f"in project {project}"}
        key = (project, definition, execution, bucket)
        with self._lock:
            for transfer in self.transfers.values():
                if transfer.key == key and transfer.status == "running":
                    return 200, self._answer(transfer)
            transfer = Transfer(uuid.uuid4().hex[:16], key)
            self.transfers[transfer.id] = transfer
            answer = self._answer(transfer)
        thread = threading.Thread(target=self._copy, args=(transfer, rel, bucket), daemon=True)
        thread.start()
        self._threads.append(thread)
        logger.info("Transfer %s started: %s -> bucket %s", transfer.id, rel, bucket)
        return 200, answer

    def get_transfer(self, project: str, transfer_id: str) -> tuple[int, dict]:
        with self._lock:
            transfer = self.transfers.get(transfer_id)
            if transfer is None or transfer.key[0] != project:
                return 404, {"message": f"no data transfer {transfer_id} in project {project}"}
            return 200, self._answer(transfer)

    def _answer(self, transfer: Transfer) -> dict:
        answer = {self.id_field: transfer.id, "status": transfer.status}
        if transfer.message:
            answer["message"] = transfer.message
        return answer

    def _copy(self, transfer: Transfer, rel: str, bucket: str) -> None:
        if self._stopping.wait(self.faults.copy_delay):
            return
        try:
            target = self._bucket_root(bucket)
            source = os.path.join(self.store, rel)
            files = list(uris.iter_files(source))
            failing = self.faults.end_status.lower() == "failed"
            for name in files[: len(files) // 2] if failing else files:
                with open(os.path.join(source, name), "rb") as f:
                    uris.write_bytes(uris.join(target, rel, name), f.read())
                transfer.files += 1
            status, message = self.faults.end_status, ""
            if failing:
                message = f"copy interrupted after {transfer.files} of {len(files)} files (injected fault)"
        except (OSError, RuntimeError, ValueError) as err:
            status, message = "failed", f"{type(err).__name__}: {err}"
        with self._lock:
            transfer.status, transfer.message = status, message
        logger.info("Transfer %s ended %s after %d files. %s", transfer.id, status, transfer.files, message)

    def _bucket_root(self, bucket: str) -> str:
        use_gcs = self.destination == "gcs" or (
            self.destination == "auto" and bool(os.environ.get("STORAGE_EMULATOR_HOST")))
        if use_gcs:
            if uris.gcs_client().lookup_bucket(bucket) is None:
                raise ValueError(f"bucket {bucket} does not exist on the GCS emulator")
            return f"gs://{bucket}"
        if not self.buckets:
            raise ValueError("no local buckets folder and STORAGE_EMULATOR_HOST is not set")
        return os.path.join(self.buckets, bucket)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "usim-emulator"

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_GET(self) -> None:
        self._serve("GET")

    def log_message(self, fmt: str, *args) -> None:
        logger.debug(fmt, *args)

    def _serve(self, method: str) -> None:
        emu: UnitySimulationEmulator = self.server.emulator  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        fault, code = emu.fault_for()
        if fault == "error":
            emu.record(method, self.path, code, fault)
            return self._send(code, {"message": "try again later (injected)"},
                              {"Retry-After": emu.faults.retry_after})
        if fault == "slow" and emu._stopping.wait(emu.faults.delay):
            return
        if not emu.authorized(self.headers.get("Authorization")):
            emu.record(method, self.path, 401, fault)
            return self._send(401, {"message": "invalid or expired access token"})
        code, answer = self._route(emu, method, raw)
        if emu.drop_now():
            emu.record(method, self.path, 0, "drop")
            self.close_connection = True
            return
        emu.record(method, self.path, code, fault)
        self._send(code, answer)

    def _route(self, emu: UnitySimulationEmulator, method: str, raw: bytes) -> tuple[int, dict]:
        put, get = _PUT.match(self.path), _GET.match(self.path)
        if method == "PUT" and put:
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                return 400, {"message": "body is not JSON"}
            return emu.start_transfer(put.group(1), body if isinstance(body, dict) else {})
        if method == "GET" and get:
            return emu.get_transfer(get.group(1), get.group(2))
        return 404, {"message": f"no route for {method} {self.path}"}

    def _send(self, code: int, answer: dict, headers: dict | None = None) -> None:
        data = json.dumps(answer).encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
