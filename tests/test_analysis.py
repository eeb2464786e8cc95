"""covgate.analysis's worker processes on real coverage.py data: a worker that dies, a worker
that raises. The project is measured by the real pytest and coverage.py; the worker is killed
by a real signal. Nothing is mocked."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from covgate import analysis
from covgate.errors import DataError, ExitCode
from tests.helpers import clean_env, measure, write_files
from tests.sources_fixtures import MODULE

slow = pytest.mark.slow
MODULES = 60
FUNCTIONS = 12
"""Enough that analysing the modules without the cache takes a few seconds on two cores
(each function is a pair from the fixtures' MODULE: one that branches, one never called)."""


@pytest.fixture(scope="module")
def wide(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A measured project of MODULES modules, each of FUNCTIONS functions (one of them called),
    its data naming the files relatively (the project can be copied)."""
    root = tmp_path_factory.mktemp("wide")
    module = "\n\n".join(MODULE.format(n=f) for f in range(FUNCTIONS))
    files = {f"big/mod_{m:03d}.py": module for m in range(MODULES)}
    imports = "".join(f"import big.mod_{m:03d}\n" for m in range(MODULES))
    calls = "".join(f"    big.mod_{m:03d}.classify_0([0, 1000])\n" for m in range(MODULES))
    files |= {
        "pyproject.toml": '[tool.coverage.run]\nsource = ["big"]\nbranch = true\n'
        "relative_files = true\n",
        "big/__init__.py": "",
        "tests/test_big.py": f"{imports}\n\ndef test_all():\n{calls}",
    }
    write_files(root, files)
    measure(root)
    return root


def _children(pid: int) -> list[int]:
    """The child processes of `pid`, from Linux's /proc."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found.extend(int(child) for child in (task / "children").read_text().split())
        except OSError:  # the thread or the process has ended
            continue
    return found


def _cpu_ticks(pid: int) -> int:
    """The CPU time process `pid` has used so far, in clock ticks (user and system time)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


@contextlib.contextmanager
def _check(root: Path, temp: Path) -> Iterator[subprocess.Popen[str]]:
    """`covgate check --no-cache` running in `root`, with `temp` as its temporary folder, in a
    session of its own; whatever is left of that session is killed at the end."""
    temp.mkdir()
    with subprocess.Popen(
        [sys.executable, "-m", "covgate", "check", "--no-cache"],
        cwd=root, env={**clean_env(), "TMPDIR": str(temp)}, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    ) as process:  # fmt: skip
        try:
            yield process
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)


@dataclass(frozen=True)
class Ended:
    code: int
    out: str
    err: str
    workers: frozenset[int]
    """Every worker seen while covgate ran."""
    survivors: tuple[int, ...]
    """Those still running once covgate has ended."""


def _ended(process: subprocess.Popen[str], workers: list[int], deadline: float) -> Ended:
    """Wait for covgate to end, noting its workers."""
    seen = set(workers)
    while process.poll() is None:
        assert time.monotonic() < deadline, "covgate did not stop"
        seen.update(_children(process.pid))
        time.sleep(0.002)
    survivors = tuple(pid for pid in sorted(seen) if Path(f"/proc/{pid}").exists())
    with contextlib.suppress(ProcessLookupError):  # a survivor would keep the output open
        os.killpg(process.pid, signal.SIGKILL)
    out, err = process.communicate(timeout=10)
    return Ended(process.returncode, out, err, frozenset(seen), survivors)


reads_proc = pytest.mark.skipif(
    not Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").exists(),
    reason="finds the workers in /proc (Linux)",
)
two_cpus = pytest.mark.skipif(analysis.available_cpus() < 2, reason="one CPU: no workers")


@slow
@reads_proc
@two_cpus
def test_a_killed_worker_stops_the_analysis_with_one_line(wide: Path, tmp_path: Path) -> None:
    temp = tmp_path / "temp"
    deadline = time.monotonic() + 30
    with _check(wide, temp) as process:
        # Every worker has started, and the first one is analysing (it has used the CPU).
        count = min(analysis.available_cpus(), MODULES + 1)
        while len(workers := _children(process.pid)) < count or not _cpu_ticks(workers[0]):
            assert time.monotonic() < deadline, f"{count} analysis workers never worked"
            assert process.poll() is None, process.communicate()
            time.sleep(0.002)
        assert [p.name[:8] for p in temp.iterdir()] == ["covgate-"]  # the data's copy
        os.kill(workers[0], signal.SIGKILL)
        ended = _ended(process, workers, deadline)

    assert (ended.code, ended.out, ended.err) == (
        ExitCode.USAGE,
        "",
        f"covgate: error: an analysis worker (process {workers[0]}) was killed by signal 9 "
        "(SIGKILL, perhaps by the out-of-memory killer) before it finished; nothing was "
        "judged: run covgate again\n",
    )
    assert len(ended.workers) >= 2, "the other workers had started"
    assert ended.survivors == ()
    assert list(temp.iterdir()) == []


@slow
@reads_proc
@two_cpus
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_as_the_workers_start_is_exit_130(
    wide: Path, tmp_path: Path, signum: int
) -> None:
    """Ctrl-C (to the process group) or SIGTERM (to covgate) the moment the first worker
    exists, before it has set its own signal handling."""
    temp = tmp_path / "temp"
    deadline = time.monotonic() + 30
    with _check(wide, temp) as process:
        while not (workers := _children(process.pid)):  # no sleep: as early as can be
            assert time.monotonic() < deadline, "no analysis worker started"
            assert process.poll() is None, process.communicate()
        if signum == signal.SIGINT:
            os.killpg(process.pid, signum)
        else:
            os.kill(process.pid, signum)
        ended = _ended(process, workers, deadline)

    assert (ended.code, ended.out, ended.err) == (
        ExitCode.INTERRUPTED,
        "",
        "\ncovgate: interrupted\n",
    )
    assert ended.survivors == ()
    assert list(temp.iterdir()) == []


@slow
def test_an_error_in_a_worker_is_raised_as_is(wide: Path, tmp_path: Path) -> None:
    root = shutil.copytree(wide, tmp_path / "copy")
    with (root / "big/mod_041.py").open("a") as source:
        source.write("def (\n")

    with pytest.raises(DataError) as raised:
        analysis.analyse(root / ".coverage", root, jobs=2, cache=False)

    assert str(raised.value) == "big/mod_041.py: measured, but not Python that parses"
    assert raised.value.__cause__ is None
    assert multiprocessing.active_children() == []
