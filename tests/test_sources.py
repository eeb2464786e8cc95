"""covgate.sources and covgate.analysis on real coverage.py data.

The projects are generated in temporary folders and measured by the real pytest and coverage.py
in subprocesses (see tests/sources_fixtures.py); covgate's numbers are compared with
coverage.py's own reports of the same data. Nothing is mocked.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from coverage import CoverageData

from covgate import analysis, sources
from covgate.cli import interrupts_as_keyboard_interrupt
from covgate.errors import DataError, NothingToJudge
from covgate.model import Counts, FileCoverage, Measurement
from tests.sources_fixtures import (
    EXCLUDED_LINES,
    NEVER_IMPORTED,
    OMITTED,
    PARTIAL_LINE,
    Reports,
    coverage,
    expected_files,
    expected_totals,
    measure,
    measure_in_two_runs,
    read_json,
    run_python,
    snapshot,
    write_files,
    write_large_project,
    write_project,
    write_reports,
)

slow = pytest.mark.slow
LARGE_MODULES = 48
REPORT_KINDS = ["json", "xml", "lcov"]
NAMES_ARCS = {"data", "json"}
"""The formats that name the destination of each branch; Cobertura and LCOV count exits."""


def as_carried(file: FileCoverage, kinds: set[str]) -> FileCoverage:
    """`file` as reports of `kinds` carry it: without arcs unless one of them names arcs."""
    return file if kinds & NAMES_ARCS else replace(file, missing_arcs=())


def by_path(measurement: Measurement) -> dict[str, FileCoverage]:
    return {f.path: f for f in measurement.files}


@dataclass(frozen=True)
class Measured:
    """Data files of one project, and what coverage.py itself reports of them."""

    root: Path
    data: tuple[Path, ...]
    expected: dict[str, FileCoverage]


@dataclass(frozen=True)
class Moved:
    """A project measured in one folder (`old`, gone) and moved to another."""

    old: Path
    mapped: Path
    """The moved project, with a `[tool.coverage.paths]` mapping from `old`."""
    unmapped: Path
    """A copy of the moved project without the mapping."""


# --- fixtures: each measures a project once -----------------------------------------------------


@pytest.fixture(autouse=True)
def _no_coverage_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """covgate reads coverage.py's configuration, which COVERAGE_FILE or COVERAGE_RCFILE would
    steer: covgate's own suite may run under coverage with them set."""
    for name in list(os.environ):
        if name.startswith("COVERAGE_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Reports:
    """The branchy project, measured once, in all four formats."""
    root = write_project(tmp_path_factory.mktemp("project"))
    measure(root)
    return write_reports(root)


@pytest.fixture(scope="module")
def expected(project: Reports) -> dict[str, FileCoverage]:
    return expected_files(project.coverage_json())


@pytest.fixture(scope="module")
def parallel(tmp_path_factory: pytest.TempPathFactory) -> Measured:
    """The branchy project measured in two `--parallel-mode` runs (auth tests, then the rest),
    and coverage.py's own combination of them, made outside the project."""
    root = write_project(tmp_path_factory.mktemp("parallel"))
    runs = measure_in_two_runs(root)
    outside = tmp_path_factory.mktemp("parallel-reference")
    combined, report = outside / ".coverage", outside / "coverage.json"
    coverage(root, "combine", "--keep", "-q", f"--data-file={combined}", *map(str, runs))
    coverage(root, "json", "-q", f"--data-file={combined}", "-o", str(report))
    return Measured(root, runs, expected_files(read_json(report)))


@pytest.fixture(scope="module")
def moved(tmp_path_factory: pytest.TempPathFactory) -> Moved:
    base = tmp_path_factory.mktemp("moved")
    old = write_project(base / "ci" / "checkout")
    measure_in_two_runs(old)
    mapped = base / "laptop" / "project"
    mapped.parent.mkdir()
    old.rename(mapped)
    unmapped = base / "unmapped"
    shutil.copytree(mapped, unmapped)
    with (mapped / "pyproject.toml").open("a", encoding="utf-8") as stream:
        stream.write(f'\n[tool.coverage.paths]\nsource = ["app/", "{old.as_posix()}/app/"]\n')
    return Moved(old=old, mapped=mapped, unmapped=unmapped)


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Measured:
    root = write_large_project(tmp_path_factory.mktemp("large"), modules=LARGE_MODULES)
    measure(root)
    coverage(root, "json", "-q", "-o", "coverage.json")
    document = read_json(root / "coverage.json")
    return Measured(root, (root / ".coverage",), expected_files(document))


# --- equality with coverage.py ------------------------------------------------------------------


@slow
def test_counts_from_data_file_equal_coverage_json(
    project: Reports, expected: dict[str, FileCoverage]
) -> None:
    # The project has what the comparison needs: branches, a partial branch, missing lines,
    # a never-imported file and empty __init__ files.
    path, line = PARTIAL_LINE
    assert line in expected[path].partial_lines
    never_imported = expected[NEVER_IMPORTED].counts
    assert never_imported.missing_statements == never_imported.statements > 0
    assert expected["app/__init__.py"].counts == Counts()

    measurement = sources.read_measurement([project.data], project.root)

    assert by_path(measurement) == expected
    assert measurement.branch_measured
    assert measurement.sources == (".coverage",)


@slow
def test_totals_equal_coverage_json(project: Reports) -> None:
    measurement = sources.read_measurement([project.data], project.root)

    totals = Counts.sum(f.counts for f in measurement.files)

    assert totals == expected_totals(project.coverage_json())
    assert totals.partial_branches > 0


@slow
@pytest.mark.parametrize("kind", REPORT_KINDS)
def test_every_report_format_gives_the_data_files_numbers(project: Reports, kind: str) -> None:
    from_data = sources.read_measurement([project.data], project.root)

    from_report = sources.read_measurement([project.report(kind)], project.root)

    assert from_report.files == tuple(as_carried(f, {kind}) for f in from_data.files)
    assert from_report.branch_measured
    assert any(f.missing_arcs for f in from_report.files) == (kind in NAMES_ARCS)


@slow
@pytest.mark.parametrize("kind", ["data", *REPORT_KINDS])
def test_file_paths_are_relative_to_the_root_with_slashes(
    project: Reports, expected: dict[str, FileCoverage], kind: str
) -> None:
    paths = sources.file_paths([project.report(kind)], project.root)

    assert paths == sorted(expected)
    for path in paths:
        assert not path.startswith("/")
        assert "\\" not in path
        assert (project.root / path).is_file()


@slow
@pytest.mark.parametrize(
    "kinds",
    [
        pytest.param(("json", "json"), id="json+json"),
        pytest.param(("xml", "xml"), id="xml+xml"),
        pytest.param(("lcov", "lcov"), id="lcov+lcov"),
        pytest.param(("json", "xml"), id="json+xml"),
        pytest.param(("json", "lcov"), id="json+lcov"),
        pytest.param(("xml", "lcov"), id="xml+lcov"),
    ],
)
def test_one_measurement_in_two_reports_is_counted_once(
    project: Reports, expected: dict[str, FileCoverage], kinds: tuple[str, str], tmp_path: Path
) -> None:
    first, second = (project.report(kind) for kind in kinds)
    copy = tmp_path / second.name
    shutil.copyfile(second, copy)

    measurement = sources.read_measurement([first, copy], project.root)

    # Where one of the reports names arcs, the merge keeps them.
    assert by_path(measurement) == {p: as_carried(f, set(kinds)) for p, f in expected.items()}


@slow
@pytest.mark.parametrize(
    "kind",
    ["json", "xml", "lcov"],
)
def test_report_with_a_utf8_bom_reads_like_without(
    project: Reports, expected: dict[str, FileCoverage], kind: str, tmp_path: Path
) -> None:
    report = project.report(kind)
    with_bom = tmp_path / report.name
    with_bom.write_bytes(b"\xef\xbb\xbf" + report.read_bytes())

    measurement = sources.read_measurement([with_bom], project.root)

    assert by_path(measurement) == {p: as_carried(f, {kind}) for p, f in expected.items()}


# --- parallel data ------------------------------------------------------------------------------


@slow
def test_default_data_finds_the_parallel_files(parallel: Measured) -> None:
    assert not (parallel.root / ".coverage").exists()

    found = sources.default_data(parallel.root)

    assert found == sorted(p.resolve() for p in parallel.data)


@slow
def test_parallel_files_are_combined_as_coverage_combine_does(parallel: Measured) -> None:
    measurement = sources.read_measurement(sources.default_data(parallel.root), parallel.root)

    assert by_path(measurement) == parallel.expected
    assert measurement.sources == (f"{min(p.name for p in parallel.data)} + 1 more combined",)


@slow
def test_a_line_covered_by_either_run_is_covered(parallel: Measured) -> None:
    auth_run, services_run = (
        by_path(sources.read_measurement([p], parallel.root)) for p in parallel.data
    )

    combined = by_path(sources.read_measurement(list(parallel.data), parallel.root))

    # sign() runs only in the auth run, Order.total() only in the other one.
    assert 9 in services_run["app/auth/tokens.py"].missing_lines
    assert 13 in auth_run["app/services/orders.py"].missing_lines
    assert 9 not in combined["app/auth/tokens.py"].missing_lines
    assert 13 not in combined["app/services/orders.py"].missing_lines
    for path, file in combined.items():
        assert file.counts.statements == auth_run[path].counts.statements
        union_missing = set(auth_run[path].missing_lines) & set(services_run[path].missing_lines)
        assert set(file.missing_lines) == union_missing, path


@slow
def test_reading_parallel_files_leaves_the_project_untouched(parallel: Measured) -> None:
    before = snapshot(parallel.root)
    assert sorted(name for name in before if name.startswith(".coverage")) == sorted(
        p.name for p in parallel.data
    )

    found = sources.default_data(parallel.root)
    sources.read_measurement(found, parallel.root)
    sources.file_paths(found, parallel.root)

    assert snapshot(parallel.root) == before
    assert not (parallel.root / ".coverage").exists()


# --- large data: analysed in worker processes ---------------------------------------------------


@slow
@pytest.mark.parametrize("jobs", [1, 2])
def test_large_data_analysed_in_workers_equals_coverage_json(large: Measured, jobs: int) -> None:
    children: list[int] = []

    def progress(done: int, total: int) -> None:
        children.append(len(multiprocessing.active_children()))

    measurement = analysis.analyse(large.data[0], large.root, jobs=jobs, progress=progress)

    assert len(measurement.files) > analysis.PARALLEL_MIN_FILES
    assert by_path(measurement) == large.expected
    assert (max(children) > 0) == (jobs > 1), "worker processes alive while analysing"


@slow
def test_read_measurement_of_large_data_keeps_the_data_file(large: Measured) -> None:
    data = large.data[0]
    before = data.read_bytes()
    calls: list[tuple[int, int]] = []
    children: list[int] = []

    def progress(done: int, total: int) -> None:
        calls.append((done, total))
        children.append(len(multiprocessing.active_children()))

    measurement = sources.read_measurement([data], large.root, progress=progress)

    assert by_path(measurement) == large.expected
    total = len(large.expected)
    assert calls[-1] == (total, total)
    assert [done for done, _ in calls] == sorted({done for done, _ in calls})
    assert (max(children) > 0) == ((os.cpu_count() or 1) > 1)
    # A coverage.py object inherited across fork() erases the data file: it must not happen.
    assert data.read_bytes() == before


def _signal_masks(pid: int) -> tuple[int, int]:
    """The signals process `pid` handles and ignores, as bit masks (Linux's /proc)."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(fields["SigCgt"], 16), int(fields["SigIgn"], 16)


def _bit(number: int) -> int:
    return 1 << (number - 1)


@slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_analysis_workers_start_with_default_signal_handling(large: Measured) -> None:
    masks: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> None:
        if done == total:  # every worker has started and taken its tasks by now
            masks.extend(_signal_masks(p.pid or 0) for p in multiprocessing.active_children())

    with interrupts_as_keyboard_interrupt():  # covgate's own handlers, as in `covgate check`
        analysis.analyse(large.data[0], large.root, jobs=2, progress=progress)

    assert len(masks) == 2
    for caught, ignored in masks:
        assert caught & (_bit(signal.SIGTERM) | _bit(signal.SIGHUP) | _bit(signal.SIGINT)) == 0
        assert ignored & _bit(signal.SIGINT), "the main process stops the workers on Ctrl-C"
    assert multiprocessing.active_children() == []


@slow
@pytest.mark.skipif(
    "forkserver" not in multiprocessing.get_all_start_methods(), reason="no fork here"
)
def test_analysis_beside_another_thread_does_not_fork_it(large: Measured) -> None:
    methods: list[str] = []
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)  # as a progress display's refresh thread
    other.start()
    try:
        methods.append(analysis._context().get_start_method())
        measurement = analysis.analyse(large.data[0], large.root, jobs=2)
    finally:
        stop.set()
        other.join()

    assert methods == ["forkserver"]
    assert analysis._context().get_start_method() == "fork"
    assert by_path(measurement) == large.expected


@slow
def test_interrupted_analysis_stops_its_workers_without_a_word(
    large: Measured, capfd: pytest.CaptureFixture[str]
) -> None:
    def progress(done: int, total: int) -> None:
        if done > 0:
            raise KeyboardInterrupt  # as Ctrl-C or SIGTERM does in the main process

    with interrupts_as_keyboard_interrupt(), pytest.raises(KeyboardInterrupt):
        analysis.analyse(large.data[0], large.root, jobs=2, progress=progress)

    assert multiprocessing.active_children() == []
    assert capfd.readouterr() == ("", "")


# --- coverage.py's configuration ----------------------------------------------------------------


@slow
def test_report_omit_is_honoured(project: Reports) -> None:
    raw = CoverageData(basename=str(project.data))
    raw.read()
    measured = {os.path.relpath(f, project.root) for f in raw.measured_files()}
    raw.close()
    assert OMITTED in measured

    measurement = sources.read_measurement([project.data], project.root)

    assert OMITTED not in by_path(measurement)
    assert OMITTED not in sources.file_paths([project.data], project.root)


@slow
def test_exclude_also_block_does_not_count(project: Reports, tmp_path: Path) -> None:
    document = project.coverage_json()
    measured = by_path(sources.read_measurement([project.data], project.root))
    # The same data, checked from a root whose configuration has no exclusions and no omit.
    shutil.copyfile(project.data, tmp_path / ".coverage")
    unconfigured = {
        Path(f.path).relative_to(project.root).as_posix(): f
        for f in sources.read_measurement([tmp_path / ".coverage"], tmp_path).files
    }

    for path, lines in EXCLUDED_LINES.items():
        assert tuple(document["files"][path]["excluded_lines"]) == lines
        assert not set(lines) & set(measured[path].missing_lines)
        plain = unconfigured[path].counts
        assert plain.statements == measured[path].counts.statements + len(lines)
        assert plain.missing_statements > measured[path].counts.missing_statements
    assert OMITTED in unconfigured


@slow
@pytest.mark.parametrize("runs", ["both runs combined", "one run"])
def test_paths_mapping_resolves_files_measured_elsewhere(
    moved: Moved, expected: dict[str, FileCoverage], runs: str
) -> None:
    assert not moved.old.exists()
    found = sources.default_data(moved.mapped)
    data = found if runs == "both runs combined" else found[:1]

    files = by_path(sources.read_measurement(data, moved.mapped))

    assert sorted(files) == sorted(expected)
    assert all((moved.mapped / path).is_file() for path in files)
    assert {p: f.counts.statements for p, f in files.items()} == {
        p: f.counts.statements for p, f in expected.items()
    }
    if runs == "both runs combined":
        assert files == expected


@slow
def test_moved_data_without_paths_mapping_is_a_data_error(moved: Moved) -> None:
    found = sources.default_data(moved.unmapped)

    with pytest.raises(DataError, match="No source for code") as info:
        sources.read_measurement(found, moved.unmapped)

    assert moved.old.as_posix() in str(info.value)


def test_default_data_uses_the_configured_data_file(tmp_path: Path) -> None:
    write_files(tmp_path, {"pyproject.toml": '[tool.coverage.run]\ndata_file = "build/cov.db"\n'})
    (tmp_path / "build").mkdir()
    for suffix in ("host.1.a", "host.2.b"):
        data = CoverageData(basename=str(tmp_path / "build" / "cov.db"), suffix=suffix)
        data.add_lines({})
        data.write()
        data.close()
    first, second = tmp_path / "build" / "cov.db.host.1.a", tmp_path / "build" / "cov.db.host.2.b"
    (tmp_path / "build" / "cov.db.lock").write_text("not coverage data", encoding="utf-8")
    (tmp_path / ".coverage.stale").write_bytes(first.read_bytes())

    found = sources.default_data(tmp_path)

    assert found == [first, second]


# --- bad inputs ---------------------------------------------------------------------------------

Maker = Callable[[Path], Path]


def _file(name: str, content: bytes | str) -> Maker:
    def make(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        return path

    return make


def _missing(folder: Path) -> Path:
    return folder / "nowhere" / ".coverage"


def _folder(folder: Path) -> Path:
    path = folder / "htmlcov"
    path.mkdir()
    return path


XXE = """<?xml version="1.0"?>
<!DOCTYPE coverage [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<coverage><sources><source>&xxe;</source></sources></coverage>
"""
PARAMETER_XXE = """<?xml version="1.0"?>
<!DOCTYPE coverage [<!ENTITY % xxe SYSTEM "file:///etc/passwd"> %xxe;]>
<coverage/>
"""
BRANCH_WITHOUT_CONDITION = """<coverage branches-valid="2"><packages><package><classes>
<class filename="a.py"><lines><line number="1" hits="1" branch="true"/></lines></class>
</classes></package></packages></coverage>
"""

BAD_INPUTS = [
    pytest.param(_missing, "no such file", id="missing-file"),
    pytest.param(_folder, "is a folder", id="folder"),
    pytest.param(_file(".coverage", b""), "is empty", id="empty-file"),
    pytest.param(_file("cov.dat", b"\x00\x9f\x11random\xfe" * 300), "unknown format", id="random"),
    pytest.param(
        _file(".coverage", analysis.SQLITE_HEADER + b"\x00garbage\xff" * 500),
        "not a readable coverage.py data file",
        id="corrupt-sqlite",
    ),
    pytest.param(_file("c.json", '{"files": {'), "not valid JSON", id="bad-json"),
    pytest.param(_file("c.json", '{"a": 1}'), "not a coverage.py JSON report", id="other-json"),
    pytest.param(
        _file("c.json", '{"meta": {"format": 3}, "files": {"a.py": {"executed_lines": ["x"]}}}'),
        "malformed entry",
        id="json-bad-entry",
    ),
    pytest.param(_file("c.json", '{"meta": {"format": 1}, "files": {}}'), "format 1", id="json-v1"),
    pytest.param(_file("c.xml", "<html><body/></html>"), "not a Cobertura report", id="other-xml"),
    pytest.param(_file("c.xml", "<coverage><sources>"), "not well-formed", id="bad-xml"),
    pytest.param(_file("c.xml", XXE), "entities are refused", id="xml-external-entity"),
    pytest.param(_file("c.xml", PARAMETER_XXE), "entities are refused", id="xml-parameter-entity"),
    pytest.param(_file("c.xml", BRANCH_WITHOUT_CONDITION), "condition-coverage", id="xml-branch"),
    pytest.param(_file("c.lcov", "SF:a.py\nDA:x,y\nend_of_record\n"), "malformed LCOV", id="lcov"),
    pytest.param(_file("c.lcov", "TN:\nDA:1,1\n"), "outside an SF record", id="lcov-no-sf"),
]


@pytest.mark.parametrize(("make", "message"), BAD_INPUTS)
def test_bad_input_is_a_one_line_data_error_naming_the_file(
    tmp_path: Path, make: Maker, message: str
) -> None:
    path = make(tmp_path)

    with pytest.raises(DataError) as info:
        sources.read_measurement([path], tmp_path)

    text = str(info.value)
    assert str(path) in text
    assert message in text
    assert "\n" not in text
    assert "root:" not in text, "the external entity must not be read"
    with pytest.raises(DataError):
        sources.file_paths([path], tmp_path)


@slow
def test_truncated_data_file_is_a_data_error(project: Reports, tmp_path: Path) -> None:
    truncated = tmp_path / ".coverage"
    truncated.write_bytes(project.data.read_bytes()[:2000])

    with pytest.raises(DataError, match=r"not a readable coverage\.py data file") as info:
        sources.read_measurement([truncated], tmp_path)

    assert str(truncated) in str(info.value)
    assert "\n" not in str(info.value)


def test_xml_entity_bomb_fails_fast(tmp_path: Path) -> None:
    levels = [' <!ENTITY lol0 "lol">']
    levels += [f' <!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 12)]
    bomb = tmp_path / "coverage.xml"
    bomb.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE coverage [\n'
        + "\n".join(levels)
        + "\n]>\n<coverage><sources><source>&lol11;</source></sources></coverage>\n",
        encoding="utf-8",
    )

    start = time.perf_counter()
    with pytest.raises(DataError) as info:
        sources.read_measurement([bomb], tmp_path)
    elapsed = time.perf_counter() - start

    assert elapsed < 0.25
    assert str(bomb) in str(info.value)


@slow
@pytest.mark.parametrize("order", ["data first", "report first"])
def test_mixing_a_data_file_with_a_report_is_a_data_error(project: Reports, order: str) -> None:
    paths = [project.data, project.json]
    if order == "report first":
        paths.reverse()

    with pytest.raises(DataError, match=r"cannot mix coverage\.py data files"):
        sources.read_measurement(paths, project.root)
    with pytest.raises(DataError, match=r"cannot mix coverage\.py data files"):
        sources.file_paths(paths, project.root)


def _measure_nothing(root: Path, *options: str) -> list[Path]:
    """Real coverage.py runs that measure no file (every file is outside `--include`)."""
    write_files(root, {"script.py": "print('hello')\n"})
    run_python(["-m", "coverage", "run", "--include=nothing.py", *options, "script.py"], root)
    return sorted(root.glob(".coverage*"))


@slow
def test_data_file_without_measured_files_is_nothing_to_judge(tmp_path: Path) -> None:
    (data,) = _measure_nothing(tmp_path)

    with pytest.raises(NothingToJudge) as info:
        sources.read_measurement([data], tmp_path)

    assert str(info.value).startswith(f"{data.name}: no measured file")


@slow
def test_parallel_files_without_measured_files_name_the_users_files(tmp_path: Path) -> None:
    _measure_nothing(tmp_path, "--parallel-mode")
    found = _measure_nothing(tmp_path, "--parallel-mode")
    assert len(found) == 2

    with pytest.raises(NothingToJudge) as info:
        sources.read_measurement(found, tmp_path)

    message = str(info.value)
    assert found[0].name in message
    assert "1 more combined" in message
    assert "covgate-" not in message  # never the temporary combination


def test_no_data_in_the_root_is_nothing_to_judge(tmp_path: Path) -> None:
    with pytest.raises(NothingToJudge, match=r"\.coverage does not exist"):
        sources.default_data(tmp_path)


# --- Cobertura and LCOV from other tools --------------------------------------------------------

COBERTURA = """<?xml version="1.0" ?>
<coverage line-rate="0.8" branch-rate="0.66" lines-valid="5" branches-valid="6" version="1.9">
  <sources>{sources}</sources>
  <packages>
    <package name="pkg">
      <classes>
        <class name="pkg.Mod" filename="{prefix}pkg/mod.py">
          <lines>
            <line number="1" hits="1"/>
            <line number="2" hits="3" branch="true" condition-coverage="50% (2/4)"/>
            <line number="3" hits="0"/>
            <line number="4" hits="1" branch="true" condition-coverage="100% (2/2)"/>
          </lines>
        </class>
        <class name="pkg.Mod$Inner" filename="{prefix}pkg/mod.py">
          <lines>
            <line number="1" hits="0"/>
            <line number="3" hits="2"/>
            <line number="5" hits="0"/>
          </lines>
        </class>
      </classes>
    </package>
  </packages>
</coverage>
"""


@pytest.mark.parametrize(
    ("source", "prefix", "on_disk"),
    [
        pytest.param("<source>{root}/src</source>", "", True, id="absolute-source"),
        pytest.param("<source>src</source>", "", True, id="relative-source"),
        pytest.param("<source>{root}</source>", "src/", True, id="root-source"),
        pytest.param(
            "<source>/ci/elsewhere/checkout</source>\n<source>{root}/src</source>",
            "",
            True,
            id="second-source",
        ),
        pytest.param(
            "<source>{root}/src</source>\n<source>/ci/elsewhere/checkout</source>",
            "",
            False,
            id="file-not-on-disk",
        ),
    ],
)
def test_cobertura_from_another_tool(
    tmp_path: Path, source: str, prefix: str, on_disk: bool
) -> None:
    if on_disk:
        write_files(tmp_path, {"src/pkg/mod.py": "\n".join(f"x{n} = {n}" for n in range(1, 6))})
    report = tmp_path / "coverage.xml"
    report.write_text(
        COBERTURA.format(sources=source.format(root=tmp_path), prefix=prefix), encoding="utf-8"
    )

    measurement = sources.read_measurement([report], tmp_path)

    assert measurement.files == (
        FileCoverage(
            path="src/pkg/mod.py",
            counts=Counts(
                statements=5,
                missing_statements=1,  # line 1 is hit in the first <class>, 3 in the second
                branches=6,
                missing_branches=2,
                partial_branches=2,
            ),
            missing_lines=(5,),
            partial_lines=(2,),
            statements=(1, 2, 3, 4, 5),
            branch_exits=((2, 4), (4, 2)),
            missing_exits=((2, 2),),  # Cobertura names no arcs: exits per line only
        ),
    )
    assert measurement.branch_measured


LCOV = """TN:
SF:{root}/src/lib.py
FN:1,main
FNDA:1,main
DA:1,1
DA:2,0
DA:3,0
BRDA:1,0,0,1
BRDA:1,0,1,-
BRDA:2,0,0,-
BRDA:2,0,1,-
BRDA:3,0,0,-
BRDA:3,0,1,-
LF:3
LH:1
end_of_record
TN:
SF:src/lib.py
DA:1,0
DA:2,5
DA:3,0
BRDA:1,0,0,0
BRDA:1,0,1,4
BRDA:2,0,0,1
BRDA:2,0,1,0
BRDA:3,0,0,-
BRDA:3,0,1,0
end_of_record
SF:src/other.py
DA:1,0
end_of_record
"""


def test_lcov_records_of_one_file_are_merged(tmp_path: Path) -> None:
    report = tmp_path / "lcov.info"
    report.write_text(LCOV.format(root=tmp_path), encoding="utf-8")

    measurement = sources.read_measurement([report], tmp_path)

    assert measurement.files == (
        FileCoverage(
            path="src/lib.py",
            counts=Counts(
                statements=3,
                missing_statements=1,  # line 1 is hit in the first record, 2 in the second
                branches=6,
                missing_branches=3,  # 2.1 ('-' then 0) and both exits of the missed line 3
                partial_branches=1,
            ),
            missing_lines=(3,),
            partial_lines=(2,),
            statements=(1, 2, 3),
            branch_exits=((1, 2), (2, 2), (3, 2)),
            missing_exits=((2, 1), (3, 2)),  # LCOV names no arcs: exits per line only
        ),
        FileCoverage(
            path="src/other.py",
            counts=Counts(statements=1, missing_statements=1),
            missing_lines=(1,),
            statements=(1,),
        ),
    )
    assert measurement.branch_measured
