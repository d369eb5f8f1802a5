"""CPU time and memory of processes, read from /proc (Linux), for the benchmark's figures.

``cpu_s`` is utime + stime of the process (with ``descendants``, of its live descendants
too: RabbitMQ's helpers), in seconds (``os.sysconf('SC_CLK_TCK')`` ticks); ``rss_mib`` /
``hwm_mib`` are VmRSS and VmHWM (the peak) of the process itself. A process that is gone or
unreadable gives ``None``: the figure is "n/a".
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

TICKS = os.sysconf("SC_CLK_TCK")
PROC = Path("/proc")


@dataclass(frozen=True)
class Sample:
    cpu_s: float
    rss_mib: float
    hwm_mib: float


def _stat_fields(pid: int) -> list[str] | None:
    """The fields after ``(comm)`` of /proc/<pid>/stat: state, ppid, ..., utime (11), stime (12)."""
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return raw.rsplit(")", 1)[1].split()


def cpu_ticks(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return None if fields is None else int(fields[11]) + int(fields[12])


def children(pid: int) -> list[int]:
    """Every live descendant of ``pid``."""
    parents: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields is not None:
            parents.setdefault(int(fields[1]), []).append(int(entry.name))
    out, todo = [], list(parents.get(pid, []))
    while todo:
        child = todo.pop()
        out.append(child)
        todo.extend(parents.get(child, []))
    return out


def memory_mib(pid: int) -> tuple[float, float] | None:
    """(VmRSS, VmHWM) in MiB."""
    try:
        lines = (PROC / str(pid) / "status").read_text().splitlines()
    except OSError:
        return None
    found = {}
    for line in lines:
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) / 1024
    return found.get("VmRSS", 0.0), found.get("VmHWM", 0.0)


def sample(pid: int | None, descendants: bool = False) -> Sample | None:
    if pid is None:
        return None
    own = cpu_ticks(pid)
    memory = memory_mib(pid)
    if own is None or memory is None:
        return None
    if descendants:
        own += sum(t for c in children(pid) if (t := cpu_ticks(c)) is not None)
    return Sample(cpu_s=own / TICKS, rss_mib=memory[0], hwm_mib=memory[1])


def sample_all(
    pids: Mapping[str, int | None], with_descendants: Collection[str] = ()
) -> dict[str, Sample | None]:
    """A sample per name; the processes named in ``with_descendants`` count their children's CPU."""
    return {name: sample(pid, name in with_descendants) for name, pid in pids.items()}


def cpu_delta_s(before: Sample | None, after: Sample | None) -> float | None:
    if before is None or after is None:
        return None
    return max(0.0, after.cpu_s - before.cpu_s)


def broker_pid(amqp_url: str) -> int | None:
    """The local RabbitMQ server (``beam.smp`` running ``rabbit``), if the broker is on this machine."""
    host = urlparse(amqp_url).hostname or "127.0.0.1"
    if host not in ("127.0.0.1", "localhost", "::1"):
        return None
    found: list[tuple[float, int]] = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"beam.smp") and any(b"rabbit" in a for a in argv):
            memory = memory_mib(int(entry.name))
            found.append((memory[0] if memory else 0.0, int(entry.name)))
    return max(found)[1] if found else None
