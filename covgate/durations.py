"""Recorded test durations, and the choice `workers = "auto"` makes from them.

Measured on 2-core machines, pytest-xdist with 2 workers made each of four real suites of
1-18 s slower than a serial run (3.3-4.2x the CPU): the controller process, a collection in
every worker and the tracer all compete for the same cores. So "auto" stays serial unless
the recorded durations predict a clear gain, and it says which it chose and why.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from covgate.analysis import available_cpus
from covgate.config import Workers

STORE = Path(".covgate") / "durations.json"
VERSION = 2  # 2: tests keyed by the node ids pytest reports (1 rebuilt them from JUnit)
RUNS_KEPT = 6

# The prediction for W workers: STARTUP + collection + tests * SLOWDOWN / W.
STARTUP = 2.0
SLOWDOWN = 1.3
REQUIRED_GAIN = 0.75  # choose workers only when predicted below 75 % of the serial time


@dataclass(frozen=True)
class RunRecord:
    workers: int
    wall: float
    """Seconds the whole pytest session took."""
    tests: int


@dataclass(frozen=True)
class Record:
    tests: dict[str, float] = field(default_factory=dict)
    runs: tuple[RunRecord, ...] = ()

    @property
    def test_time(self) -> float:
        return sum(self.tests.values())


@dataclass(frozen=True)
class Choice:
    workers: int
    reason: str


def load(root: Path) -> Record:
    """The record of earlier runs; empty when there is none or it cannot be read."""
    path = root / STORE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != VERSION:
            return Record()
        runs = tuple(RunRecord(int(r["workers"]), float(r["wall"]), int(r["tests"]))
                     for r in data.get("runs", []))  # fmt: skip
        tests = {str(k): float(v) for k, v in data.get("tests", {}).items()}
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return Record()
    return Record(tests=tests, runs=runs)


def save(
    root: Path, record: Record, durations: dict[str, float], run: RunRecord | None = None
) -> None:
    """Add one run's test durations (and its wall time, for a whole run on this machine) to
    the record (best effort: a read-only checkout only loses the record)."""
    tests = {**record.tests, **durations}
    runs = (*record.runs, *([run] if run else []))[-RUNS_KEPT:]
    data = {
        "version": VERSION,
        "tests": dict(sorted(tests.items())),
        "runs": [{"workers": r.workers, "wall": r.wall, "tests": r.tests} for r in runs],
    }
    path = root / STORE
    partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(exist_ok=True)
        ignore = path.parent / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# created by covgate\n*\n", encoding="utf-8")
        # Written whole or not at all: two runs at once never leave a mix.
        partial.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        os.replace(partial, path)
    except OSError:
        with contextlib.suppress(OSError):
            partial.unlink()


def choose(setting: Workers, record: Record, cpus: int | None = None) -> Choice:
    """How many xdist workers to use (0: serial), and why."""
    if setting != "auto":
        return Choice(setting, f"{setting} workers (as set)" if setting else "serial (as set)")
    cpus = cpus if cpus is not None else available_cpus()
    workers = cpus - 1  # the xdist controller needs a core of its own
    if workers < 2:
        return Choice(
            0, f"auto: serial, {cpus} CPUs leave no room for xdist's controller and 2 workers"
        )
    serial = [r.wall for r in record.runs if r.workers == 0]
    parallel = [r.wall for r in record.runs if r.workers == workers]
    if serial and parallel:
        if min(parallel) < min(serial) * REQUIRED_GAIN:
            return Choice(
                workers,
                f"auto: {workers} workers, measured {min(parallel):.1f}s against "
                f"{min(serial):.1f}s serial",
            )
        return Choice(
            0,
            f"auto: serial, measured {min(serial):.1f}s against {min(parallel):.1f}s with "
            f"{workers} workers",
        )
    if not record.tests or not serial:
        return Choice(0, "auto: serial, no recorded serial run yet to predict from")
    wall = min(serial)
    tests = record.test_time
    collection = max(wall - tests, 0.0)
    predicted = STARTUP + collection + tests * SLOWDOWN / workers
    if predicted < wall * REQUIRED_GAIN:
        return Choice(
            workers,
            f"auto: {workers} workers, predicted {predicted:.1f}s against {wall:.1f}s serial",
        )
    return Choice(
        0,
        f"auto: serial, {workers} workers would take about {predicted:.1f}s against "
        f"{wall:.1f}s serial",
    )
