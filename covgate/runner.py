"""The only module that starts processes: pytest under coverage.py, in a child process.

covgate drives coverage.py itself rather than through pytest-cov: the child process starts
a `coverage.Coverage` with the project's own configuration (plus a private data folder and
parallel mode), exports it to every Python subprocess through coverage.py's own
COVERAGE_PROCESS_CONFIG mechanism (what `[run] patch = subprocess` does), and then runs
pytest with covgate's plugin (covgate.plugin), which records the test results. pytest-xdist
workers get the same configuration, and start measuring when pytest loads covgate._worker
there, unless that would miss something (see that module).

The child leads a process group of its own (on Windows: a new process group), so that an
interrupt stops pytest, its workers and whatever the tests started; a small watchdog process
stops that group when covgate itself is killed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from covgate._child import CHILD_CORE, CHILD_SPEC, RESULTS
from covgate.errors import CovgateError, ExitCode

GRACE_SECONDS = 5.0
WORKSPACE_PREFIX = "covgate-run-"
OWNER_FILE = "owner"
# A workspace without an owner file (being created, or left by covgate 0.1.0) is removed
# only when it is older than this.
UNOWNED_STALE_SECONDS = 3600.0


class Interrupted(CovgateError):
    """The run was stopped by SIGINT or SIGTERM: nothing is reported as passed."""

    exit_code = ExitCode.INTERRUPTED


class PytestCouldNotRun(CovgateError):
    """pytest itself failed (an internal or usage error): there is nothing to judge."""

    exit_code = ExitCode.USAGE


@dataclass(frozen=True)
class RunPlan:
    root: Path
    pytest_args: tuple[str, ...]
    workers: int
    branch: bool
    stdout_to_stderr: bool = False
    """Stream pytest's output to standard error (when a machine format owns stdout)."""
    core: str | None = None
    """The coverage.py core for every process of the run; None: coverage.py's own choice."""


@dataclass(frozen=True)
class RunResult:
    returncode: int
    wall: float
    data_folder: Path
    """Where the run's parallel coverage data files are (private to this run)."""
    results: Path
    """Where covgate's plugin recorded the session (read with covgate.results.load)."""
    core: str | None = None
    """The tracer class coverage.py measured with (e.g. "SysMonitor"), when known."""


def pytest_argv(plan: RunPlan) -> list[str]:
    return ["-n", str(plan.workers), *plan.pytest_args]


@contextlib.contextmanager
def workspace() -> Iterator[Path]:
    """A fresh private folder for one run's files: stale data never leaks in. The folder
    names its owner's process id, so that the next run removes it if its owner was killed."""
    remove_stale_workspaces(Path(tempfile.gettempdir()))
    folder = Path(tempfile.mkdtemp(prefix=WORKSPACE_PREFIX))
    try:
        (folder / OWNER_FILE).write_text(f"{os.getpid()}\n", encoding="utf-8")
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def remove_stale_workspaces(base: Path) -> list[Path]:
    """Remove the workspaces in `base` whose owner process is gone; return them."""
    removed = []
    for folder in base.glob(WORKSPACE_PREFIX + "*"):
        try:
            owner = int((folder / OWNER_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            try:
                stale = time.time() - folder.stat().st_mtime > UNOWNED_STALE_SECONDS
            except OSError:
                continue
        else:
            stale = owner != os.getpid() and not process_alive(owner)
        if stale and folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def run_pytest(
    plan: RunPlan, folder: Path, meanwhile: Callable[[], object] | None = None
) -> RunResult:
    """Run the suite in a child process group; SIGINT/SIGTERM stop the whole group.
    `meanwhile` is called once the child started (to prepare what comes after the tests)."""
    data_folder = folder / "data"
    data_folder.mkdir()
    results = folder / "results.json"
    env = dict(os.environ)
    env[CHILD_SPEC] = os.pathsep.join([str(data_folder / ".coverage"), "1" if plan.branch else "0"])
    env[RESULTS] = str(results)
    core_file = folder / "core"
    env[CHILD_CORE] = os.pathsep.join([plan.core or "", str(core_file)])
    command = [sys.executable, "-m", "covgate._child", *pytest_argv(plan)]
    stdout = sys.stderr if plan.stdout_to_stderr else None
    sys.stdout.flush()
    start = time.monotonic()
    process = subprocess.Popen(
        command, cwd=plan.root, env=env, stdout=stdout,
        start_new_session=_NEW_SESSION, creationflags=_NEW_GROUP,
    )  # fmt: skip
    watchdog = _start_watchdog(process.pid)
    received: list[int] = []

    def forward(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        _interrupt_group(process)

    forwarded = [getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n)]
    previous = {sig: signal.signal(sig, forward) for sig in forwarded}
    try:
        if meanwhile is not None:
            meanwhile()
        returncode = _wait(process, received)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _kill_group(process)  # no worker outlives the run
        _stop_watchdog(watchdog)
    if received:
        raise Interrupted("interrupted: pytest and its workers were stopped")
    try:
        core: str | None = core_file.read_text(encoding="utf-8").strip() or None
    except OSError:
        core = None
    return RunResult(returncode, time.monotonic() - start, data_folder, results, core)


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
            _kill_group(process)


def _start_watchdog(pid: int) -> subprocess.Popen[bytes] | None:
    """The process that kills the group if covgate dies: it reads a pipe only covgate holds."""
    script = Path(__file__).with_name("_watchdog.py")
    try:
        return subprocess.Popen(
            [sys.executable, "-I", "-S", str(script), str(pid)],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=_NEW_SESSION, creationflags=_NEW_GROUP,
        )  # fmt: skip
    except OSError:
        return None  # the run still works; only a killed covgate would leave pytest behind


def _stop_watchdog(watchdog: subprocess.Popen[bytes] | None) -> None:
    if watchdog is None or watchdog.stdin is None:
        return
    with contextlib.suppress(OSError):
        watchdog.stdin.write(b"done")
        watchdog.stdin.close()
    try:
        watchdog.wait(timeout=5)
    except subprocess.TimeoutExpired:
        watchdog.kill()
        watchdog.wait()


if sys.platform == "win32":
    _NEW_SESSION = False
    _NEW_GROUP = subprocess.CREATE_NEW_PROCESS_GROUP

    def _interrupt_group(process: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(OSError):
            process.send_signal(signal.CTRL_BREAK_EVENT)

    def _kill_group(process: subprocess.Popen[bytes]) -> None:
        subprocess.run(["taskkill", "/F", "/T", "/PID", str(process.pid)],
                       capture_output=True, check=False)  # fmt: skip

    def process_alive(pid: int) -> bool:
        import ctypes

        kernel32 = ctypes.windll.kernel32
        handle = kernel32.OpenProcess(0x00100000 | 0x1000, False, pid)  # SYNCHRONIZE, QUERY
        if not handle:
            return bool(kernel32.GetLastError() == 5)  # access denied: it exists
        try:
            return bool(kernel32.WaitForSingleObject(handle, 0) == 0x102)  # WAIT_TIMEOUT
        finally:
            kernel32.CloseHandle(handle)

else:
    _NEW_SESSION = True
    _NEW_GROUP = 0

    def _interrupt_group(process: subprocess.Popen[bytes]) -> None:
        _signal_group(process.pid, signal.SIGINT)

    def _kill_group(process: subprocess.Popen[bytes]) -> None:
        _signal_group(process.pid, signal.SIGKILL)

    def _signal_group(pgid: int, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signum)

    def process_alive(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True  # another user's process
        return True
