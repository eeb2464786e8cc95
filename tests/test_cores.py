"""covgate.cores: which coverage.py core measures a run, and that every process uses it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from covgate.config import load_config
from covgate.cores import Choice, Platform, Project, choose, describe, measured_name
from covgate.errors import ConfigError
from tests.helpers import POLICY, clean_env, small_project, write_files
from tests.test_run import covgate

slow = pytest.mark.slow

PY311 = Platform(sysmon=False, sysmon_branches=False, version="3.11.7")
PY312 = Platform(sysmon=True, sysmon_branches=False, version="3.12.1")
PY314 = Platform(sysmon=True, sysmon_branches=True, version="3.14.0")


@pytest.mark.parametrize(
    ("setting", "project", "branch", "platform", "expected"),
    [
        ("auto", Project(), False, PY312, Choice("sysmon", "auto: line coverage on Python 3.12.1")),
        (
            "auto",
            Project(),
            True,
            PY314,
            Choice("sysmon", "auto: branch coverage on Python 3.14.0"),
        ),
        (
            "auto",
            Project(),
            True,
            PY312,
            Choice(
                "ctrace",
                "auto: branch coverage with sys.monitoring needs Python 3.14 (this is 3.12.1)",
            ),
        ),
        (
            "auto",
            Project(),
            False,
            PY311,
            Choice("ctrace", "auto: sys.monitoring needs Python 3.12 (this is 3.11.7)"),
        ),
        (
            "auto",
            Project(plugins=("django_coverage_plugin",)),
            False,
            PY312,
            Choice(
                "ctrace",
                "auto: coverage.py plugins may trace files, which sys.monitoring does not support",
            ),
        ),
        (
            "auto",
            Project(dynamic_context="test_function"),
            False,
            PY314,
            Choice("ctrace", "auto: dynamic contexts are not supported with sys.monitoring"),
        ),
        (
            "auto",
            Project(concurrency=("thread", "gevent")),
            False,
            PY312,
            Choice("ctrace", "auto: concurrency = gevent is not supported with sys.monitoring"),
        ),
        (
            "auto",
            Project(concurrency=("thread", "multiprocessing")),
            False,
            PY312,
            Choice("sysmon", "auto: line coverage on Python 3.12.1"),
        ),
        # The user's choice wins: the environment, covgate's key, coverage.py's settings.
        (
            "ctrace",
            Project(env_core="pytrace"),
            False,
            PY312,
            Choice(None, "COVERAGE_CORE=pytrace (as set)"),
        ),
        (
            "ctrace",
            Project(config_core="sysmon"),
            False,
            PY312,
            Choice("ctrace", "covgate's core setting"),
        ),
        (
            "auto",
            Project(config_core="ctrace"),
            False,
            PY312,
            Choice(None, "[run] core in the coverage.py configuration"),
        ),
        (
            "auto",
            Project(timid=True),
            False,
            PY312,
            Choice(None, "[run] timid in the coverage.py configuration"),
        ),
        ("sysmon", Project(), True, PY311, Choice("sysmon", "covgate's core setting")),
    ],
)
def test_core_choice(
    setting: str, project: Project, branch: bool, platform: Platform, expected: Choice
) -> None:
    assert choose(setting, project, branch, platform) == expected


def test_the_note_names_the_core_that_measured() -> None:
    auto = Choice("sysmon", "auto: line coverage on Python 3.12.1")
    assert (
        describe("sysmon", auto) == "coverage core: sysmon (auto: line coverage on Python 3.12.1)"
    )
    assert describe("ctrace", auto) == (
        "coverage core: ctrace (covgate asked for sysmon: auto: line coverage on Python 3.12.1)"
    )
    user = Choice(None, "COVERAGE_CORE=pytrace (as set)")
    assert describe("pytrace", user) == "coverage core: pytrace (COVERAGE_CORE=pytrace (as set))"
    assert describe(None, user) == "coverage core: unknown (COVERAGE_CORE=pytrace (as set))"
    assert [measured_name(n) for n in ("SysMonitor", "CTracer", "PyTracer", "Other")] == [
        "sysmon",
        "ctrace",
        "pytrace",
        "Other",
    ]


@pytest.mark.parametrize("value", ["ctrace", "sysmon", "pytrace", "auto"])
def test_core_setting(tmp_path: Path, value: str) -> None:
    write_files(tmp_path, {"pyproject.toml": f'[tool.covgate]\ncore = "{value}"\n'})
    assert load_config(root=tmp_path).core == value


@pytest.mark.parametrize("value", ['"fast"', "1", '["ctrace"]'])
def test_bad_core_setting_is_one_clear_line(tmp_path: Path, value: str) -> None:
    write_files(tmp_path, {"pyproject.toml": f"[tool.covgate]\ncore = {value}\n"})
    with pytest.raises(ConfigError) as caught:
        load_config(root=tmp_path)
    assert str(caught.value).startswith(
        'pyproject.toml: tool.covgate.core: expected one of "auto", "sysmon", "ctrace", '
        '"pytrace", got '
    )


# --- real runs --------------------------------------------------------------------------------

# Each pytest process (the xdist controller and every worker) names the tracer that measures
# it, in a file of its own.
TRACER_CONFTEST = """\
import os
import sys
from pathlib import Path


def _core():
    monitoring = getattr(sys, "monitoring", None)
    if monitoring is not None and monitoring.get_tool(monitoring.COVERAGE_ID) == "coverage.py":
        return "sysmon"
    tracer = sys.gettrace()
    if tracer is None:
        return "none"
    owner = getattr(tracer, "__self__", tracer)
    return {"CTracer": "ctrace", "PyTracer": "pytrace"}.get(type(owner).__name__, "other")


def pytest_sessionstart(session):
    name = os.environ.get("PYTEST_XDIST_WORKER", "main")
    Path("tracers", name).write_text(_core())
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = small_project(tmp_path, POLICY)
    write_files(root, {"tests/conftest.py": TRACER_CONFTEST})
    (root / "tracers").mkdir()
    return root


def run_json(root: Path, *args: str, env: dict[str, str] | None = None) -> dict[str, object]:
    result = covgate(root, "run", "--report", "json:report.json", *args, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    document: dict[str, object] = json.loads((root / "report.json").read_text())
    return document


def tracers(root: Path) -> dict[str, str]:
    """The tracer of each process of the last run."""
    found = {p.name: p.read_text() for p in sorted((root / "tracers").iterdir())}
    for path in (root / "tracers").iterdir():
        path.unlink()
    return found


def counts(document: dict[str, object]) -> object:
    return document["overall"]


@slow
def test_auto_core_is_named_and_measures_line_coverage(project: Path) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace("workers = 0", "workers = 0\nbranch = false"),
    )
    document = run_json(project)
    expected = "sysmon" if sys.version_info >= (3, 12) else "ctrace"
    assert document["coverage_core"] == expected
    assert tracers(project) == {"main": expected}
    note = next(n for n in document["notes"] if n.startswith("coverage core"))  # type: ignore[attr-defined]
    version = ".".join(str(n) for n in sys.version_info[:3])
    assert note == (
        f"coverage core: sysmon (auto: line coverage on Python {version})"
        if expected == "sysmon"
        else f"coverage core: ctrace (auto: sys.monitoring needs Python 3.12 (this is {version}))"
    )


@slow
def test_the_core_measures_every_xdist_worker_and_the_users_choice_wins(project: Path) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace("workers = 0", 'workers = 0\ncore = "pytrace"')
    )
    pinned = run_json(project, "-n", "2", "--no-cache")
    assert not (project / ".covgate" / "analysis").exists()
    assert pinned["coverage_core"] == "pytrace"
    assert tracers(project) == {"main": "pytrace", "gw0": "pytrace", "gw1": "pytrace"}
    env = {**clean_env(), "COVERAGE_CORE": "ctrace"}
    chosen = run_json(project, "-n", "2", env=env)
    assert len(list((project / ".covgate" / "analysis").glob("*.json"))) == 6
    assert chosen["coverage_core"] == "ctrace"
    assert tracers(project) == {"main": "ctrace", "gw0": "ctrace", "gw1": "ctrace"}
    assert "coverage core: ctrace (COVERAGE_CORE=ctrace (as set))" in chosen["notes"]  # type: ignore[operator]
    assert counts(chosen) == counts(pinned)
