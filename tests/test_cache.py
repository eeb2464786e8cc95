"""covgate.cache: the static-analysis cache never changes a number.

A real project (tests/sources_fixtures.py, plus a module of `with` blocks, multi-line
statements and pragmas) is measured by the real pytest and coverage.py; every analysis through
the cache, cold, warm, after edits, with damaged entries and in concurrent processes, is
compared with coverage.py's own JSON report of the same data.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import json.decoder
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from covgate import analysis, cache
from covgate.cli import main
from covgate.model import Counts, FileCoverage, Measurement
from tests.helpers import POLICY, small_project
from tests.sources_fixtures import (
    PYPROJECT,
    clean_env,
    coverage,
    expected_files,
    measure,
    read_json,
    write_files,
    write_large_project,
    write_project,
)

slow = pytest.mark.slow

FLOW = """\
import contextlib
import io


def written(text):
    with io.StringIO() as stream:
        stream.write(text)
        if not text:
            return 0
    return len(text)


def guarded(table, key):
    with contextlib.suppress(KeyError):
        with contextlib.suppress(TypeError):
            return table[key]
    return None


def joined(
    first,
    second,
):
    text = (
        first
        + second
    )
    while text and text[0] == " ":
        text = text[1:]
    else:
        text = text or "empty"
    return text


def never():  # pragma: no cover
    raise RuntimeError("never")


def chosen(flag):
    if flag:  # pragma: no branch
        return "yes"
    return "no"


def shape(sides):
    match sides:
        case 3:
            return "triangle"
        case 4:
            return "square"
        case _:
            return "polygon"


class Box:
    def __init__(self, items):
        self.items = items

    def first(self):
        for item in self.items:
            if item:
                return item
        raise LookupError("empty")
"""

FLOW_TESTS = """\
from app import flow


def test_flow():
    assert flow.written("ab") == 2
    assert flow.guarded({"a": 1}, "a") == 1
    assert flow.guarded({}, "a") is None
    assert flow.joined(" a", "b") == "ab"
    assert flow.chosen(True) == "yes"
    assert flow.shape(3) == "triangle"
    assert flow.Box([0, 2]).first() == 2
"""


def make_project(root: Path, pyproject: str = PYPROJECT) -> Path:
    write_project(root, pyproject)
    write_files(root, {"app/flow.py": FLOW, "tests/test_flow.py": FLOW_TESTS})
    return root


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project measured once with branch coverage (paths relative, so copies work)."""
    root = make_project(
        tmp_path_factory.mktemp("cache"),
        PYPROJECT.replace('source = ["app"]', 'source = ["app"]\nrelative_files = true'),
    )
    measure(root)
    return root


@pytest.fixture
def project(measured: Path, tmp_path: Path) -> Path:
    """A fresh copy of the measured project, without a cache."""
    root = tmp_path / "project"
    shutil.copytree(measured, root, ignore=shutil.ignore_patterns(".covgate"))
    return root


def analysed(root: Path, *, use_cache: bool = True, jobs: int = 1) -> Measurement:
    return analysis.analyse(root / ".coverage", root, jobs=jobs, cache=use_cache)


def coverage_json(root: Path) -> dict[str, Any]:
    target = root / "coverage-report.json"
    coverage(root, "json", "-q", "-o", str(target))
    return read_json(target)


def assert_equals_coverage(measurement: Measurement, root: Path) -> None:
    """Every file's counts and line sets equal coverage.py's JSON report of the same data."""
    assert {f.path: _compared(f) for f in measurement.files} == {
        name: _compared(f) for name, f in expected_files(coverage_json(root)).items()
    }


def _compared(file: FileCoverage) -> tuple[object, ...]:
    # Not `branch_exits`: coverage.py's JSON leaves out the exits of `pragma: no branch`
    # lines, which its Analysis (and so covgate, with or without the cache) counts per line.
    return (
        file.counts,
        file.missing_lines,
        file.partial_lines,
        file.statements,
        file.missing_exits,
        file.missing_arcs,
    )


def entries(root: Path) -> dict[str, bytes]:
    folder = root / cache.FOLDER
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def entry_of(root: Path, path: str) -> Path:
    return root / cache.FOLDER / cache.entry_name(path)


# --- cold, warm, line and branch data -------------------------------------------------------


@slow
def test_cold_then_warm_equal_coverage_report(project: Path) -> None:
    cold = analysed(project)
    written = entries(project)
    assert len(written) == len(cold.files) == 9
    assert (project / ".covgate" / ".gitignore").read_text() == "# created by covgate\n*\n"
    warm = analysed(project)
    assert entries(project) == written  # every entry served, none rewritten
    assert warm == cold
    assert warm.notes == ()
    assert_equals_coverage(warm, project)


@slow
def test_warm_in_worker_processes_equals_serial(project: Path) -> None:
    serial = analysed(project)
    assert analysed(project, jobs=2) == serial
    assert analysed(project, use_cache=False) == serial


@slow
def test_line_data_is_served_by_branch_entries(project: Path) -> None:
    analysed(project)  # entries with arcs
    branch_entries = entries(project)
    coverage(project, "run", "-m", "pytest", "-q", "-p", "no:cacheprovider")  # line data
    lines = analysed(project)
    assert entries(project) == branch_entries
    assert not lines.branch_measured
    document = coverage_json(project)
    found = {f.path: (f.counts, f.missing_lines, f.statements) for f in lines.files}
    assert found == {
        name: (
            Counts(
                statements=entry["summary"]["num_statements"],
                missing_statements=entry["summary"]["missing_lines"],
            ),
            tuple(entry["missing_lines"]),
            tuple(sorted([*entry["executed_lines"], *entry["missing_lines"]])),
        )
        for name, entry in document["files"].items()
    }


@slow
def test_branch_data_after_line_entries_rebuilds_them_with_arcs(project: Path) -> None:
    coverage(project, "run", "-m", "pytest", "-q", "-p", "no:cacheprovider")
    analysed(project)
    line_entry = json.loads(entry_of(project, "app/flow.py").read_bytes())
    assert line_entry["branch"] is None
    measure(project)
    assert_equals_coverage(analysed(project), project)
    assert json.loads(entry_of(project, "app/flow.py").read_bytes())["branch"]["candidates"]


# --- edits ------------------------------------------------------------------------------------


@slow
def test_edited_source_is_analysed_again(project: Path) -> None:
    analysed(project)
    before = entries(project)
    flow = project / "app" / "flow.py"
    flow.write_text(
        FLOW.replace("def never():", "def sometimes(flag):\n    if flag:\n        return 1\n"
                     "    return 2\n\n\ndef never():"),
        encoding="utf-8",
    )  # fmt: skip
    measure(project)
    after = analysed(project)
    changed = {name for name, data in entries(project).items() if before.get(name) != data}
    assert changed == {cache.entry_name("app/flow.py")}
    assert_equals_coverage(after, project)


@slow
@pytest.mark.parametrize(
    ("setting", "line"),
    [
        ("exclude_also", 'exclude_also = ["if DEBUG:", "def __repr__", "raise LookupError"]'),
        ("exclude_lines", 'exclude_lines = ["pragma: no cover", "return None"]'),
        ("partial_also", 'partial_also = ["if not text"]'),
        ("partial_branches", 'partial_branches = ["if item"]'),
    ],
)
def test_changed_setting_is_analysed_again(project: Path, setting: str, line: str) -> None:
    first = analysed(project)
    before = entries(project)
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    if setting == "exclude_also":
        text = text.replace('exclude_also = ["if DEBUG:", "def __repr__"]', line)
    else:
        text = text.replace("[tool.coverage.report]\n", f"[tool.coverage.report]\n{line}\n")
    pyproject.write_text(text, encoding="utf-8")
    second = analysed(project)
    assert second != first
    assert set(entries(project)) == set(before)
    assert all(entries(project)[name] != data for name, data in before.items())
    assert_equals_coverage(second, project)


def test_settings_digest_follows_every_analysis_setting(tmp_path: Path) -> None:
    write_files(tmp_path, {"pyproject.toml": "[tool.coverage.run]\nbranch = true\n"})
    base = cache.settings_digest(analysis.project_coverage(tmp_path))
    digests = {base}
    for line in (
        'exclude_also = ["x"]',
        'exclude_lines = ["y"]',
        'partial_also = ["x"]',
        'partial_branches = ["x"]',
        'partial_branches_always = ["x"]',
    ):
        write_files(tmp_path, {"pyproject.toml": f"[tool.coverage.report]\n{line}\n"})
        digests.add(cache.settings_digest(analysis.project_coverage(tmp_path)))
    assert len(digests) == 6
    # Settings that do not change the analysis keep the entries.
    write_files(tmp_path, {"pyproject.toml": '[tool.coverage.report]\nomit = ["x"]\n'})
    assert cache.settings_digest(analysis.project_coverage(tmp_path)) == base


# --- damaged, foreign, unwritable -----------------------------------------------------------

DAMAGE: dict[str, Callable[[bytes], bytes]] = {
    "truncated": lambda data: data[: len(data) // 2],
    "empty": lambda data: b"",
    "not json": lambda data: b"\x00\xff garbage",
    "a list": lambda data: b"[1, 2, 3]",
    "another format": lambda data: data.replace(b'"format":', b'"format":99'),
    "another key": lambda data: data.replace(b'"key":"', b'"key":"0'),
    "odd pairs": lambda data: data.replace(b'"candidates":[', b'"candidates":[7,'),
    "strings for lines": lambda data: data.replace(b'"statements":[', b'"statements":["1",'),
    "missing field": lambda data: data.replace(b'"branch"', b'"branches"'),
}


@slow
def test_damaged_entries_are_ignored_and_rebuilt(project: Path) -> None:
    first = analysed(project)
    names = sorted(entries(project))
    assert len(names) >= len(DAMAGE)
    for name, damage in zip(names, DAMAGE.values(), strict=False):
        path = project / cache.FOLDER / name
        path.write_bytes(damage(path.read_bytes()))
    second = analysed(project)
    assert second == first
    assert_equals_coverage(second, project)
    assert all(json.loads(data)["format"] == cache.FORMAT for data in entries(project).values())


class _Data:
    """The measured data of one file, asked as analysis_from_file_reporter asks it."""

    def __init__(self, lines: list[int] | None, arcs: list[tuple[int, int]] | None) -> None:
        self._lines = lines
        self._arcs = arcs

    def has_arcs(self) -> bool:
        return self._arcs is not None

    def lines(self, filename: str) -> list[int] | None:
        if self._arcs is not None:
            return list({n for arc in self._arcs for n in arc if n > 0})
        return self._lines

    def arcs(self, filename: str) -> list[tuple[int, int]] | None:
        return self._arcs


def test_an_entry_judges_as_coverage_py_does(tmp_path: Path) -> None:
    """From an entry that went through the disk, the numbers of any measured lines and arcs
    (exits, `with` jumps, multi-line statements, excluded and `no branch` lines included)
    equal those of coverage.py's own analysis of the source."""
    import random

    from coverage import Coverage
    from coverage.python import PythonFileReporter
    from coverage.results import analysis_from_file_reporter

    source = tmp_path / "flow.py"
    source.write_text(FLOW, encoding="utf-8")
    cov = Coverage(data_file=None, config_file=False)
    real = PythonFileReporter(str(source), cov)
    for branch in (True, False):
        cache.write_entry(
            tmp_path / "entry.json", "k", "flow.py",
            cache.build_entry(cov, real.filename, FLOW, branch=branch),
        )  # fmt: skip
        entry = cache.read_entry(tmp_path / "entry.json", "k")
        assert entry is not None
        assert entry.first_lines
        assert entry.excluded
        assert (entry.branch is not None) == branch == bool(entry.jump_fixers)
        last = len(FLOW.splitlines()) + 2
        everything = [(a, b) for a in range(-last, last + 1) for b in range(-last, last + 1)]
        possible = sorted(real.arcs())
        special = sorted(set(entry.jump_fixers) | {(a, a) for a in range(1, last)})
        rng = random.Random(5)
        samples = [[], possible, special, everything]
        samples += [rng.sample(possible, k) + rng.sample(special, 3) for k in (1, 5, 20, 40)]
        samples += [rng.sample(everything, k) for k in (10, 100, 1000)]
        for arcs in samples:
            lines = sorted({n for arc in arcs for n in arc if n > 0})
            data = _Data(lines, arcs if branch else None)
            expected = analysis_from_file_reporter(data, 2, real, real.filename)  # type: ignore[arg-type]
            ours = cache.judged(entry, real.filename, data.lines(""), data.arcs(""))
            assert ours == cache.FileAnalysis.of(expected)
            assert arcs == [] or ours.missing != ours.statements  # not vacuous


# Real sources with much syntax: covgate's own package and standard library modules.
REAL_SOURCES = sorted(Path(cache.__file__).parent.rglob("*.py")) + [
    Path(module.__file__)
    for module in (contextlib, dataclasses, json.decoder, shutil, subprocess, tempfile)
    if module.__file__
]


@slow
def test_entries_judge_real_sources_as_coverage_py_does() -> None:
    """On real sources, an entry's numbers for random measured arcs (possible ones, stray
    ones, self-loops, `with` jumps) and lines equal coverage.py's own analysis."""
    import random

    from coverage import Coverage
    from coverage.python import PythonFileReporter, get_python_source
    from coverage.results import analysis_from_file_reporter

    cov = Coverage(data_file=None, config_file=False)
    rng = random.Random(7)
    fixed = 0
    for path in REAL_SOURCES:
        text = get_python_source(str(path))
        real = PythonFileReporter(str(path), cov)
        possible = sorted(real.arcs())
        entries = {
            branch: cache.build_entry(cov, real.filename, text, branch=branch)
            for branch in (True, False)
        }
        fixed += bool(entries[True].jump_fixers)
        last = max(real.lines(), default=1) + 2
        stray = [(rng.randint(-last, last), rng.randint(-last, last)) for _ in range(40)]
        loops = [(n, n) for n in rng.sample(range(1, last), min(10, last - 1))]
        samples = [possible, stray + loops + sorted(entries[True].jump_fixers)]
        samples += [rng.sample(possible, min(k, len(possible))) for k in (3, 30)]
        for arcs in samples:
            lines = sorted({n for arc in arcs for n in arc if n > 0})
            for branch, entry in entries.items():
                data = _Data(lines, arcs if branch else None)
                expected = analysis_from_file_reporter(data, 2, real, real.filename)  # type: ignore[arg-type]
                ours = cache.judged(entry, real.filename, data.lines(""), data.arcs(""))
                assert ours == cache.FileAnalysis.of(expected), (path, branch, arcs)
    assert fixed >= 5  # `with` blocks were among them


@slow
@pytest.mark.parametrize(
    ("blocked", "reason"), [(".covgate", "Not a directory"), (".covgate/analysis", "File exists")]
)
def test_unwritable_cache_folder_gates_without_it_and_says_so(
    project: Path, blocked: str, reason: str
) -> None:
    (project / blocked).parent.mkdir(exist_ok=True)
    (project / blocked).write_text("in the way\n")
    found = analysed(project)
    assert found.notes == (
        f"analysis cache off: cannot write .covgate/analysis/ ({reason}); "
        "every file is analysed afresh",
    )
    assert_equals_coverage(found, project)
    assert (project / blocked).read_text() == "in the way\n"


@slow
def test_no_cache_neither_reads_nor_writes(project: Path) -> None:
    found = analysed(project, use_cache=False)
    assert not (project / ".covgate").exists()
    assert found.notes == ()
    assert_equals_coverage(found, project)


@slow
@pytest.mark.parametrize("release", ["newer", "older"])
def test_an_unchecked_coverage_release_is_analysed_without_the_cache(
    project: Path, monkeypatch: pytest.MonkeyPatch, release: str
) -> None:
    import coverage as coverage_module

    this = tuple(coverage_module.version_info[:2])
    if release == "newer":
        monkeypatch.setattr(cache, "VERIFIED_BELOW", this)
    else:
        monkeypatch.setattr(cache, "VERIFIED_FROM", (this[0], this[1] + 1))
    found = analysed(project)
    assert found.notes == (
        f"analysis cache off: not checked against coverage.py {coverage_module.__version__}; "
        "every file is analysed afresh",
    )
    assert not (project / ".covgate").exists()
    assert_equals_coverage(found, project)


@slow
def test_check_uses_the_cache_unless_told_not_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    root = small_project(tmp_path, POLICY)
    measure(root)
    monkeypatch.chdir(root)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    assert main(["check", "--no-cache", "--report", "json:afresh.json"]) == 0
    assert not (root / ".covgate").exists()
    assert main(["check", "--report", "json:cold.json"]) == 0
    assert main(["check", "--report", "json:warm.json"]) == 0
    capfd.readouterr()
    assert len(list((root / cache.FOLDER).glob("*.json"))) == 6
    afresh, cold, warm = (read_json(root / f"{n}.json") for n in ("afresh", "cold", "warm"))
    assert afresh["files"] == cold["files"] == warm["files"]
    assert afresh["overall"] == cold["overall"] == warm["overall"]


# --- pruning ----------------------------------------------------------------------------------


@slow
def test_entries_of_removed_sources_are_pruned(project: Path) -> None:
    analysed(project)
    gone = entry_of(project, "app/utils/unused.py")
    assert gone.exists()
    folder = project / cache.FOLDER
    stale = folder / "x.tmp"
    stale.write_text("left by a run that died")
    old = time.time() - 2 * cache.STALE_TEMPORARY_SECONDS
    os.utime(stale, (old, old))
    fresh = folder / "y.tmp"
    fresh.write_text("being written by a run now")
    (project / "app" / "utils" / "unused.py").unlink()
    measure(project)
    found = analysed(project)
    assert not gone.exists()
    assert not stale.exists()
    assert fresh.exists()
    assert len(list(folder.glob("*.json"))) == len(found.files) == 8
    assert_equals_coverage(found, project)


def test_prune_keeps_entries_of_present_files_not_in_this_run(tmp_path: Path) -> None:
    folder = tmp_path / cache.FOLDER
    folder.mkdir(parents=True)
    (tmp_path / "kept.py").write_text("x = 1\n")
    store = cache.AnalysisCache(folder=folder, root=tmp_path, settings="s")
    entry = cache.Entry(frozenset(), frozenset(), {}, {}, None)
    for source in ("kept.py", "gone.py"):
        cache.write_entry(folder / cache.entry_name(source), "k", source, entry)
    (folder / "unreadable.json").write_text("{")
    assert cache.prune(store, keep=()) == 2
    assert sorted(p.name for p in folder.iterdir()) == [cache.entry_name("kept.py")]


# --- concurrency ------------------------------------------------------------------------------


def covgate_check(root: Path, report: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "covgate", "check", "--report", f"json:{report}"],
        cwd=root,
        env=clean_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@slow
def test_concurrent_runs_equal_coverage_report(tmp_path: Path) -> None:
    root = write_large_project(tmp_path / "large", 48)
    measure(root)
    expected = {
        name: (f.counts, f.missing_lines, f.partial_lines)
        for name, f in expected_files(coverage_json(root)).items()
    }
    for round_ in range(2):  # cold, then warm with concurrent rewrites of nothing
        reports = [tmp_path / f"r{round_}-{n}.json" for n in range(2)]
        runs = [covgate_check(root, report) for report in reports]
        for run in runs:
            _, stderr = run.communicate(timeout=120)
            assert run.returncode in (0, 2), stderr.decode()
        for report in reports:
            files = read_json(report)["files"]
            found = {
                f["path"]: (
                    _counts(f),
                    tuple(f["missing_lines"]),
                    tuple(f["partial_lines"]),
                )
                for f in files
            }
            assert found == expected
    assert not list((root / cache.FOLDER).glob("*.tmp"))


def _counts(document: dict[str, Any]) -> Counts:
    return Counts(
        statements=document["statements"],
        missing_statements=document["missing_statements"],
        branches=document["branches"],
        missing_branches=document["missing_branches"],
        partial_branches=document["partial_branches"],
    )


def test_entry_name_is_the_project_relative_path() -> None:
    assert cache.relative("/p/app/x.py", Path("/p")) == "app/x.py"
    assert cache.relative("app/x.py", "/p") == "app/x.py"
    assert cache.relative("/elsewhere/x.py", Path("/p")) == "/elsewhere/x.py"
    assert cache.relative("/px/app.py", "/p") == "/px/app.py"  # a sibling sharing a prefix
    assert cache.relative("/p/app/x.py", "/p/") == "app/x.py"
    assert cache.relative("/p/./app//x.py", "/p/sub/..") == "app/x.py"
    assert cache.relative("../x.py", "/p/sub") == "/p/x.py"
    assert cache.relative("/x.py", "/") == "x.py"
    assert cache.relative("/p", "/p") == "."
    assert cache.entry_name("app/x.py") != cache.entry_name("app/y.py")
    assert cache.entry_name("app/x.py").endswith(".json")
