"""Where the reports go: files beside the terminal report, written whole or not at all, and
what covgate says when it cannot write; the warning when test files are measured."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from covgate.errors import ExitCode
from tests.helpers import clean_env, copy_project, measure, small_project
from tests.helpers import covgate_main as run

POLICY = """
[tool.covgate.overall]
min = 50

[[tool.covgate.classes]]
name = "critical"
paths = ["**/auth/**"]
min = 80
"""


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = small_project(tmp_path_factory.mktemp("measured"), POLICY, relative_files=True)
    measure(root)
    return root


@pytest.fixture
def project(measured: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return copy_project(measured, tmp_path / "project", monkeypatch)


def test_a_report_file_adds_to_the_terminal_report(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys, "check", "--report", "json:out/r.json", "--report", "markdown:r.md"
    )
    assert code == ExitCode.OK
    terminal, *_ = run(capsys, "check")[1:]
    assert out == terminal  # the same table and verdict as without a report file
    assert out.endswith("covgate: passed, every threshold met\n")
    assert err == ""
    assert json.loads((project / "out" / "r.json").read_text())["passed"] is True
    assert (project / "r.md").read_text().startswith("## covgate: passed\n")
    assert sorted(p.name for p in project.iterdir() if p.name.startswith(".r")) == []


def test_a_report_without_path_replaces_the_terminal_report(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "check", "--report", "markdown", "--report", "json:r.json")
    assert code == ExitCode.OK
    assert out.startswith("## covgate: passed\n")
    assert "+--" not in out
    assert json.loads((project / "r.json").read_text())["passed"] is True


def test_a_report_file_gets_a_new_files_permissions(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mask = os.umask(0o022)
    try:
        assert run(capsys, "check", "--report", "json:r.json")[0] == ExitCode.OK
    finally:
        os.umask(mask)
    assert (project / "r.json").stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize("kind", ["directory", "under a file"])
def test_a_failed_report_write_is_exit_3_and_leaves_nothing(
    project: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    if kind == "directory":
        (project / "out" / "r.json").mkdir(parents=True)
        target = "out/r.json"
    else:
        (project / "out").write_text("a file, not a folder\n")
        target = "out/r.json"
    before = _tree(project)
    code, out, err = run(capsys, "check", "--report", f"json:{target}")
    assert code == ExitCode.USAGE
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"covgate: error: --report json:{target}: cannot write it: ")
    assert _tree(project) == before


def _tree(root: Path) -> list[Path]:
    """Every file and folder under `root`, but covgate's analysis cache."""
    found = (p.relative_to(root) for p in root.rglob("*"))
    return sorted(p for p in found if p.parts[0] != ".covgate")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_failed_write_to_standard_output_is_one_line_exit_3(project: Path) -> None:
    with Path("/dev/full").open("w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "covgate", "check"],
            cwd=project,
            env=clean_env(),
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    assert done.returncode == ExitCode.USAGE
    assert done.stderr == (
        "covgate: error: cannot write to standard output: No space left on device\n"
    )


def test_measured_test_files_are_named_with_the_fix(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('source = ["app"]\n', ""))
    measure(project)
    code, out, _ = run(capsys, "check", "--report", "json")
    notes = json.loads(out)["notes"]
    assert notes[2] == (
        "warning: 1 test file is measured and counted in overall (e.g. tests/test_app.py): "
        "coverage.py has no source or include setting; to gate your code alone, set "
        '[tool.coverage.run] source = ["app"]'
    )
    assert code == ExitCode.OK
    # Told what to measure (include, too), coverage.py measures no test: no warning.
    pyproject.write_text(pyproject.read_text() + '\n[tool.coverage.report]\ninclude = ["app/*"]\n')
    _, out, _ = run(capsys, "check", "--report", "json")
    assert not [n for n in json.loads(out)["notes"] if "test file" in n]


@pytest.mark.parametrize(
    ("path", "test"),
    [
        ("tests/test_app.py", True),
        ("tests/helpers.py", True),
        ("src/pkg/tests/data.py", True),
        ("testing/util.py", True),
        ("pkg/test_io.py", True),
        ("pkg/io_test.py", True),
        ("conftest.py", True),
        ("pkg/testing.py", False),
        ("pkg/contest.py", False),
        ("pkg/latest/x.py", False),
        ("pkg/test_data.txt", False),
    ],
)
def test_what_counts_as_a_test_file(path: str, test: bool) -> None:
    from covgate.init import is_test_file

    assert is_test_file(path) is test


def test_package_roots() -> None:
    from covgate.init import package_roots

    paths = ["app/a.py", "app/b/c.py", "src/lib/x.py", "tests/test_a.py", "setup.py", "/abs/y.py"]
    assert package_roots(paths) == ["app", "src/lib"]
