from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from covgate import __version__, commands
from covgate.errors import ExitCode
from tests.helpers import clean_env, copy_project, measure, small_project
from tests.helpers import covgate_main as run

CLASSES = """
[tool.covgate.overall]
min = 50

[[tool.covgate.classes]]
name = "critical"
paths = ["**/auth/**"]
min = 80

[[tool.covgate.classes]]
name = "utils"
paths = ["**/utils/**"]
min = 80
"""


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real project measured by coverage.py once for this module; tests copy it."""
    root = small_project(tmp_path_factory.mktemp("measured"), CLASSES, relative_files=True)
    measure(root)
    return root


@pytest.fixture
def project(measured: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return copy_project(measured, tmp_path / "project", monkeypatch)


def test_check_passes(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "check")
    assert code == ExitCode.OK, out + err
    assert "critical" in out
    assert "covgate: passed, every threshold met" in out
    assert "configuration: [tool.covgate] in pyproject.toml" in out
    assert err == ""


def test_check_misses_a_threshold(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "--fail-under", "critical=100")
    assert code == ExitCode.THRESHOLD_MISSED
    assert "critical" in out
    assert "< 100 %: cover" in out
    assert "app/auth/tokens.py" in out
    assert "covgate: FAILED" in out


def test_json_report_to_a_file_and_terminal_to_stdout(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "check", "--report", "json:out/report.json", "--report", "terminal")
    assert code == ExitCode.OK
    doc = json.loads((project / "out" / "report.json").read_text())
    assert doc["passed"] is True
    assert doc["tests"] is None
    assert {f["path"] for f in doc["files"]} >= {"app/auth/tokens.py", "app/main.py"}
    assert "overall" in out


def test_json_to_stdout_is_only_json(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "--report", "json")
    doc = json.loads(out)
    assert doc["exit_code"] == code == 0


def test_root_option_from_elsewhere(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project.parent)
    code, out, _ = run(capsys, "check", "-C", "project", "--report", "json")
    assert code == ExitCode.OK
    assert json.loads(out)["overall"]["files"] == 6


def test_explicit_data_of_every_format(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = clean_env()
    for kind in ("json", "xml", "lcov"):
        subprocess.run(
            [sys.executable, "-m", "coverage", kind, "-q"], cwd=project, env=env, check=True
        )
    totals = set()
    for data in (".coverage", "coverage.json", "coverage.xml", "coverage.lcov"):
        code, out, _ = run(capsys, "check", data, "--report", "json")
        assert code == ExitCode.OK
        overall = json.loads(out)["overall"]
        totals.add((overall["statements"], overall["missing_statements"], overall["branches"],
                    overall["missing_branches"]))  # fmt: skip
    assert len(totals) == 1


def test_default_policy_says_so(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().split("[tool.covgate")[0])
    code, out, _ = run(capsys, "check")
    assert "default policy" in out
    assert "skipped" in out  # no services/ folder: the default business class is empty
    assert code == ExitCode.THRESHOLD_MISSED  # auth is under the default 95 %


def test_class_matching_no_file_is_exit_4(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with (project / "pyproject.toml").open("a") as stream:
        stream.write('\n[[tool.covgate.classes]]\nname = "billing"\npaths = ["**/billing/**"]\n')
    code, out, _ = run(capsys, "check")
    assert code == ExitCode.NOTHING_TO_JUDGE
    assert "class 'billing' matched no measured file" in out


def test_no_data_is_exit_4(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / ".coverage").unlink()
    code, _, err = run(capsys, "check")
    assert code == ExitCode.NOTHING_TO_JUDGE
    assert "no coverage data" in err


def test_internal_error_is_exit_5_with_a_traceback(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(commands, "check", broken)
    code, _, err = run(capsys, "check")
    assert code == ExitCode.INTERNAL
    assert "Traceback" in err
    assert "RuntimeError: boom" in err
    assert "internal error" in err


def test_interrupt_is_exit_130(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(commands, "check", interrupted)
    code, out, err = run(capsys, "check")
    assert code == ExitCode.INTERRUPTED
    assert "passed" not in out
    assert "interrupted" in err


BAD_CONFIG = {
    "typo": ("[tool.covgate]\nbrnach = true\n", "did you mean 'branch'"),
    "type": ("[tool.covgate]\nprecision = 'two'\n", "precision"),
    "range": ("[tool.covgate.overall]\nmin = 250\n", "0 to 100"),
    "glob": ('[[tool.covgate.classes]]\nname = "x"\npaths = ["/abs"]\n', "malformed glob"),
    "duplicate": (
        '[[tool.covgate.classes]]\nname = "x"\npaths = ["a"]\n' * 2,
        "duplicate class name",
    ),
    "empty name": ('[[tool.covgate.classes]]\nname = ""\npaths = ["a"]\n', "non-empty"),
    "toml": ("[tool.covgate\n", "not valid TOML"),
}


@pytest.mark.parametrize("case", sorted(BAD_CONFIG))
def test_bad_config_is_one_line_exit_3(
    project: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    text, words = BAD_CONFIG[case]
    (project / "pyproject.toml").write_text(text)
    code, out, err = run(capsys, "check")
    assert code == ExitCode.USAGE
    assert out == ""
    assert err.count("\n") == 1
    assert words in err
    assert "Traceback" not in err


def _truncate(root: Path) -> Path:
    data = (root / ".coverage").read_bytes()
    (root / "cut.db").write_bytes(data[: len(data) // 3])
    return root / "cut.db"


BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<coverage>&lol3;</coverage>
"""

HUGE = '<coverage><packages><package><classes><class filename="a.py"><lines>'
HUGE += '<line number="1e400" hits="1"/></lines></class></classes></package></packages></coverage>'

BAD_INPUT = [
    (["check", "huge.xml"], ExitCode.USAGE, "is not a number"),
    (["check", "new\nline.json"], ExitCode.USAGE, "new\\nline.json: no such file"),
    (["check", "--report", "json", "--report", "markdown"], ExitCode.USAGE, "standard output"),
    (["check", "missing.coverage"], ExitCode.USAGE, "missing.coverage: no such file"),
    (["check", "garbage.bin"], ExitCode.USAGE, "unknown format"),
    (["check", "empty.json"], ExitCode.USAGE, "is empty"),
    (["check", "cut.db"], ExitCode.USAGE, "cut.db"),
    (["check", "broken.json"], ExitCode.USAGE, "not valid JSON"),
    (["check", "bomb.xml"], ExitCode.USAGE, "entities are refused"),
    (["check", "--fail-under", "nope=90"], ExitCode.USAGE, "no class named 'nope'"),
    (["check", "--fail-under", "critical=high"], ExitCode.USAGE, "'high' is not a number"),
    (["check", "--report", "pdf"], ExitCode.USAGE, "unknown format 'pdf'"),
    (["check", "--config", "nowhere.toml"], ExitCode.USAGE, "no such configuration file"),
    (["check", "--frobnicate"], ExitCode.USAGE, "No such option"),
    (["nonsense"], ExitCode.USAGE, "No such command"),
]


@pytest.mark.parametrize(("argv", "code", "words"), BAD_INPUT, ids=str)
def test_bad_input_is_a_clear_error(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    code: int,
    words: str,
) -> None:
    (project / "garbage.bin").write_bytes(b"\x00\x01 not coverage")
    (project / "empty.json").write_bytes(b"")
    (project / "broken.json").write_text('{"meta": {"format": 3}, "files": {')
    (project / "bomb.xml").write_text(BOMB)
    (project / "huge.xml").write_text(HUGE)
    _truncate(project)
    got, out, err = run(capsys, *argv)
    assert got == code, err
    assert words in err
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert out == ""


def test_explain(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", "app/auth/tokens.py", "app/main.py", "x/utils/auth/y.py")
    assert code == ExitCode.OK
    assert "app/auth/tokens.py: critical (by '**/auth/**')" in out
    assert "app/main.py: unclassified" in out
    assert "also matches utils by '**/utils/**'" in out


def test_classes_lists_counts_and_dead_patterns(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with (project / "pyproject.toml").open("a") as stream:
        stream.write(
            '\n[[tool.covgate.classes]]\nname = "late"\npaths = ["**/auth/**", "**/x/**"]\n'
        )
    code, out, _ = run(capsys, "classes")
    assert code == ExitCode.OK
    assert "critical: 2 files" in out
    assert "utils: 2 files" in out
    assert "unclassified: 2 files" in out
    assert "late: '**/auth/**' is shadowed" in out
    assert "late: '**/x/**' matches no file" in out


def test_classes_without_data_walks_the_project(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / ".coverage").unlink()
    code, out, _ = run(capsys, "classes")
    assert code == ExitCode.OK
    assert "no coverage data yet" in out
    assert "critical: 2 files" in out


def test_python_dash_m_and_version(project: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "covgate", "--version"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert __version__ in result.stdout
    result = subprocess.run(
        [sys.executable, "-m", "covgate", "check", "--fail-under", "critical=100"],
        capture_output=True,
        text=True,
        check=False,
        env=clean_env(),
    )
    assert result.returncode == ExitCode.THRESHOLD_MISSED
    assert "\x1b[" not in result.stdout  # piped: plain text


def test_force_color(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = clean_env()
    env.pop("NO_COLOR")
    env["FORCE_COLOR"] = "1"
    result = subprocess.run(
        [sys.executable, "-m", "covgate", "check"], capture_output=True, text=True, env=env,
        check=False,
    )  # fmt: skip
    assert "\x1b[" in result.stdout
    result = subprocess.run(
        [sys.executable, "-m", "covgate", "check", "--no-color"], capture_output=True, text=True,
        env=env, check=False,
    )  # fmt: skip
    assert "\x1b[" not in result.stdout


def test_precision_follows_coverage_py_unless_set(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(text + "\n[tool.coverage.report]\nprecision = 1\n")
    _, out, _ = run(capsys, "check", "--report", "json")
    assert json.loads(out)["precision"] == 1
    own = text.replace(
        "[tool.covgate.overall]", "[tool.covgate]\nprecision = 3\n[tool.covgate.overall]"
    )
    pyproject.write_text(own + "\n[tool.coverage.report]\nprecision = 1\n")
    _, out, _ = run(capsys, "check", "--report", "json")
    assert json.loads(out)["precision"] == 3
    pyproject.write_text(text)
    _, out, _ = run(capsys, "check", "--report", "json")
    assert json.loads(out)["precision"] == 2


def test_a_broken_coverage_config_is_a_usage_error(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / ".coveragerc").write_text("[run]\nbranch = maybe\n")
    code, _, err = run(capsys, "check")
    assert code == ExitCode.USAGE
    assert "coverage.py configuration" in err
    assert "Traceback" not in err


def test_branch_and_line_data_do_not_combine(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines_only = project / "lines-only.rc"
    lines_only.write_text("[run]\nsource = app\nrelative_files = true\n")
    for rcfile in ("pyproject.toml", str(lines_only)):
        subprocess.run(
            [sys.executable, "-m", "coverage", "run", "--parallel-mode", f"--rcfile={rcfile}",
             "-m", "pytest", "-q", "-p", "no:cacheprovider"],
            cwd=project, env=clean_env(), check=True, capture_output=True,
        )  # fmt: skip
    parallel = sorted(str(p) for p in project.glob(".coverage.*"))
    assert len(parallel) == 2
    code, _, err = run(capsys, "check", *parallel)
    assert code == ExitCode.USAGE
    assert "cannot combine" in err


def test_stale_parallel_files_are_named(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = project / ".coverage.old-host.1.x"
    stale.write_bytes((project / ".coverage").read_bytes())
    os.utime(stale, (1_000_000_000, 1_000_000_000))
    code, out, _ = run(capsys, "check")
    assert code == ExitCode.OK
    assert "warning: combined 1 parallel data files older than .coverage" in out
    assert stale.exists()
