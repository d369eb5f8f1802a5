"""``make run``: the whole platform on this machine, with demo data.

RabbitMQ (started if needed, unless AMQP_URL is set), the embedded store with its data
in .data/store (unless MONGO_URL is set), the six services on ports 8001-8006 (override
with INTAKE_PORT ...), logs in .data/logs/, demo catalogue and customers, and with
SIMULATE=1 the simulated carrier and factory. Ctrl-C (or SIGTERM) stops everything this
script started, in reverse order.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from types import FrameType

from devstack import demo, processes
from devstack.processes import SERVICES, Proc, port_open
from shared.access.provision import KeyAdmin
from shared.bus.access import service_urls

DATA = processes.ROOT / ".data"
LOGS = DATA / "logs"
DEFAULT_AMQP = "amqp://guest:guest@127.0.0.1:5672/"
DEV_KEYS = DATA / "dev-keys.env"
SAMPLE_ORDER = {
    "customer_id": "CUST-CREDIT",
    "channel": "storefront",
    "delivery_address": "Shanghai, Pudong, 88 Century Ave",
    "required_by": (date.today() + timedelta(days=14)).isoformat(),  # R1.4
    "contact": {"name": "Li Lei", "phone": "13800138000"},
    "lines": [{"sku": "LAMP-DESK-RED-L", "quantity": 2}, {"sku": "BULB-E27-9W", "quantity": 4}],
}


class Stop(BaseException):
    """Raised by the signal handler so that start-up waits are interrupted too (not an error)."""


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    raise Stop(signal.Signals(signum).name)


def spawn(name: str, argv: list[str], env: dict[str, str], url: str = "") -> Proc:
    """Start a child in its own session: Ctrl-C reaches only us, and we stop children in order."""
    (LOGS / f"{name}.log").unlink(missing_ok=True)  # a fresh log per run
    proc = processes.spawn(name, argv, LOGS / f"{name}.log", env, new_session=True)
    proc.url = url
    return proc


class LocalStack:
    """What this run started, in start order, so ``down`` can undo it newest first."""

    def __init__(self) -> None:
        self.started: list[Proc] = []
        self.rabbitmq_started = False
        self.amqp_url = os.environ.get("AMQP_URL", "")
        self.mongo_url = os.environ.get("MONGO_URL", "")
        ports = processes.DEFAULT_PORTS
        self.ports = {n: int(os.environ.get(f"{n.upper()}_PORT", ports[n])) for n in SERVICES}
        self.urls = {n: f"http://127.0.0.1:{p}" for n, p in self.ports.items()}
        self.keys: dict[str, str] = {}

    def dev_keys(self) -> None:
        """One development key per role in .data/dev-keys.env, reused while they still work."""
        admin = KeyAdmin(self.mongo_url, os.environ.get("DB_PREFIX", "oms"))
        try:
            self.keys = admin.dev_keys(DEV_KEYS)
        finally:
            admin.close()
        print(f"  ✓ development API keys, one per role, in {rel(DEV_KEYS)}")

    def broker(self) -> None:
        if self.amqp_url:
            if not processes.amqp_reachable(self.amqp_url):
                print(f"  ! nothing answers at AMQP_URL {mask(self.amqp_url)}; the services will retry")
            return
        self.amqp_url = DEFAULT_AMQP
        self.rabbitmq_started = processes.ensure_rabbitmq(self.amqp_url)
        print(f"  ✓ RabbitMQ {'started' if self.rabbitmq_started else 'already running'} on 127.0.0.1:5672")

    def bus_users(self) -> None:
        """One RabbitMQ user per service, its permissions derived from the code (issue 7)."""
        try:
            users = processes.ensure_bus_users(self.amqp_url)
        except (RuntimeError, OSError) as exc:  # keep going: the services will say they cannot log in
            print(f"  ! bus users not provisioned: {exc}")
            return
        print(f"  ✓ bus users, one per service ({', '.join(users)})")

    def store(self) -> None:
        if self.mongo_url:
            return
        port = int(os.environ.get("STORE_PORT", "27017"))
        if port_open("127.0.0.1", port):
            port = processes.free_port()  # another store (or a left-over run) holds the default port
        proc = processes.start_store(DATA / "store", port, LOGS, new_session=True)
        self.started.append(proc)
        self.mongo_url = proc.url
        print(f"  ✓ embedded store (nx-27017) on 127.0.0.1:{port}, data in {rel(DATA / 'store')}")

    def services(self, names: list[str]) -> None:
        busy = [f"{n} ({self.ports[n]})" for n in names if port_open("127.0.0.1", self.ports[n])]
        if busy:
            raise RuntimeError(f"ports in use: {', '.join(busy)} - is another `make run` running?")
        env = {"AMQP_URL": self.amqp_url, "MONGO_URL": self.mongo_url,
               **{f"{n.upper()}_URL": url for n, url in self.urls.items()},
               **service_urls(self.amqp_url, SERVICES)}  # each on the bus as its own user  # fmt: skip
        procs = []
        for name in names:
            (LOGS / f"{name}.log").unlink(missing_ok=True)  # a fresh log per run
            procs.append(processes.start_service(name, self.ports[name], env, LOGS, new_session=True))
        self.started.extend(procs)
        began = time.monotonic()
        for i, proc in enumerate(procs, 1):
            if sys.stdout.isatty():  # a progress line the ready line overwrites
                print(f"  … waiting for {proc.name} ({i}/{len(procs)})", end="\r", flush=True)
            processes.wait_ready(proc, timeout_s=90)
            print(f"  ✓ {proc.name:<12} ready  {proc.url}  ({time.monotonic() - began:.1f} s)")

    def simulator(self) -> None:
        env = {f"{n.upper()}_URL": url for n, url in self.urls.items()}
        env["SIM_API_KEY"] = self.keys["ADMIN_KEY"]
        self.started.append(spawn("simulator", [sys.executable, "-m", "devstack.simulator"], env))
        print(f"  ✓ SIMULATED carrier and factory running (log: {rel(LOGS / 'simulator.log')})")

    def down(self) -> None:
        for proc in reversed(self.started):
            if proc.alive():
                print(f"  stopping {proc.name}")
                proc.stop(grace_s=20)
        if self.rabbitmq_started and (ctl := shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"):
            print("  stopping RabbitMQ (this run started it)")
            subprocess.run([ctl, "shutdown"], check=False, capture_output=True, timeout=90)


def mask(url: str) -> str:
    return re.sub(r"(//[^:/@]+:)[^@]*@", r"\1***@", url)


def rel(path: Path) -> str:
    return os.path.relpath(path, Path.cwd())


def banner(stack: LocalStack, names: list[str], simulate: bool) -> None:
    intake = stack.urls["intake"]
    print("\nOrder-management platform is running. Ctrl-C stops everything.\n")
    for name, url in ((n, stack.urls[n]) for n in names):
        print(f"  {name:<12} {url:<24} API docs {url}/docs")
    print(f"  {'store':<12} {mask(stack.mongo_url)}")
    print(f"  {'broker':<12} {mask(stack.amqp_url)}")
    print(f"  {'logs':<12} {rel(LOGS)}/<service>.log")
    print(f"  {'simulator':<12} " + ("ON: SIMULATED carrier + factory" if simulate else "off"))
    print("\nDemo SKUs: " + ", ".join(f"{p.sku} ({p.sourcing}, {p.on_hand})" for p in demo.PRODUCTS))
    print("Demo customers: " + ", ".join(f"{c.customer_id} ({c.payment_terms})" for c in demo.CUSTOMERS))
    print(f"\nDevelopment API keys ({rel(DEV_KEYS)}; send them as 'Authorization: Bearer <key>'):")
    for name, key in stack.keys.items():
        print(f"  {name:<20} {key}")
    print(f"""
Place an order as the storefront, then follow it:
  source {rel(DEV_KEYS)}
  curl -s -X POST {intake}/orders -H "Authorization: Bearer $STOREFRONT_KEY" \\
    -H 'Content-Type: application/json' -H "Idempotency-Key: demo-$(date +%s)" \\
    -d '{json.dumps(SAMPLE_ORDER)}'
  curl -s {intake}/orders/<order_id> -H "Authorization: Bearer $OPS_KEY"
""")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-demo", action="store_true", help="do not load the demo data")
    parser.add_argument("--reset-stock", action="store_true", help="recount demo stock even if present")
    parser.add_argument("--only", default=",".join(SERVICES), help="comma-separated subset of services")
    args = parser.parse_args()
    names = [n for n in SERVICES if n in args.only.split(",")]
    simulate = os.environ.get("SIMULATE", "1").strip().lower() in ("1", "true", "yes", "on")
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    stack = LocalStack()
    try:
        print("Starting the order-management platform")
        stack.broker()
        stack.bus_users()
        stack.store()
        stack.dev_keys()
        stack.services(names)
        if not args.no_demo and {"inventory", "billing"} <= set(names):
            try:
                demo.load(stack.urls["inventory"], stack.urls["billing"], reset_stock=args.reset_stock,
                          api_key=stack.keys["ADMIN_KEY"])  # fmt: skip
                print("  ✓ demo catalogue, stock and customers loaded")
            except Exception as exc:  # keep the stack up: the developer may be fixing exactly this
                print(f"  ! demo data not loaded: {exc}")
        simulate = simulate and {"intake", "logistics", "fulfillment"} <= set(names)
        if simulate:
            stack.simulator()
        banner(stack, names, simulate)
        reported: set[str] = set()
        while True:
            for proc in stack.started:
                if not proc.alive() and proc.name not in reported:
                    reported.add(proc.name)
                    print(f"\n  ! {proc.name} exited ({proc.popen.returncode}); log {rel(proc.log_path)}:")
                    print(proc.log_tail(15))
            time.sleep(1)
    except Stop as stop:
        print(f"\n{stop}: stopping")
        return 0
    except RuntimeError as exc:
        print(f"\n  ✗ {exc}")
        return 1
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)  # finish the orderly stop; children are in their own sessions
        stack.down()


if __name__ == "__main__":
    sys.exit(main())
