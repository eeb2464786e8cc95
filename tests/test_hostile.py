"""Hostile and nonsensical inputs: each is refused with one line and its exit code, never a
traceback, a hang or a silent pass."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from covgate import sources
from covgate.cli import main
from covgate.errors import ExitCode
from tests.helpers import POLICY, clean_env, copy_project, measure, small_project

HUGE = "9" * 5000


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = small_project(tmp_path_factory.mktemp("measured") / "proj", POLICY, relative_files=True)
    measure(root)
    return root


@pytest.fixture
def project(measured: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return copy_project(measured, tmp_path / "proj", monkeypatch)


def refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run covgate; assert it refused with exit 3 and one line; return that line."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert (code, out) == (ExitCode.USAGE, ""), err
    assert err.count("\n") == 1, err
    assert err.startswith("covgate: error: ")
    return err.removeprefix("covgate: error: ").rstrip("\n")


# --- numbers and line numbers -------------------------------------------------------------------

JSON_REPORT = '{{"meta": {{"format": 3, "branch_coverage": true}}, "files": {{"{name}": {entry}}}}}'
JSON_ENTRY = '{{"executed_lines": [{executed}], "missing_lines": [{missing}]{extra}}}'


def _json(
    executed: str = "1", missing: str = "2", extra: str = "", name: str = "app/main.py"
) -> str:
    entry = JSON_ENTRY.format(executed=executed, missing=missing, extra=extra)
    return JSON_REPORT.format(name=name, entry=entry)


COBERTURA = """<?xml version="1.0"?>
<coverage branches-valid="2"><packages><package><classes>
<class filename="app/main.py"><lines>{lines}</lines></class>
</classes></package></packages></coverage>
"""

NONSENSE = [
    pytest.param("c.json", _json(executed=HUGE), "a number of 5000 digits", id="json-huge-number"),
    pytest.param("c.json", _json(executed="0"), "line 0", id="json-line-0"),
    pytest.param("c.json", _json(missing="-3"), "line -3", id="json-negative-line"),
    pytest.param("c.json", _json(missing="2, 99"), "line 99", id="json-past-the-end"),
    pytest.param(
        "c.json", _json(extra=', "missing_branches": [[-1, 2]]'), "line -1", id="json-branch"
    ),
    pytest.param("c.json", _json(executed="true"), "line True", id="json-boolean-line"),
    pytest.param(
        "c.xml",
        COBERTURA.format(
            lines=f'<line number="1" hits="1" branch="true" condition-coverage="50% (1/{HUGE})"/>'
        ),
        "condition-coverage",
        id="xml-huge-condition",
    ),
    pytest.param(
        "c.xml", COBERTURA.format(lines='<line number="0" hits="1"/>'), "line 0", id="xml-line-0"
    ),
    pytest.param(
        "c.xml",
        COBERTURA.format(lines='<line number="1" hits="-4"/>'),
        "hits='-4'",
        id="xml-negative-hits",
    ),
    pytest.param(
        "c.xml", COBERTURA.format(lines='<line number="7" hits="1"/>'), "line 7", id="xml-past-end"
    ),
    pytest.param("c.lcov", "SF:app/main.py\nDA:0,1\nend_of_record\n", "line 0", id="lcov-line-0"),
    pytest.param("c.lcov", "SF:app/main.py\nDA:2,-1\nend_of_record\n", "-1", id="lcov-negative"),
    pytest.param(
        "c.lcov", "SF:app/main.py\nBRDA:2,0,0,-2\nend_of_record\n", "-2", id="lcov-negative-taken"
    ),
    pytest.param(
        "c.lcov", "SF:app/main.py\nDA:40,1\nend_of_record\n", "line 40", id="lcov-past-the-end"
    ),
    pytest.param(
        "c.lcov", f"SF:app/main.py\nDA:{HUGE},1\nend_of_record\n", "5000 digits", id="lcov-huge"
    ),
]


@pytest.mark.parametrize(("name", "text", "words"), NONSENSE)
def test_nonsense_in_a_report_is_refused(
    project: Path, capsys: pytest.CaptureFixture[str], name: str, text: str, words: str
) -> None:
    (project / name).write_text(text, encoding="utf-8")

    line = refused(capsys, "check", name)

    assert line.startswith(f"{project / name}")
    assert words in line
    assert len(line) < 400


def test_lines_of_a_file_not_on_disk_are_taken_as_they_are(tmp_path: Path) -> None:
    report = tmp_path / "lcov.info"
    report.write_text("SF:gone/mod.py\nDA:400,1\nDA:401,0\nend_of_record\n", encoding="utf-8")

    (found,) = sources.read_measurement([report], tmp_path).files

    assert (found.path, found.counts.statements, found.counts.missing_statements) == (
        "gone/mod.py",
        2,
        1,
    )


# --- the measured sources -----------------------------------------------------------------------


@pytest.mark.slow
def test_a_measured_source_that_is_not_text_is_refused(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "app" / "main.py").write_bytes(b"\xff\xfe\x00\x81 garbage \xc3\x28\n\x80\x81")

    line = refused(capsys, "check")

    assert line.startswith("app/main.py: measured, but cannot be read as Python source")


# --- configuration ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pyproject", "words"),
    [
        pytest.param("tool = 5\n", "pyproject.toml: tool: expected a table", id="tool"),
        pytest.param("[tool]\ncoverage = 5\n", "coverage.py configuration", id="tool-coverage"),
        pytest.param("[tool.coverage]\nrun = 5\n", "coverage.py configuration", id="coverage-run"),
    ],
)
def test_a_pyproject_of_the_wrong_shape_is_a_config_error(
    project: Path, capsys: pytest.CaptureFixture[str], pyproject: str, words: str
) -> None:
    (project / "pyproject.toml").write_text(pyproject, encoding="utf-8")

    line = refused(capsys, "check")

    assert words in line


def test_a_pyproject_of_the_wrong_shape_beside_covgate_toml(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "covgate.toml").write_text("[overall]\nmin = 10\n", encoding="utf-8")
    (project / "pyproject.toml").write_text("[tool]\ncoverage = 5\n", encoding="utf-8")

    line = refused(capsys, "check")

    assert line.startswith(f"coverage.py configuration in {project}: ")


@pytest.mark.parametrize("argv", [[], ["--config", "covgate.toml"], ["--config", "."]])
def test_a_config_path_that_is_a_folder_is_refused(
    project: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    (project / "covgate.toml").mkdir()

    line = refused(capsys, "check", *argv)

    assert line.endswith("is a folder, expected a covgate.toml or pyproject.toml")


# --- files that are not files -------------------------------------------------------------------


def _fifo(folder: Path) -> Path:
    path = folder / "coverage.fifo"
    os.mkfifo(path)
    return path


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")
@pytest.mark.parametrize(
    "make",
    [pytest.param(_fifo, id="fifo"), pytest.param(lambda _: Path("/dev/zero"), id="device")],
)
def test_a_pipe_or_device_as_data_is_refused_without_hanging(
    project: Path, make: Callable[[Path], Path]
) -> None:
    path = make(project)

    result = subprocess.run(
        [sys.executable, "-m", "covgate", "check", str(path)],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=30,
        check=False,
    )

    assert (result.returncode, result.stdout) == (ExitCode.USAGE, "")
    assert result.stderr == (
        f"covgate: error: {path}: is not a regular file (a pipe or a device?), expected a "
        "coverage data file\n"
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")
def test_a_pipe_where_the_data_file_belongs_is_refused(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / ".coverage").unlink()
    os.mkfifo(project / ".coverage")

    line = refused(capsys, "check")

    assert line == (
        f"{project / '.coverage'}: is not a regular file (a pipe or a device?), expected a "
        "coverage data file"
    )


# --- XML limits ---------------------------------------------------------------------------------


def test_deeply_nested_xml_is_refused_fast(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    depth = 200_000
    report = project / "deep.xml"
    report.write_text(
        "<coverage>" + "<package>" * depth + "</package>" * depth + "</coverage>", encoding="utf-8"
    )

    start = time.perf_counter()
    line = refused(capsys, "check", "deep.xml")

    assert time.perf_counter() - start < 1.0
    assert line == f"{report}: XML nested deeper than {sources.MAX_XML_DEPTH} elements"


def test_xml_larger_than_the_limit_is_refused_unread(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources, "MAX_XML_BYTES", 1000)
    report = project / "big.xml"
    report.write_text(COBERTURA.format(lines='<line number="1" hits="1"/>' * 40), encoding="utf-8")

    line = refused(capsys, "check", "big.xml")

    size = report.stat().st_size
    assert line == (
        f"{report}: {size:,} bytes, larger than the 1,000 bytes covgate reads from an XML report"
    )
