"""`covgate run` end to end: real pytest, coverage.py and xdist in child processes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from covgate.cli import main
from covgate.errors import ExitCode
from tests.helpers import (
    EXPECTED_TESTS,
    OUTCOMES,
    POLICY,
    PYTEST_FILES,
    clean_env,
    reported_tests,
    small_project,
    write_files,
)


def covgate(
    root: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "covgate", *args],
        cwd=root,
        env=env or clean_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def covgate_here(
    root: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str], *args: str
) -> subprocess.CompletedProcess[str]:
    """The same as `covgate`, but covgate itself runs in this process (pytest's child does
    not): what it does before and after the tests is measured with the rest of the suite."""
    monkeypatch.chdir(root)
    for name in ("GITHUB_ACTIONS", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    code = main(list(args))
    out, err = capfd.readouterr()
    return subprocess.CompletedProcess(["covgate", *args], code, out, err)


def report(root: Path) -> dict[str, object]:
    doc: dict[str, object] = json.loads((root / "report.json").read_text())
    return doc


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return small_project(tmp_path, POLICY)


def test_run_passes_and_reports_tests(
    project: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    result = covgate_here(
        project, monkeypatch, capfd, "run", "--report", "terminal", "--report", "json:report.json"
    )
    assert result.returncode == ExitCode.OK, result.stdout + result.stderr
    doc = report(project)
    assert doc["tests"] == {**doc["tests"], "passed": 3, "failed": 0, "errors": 0, "skipped": 0}  # type: ignore[dict-item]
    assert "tests: 3 passed, 0 failed" in result.stdout
    assert "3 passed" in result.stdout  # pytest's own summary line, streamed
    assert "serial (as set)" in result.stdout
    # The combined data is left where coverage.py looks for it: its own report agrees.
    own = subprocess.run(
        [sys.executable, "-m", "coverage", "json", "-q", "-o", "-"],
        cwd=project, env=clean_env(), capture_output=True, text=True, check=True,
    )  # fmt: skip
    totals = json.loads(own.stdout)["totals"]
    overall = doc["overall"]
    assert isinstance(overall, dict)
    assert overall["statements"] == totals["num_statements"]
    assert overall["missing_branches"] == totals["missing_branches"]
    assert (project / ".covgate" / "durations.json").exists()


def test_failing_tests_exit_1_and_the_gate_is_still_shown(
    project: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    write_files(project, {"tests/test_broken.py": "def test_broken():\n    assert 1 == 2, 'no'\n"})
    result = covgate_here(
        project, monkeypatch, capfd, "run", "--report", "terminal", "--report", "json:report.json"
    )
    assert result.returncode == ExitCode.TESTS_FAILED
    assert "critical" in result.stdout
    assert "FAILURE tests/test_broken.py::test_broken: AssertionError: no" in result.stdout
    tests = report(project)["tests"]
    assert isinstance(tests, dict)
    assert (tests["passed"], tests["failed"]) == (3, 1)
    assert report(project)["passed"] is False


def test_missed_threshold_exit_2(project: Path) -> None:
    result = covgate(project, "run", "--fail-under", "critical=100")
    assert result.returncode == ExitCode.THRESHOLD_MISSED
    assert "critical" in result.stdout
    assert "< 100 %" in result.stdout


def test_no_tests_collected_exit_4(project: Path) -> None:
    result = covgate(project, "run", "--", "-k", "nothing_matches_this")
    assert result.returncode == ExitCode.NOTHING_TO_JUDGE
    assert "collected no tests" in result.stderr


def test_pytest_usage_error_exit_3(project: Path) -> None:
    result = covgate(project, "run", "--", "--no-such-pytest-option")
    assert result.returncode == ExitCode.USAGE
    assert "usage error" in result.stderr
    assert "Traceback" not in result.stderr


# Code that the tests below run in a child Python only.
CHILD_MODULE = {
    "app/auth/child.py": """\
        def only_in_child() -> str:
            return "child"
        """
}


def test_code_run_in_a_child_python_is_measured(project: Path) -> None:
    write_files(
        project,
        {
            **CHILD_MODULE,
            "tests/test_child.py": """\
                import subprocess
                import sys


                def test_child() -> None:
                    code = "from app.auth.child import only_in_child; print(only_in_child())"
                    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                                         text=True, check=True)
                    assert out.stdout.strip() == "child"
                """,
        },
    )
    result = covgate(project, "run", "--report", "json:report.json")
    assert result.returncode == ExitCode.OK, result.stdout + result.stderr
    files = {f["path"]: f for f in report(project)["files"]}  # type: ignore[attr-defined]
    child = files["app/auth/child.py"]
    assert child["missing_lines"] == []
    assert child["statements"] == 2


def test_xdist_workers_count_exactly_as_a_serial_coverage_run(project: Path) -> None:
    write_files(project, OUTCOMES)
    (project / "pyproject.toml").write_text((project / "pyproject.toml").read_text() + PYTEST_FILES)
    result = covgate(project, "run", "-n", "2", "--report", "json:report.json")
    assert result.returncode == ExitCode.OK, result.stdout + result.stderr
    assert "2 workers" in result.stdout
    # The controller receives every worker's results, counted as pytest counts them.
    assert reported_tests(project) == EXPECTED_TESTS
    assert result.stdout.count("2 workers (as set)") == 1
    gated = report(project)
    env = clean_env()
    (project / ".coverage").unlink()
    subprocess.run([sys.executable, "-m", "coverage", "run", "--branch", "-m", "pytest", "-q",
                    "-p", "no:cacheprovider"], cwd=project, env=env, check=True,
                   capture_output=True)  # fmt: skip
    serial = json.loads(
        subprocess.run([sys.executable, "-m", "coverage", "json", "-q", "-o", "-"], cwd=project,
                       env=env, check=True, capture_output=True, text=True).stdout
    )  # fmt: skip
    for path, entry in serial["files"].items():
        ours = next(f for f in gated["files"] if f["path"] == path)  # type: ignore[attr-defined]
        summary = entry["summary"]
        assert (ours["statements"], ours["missing_statements"]) == (
            summary["num_statements"],
            summary["missing_lines"],
        ), path
        assert (ours["branches"], ours["missing_branches"]) == (
            summary["num_branches"],
            summary["missing_branches"],
        ), path


def test_xdist_workers_start_coverage_in_covgates_plugin(project: Path) -> None:
    """The workers measure from the moment pytest loads covgate's plugin, not from their
    interpreter's start, and everything a test starts is measured from its start as always."""
    write_files(
        project,
        {
            **CHILD_MODULE,
            "tests/test_worker.py": """\
                import os
                import subprocess
                import sys


                def test_a_worker_measures_after_pytest_started() -> None:
                    assert os.environ.get("PYTEST_XDIST_WORKER")
                    modules = list(sys.modules)
                    assert modules.index("pytest") < modules.index("coverage")
                    assert "COVGATE_WORKER_COVERAGE" not in os.environ
                    assert os.environ.get("COVERAGE_PROCESS_CONFIG")


                def test_its_children_measure_from_their_start() -> None:
                    code = (
                        "import sys; from app.auth.child import only_in_child; "
                        "names = list(sys.modules); "
                        "assert names.index('coverage') < names.index('app.auth.child'); "
                        "print(only_in_child())"
                    )
                    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                                         text=True, check=True)
                    assert out.stdout.strip() == "child"
                """,
        },
    )
    result = covgate(project, "run", "-n", "2", "--report", "json:report.json")
    assert result.returncode == ExitCode.OK, result.stdout + result.stderr
    assert reported_tests(project)["passed"] == 5
    files = {f["path"]: f for f in report(project)["files"]}  # type: ignore[attr-defined]
    assert (
        files["app/auth/child.py"]["statements"],
        files["app/auth/child.py"]["missing_lines"],
    ) == (2, [])


def test_xdist_workers_measure_from_their_start_when_project_code_loads_before_covgate(
    project: Path,
) -> None:
    """A project whose own pytest plugin pytest loads before covgate's (through `-p` in its
    addopts) runs code in each worker before covgate's plugin could start measuring there:
    its workers are measured from interpreter start instead, and nothing is missed."""
    write_files(
        project,
        {
            "app/plugin.py": """\
                import os

                if os.environ.get("PYTEST_XDIST_WORKER"):
                    LOADED_IN = "worker"
                else:
                    LOADED_IN = "controller"
                """,
            "tests/test_order.py": """\
                import sys


                def test_the_worker_measured_from_its_start() -> None:
                    modules = list(sys.modules)
                    assert modules.index("coverage") < modules.index("pytest")
                """,
        },
    )
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + '\n[tool.pytest.ini_options]\naddopts = "-p app.plugin"\n'
    )
    result = covgate(project, "run", "-n", "2", "--report", "json:report.json")
    assert result.returncode == ExitCode.OK, result.stdout + result.stderr
    files = {f["path"]: f for f in report(project)["files"]}  # type: ignore[attr-defined]
    plugin = files["app/plugin.py"]
    assert (plugin["statements"], plugin["missing_lines"], plugin["missing_branches"]) == (4, [], 0)


def test_stale_data_never_leaks_into_a_run(project: Path) -> None:
    # A first run with an extra test that covers more; then that test is removed.
    write_files(project, {"tests/test_extra.py": TEST_EXTRA})
    first = covgate(project, "run", "--report", "json:report.json")
    assert first.returncode == ExitCode.OK
    covered_before = report(project)["overall"]["covered"]  # type: ignore[index]
    stale = project / ".coverage.stale-from-a-killed-run"
    stale.write_bytes((project / ".coverage").read_bytes())
    (project / "tests" / "test_extra.py").unlink()
    second = covgate(project, "run", "--report", "json:report.json")
    assert second.returncode == ExitCode.OK
    assert report(project)["overall"]["covered"] < covered_before  # type: ignore[index]
    assert stale.exists()  # never deleted, never combined


TEST_EXTRA = """\
from app.auth.tokens import check
from app.main import main


def test_more() -> None:
    assert check("xyz") == "bad"
    assert main(False) == 2
"""


def test_verbose_pytest_lines_stream_live(project: Path) -> None:
    write_files(
        project,
        {
            "tests/test_slow.py": """\
                import time

                from app.main import main


                def test_a_first() -> None:
                    assert main(True) == 1


                def test_b_slow() -> None:
                    time.sleep(3)
                """
        },
    )
    seen_at = None
    start = time.monotonic()
    with subprocess.Popen(
        [sys.executable, "-m", "covgate", "run", "--", "-v", "tests/test_slow.py"],
        cwd=project, env=clean_env(), stdout=subprocess.PIPE, text=True,
    ) as process:  # fmt: skip
        assert process.stdout is not None
        for line in process.stdout:
            if "test_a_first PASSED" in line:
                seen_at = time.monotonic() - start
                break
        rest = process.stdout.read()
        total = time.monotonic() - start
    assert seen_at is not None
    # The first test's line arrives while the slow test is still running.
    assert total - seen_at > 2, (seen_at, total)
    assert "test_b_slow PASSED" in rest


def _processes_with(token: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if token.encode() in environ:
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc to find survivors")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_stops_pytest_and_its_workers(project: Path, signum: int) -> None:
    started = project / "started"
    write_files(
        project,
        {
            "tests/test_hang.py": f"""\
                import pathlib
                import time


                def test_hang_1() -> None:
                    pathlib.Path({str(started)!r}).touch()
                    time.sleep(120)


                def test_hang_2() -> None:
                    pathlib.Path({str(started)!r}).touch()
                    time.sleep(120)
                """
        },
    )
    token = f"covgate-test-{uuid.uuid4()}"
    env = {**clean_env(), "COVGATE_TEST_TOKEN": token}
    process = subprocess.Popen(
        [sys.executable, "-m", "covgate", "run", "-n", "2", "--report", "json:report.json"],
        cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not started.exists():
        assert time.monotonic() < deadline, "the tests never started"
        assert process.poll() is None, process.communicate()
        time.sleep(0.1)
    assert len(_processes_with(token)) >= 3  # covgate, pytest, and its workers
    process.send_signal(signum)
    out, err = process.communicate(timeout=60)
    assert process.returncode == ExitCode.INTERRUPTED, err
    assert "interrupted" in err
    assert "passed, every threshold met" not in out
    assert not (project / "report.json").exists()
    deadline = time.monotonic() + 10
    while _processes_with(token) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_with(token) == []


def test_async_tests_just_work(project: Path) -> None:
    write_files(
        project,
        {
            "app/auth/aio.py": """\
                import asyncio


                async def later(value: int) -> int:
                    await asyncio.sleep(0)
                    return value * 2
                """,
            "tests/test_aio.py": """\
                import pytest

                from app.auth.aio import later


                @pytest.mark.asyncio
                async def test_later() -> None:
                    assert await later(2) == 4
                """,
        },
    )
    result = covgate(project, "run", "--report", "json:report.json")
    assert result.returncode == ExitCode.OK, result.stdout + result.stderr
    files = {f["path"]: f for f in report(project)["files"]}  # type: ignore[attr-defined]
    assert files["app/auth/aio.py"]["missing_lines"] == []


def test_json_to_stdout_keeps_pytest_output_on_stderr(project: Path) -> None:
    result = covgate(project, "run", "--report", "json")
    assert result.returncode == ExitCode.OK
    assert json.loads(result.stdout)["tests"]["passed"] == 3
    assert "3 passed" in result.stderr


def test_a_pytest_cov_addopts_does_not_take_over(project: Path) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + '\n[tool.pytest.ini_options]\naddopts = "--cov=app --cov-branch"\n'
    )
    result = covgate(project, "run", "--report", "json:report.json")
    assert result.returncode == ExitCode.OK, result.stdout + result.stderr
    assert report(project)["overall"]["files"] == 6  # type: ignore[index]


@pytest.mark.parametrize(
    ("args", "selects", "narrows"),
    [
        ([], False, False),
        (["-v", "-x"], False, True),
        (["tests/test_app.py"], True, True),
        (["tests/test_app.py::test_auth"], True, True),
        (["--deselect", "tests/test_app.py::test_auth"], False, True),
        (["-k", "tests"], False, True),
        (["-p", "no:cacheprovider", "-v"], False, False),
    ],
)
def test_which_arguments_select_tests(
    project: Path, args: list[str], selects: bool, narrows: bool
) -> None:
    from covgate.commands import _narrows, _selects_tests

    assert _selects_tests(args, project) is selects
    assert _narrows(args) is narrows
