"""`covgate run` beside other runs and after a kill: private files, no survivors, no litter."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from covgate import runner
from covgate.errors import ExitCode
from tests.helpers import POLICY, clean_env, small_project, write_files
from tests.test_run import _processes_with

# Two selections that measure different lines and take the same time, so that two runs
# overlap from start to end.
SELECTIONS = {
    "tests/test_a.py": """\
import time

from app.auth.tokens import check


def test_a() -> None:
    time.sleep(0.5)
    assert check("abc") == "ok"
""",
    "tests/test_b.py": """\
import time

from app.auth.tokens import rotate
from app.main import main
from app.utils.text import clamp


def test_b() -> None:
    time.sleep(0.5)
    assert rotate(["ab", ""]) == ["ba"]
    assert main(False) == 2
    assert clamp(11, 0, 10) == 10
""",
}


def start(root: Path, name: str, selection: str) -> subprocess.Popen[str]:
    # One test file alone misses the policy: only the numbers matter here.
    relaxed = ["--fail-under", "critical=0", "--fail-under", "overall=0"]
    return subprocess.Popen(
        [sys.executable, "-m", "covgate", "run", *relaxed, "--report", f"json:{name}.json",
         "--", selection],
        cwd=root, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def finish(process: subprocess.Popen[str], root: Path, name: str) -> tuple[int, int, int]:
    """(covered, total, tests passed) that the run reported."""
    out, err = process.communicate(timeout=300)
    assert process.returncode == ExitCode.OK, out + err
    doc = json.loads((root / f"{name}.json").read_text())
    return doc["overall"]["covered"], doc["overall"]["total"], doc["tests"]["passed"]


def data_file_numbers(root: Path) -> tuple[int, int]:
    """(covered, total) of the project's data file, by coverage.py's own report."""
    out = subprocess.run(
        [sys.executable, "-m", "coverage", "json", "-q", "-o", "-"],
        cwd=root, env=clean_env(), capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    totals = json.loads(out)["totals"]
    covered = totals["covered_lines"] + totals["covered_branches"]
    return covered, totals["num_statements"] + totals["num_branches"]


@pytest.mark.slow
def test_two_runs_at_once_each_report_exactly_their_own_numbers(tmp_path: Path) -> None:
    root = small_project(tmp_path, POLICY)
    write_files(root, SELECTIONS)
    # What each selection measures alone (a serial `coverage run` of it gives the same).
    alone = {"a": (7, 38, 1), "b": (22, 38, 1)}
    for _ in range(2):
        first, second = (
            start(root, "a", "tests/test_a.py"),
            start(root, "b", "tests/test_b.py"),
        )
        assert finish(first, root, "a") == alone["a"]
        assert finish(second, root, "b") == alone["b"]
        # The data file is one run's whole data, never a mix of both.
        assert data_file_numbers(root) in (alone["a"][:2], alone["b"][:2])
    leftovers = [p.name for p in root.iterdir() if p.name.startswith(".coverage")]
    assert leftovers == [".coverage"]


HANG = """\
import pathlib
import subprocess
import sys
import time


def test_hang() -> None:
    # A process of the test's own, in pytest's process group.
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    pathlib.Path({started!r}).touch()
    time.sleep(120)
"""


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc to find survivors")
def test_kill_9_of_covgate_stops_pytest_and_the_next_run_cleans_up(tmp_path: Path) -> None:
    root = small_project(tmp_path / "project", POLICY)
    started = tmp_path / "started"
    write_files(root, {"tests/test_hang.py": HANG.format(started=str(started))})
    temp = tmp_path / "tmp"
    temp.mkdir()
    token = f"covgate-test-{uuid.uuid4()}"
    env = {**clean_env(), "COVGATE_TEST_TOKEN": token, "TMPDIR": str(temp)}
    process = subprocess.Popen(
        [sys.executable, "-m", "covgate", "run"], cwd=root, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not started.exists():
        assert time.monotonic() < deadline, "the test never started"
        assert process.poll() is None
        time.sleep(0.1)
    assert len(_processes_with(token)) >= 3  # covgate, its watchdog, pytest, the test's sleeper
    process.send_signal(signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 10
    while _processes_with(token) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_with(token) == []
    (left,) = temp.glob("covgate-run-*")
    assert (left / "owner").read_text() == f"{process.pid}\n"
    (root / "tests" / "test_hang.py").unlink()
    result = subprocess.run([sys.executable, "-m", "covgate", "run"], cwd=root, env=env,
                            capture_output=True, text=True, check=False)  # fmt: skip
    assert result.returncode == ExitCode.OK, result.stdout + result.stderr
    assert list(temp.iterdir()) == []


def test_only_workspaces_of_gone_owners_are_removed(tmp_path: Path) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    owners = {
        "covgate-run-dead": gone.stdout.strip(),
        "covgate-run-mine": str(os.getpid()),
        "covgate-run-parent": str(os.getppid()),
        "covgate-run-garbled": "not a pid",
    }
    for name, owner in owners.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / runner.OWNER_FILE).write_text(owner + "\n")
    (tmp_path / "covgate-run-new").mkdir()  # being created: no owner yet
    old = tmp_path / "covgate-run-old"  # left by covgate 0.1.0, long ago
    old.mkdir()
    hours_ago = time.time() - 2 * runner.UNOWNED_STALE_SECONDS
    os.utime(old, (hours_ago, hours_ago))
    (tmp_path / "covgate-run-file").write_text("not a folder")
    (tmp_path / "other-dead").mkdir()
    (tmp_path / "other-dead" / runner.OWNER_FILE).write_text(gone.stdout)
    removed = runner.remove_stale_workspaces(tmp_path)
    assert sorted(p.name for p in removed) == ["covgate-run-dead", "covgate-run-old"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "covgate-run-file", "covgate-run-garbled", "covgate-run-mine", "covgate-run-new",
        "covgate-run-parent", "other-dead",
    ]  # fmt: skip


def test_a_run_s_workspace_names_its_owner_and_is_removed_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)  # read TMPDIR again
    with runner.workspace() as folder:
        assert folder.parent == tmp_path
        assert folder.name.startswith("covgate-run-")
        assert (folder / runner.OWNER_FILE).read_text() == f"{os.getpid()}\n"
    assert list(tmp_path.iterdir()) == []
