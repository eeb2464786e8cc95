"""The user's data and paths, end to end through the command line, on a real measured project:
files given are read (never written), named as the user named them, and mapped to project
paths wherever they were measured."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from covgate.errors import ExitCode
from tests.helpers import POLICY, copy_project, coverage_report, measure, small_project
from tests.helpers import covgate_main as run

FILES = [
    "app/__init__.py",
    "app/auth/__init__.py",
    "app/auth/tokens.py",
    "app/main.py",
    "app/utils/__init__.py",
    "app/utils/text.py",
]


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real project measured once (relative paths in the data), with its LCOV report."""
    root = small_project(tmp_path_factory.mktemp("measured") / "proj", POLICY, relative_files=True)
    measure(root)
    coverage_report(root, "lcov", "-o", "coverage.lcov")
    return root


@pytest.fixture
def project(measured: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The measured project copied to `tmp_path/proj`; the working folder is `tmp_path`."""
    return copy_project(measured, tmp_path / "proj", monkeypatch, cwd=tmp_path)


def report(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, object]:
    code, out, err = run(capsys, *argv, "--report", "json")
    assert code == ExitCode.OK, err
    document = json.loads(out)
    assert isinstance(document, dict)
    return document


def paths_of(document: dict[str, object]) -> list[str]:
    files = document["files"]
    assert isinstance(files, list)
    return [f["path"] for f in files]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- DATA arguments -----------------------------------------------------------------------------


@pytest.mark.slow
def test_data_argument_is_relative_to_the_working_folder_not_the_root(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = report(capsys, "check", "-C", "proj", "proj/.coverage")

    assert paths_of(document) == FILES


@pytest.mark.slow
def test_data_argument_with_config_is_relative_to_the_working_folder(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = report(capsys, "check", "--config", "proj/pyproject.toml", "proj/coverage.lcov")

    assert paths_of(document) == FILES


@pytest.mark.slow
@pytest.mark.parametrize(
    "twice",
    [
        pytest.param(["proj/.coverage", "proj/.coverage"], id="same-name"),
        pytest.param(["proj/.coverage", "./proj/app/../.coverage"], id="two-spellings"),
        pytest.param(["proj/coverage.lcov", "proj/coverage.lcov"], id="report"),
    ],
)
def test_a_file_given_twice_is_read_once(
    project: Path, capsys: pytest.CaptureFixture[str], twice: list[str]
) -> None:
    once = report(capsys, "check", "-C", "proj", twice[0])
    doubled = report(capsys, "check", "-C", "proj", *twice)

    assert doubled["overall"] == once["overall"]
    assert doubled["files"] == once["files"]


# --- read-only ----------------------------------------------------------------------------------


def _app_database(path: Path) -> Path:
    with sqlite3.connect(path) as connection:
        connection.execute("create table users (id integer primary key, name text)")
        connection.executemany("insert into users (name) values (?)", [("ann",), ("bob",)])
    connection.close()
    return path


@pytest.mark.slow
@pytest.mark.parametrize("given", [True, False], ids=["named", "parallel-sibling"])
def test_a_database_that_is_not_coverage_data_is_refused_untouched(
    project: Path, capsys: pytest.CaptureFixture[str], given: bool
) -> None:
    name = "app.db" if given else ".coverage.appdb"
    database = _app_database(project / name)
    before = digest(database), database.stat().st_size
    data = digest(project / ".coverage")

    code, out, err = run(capsys, "check", "-C", "proj", *(["proj/app.db"] if given else []))

    assert code == ExitCode.USAGE
    assert err == (
        f"covgate: error: {database}: an SQLite database, but not coverage.py data "
        "(no coverage_schema table)\n"
    )
    assert out == ""
    assert (digest(database), database.stat().st_size) == before
    assert digest(project / ".coverage") == data
    assert sorted(p.name for p in project.iterdir() if p.name.startswith((".cov", "app."))) == [
        ".coverage",
        name,
    ]


@pytest.mark.slow
def test_data_files_read_are_byte_identical_afterwards(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sibling = project / ".coverage.host.1234.abc"
    shutil.copyfile(project / ".coverage", sibling)
    (project / ".coverage").chmod(0o444)
    before = {p: digest(p) for p in (project / ".coverage", sibling)}

    for argv in (["check", "-C", "proj"], ["check", "-C", "proj", "proj/.coverage"]):
        code, _, err = run(capsys, *argv)
        assert code == ExitCode.OK, err
    code, _, err = run(capsys, "classes", "-C", "proj")
    assert code == ExitCode.OK, err

    assert {p: digest(p) for p in before} == before
    # No new data file (.covgate/, the analysis cache, is no coverage data).
    assert sorted(p.name for p in project.iterdir() if p.name.startswith(".coverage")) == [
        ".coverage",
        sibling.name,
    ]


# --- report paths -------------------------------------------------------------------------------


@pytest.mark.slow
def test_report_paths_through_a_symlinked_root_are_relative(
    project: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    link = tmp_path / "link"
    link.symlink_to(project, target_is_directory=True)
    lcov = (project / "coverage.lcov").read_text(encoding="utf-8")
    assert "SF:app/" in lcov
    (project / "abs.lcov").write_text(lcov.replace("SF:", f"SF:{link}/"), encoding="utf-8")

    for root in ("proj", "link"):
        document = report(capsys, "check", "-C", root, f"{root}/abs.lcov")
        assert paths_of(document) == FILES


WINDOWS_PATHS = """
[tool.coverage.paths]
source = ["app", "D:\\\\a\\\\build\\\\app"]
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("prefix", "settings"),
    [
        pytest.param("C:\\proj\\", "", id="by-the-root"),
        pytest.param("D:\\a\\build\\", WINDOWS_PATHS, id="by-paths-setting"),
    ],
)
def test_a_windows_report_read_here_is_mapped(
    project: Path, capsys: pytest.CaptureFixture[str], prefix: str, settings: str
) -> None:
    lcov = (project / "coverage.lcov").read_text(encoding="utf-8")
    windows = lcov.replace("SF:", f"SF:{prefix}").replace("/", "\\")
    (project / "windows.lcov").write_text(windows, encoding="utf-8")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text(encoding="utf-8") + settings, encoding="utf-8")

    document = report(capsys, "check", "-C", "proj", "proj/windows.lcov")

    assert paths_of(document) == FILES
    assert document["overall"] == report(capsys, "check", "-C", "proj")["overall"]


# --- explain ------------------------------------------------------------------------------------


def test_explain_warns_of_missing_and_outside_paths(
    project: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "other.py").write_text("x = 1\n", encoding="utf-8")

    code, out, err = run(
        capsys, "explain", "-C", "proj", "proj/app/auth/tokens.py", "proj/app/auth/new.py",
        "other.py",
    )  # fmt: skip

    assert code == ExitCode.OK
    assert err == ""
    assert out.splitlines() == [
        "configuration: [tool.covgate] in pyproject.toml",
        "app/auth/tokens.py: critical (by '**/auth/**')",
        "warning: proj/app/auth/new.py does not exist (classified as app/auth/new.py)",
        "app/auth/new.py: critical (by '**/auth/**')",
        f"warning: other.py lies outside the project root {project}: classes match paths inside it",
        f"{(tmp_path / 'other.py').as_posix()}: unclassified (counts toward overall only)",
    ]
