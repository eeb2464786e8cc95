"""`covgate run` and the pytest session: outcomes and node ids from pytest itself, a session
that ended early, pytest that could not start, the user's own --junitxml and -q."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from covgate.errors import ExitCode
from tests.helpers import (
    EXPECTED_TESTS,
    NODE_IDS,
    OUTCOMES,
    POLICY,
    PYTEST_FILES,
    reported_tests,
    small_project,
    write_files,
)
from tests.test_run import covgate, covgate_here, report

pytestmark = pytest.mark.slow


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = small_project(tmp_path, POLICY)
    write_files(root, OUTCOMES)
    (root / "pyproject.toml").write_text((root / "pyproject.toml").read_text() + PYTEST_FILES)
    return root


def test_outcomes_node_ids_and_durations_come_from_pytest(
    project: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    result = covgate_here(
        project, monkeypatch, capfd, "run", "--report", "terminal", "--report", "json:report.json"
    )
    assert result.returncode == ExitCode.OK, result.stdout + result.stderr
    assert reported_tests(project) == EXPECTED_TESTS
    assert "tests: 5 passed, 0 failed, 0 errors, 1 skipped, 1 xfailed, 1 xpassed in " in (
        result.stdout
    )
    assert "5 passed, 1 skipped, 1 xfailed, 1 xpassed" in result.stdout  # pytest's own line
    recorded = json.loads((project / ".covgate" / "durations.json").read_text())
    assert set(recorded["tests"]) == NODE_IDS
    # pytest is not told of any JUnit file of covgate's.
    assert "junit" not in result.stdout.lower()
    assert "covgate-run-" not in result.stdout
    # The way the tests run is said once.
    assert result.stdout.count("serial (as set)") == 1


def test_the_project_s_and_the_user_s_junitxml_work_as_without_covgate(project: Path) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + 'addopts = "--junitxml=own.xml"\n')
    result = covgate(project, "run", "--report", "json:report.json")
    assert result.returncode == ExitCode.OK, result.stdout + result.stderr
    assert reported_tests(project) == EXPECTED_TESTS
    assert (project / "own.xml").read_text().count("<testcase ") == 8
    assert f"generated xml file: {project / 'own.xml'}" in result.stdout
    result = covgate(project, "run", "--report", "json:report.json", "--", "--junitxml=cli.xml")
    assert result.returncode == ExitCode.OK, result.stdout + result.stderr
    assert reported_tests(project) == EXPECTED_TESTS
    assert (project / "cli.xml").read_text().count("<testcase ") == 8
    assert "covgate-run-" not in result.stdout


def test_a_session_that_ended_early_is_never_a_pass(project: Path) -> None:
    write_files(
        project,
        {
            "tests/test_zz_exit.py": """\
                import os


                def test_leaves() -> None:
                    os._exit(0)


                def test_fails_but_never_runs() -> None:
                    assert False
                """
        },
    )
    result = covgate(project, "run", "--report", "terminal", "--report", "json:report.json")
    assert result.returncode == ExitCode.TESTS_FAILED, result.stdout + result.stderr
    message = (
        "the test session ended early after 8 of 10 tests "
        "(pytest's process exited with code 0 before it finished)"
    )
    assert result.stdout.splitlines()[-1] == f"covgate: FAILED: {message}"
    assert "| critical " in result.stdout  # the gate is still shown
    assert reported_tests(project) == {
        **EXPECTED_TESTS,
        "collected": 10,
        "ended_early": message,
    }
    assert report(project)["passed"] is False


def test_pytest_that_cannot_start_is_exit_3_and_nothing_is_judged(project: Path) -> None:
    write_files(
        project,
        {
            "conftest.py": """\
                import warnings


                def pytest_configure(config):
                    warnings.warn(DeprecationWarning("a plugin warns at start-up"))
                """
        },
    )
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + 'filterwarnings = ["error"]\n')
    result = covgate(project, "run", "--report", "terminal", "--report", "json:report.json")
    assert result.returncode == ExitCode.USAGE, result.stdout + result.stderr
    assert "INTERNALERROR> DeprecationWarning: a plugin warns at start-up" in result.stderr
    assert result.stderr.splitlines()[-1] == (
        "covgate: error: pytest could not run the suite (an internal error, pytest's exit code 3; "
        "see its message above): nothing was judged"
    )
    assert "| critical " not in result.stdout
    assert not (project / "report.json").exists()
    assert not (project / ".coverage").exists()


def test_quiet_quiets_pytest_too(
    project: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    result = covgate_here(project, monkeypatch, capfd, "run", "-q")
    assert result.returncode == ExitCode.OK, result.stdout + result.stderr
    assert "test session starts" not in result.stdout
    assert "running pytest under coverage" not in result.stdout
    assert result.stdout.splitlines()[-1] == "covgate: passed, every threshold met"
