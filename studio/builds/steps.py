"""The JSON a Build row stores: its steps and its history, as pydantic models."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel

# A step's log is kept whole up to this size; past it the middle is cut so the
# first lines (what ran) and the last (why it stopped) both survive.
MAX_LOG_CHARS = 20_000


class StepName(StrEnum):
    RENDER = "render"
    VERIFY = "verify"
    PACKAGE = "package"
    SIGN = "sign"
    SMOKE = "smoke"
    STORE = "store"


STEP_ORDER = list(StepName)


class StepStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class StepRecord(BaseModel):
    """One step of a build: when it ran, how it ended, what it said."""

    name: StepName
    status: StepStatus = StepStatus.PENDING
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_ms: int | None = None
    log: str = ""

    def start(self, now: datetime) -> None:
        self.status = StepStatus.RUNNING
        self.started_at = now
        self.finished_at = None
        self.duration_ms = None

    def finish(self, status: StepStatus, now: datetime, *, elapsed_ms: int) -> None:
        self.status = status
        self.finished_at = now
        self.duration_ms = elapsed_ms

    def say(self, line: str) -> None:
        text = f"{self.log}{line.rstrip()}\n"
        if len(text) > MAX_LOG_CHARS:
            half = MAX_LOG_CHARS // 2
            text = f"{text[:half]}\n[… log cut …]\n{text[-half:]}"
        self.log = text


class BuildEvent(BaseModel):
    """Something that happened to a build outside its steps (a lost worker, a retry)."""

    at: datetime
    message: str


def fresh_steps() -> list[StepRecord]:
    return [StepRecord(name=name) for name in STEP_ORDER]


def load_steps(data: object) -> list[StepRecord]:
    if not isinstance(data, list) or not data:
        return fresh_steps()
    return [StepRecord.model_validate(item) for item in data]


def dump_steps(steps: list[StepRecord]) -> list[dict[str, object]]:
    return [step.model_dump(mode="json") for step in steps]
