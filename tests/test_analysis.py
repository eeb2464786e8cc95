"""covgate.analysis's worker processes on real coverage.py data: a worker that dies, a worker
that raises. The project is measured by the real pytest and coverage.py; the worker is killed
by a real signal. Nothing is mocked."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from covgate import analysis
from covgate.errors import DataError, ExitCode
from tests.helpers import clean_env, measure, write_files

slow = pytest.mark.slow
MODULES = 60
FUNCTIONS = 12
"""Enough that analysing the modules without the cache takes a few seconds on two cores."""

FUNCTION = """
def classify_{f}(values, limit={f}):
    small, large = [], []
    for value in values:
        if value < limit:
            small.append(value)
        elif value == limit:
            continue
        else:
            large.append(value)
    if not small:
        return None
    return len(small), len(large)
"""


@pytest.fixture(scope="module")
def wide(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A measured project of MODULES modules, each of FUNCTIONS functions (one of them called),
    its data naming the files relatively (the project can be copied)."""
    root = tmp_path_factory.mktemp("wide")
    module = "".join(FUNCTION.format(f=f) for f in range(FUNCTIONS))
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


@slow
@pytest.mark.skipif(
    not Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").exists(),
    reason="finds the workers in /proc (Linux)",
)
@pytest.mark.skipif(analysis.available_cpus() < 2, reason="one CPU: no analysis workers")
def test_a_killed_worker_stops_the_analysis_with_one_line(wide: Path, tmp_path: Path) -> None:
    temp = tmp_path / "temp"
    temp.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "covgate", "check", "--no-cache"],
        cwd=wide, env={**clean_env(), "TMPDIR": str(temp)}, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        # Every worker has started, and the first one is analysing (it has used the CPU).
        count = min(analysis.available_cpus(), MODULES + 1)
        deadline = time.monotonic() + 30
        while len(workers := _children(process.pid)) < count or not _cpu_ticks(workers[0]):
            assert time.monotonic() < deadline, f"{count} analysis workers never worked"
            assert process.poll() is None, process.communicate()
            time.sleep(0.002)
        assert [p.name[:8] for p in temp.iterdir()] == ["covgate-"]  # the data's copy
        os.kill(workers[0], signal.SIGKILL)
        seen = set(workers)
        while process.poll() is None:
            assert time.monotonic() < deadline, "covgate did not stop after its worker died"
            seen.update(_children(process.pid))
            time.sleep(0.002)
        out, err = process.communicate()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)  # its session: covgate and its workers
            process.communicate()

    assert (process.returncode, out, err) == (
        ExitCode.USAGE,
        "",
        f"covgate: error: an analysis worker (process {workers[0]}) was killed by signal 9 "
        "(SIGKILL, perhaps by the out-of-memory killer) before it finished; nothing was "
        "judged: run covgate again\n",
    )
    assert len(seen) >= 2, "the other workers had started"
    assert [pid for pid in seen if Path(f"/proc/{pid}").exists()] == []
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
