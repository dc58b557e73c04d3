"""Starts the embedded runtime on one machine: Temporal dev server, SeaweedFS S3, worker, API.

`python -m sellerflow.cli.devstack run` is what `make run` calls; the tests start the same
servers through `start_temporal` and `start_s3` on free ports.
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from sellerflow import search_attributes
from sellerflow.config import PROJECT_ROOT, Settings, get_settings

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def ensure_free(port: int, name: str) -> None:
    if port_open(port):
        raise RuntimeError(f"port {port} for {name} is in use: is another sellerflow running?")


def wait_for_port(port: int, proc: subprocess.Popen[bytes], name: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with code {proc.returncode}")
        if port_open(port):
            return
        time.sleep(0.2)
    raise TimeoutError(f"{name} did not open port {port} within {timeout} s")


@dataclass
class Process:
    name: str
    proc: subprocess.Popen[bytes]
    log_threads: list[threading.Thread] = field(default_factory=list)

    def stop(self, timeout: float = 10) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self) -> None:
        """SIGKILL: the process dies at once, as in a crash, without any cleanup."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def spawn(
    name: str,
    cmd: list[str],
    *,
    env: dict[str, str] | None = None,
    log: IO[str] | None = None,
    cwd: Path = PROJECT_ROOT,
    quiet: Callable[[bytes], bool] | None = None,
) -> Process:
    """Start a child process whose output is prefixed with its name (or written to `log`)."""
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    out = log or sys.stdout
    lock = threading.Lock()

    def pump() -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            if quiet is not None and quiet(raw):
                continue
            with lock:
                out.write(f"{name:>8} | {raw.decode(errors='replace')}")
                out.flush()

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    return Process(name, proc, [thread])


def start_temporal(
    *,
    port: int,
    ui_port: int | None = None,
    db_file: Path | None = None,
    time_skipping: bool = False,
    log: IO[str] | None = None,
) -> Process:
    cmd = [
        str(BIN / "temporal"),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warn",
    ]
    cmd += ["--ui-port", str(ui_port)] if ui_port else ["--headless"]
    if db_file is not None:
        db_file.parent.mkdir(parents=True, exist_ok=True)
        cmd += ["--db-filename", str(db_file)]
    for key in search_attributes.KEYWORDS:
        cmd += ["--search-attribute", f"{key.name}=Keyword"]
    if time_skipping:
        cmd += ["--dynamic-config-value", "frontend.WorkflowTimeSkippingEnabled=true"]
    ensure_free(port, "temporal")
    process = spawn("temporal", cmd, log=log)
    wait_for_port(port, process.proc, "temporal")
    return process


def settings_env(settings: Settings) -> dict[str, str]:
    """Environment variables that give a child process these settings (unset ones are left out)."""
    values = settings.model_dump()
    return {name.upper(): str(value) for name, value in values.items() if value is not None}


def _listening(process: Process, port: int) -> Process:
    """The process once it listens on `port`; killed if it never does, so none is left over."""
    try:
        wait_for_port(port, process.proc, process.name)
    except BaseException:
        process.kill()
        raise
    return process


def start_worker(settings: Settings, *, log: IO[str] | None = None) -> Process:
    """`worker.py` with these settings; returns once its metrics port answers."""
    process = spawn("worker", [sys.executable, "worker.py"], env=settings_env(settings), log=log)
    return _listening(process, settings.worker_metrics_port)


def start_api(settings: Settings, *, port: int, log: IO[str] | None = None) -> Process:
    """The API under uvicorn with these settings; uvicorn listens once its start-up is done."""
    cmd = [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1"]
    ensure_free(port, "api")
    process = spawn("api", [*cmd, "--port", str(port)], env=settings_env(settings), log=log)
    return _listening(process, port)


def _clear_stale_sockets(ports: list[int]) -> None:
    """SeaweedFS leaves `seaweedfs-<part>-<port>.sock` behind; a restart on a port needs it gone.
    Only our ports' sockets are removed, so another SeaweedFS on this machine is left alone."""
    for port in ports:
        for sock in Path(tempfile.gettempdir()).glob(f"seaweedfs-*-{port}.sock"):
            with contextlib.suppress(OSError):
                sock.unlink()


def start_s3(
    *, data_dir: Path, port: int, settings: Settings, log: IO[str] | None = None
) -> Process:
    """SeaweedFS with S3 on `port`; only the configured key pair may access it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    identities = data_dir / "s3-identities.json"
    identities.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "sellerflow",
                        "credentials": [
                            {
                                "accessKey": settings.s3_access_key_id,
                                "secretKey": settings.s3_secret_access_key,
                            }
                        ],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        )
    )
    ensure_free(port, "s3")
    master, volume, filer, *grpc = [free_port() for _ in range(7)]
    _clear_stale_sockets([port, master, volume, filer, *grpc])
    cmd = [
        str(BIN / "weed"),
        "server",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-dir={data_dir}",
        "-master.volumeSizeLimitMB=64",
        "-volume.max=20",
        f"-master.port={master}",
        f"-volume.port={volume}",
        f"-filer.port={filer}",
        f"-master.port.grpc={grpc[0]}",
        f"-volume.port.grpc={grpc[1]}",
        f"-filer.port.grpc={grpc[2]}",
        "-s3",
        f"-s3.port={port}",
        f"-s3.config={identities}",
        f"-s3.port.grpc={grpc[3]}",
        # Its Iceberg and Lance catalogs would listen on the fixed ports 8181 and 9101: a second
        # instance (tests next to `make run`, or two test sessions) would die on start.
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
    ]
    # SeaweedFS logs every volume operation at glog's info level ("I1126 ..."): keep the rest.
    process = spawn("s3", cmd, log=log, quiet=lambda line: line[:1] == b"I" and line[1:2].isdigit())
    wait_for_port(port, process.proc, "s3")
    _ensure_bucket(settings, process)
    return process


def _ensure_bucket(settings: Settings, process: Process, timeout: float = 60) -> None:
    from sellerflow.storage import ObjectStore

    store = ObjectStore(settings)
    deadline = time.monotonic() + timeout
    while True:
        try:
            store.ensure_bucket()
            return
        except Exception:
            if time.monotonic() > deadline or process.proc.poll() is not None:
                raise
            time.sleep(0.5)


@contextlib.contextmanager
def stopping(processes: list[Process]) -> Iterator[list[Process]]:
    try:
        yield processes
    finally:
        for process in reversed(processes):
            process.stop()


def seed_dev_users(settings: Settings) -> None:
    from sellerflow.db import make_engine
    from sellerflow.users import DEV_USERS, ensure_user

    engine = make_engine(settings.database_url)
    for username, role in DEV_USERS:
        ensure_user(engine, username, [role], settings.sellerflow_dev_password)
    engine.dispose()


def seed_sanctions_fixture(settings: Settings) -> None:
    """In dev mode, the made-up EU-format list, when no list has been loaded yet."""
    from sqlmodel import Session

    from sellerflow.db import make_engine
    from sellerflow.services.sanctions import load_list, newest_list

    fixture = PROJECT_ROOT / "sellerflow" / "data" / "eu-sanctions-fixture.xml"
    engine = make_engine(settings.database_url)
    with Session(engine) as session:
        if newest_list(session)[0] is None:
            load_list(session, fixture.read_bytes(), fixture.name)
            session.commit()
    engine.dispose()


FAKE_REGISTERS_PORT = 8099


def start_fake_registers(settings: Settings) -> tuple[Process | None, dict[str, str]]:
    """In dev mode, the fake registers for the registers no URL is configured for, and the
    worker's environment pointing at them (sellerflow.registries.fake)."""
    if not settings.sellerflow_dev_mode or (
        settings.company_register_url and settings.vat_registry_url
    ):
        return None, {}
    port = FAKE_REGISTERS_PORT
    ensure_free(port, "registers")
    cmd = [sys.executable, "-m", "sellerflow.registries.fake", "--port", str(port)]
    process = _listening(spawn("registers", cmd), port)
    url = f"http://127.0.0.1:{port}"
    return process, {
        "COMPANY_REGISTER_URL": settings.company_register_url or url,
        "VAT_REGISTRY_URL": settings.vat_registry_url or url,
    }


def run() -> None:
    """Everything in the foreground; Ctrl-C stops the children in reverse order."""
    settings = get_settings()
    data = PROJECT_ROOT / ".data"
    data.mkdir(exist_ok=True)
    from sellerflow.db import upgrade_schema

    upgrade_schema(settings.database_url)
    if settings.sellerflow_dev_mode:
        seed_dev_users(settings)
        seed_sanctions_fixture(settings)
    processes: list[Process] = []
    with stopping(processes):
        temporal_port = int(settings.temporal_address.rsplit(":", 1)[1])
        s3_port = int((settings.s3_endpoint_url or "").rsplit(":", 1)[1])
        # The two servers start side by side; each call waits until its port answers.
        with ThreadPoolExecutor(max_workers=2) as pool:
            temporal = pool.submit(
                start_temporal,
                port=temporal_port,
                ui_port=temporal_port + 1000,
                db_file=data / "temporal.db",
            )
            s3 = pool.submit(start_s3, data_dir=data / "s3", port=s3_port, settings=settings)
            for future in (temporal, s3):
                processes.append(future.result())
        registers, registers_env = start_fake_registers(settings)
        if registers is not None:
            processes.append(registers)
        python = sys.executable
        processes.append(spawn("worker", [python, "worker.py"], env=registers_env))
        processes.append(
            spawn(
                "api",
                [python, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port", "8000"],
            )
        )
        print(
            f"sellerflow is up: http://127.0.0.1:8000 (Temporal UI {settings.temporal_ui_url})",
            flush=True,
        )
        stop = threading.Event()
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        while not stop.wait(1):
            for process in processes:
                if process.proc.poll() is not None:
                    print(
                        f"{process.name} exited with {process.proc.returncode}; stopping",
                        flush=True,
                    )
                    stop.set()
        print("stopping...", flush=True)


if __name__ == "__main__":
    if sys.argv[1:] != ["run"]:
        sys.exit("usage: python -m sellerflow.cli.devstack run")
    run()
