"""The only module that starts processes: pytest under coverage.py, in a child process.

covgate drives coverage.py itself rather than through pytest-cov: the child process starts
a `coverage.Coverage` with the project's own configuration (plus a private data folder and
parallel mode), exports it to every Python subprocess through coverage.py's own
COVERAGE_PROCESS_CONFIG mechanism (what `[run] patch = subprocess` does), and then runs
pytest. pytest-xdist workers are such subprocesses, so they are measured the same way as any
code a test runs in a child Python, with one mechanism and no extra plugin.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from covgate.errors import CovgateError, ExitCode

CHILD_SPEC = "COVGATE_CHILD_SPEC"
GRACE_SECONDS = 5.0


class Interrupted(CovgateError):
    """The run was stopped by SIGINT or SIGTERM: nothing is reported as passed."""

    exit_code = ExitCode.INTERRUPTED


@dataclass(frozen=True)
class RunPlan:
    root: Path
    pytest_args: tuple[str, ...]
    workers: int
    branch: bool
    stdout_to_stderr: bool = False
    """Stream pytest's output to standard error (when a machine format owns stdout)."""


@dataclass(frozen=True)
class RunResult:
    returncode: int
    wall: float
    data_folder: Path
    junit: Path


def pytest_argv(plan: RunPlan, junit: Path) -> list[str]:
    args = ["-n", str(plan.workers)] if plan.workers else ["-n", "0"]
    return [*args, f"--junitxml={junit}", *plan.pytest_args]


@contextlib.contextmanager
def workspace() -> Iterator[Path]:
    """A fresh private folder for one run's data files: stale data never leaks in."""
    with tempfile.TemporaryDirectory(prefix="covgate-run-") as folder:
        yield Path(folder)


def run_pytest(plan: RunPlan, folder: Path) -> RunResult:
    """Run the suite in a child process group; SIGINT/SIGTERM stop the whole group."""
    data_folder = folder / "data"
    data_folder.mkdir()
    junit = folder / "junit.xml"
    env = dict(os.environ)
    env[CHILD_SPEC] = os.pathsep.join([str(data_folder / ".coverage"), "1" if plan.branch else "0"])
    command = [sys.executable, "-m", "covgate._child", *pytest_argv(plan, junit)]
    stdout = sys.stderr if plan.stdout_to_stderr else None
    sys.stdout.flush()
    start = time.monotonic()
    process = subprocess.Popen(command, cwd=plan.root, env=env, stdout=stdout,
                               start_new_session=True)  # fmt: skip
    received: list[int] = []

    def forward(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        _signal_group(process.pid, signal.SIGINT)

    forwarded = [getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n)]
    previous = {sig: signal.signal(sig, forward) for sig in forwarded}
    try:
        returncode = _wait(process, received)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _signal_group(process.pid, signal.SIGKILL)  # no worker outlives the run
    if received:
        raise Interrupted("interrupted: pytest and its workers were stopped")
    return RunResult(returncode, time.monotonic() - start, data_folder, junit)


def _wait(process: subprocess.Popen[bytes], received: Sequence[int]) -> int:
    """Wait for the child; once a signal came, give it GRACE_SECONDS, then kill the group."""
    deadline: float | None = None
    while True:
        try:
            return process.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            pass
        if received and deadline is None:
            deadline = time.monotonic() + GRACE_SECONDS
        if deadline is not None and time.monotonic() > deadline:
            _signal_group(process.pid, signal.SIGKILL)


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)
