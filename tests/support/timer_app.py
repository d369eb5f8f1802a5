"""A tiny service for crash tests of durable timers: schedules a timer over HTTP, logs its firing.

It stands in for intake, the service ``DeadlinePassed`` is addressed to (a timer's message goes to
the service that scheduled it), under a test's own prefixes. Run as a real process, the way the
services run: ``python -m tests.support.timer_app`` (``start_timer_app`` spawns it).
"""

from __future__ import annotations

import logging
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, Field

from devstack.processes import Proc, service_env, spawn
from shared.contracts import DeadlinePassed
from shared.envelope import Envelope, utcnow
from shared.service import Context, ServiceContext, create_service_app, run
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)


class TimerAppSettings(ServiceSettings):
    service_name: ClassVar[str] = DeadlinePassed.SERVICE


class ScheduleTimer(BaseModel):
    order_id: str
    timer: str
    delay_s: float = Field(ge=0)


def bootstrap(settings: TimerAppSettings | None = None) -> FastAPI:
    """The test service: ``POST /timers`` and a consumer of ``DeadlinePassed``."""
    settings = settings or TimerAppSettings()
    router = APIRouter()

    @router.post("/timers", status_code=201)
    async def schedule_timer(body: ScheduleTimer, ctx: Context) -> dict[str, Any]:
        """Schedule ``DeadlinePassed`` for ``order_id`` / ``timer`` due in ``delay_s`` seconds."""
        due_at = utcnow() + timedelta(seconds=body.delay_s)
        message = DeadlinePassed(order_id=body.order_id, timer=body.timer, due_at=due_at.isoformat())
        timer = await ctx.timers.schedule(f"{body.order_id}:{body.timer}", due_at, message)
        return {"key": timer.key, "due_at": timer.due_at.isoformat(), "state": timer.state}

    async def wire(ctx: ServiceContext) -> None:
        async def deadline_passed(message: DeadlinePassed, envelope: Envelope) -> None:
            log.info("deadline handled", extra={"key": f"{message.order_id}:{message.timer}"})

        ctx.bus.subscribe(DeadlinePassed, deadline_passed)

    return create_service_app(settings, wire=wire, routers=[router], title="timer test service")


def start_timer_app(port: int, env: dict[str, str], log_dir: Path) -> Proc:
    """Spawn the test service on ``port``; ``devstack.processes.wait_ready`` before using it."""
    argv = [sys.executable, "-m", "tests.support.timer_app"]
    proc = spawn(
        "timerapp", argv, log_dir / "timerapp.log", service_env(TimerAppSettings.service_name, port, env)
    )
    proc.url = f"http://127.0.0.1:{port}"
    return proc


def main() -> None:
    settings = TimerAppSettings()
    run(bootstrap(settings), settings)


if __name__ == "__main__":
    main()
