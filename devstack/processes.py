"""Start and stop the local pieces: RabbitMQ, the embedded store, the six services.

Shared by ``make run`` (devstack/run.py) and the test suite (tests/conftest.py), so the
tests start the system exactly the way a developer does.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import httpx

from shared.registry import DEFAULT_PORTS, SERVICES

ROOT = Path(__file__).resolve().parent.parent
__all__ = ["DEFAULT_PORTS", "SERVICES"]  # the one list of services is shared/registry.py


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def amqp_reachable(url: str) -> bool:
    parsed = urlparse(url)
    return port_open(parsed.hostname or "127.0.0.1", parsed.port or 5672)


def ensure_rabbitmq(url: str = "amqp://guest:guest@127.0.0.1:5672/", timeout_s: float = 90) -> bool:
    """Start the local RabbitMQ if nothing answers; returns True when this call started it."""
    if amqp_reachable(url):
        return False
    server = shutil.which("rabbitmq-server") or "/usr/sbin/rabbitmq-server"
    if not Path(server).exists():
        raise RuntimeError(
            "RabbitMQ is not running and not installed: run `make install` (scripts/bootstrap.sh)"
        )
    subprocess.run([server, "-detached"], check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if amqp_reachable(url):
            return True
        time.sleep(0.5)
    raise RuntimeError(f"RabbitMQ did not start within {timeout_s:.0f} s")


def ensure_bus_users(url: str = "amqp://guest:guest@127.0.0.1:5672/") -> list[str]:
    """Create or update one RabbitMQ user per service with its permissions on ``url``'s broker
    (shared/bus/users.py: rabbitmqctl locally, RABBITMQ_API_URL elsewhere); idempotent (issue 7)."""
    from shared.bus.users import provision

    return provision(url)


@dataclass
class Proc:
    """A child process with its log file; ``stop`` sends SIGTERM, then SIGKILL after a grace."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    url: str = ""
    env: dict[str, str] = field(default_factory=dict)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to clean up (crash tests)."""
        if self.alive():
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait(timeout=10)

    def stop(self, grace_s: float = 15) -> None:
        if not self.alive():
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def spawn(
    name: str,
    argv: list[str],
    log_path: Path,
    env: Mapping[str, str] | None = None,
    new_session: bool = False,
) -> Proc:
    """Start a child with its output in ``log_path``.

    ``new_session`` keeps a terminal's Ctrl-C away from the child, so the parent (make run)
    can stop its children itself, in order.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    merged = {**os.environ, **(env or {})}
    with open(log_path, "ab") as log:
        popen = subprocess.Popen(argv, cwd=ROOT, env=merged, stdout=log, stderr=subprocess.STDOUT,
                                 start_new_session=new_session)  # fmt: skip
    return Proc(name=name, popen=popen, log_path=log_path, env=dict(env or {}))


def start_store(
    data_dir: Path, port: int, log_dir: Path, timeout_s: float = 30, new_session: bool = False
) -> Proc:
    """Start the embedded MongoDB-compatible server (nx-27017) with its data under ``data_dir``."""
    data_dir.mkdir(parents=True, exist_ok=True)
    exe = Path(sys.executable).parent / "nx-27017"
    # Files named by port: nx-27017 refuses to start while another live store owns its pid file.
    name = f"store-{port}"
    files = ["--log-file", str(log_dir / f"{name}.log"), "--pid-file", str(log_dir / f"{name}.pid")]
    argv = [str(exe), "--data-dir", str(data_dir), "--host", "127.0.0.1", "-p", str(port), *files]
    proc = spawn("store", argv, log_dir / f"{name}.out", new_session=new_session)
    proc.url = f"mongodb://127.0.0.1:{port}/?directConnection=true"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"embedded store exited:\n{proc.log_tail()}")
        if port_open("127.0.0.1", port):
            return proc
        time.sleep(0.2)
    proc.stop()
    raise RuntimeError(f"embedded store did not listen on {port} within {timeout_s:.0f} s")


def service_env(name: str, port: int, base: Mapping[str, str]) -> dict[str, str]:
    return {**base, f"{name.upper()}_PORT": str(port), "PORT": str(port)}


def start_service(
    name: str, port: int, env: Mapping[str, str], log_dir: Path, new_session: bool = False
) -> Proc:
    """Start ``python -m services.<name>``; call ``wait_ready`` before using it."""
    proc = spawn(name, [sys.executable, "-m", f"services.{name}"], log_dir / f"{name}.log",
                 service_env(name, port, env), new_session)  # fmt: skip
    proc.url = f"http://127.0.0.1:{port}"
    return proc


def wait_ready(proc: Proc, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited with {proc.popen.returncode}:\n{proc.log_tail()}")
        try:
            if httpx.get(f"{proc.url}/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{proc.name} not ready within {timeout_s:.0f} s:\n{proc.log_tail()}")
