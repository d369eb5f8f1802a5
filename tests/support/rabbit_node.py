"""A private RabbitMQ node for one test module or chaos run, so the broker can be restarted,
killed or given other settings without touching the machine's own broker (issue 9).

On these machines /etc/rabbitmq/rabbitmq.conf pins the listener to 5672 and
/etc/rabbitmq/rabbitmq-env.conf names the node ``rabbit@localhost``, so a second node gets its
own of everything: a config file (``listeners.tcp.local = 127.0.0.1:<port>``, no management
listener, optionally ``consumer_timeout``), an env file, node name (``chaos<hex>@localhost``),
distribution port, mnesia and log directories, an empty plugins file, and an Erlang cookie in a
home directory of its own (rabbitmqctl reads the cookie from ``$HOME``). It runs in the
foreground as the ``rabbitmq`` user (the way Debian's wrapper runs the main one, see
scripts/bootstrap.sh) in a process group of its own, so ``kill`` takes the whole VM down.

    node = RabbitNode.start_new(consumer_timeout_ms=5000)
    node.provision(prefix)          # the services' users (shared/bus/users.py), as bootstrap does
    ... node.url, node.stop_app(), node.start_app(), node.kill(), node.restart() ...
    node.cleanup()
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devstack.processes import free_port, port_open
from shared.bus.users import Rabbitmqctl, definitions

RABBIT_BIN = Path("/usr/lib/rabbitmq/bin")
BROKER_USER = "rabbitmq"


def available() -> str | None:
    """None when a private node can be started here, else why not (for a skip message)."""
    if not (RABBIT_BIN / "rabbitmq-server").exists():
        return "rabbitmq-server is not installed (make install)"
    try:
        import pwd

        broker = pwd.getpwnam(BROKER_USER)
    except (ImportError, KeyError):
        return f"no {BROKER_USER} user"
    if os.geteuid() not in (0, broker.pw_uid):
        return f"a private RabbitMQ node needs root or the {BROKER_USER} user"
    return None


def _as_broker() -> dict[str, Any]:
    """Popen arguments that run a child as the rabbitmq user (when we are root)."""
    import pwd

    broker = pwd.getpwnam(BROKER_USER)
    if os.geteuid() == broker.pw_uid:
        return {}
    return {"user": broker.pw_uid, "group": broker.pw_gid, "extra_groups": []}


@dataclass
class RabbitNode:
    base: Path
    port: int = field(default_factory=free_port)
    dist_port: int = field(default_factory=free_port)
    name: str = field(default_factory=lambda: f"chaos{secrets.token_hex(4)}@localhost")
    consumer_timeout_ms: int | None = None
    popen: subprocess.Popen[bytes] | None = None

    # --- files ---------------------------------------------------------------------------------
    @property
    def home(self) -> Path:
        return self.base / "home"

    @property
    def log_dir(self) -> Path:
        return self.base / "log"

    @property
    def log_path(self) -> Path:
        """The node's own log (RabbitMQ writes ``<node>.log`` under RABBITMQ_LOG_BASE)."""
        return self.log_dir / f"{self.name}.log"

    @property
    def url(self) -> str:
        """The operator's URL (guest may log in from localhost; a fresh node has it)."""
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def env(self) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin") + ":/usr/sbin:/usr/lib/rabbitmq/bin",
            "HOME": str(self.home),
            "LANG": "C.UTF-8",
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_CONFIG_FILE": str(self.base / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(self.base / "advanced.config"),
            "RABBITMQ_CONF_ENV_FILE": str(self.base / "rabbitmq-env.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.base / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(self.base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.log_dir),
            "RABBITMQ_LOGS": str(self.log_path),
            "RABBITMQ_PID_FILE": str(self.base / "node.pid"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
            "RABBITMQ_CTL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }

    def _write_files(self) -> None:
        for sub in ("home", "log", "mnesia"):
            (self.base / sub).mkdir(parents=True, exist_ok=True)
        conf = [
            f"listeners.tcp.local = 127.0.0.1:{self.port}",
            "loopback_users.guest = true",
            "log.console = false",
            "log.file.level = info",
        ]
        if self.consumer_timeout_ms is not None:
            conf.append(f"consumer_timeout = {self.consumer_timeout_ms}")
        (self.base / "rabbitmq.conf").write_text("\n".join(conf) + "\n")
        # The broker checks consumer timeouts on each channel's tick (60 s by default): a tick of
        # a second makes a held delivery close its channel within a second of the timeout.
        tick = "{channel_tick_interval, 1000}" if self.consumer_timeout_ms is not None else ""
        (self.base / "advanced.config").write_text(f"[{{rabbit, [{tick}]}}].\n")
        (self.base / "rabbitmq-env.conf").write_text("# a private node: everything is in the environment\n")
        (self.base / "enabled_plugins").write_text("[].\n")  # no management listener
        cookie = self.home / ".erlang.cookie"
        cookie.write_text(secrets.token_hex(20).upper())
        cookie.chmod(0o400)
        if os.geteuid() == 0:
            import pwd

            broker = pwd.getpwnam(BROKER_USER)
            for path in [self.base, *self.base.rglob("*")]:
                os.chown(path, broker.pw_uid, broker.pw_gid)

    # --- life cycle ----------------------------------------------------------------------------
    @classmethod
    def start_new(cls, *, consumer_timeout_ms: int | None = None, timeout_s: float = 90) -> RabbitNode:
        why = available()
        if why:
            raise RuntimeError(f"cannot start a private RabbitMQ node: {why}")
        base = Path(tempfile.mkdtemp(prefix="oms-rabbit-"))
        node = cls(base=base, consumer_timeout_ms=consumer_timeout_ms)
        try:
            node.start()
            node.wait_ready(timeout_s)
        except BaseException:
            node.cleanup()
            raise
        return node

    def start(self) -> None:
        """Start the VM (the app starts with it); ``wait_ready`` before using it."""
        self._write_files()
        out = open(self.base / "startup.log", "ab")  # the child keeps its own copy of the descriptor
        try:
            self.popen = subprocess.Popen(
                [str(RABBIT_BIN / "rabbitmq-server")],
                cwd=self.base,
                env=self.env(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **_as_broker(),
            )
        finally:
            out.close()

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def ctl(self, *args: str, timeout_s: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
        """``rabbitmqctl -n <node> ...`` with this node's cookie."""
        done = subprocess.run(
            [str(RABBIT_BIN / "rabbitmqctl"), "-n", self.name, *args],
            env=self.env(),
            cwd=self.base,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
            **_as_broker(),
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)}: {(done.stderr or done.stdout).strip()}")
        return done

    def wait_ready(self, timeout_s: float = 90) -> None:
        """Until the app runs and the AMQP port accepts connections."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.popen is not None and not self.alive():
                raise RuntimeError(f"RabbitMQ node {self.name} exited:\n{self.log_tail()}")
            left = max(1, int(deadline - time.monotonic()))
            wait = str(min(left, 10))
            done = self.ctl("await_startup", "--timeout", wait, timeout_s=left + 15, check=False)
            if done.returncode == 0 and port_open("127.0.0.1", self.port):
                return
            time.sleep(0.5)
        why = f"RabbitMQ node {self.name} not ready within {timeout_s:.0f} s"
        raise RuntimeError(f"{why}:\n{self.log_tail()}")

    def stop_app(self) -> None:
        """Stop the RabbitMQ application (every connection is closed, the VM stays up)."""
        self.ctl("stop_app")

    def start_app(self, timeout_s: float = 90) -> None:
        self.ctl("start_app", timeout_s=timeout_s)
        self.wait_ready(timeout_s)

    def restart(self, down_s: float = 0.0) -> float:
        """stop_app, stay down ``down_s``, start_app; returns how long the broker was away."""
        began = time.monotonic()
        self.stop_app()
        if down_s:
            time.sleep(down_s)
        self.start_app()
        return time.monotonic() - began

    def kill(self) -> None:
        """SIGKILL the whole VM (no clean shutdown); ``start`` + ``wait_ready`` bring it back."""
        if self.popen is not None and self.alive():
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=30)

    def stop(self, timeout_s: float = 60) -> None:
        if not self.alive():
            return
        self.ctl("stop", timeout_s=timeout_s, check=False)
        assert self.popen is not None
        try:
            self.popen.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()

    def cleanup(self) -> None:
        """Stop the node (SIGKILL if it does not stop) and remove its files."""
        try:
            self.stop(timeout_s=30)
        finally:
            if self.alive():
                self.kill()
            shutil.rmtree(self.base, ignore_errors=True)

    # --- contents ------------------------------------------------------------------------------
    def provision(self, prefix: str = "oms") -> list[str]:
        """The services' users and permissions (shared/bus/users.py) on this node, with topic
        permissions on ``<prefix>.bus``: what ``python -m shared.bus.users`` does on the main one."""
        doc = definitions(prefix=prefix)
        _NodeCtl(self).import_definitions(doc)
        return [entry["user"] for entry in doc["topic_permissions"]]

    def connections(self) -> list[str]:
        """The users of the open AMQP connections."""
        done = self.ctl("list_connections", "user", "--quiet", "--no-table-headers", check=False)
        return [line.strip() for line in done.stdout.splitlines() if line.strip()]

    def queues(self, column: str = "messages") -> dict[str, int]:
        """Queue name -> a numeric column of ``rabbitmqctl list_queues`` (messages, consumers ...)."""
        done = self.ctl("list_queues", "name", column, "--quiet", "--no-table-headers", check=False)
        out: dict[str, int] = {}
        for line in done.stdout.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1].isdigit():
                out[parts[0]] = int(parts[1])
        return out

    def consumers(self) -> dict[str, int]:
        """Queue name -> consumers on it."""
        return self.queues("consumers")

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_text() or (self.base / "startup.log").read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])


TIMED_OUT = "delivery acknowledgement on channel"  # the broker's words when it closes a channel


def delivery_timeouts(text: str) -> list[str]:
    """The lines of a broker or service log that tell of a channel closed by the consumer timeout."""
    return [line for line in text.splitlines() if TIMED_OUT in line]


@dataclass
class BusLedger:
    """A Jepsen-style count of what a broker fault did to messages (issue 9).

    A durable quorum queue ``<prefix>.ledger`` bound to ``#`` on the stack's exchange receives a
    copy of everything routed there. ``markers`` publishes numbered markers with confirms while
    the fault happens; afterwards ``drain`` reads the queue, and ``marker_counts`` compares:
    *lost* (confirmed, never received: must be none), *recovered* (unconfirmed, received all the
    same), *duplicated* (received more than once). ``unhandled`` checks the services' own traffic:
    every message the queue received was handled by each service that consumes its type.
    """

    amqp_url: str
    prefix: str
    confirmed: set[str] = field(default_factory=set)
    unconfirmed: set[str] = field(default_factory=set)
    received: Counter[str] = field(default_factory=Counter)
    envelopes: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (type, order id)
    _connection: Any = None
    _channel: Any = None
    _queue: Any = None
    _exchange: Any = None
    _sent: int = 0

    @property
    def queue_name(self) -> str:
        return f"{self.prefix}.ledger"

    async def start(self) -> BusLedger:
        import aio_pika

        self._connection = await aio_pika.connect_robust(self.amqp_url)
        self._channel = await self._connection.channel(publisher_confirms=True)
        self._exchange = await self._channel.declare_exchange(
            f"{self.prefix}.bus", aio_pika.ExchangeType.TOPIC, durable=True
        )
        self._queue = await self._channel.declare_queue(
            self.queue_name, durable=True, arguments={"x-queue-type": "quorum"}
        )
        await self._queue.bind(self._exchange, routing_key="#")
        return self

    async def markers(self, stop: asyncio.Event, interval_s: float = 0.02, timeout_s: float = 3.0) -> None:
        """Publish numbered markers until ``stop``: each one confirmed or, when the publish raises or
        gets no confirm within ``timeout_s``, unconfirmed (in doubt: it may still have arrived)."""
        import aio_pika

        while not stop.is_set():
            self._sent += 1
            marker = f"marker-{self._sent}"
            message = aio_pika.Message(
                marker.encode(), message_id=marker, delivery_mode=aio_pika.DeliveryMode.PERSISTENT
            )
            try:
                publish = self._exchange.publish(message, routing_key="ledger.marker")
                await asyncio.wait_for(publish, timeout_s)
                self.confirmed.add(marker)
            except Exception:
                self.unconfirmed.add(marker)
                await asyncio.sleep(0.2)  # the broker is away: do not spin
                continue
            await asyncio.sleep(interval_s)

    async def drain(self) -> int:
        """Read (and ack) everything the queue holds now; returns how many were read."""
        count = 0
        while (message := await self._queue.get(fail=False, no_ack=False)) is not None:
            message_id = message.message_id or ""
            if not (message.redelivered and message_id in self.received):  # our own lost ack
                self.received[message_id] += 1
                if not message_id.startswith("marker-"):
                    try:
                        body = json.loads(message.body)
                        self.envelopes[message_id] = (str(body["type"]), str(body.get("correlation_id")))
                    except (ValueError, KeyError, TypeError):
                        self.envelopes[message_id] = (message.type or "?", message.correlation_id or "")
            await message.ack()
            count += 1
        return count

    def marker_counts(self) -> dict[str, int]:
        got = {m for m in self.received if m.startswith("marker-")}
        return {
            "sent": self._sent,
            "confirmed": len(self.confirmed),
            "unconfirmed": len(self.unconfirmed),
            "received": len(got),
            "lost": len(self.confirmed - got),
            "recovered": len(self.unconfirmed & got),
            "duplicated": sum(1 for m in got if self.received[m] > 1),
        }

    def republished(self) -> list[str]:
        """Service messages the queue received more than once (a relay or a redelivery repeated them)."""
        return [m for m in self.envelopes if self.received[m] > 1]

    def unhandled(
        self, handled: Callable[[str], Counter[str]], consumers: dict[str, frozenset[str]]
    ) -> list[tuple[str, str, str]]:
        """(service, type, message id) of every received message a consumer of its type never
        handled. ``handled(service)`` gives that service's handled counts per message id."""
        counts = {service: handled(service) for service in consumers}
        missing = []
        for message_id, (type_name, _) in self.envelopes.items():
            for service, types in consumers.items():
                if type_name in types and counts[service][message_id] == 0:
                    missing.append((service, type_name, message_id))
        return missing

    async def close(self) -> None:
        """Delete the queue and disconnect; bounded, so a broker that is away cannot hang it."""
        if self._connection is None:
            return
        try:
            await asyncio.wait_for(self._channel.queue_delete(self.queue_name), 10)
        except Exception:  # the broker is gone: nothing to clean up there
            pass
        try:
            await asyncio.wait_for(self._connection.close(), 10)
        except Exception:
            pass


class _NodeCtl(Rabbitmqctl):
    """shared/bus/users.py's rabbitmqctl client, aimed at a private node."""

    def __init__(self, node: RabbitNode) -> None:
        super().__init__(str(RABBIT_BIN / "rabbitmqctl"))
        self.node = node

    def _run(self, *args: str) -> None:
        self.node.ctl("-q", *args)
