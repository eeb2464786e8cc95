"""The static-analysis cache: coverage.py's analysis of each source file, kept across runs.

Which lines are statements, which are excluded, how multi-line statements map to their first
line, and which arcs the code can take depend only on the file's text, the Python that
compiles it, the coverage.py version and the exclusion and partial-branch settings. covgate
keeps them per file in `.covgate/analysis/`, one JSON entry per source file, keyed on all of
those, and builds each file's numbers from the measured data with coverage.py's own code
(`coverage.results.analysis_from_file_reporter`, the function `coverage report` uses), so a
hit gives exactly the numbers of a fresh analysis.

Entries are written to a temporary file and renamed into place: a concurrent run reads the
old entry or the new one, never half of one. An entry that cannot be read, of another format
or of another key is a miss, and is replaced. Entries of source files no longer present are
pruned.

The entry is a snapshot of coverage.py's `PythonParser` (internal attributes, hence the
upper bound on coverage.py in pyproject.toml); a coverage.py whose parser lacks them is
analysed without the cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coverage.plugin import FileReporter

if TYPE_CHECKING:
    from coverage import Coverage, CoverageData
    from coverage.parser import PythonParser
    from coverage.results import Analysis
    from coverage.types import TArc, TLineNo

FOLDER = Path(".covgate") / "analysis"
FORMAT = 1
SUFFIX = ".json"
# A temporary file this old is the leftover of a run that died while writing it.
STALE_TEMPORARY_SECONDS = 3600.0
# The parser's attributes an entry snapshots; the cache is used only where all exist, and only
# with the coverage.py releases its equality with `coverage report` was tested on: a newer one
# is analysed without the cache (slower, never wrong) until covgate is checked against it.
PARSER_FIELDS = ("statements", "excluded", "multiline_map", "_all_arcs", "_with_jump_fixers")
VERIFIED_BELOW = (7, 18)


@dataclass(frozen=True)
class AnalysisCache:
    """Where the entries of one project live, and the settings every entry is keyed on."""

    folder: Path
    root: Path
    settings: str
    """A digest of everything besides the file's text that the analysis depends on."""


@dataclass(frozen=True)
class Opened:
    cache: AnalysisCache | None
    note: str | None = None
    """Why there is no cache, when the user did not turn it off."""


def supported() -> bool:
    """Whether the cache may be used with this coverage.py."""
    from coverage import version_info
    from coverage.parser import PythonParser

    if tuple(version_info[:2]) >= VERIFIED_BELOW:
        return False
    parser = PythonParser(text="\n")
    return all(hasattr(parser, name) for name in PARSER_FIELDS)


def settings_digest(cov: Coverage) -> str:
    """Everything besides a file's text that coverage.py's static analysis reads."""
    import coverage

    config = cov.config
    facts = {
        "format": FORMAT,
        "coverage": coverage.__version__,
        "python": sys.version,
        "hexversion": sys.hexversion,
        "implementation": sys.implementation.name,
        "cache_tag": sys.implementation.cache_tag,
        "exclude": list(config.exclude_list),
        "partial": list(config.partial_list),
        "partial_always": list(config.partial_always_list),
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


def open_cache(root: Path, cov: Coverage) -> Opened:
    """The project's cache, created when missing; None and a note when it cannot be used."""
    from coverage import __version__

    folder = root / FOLDER
    if not supported():
        return Opened(
            None,
            f"analysis cache off: not yet checked against coverage.py {__version__}; "
            "every file is analysed afresh",
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        ignore = folder.parent / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# created by covgate\n*\n", encoding="utf-8")
        # A read-only folder can exist: only a real write says whether entries can be kept.
        handle, probe = tempfile.mkstemp(dir=folder, suffix=".tmp")
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return Opened(
            None,
            f"analysis cache off: cannot write {FOLDER.as_posix()}/ ({reason}); "
            "every file is analysed afresh",
        )
    return Opened(AnalysisCache(folder=folder, root=root, settings=settings_digest(cov)))


def entry_name(path: str) -> str:
    """The entry file of a measured file (its path relative to the project root, or absolute)."""
    return hashlib.sha256(path.encode("utf-8", "surrogateescape")).hexdigest()[:32] + SUFFIX


def relative(filename: str, root: Path | str) -> str:
    """`filename` relative to `root` with '/', or absolute when outside it: entries survive a
    project that moves (a fresh CI checkout elsewhere)."""
    absolute = os.path.abspath(os.path.join(root, filename))
    rel = os.path.relpath(absolute, root)
    if rel == os.pardir or rel.startswith(os.pardir + os.sep):
        return Path(absolute).as_posix()
    return Path(rel).as_posix()


# --- one file ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """coverage.py's static analysis of one source text."""

    statements: set[TLineNo]
    excluded: set[TLineNo]
    multiline: dict[TLineNo, TLineNo]
    arcs: set[TArc] | None
    """None when the entry was built for line data only."""
    jump_fixers: dict[Any, Any]
    no_branch: set[TLineNo]


def analyse(cov: Coverage, morf: str, cache: AnalysisCache | None) -> Analysis:
    """coverage.py's `Analysis` of `morf` against the loaded data, as `coverage report` makes
    it; the source's static analysis comes from `cache` when it holds a current entry."""
    from coverage.python import PythonFileReporter, get_python_source
    from coverage.results import analysis_from_file_reporter

    if cache is None:
        return cov._analyze(morf)
    data = cov.get_data()
    if cov.config.plugins:
        reporter = cov._get_file_reporter(morf)
        if type(reporter) is not PythonFileReporter:  # a plugin's file: its own analysis
            return cov._analyze(morf, reporter)
    else:  # what _get_file_reporter gives when no plugin is loaded, without asking the data
        reporter = PythonFileReporter(morf, cov)
    measured = _Measured(data)
    text = get_python_source(reporter.filename)
    key = hashlib.sha256(
        cache.settings.encode() + b"\0" + text.encode("utf-8", "surrogatepass")
    ).hexdigest()
    path = cache.folder / entry_name(relative(morf, cache.root))
    entry = read_entry(path, key)
    if entry is None or (measured.branch and entry.arcs is None):
        entry = build_entry(cov, reporter.filename, text, branch=measured.branch)
        write_entry(path, key, relative(reporter.filename, cache.root), entry)
    filename = cov._file_mapper(reporter.filename)
    return analysis_from_file_reporter(
        measured,  # type: ignore[arg-type]
        cov.config.precision,
        CachedReporter(reporter.filename, entry),
        filename,
    )


class _Measured:
    """The three questions `analysis_from_file_reporter` asks of the data, answered by the
    data; with arcs, the executed lines come from the same query as the arcs (as
    CoverageData.lines derives them), not from a second one."""

    def __init__(self, data: CoverageData) -> None:
        self.data = data
        self.branch = data.has_arcs()
        self._arcs: tuple[str, list[TArc] | None] | None = None

    def has_arcs(self) -> bool:
        return self.branch

    def arcs(self, filename: str) -> list[TArc] | None:
        if self._arcs is None or self._arcs[0] != filename:
            self._arcs = (filename, self.data.arcs(filename))
        return self._arcs[1]

    def lines(self, filename: str) -> list[TLineNo] | None:
        if not self.branch:
            return self.data.lines(filename)
        arcs = self.arcs(filename)
        if arcs is None:
            return self.data.lines(filename)
        return list({line for arc in arcs for line in arc if line > 0})


@contextlib.contextmanager
def connected(data: CoverageData) -> Iterator[None]:
    """Keep the data file's connection open around many queries (coverage.py otherwise opens
    one per query)."""
    connect = getattr(data, "_connect", None)
    if connect is None:
        yield
        return
    with connect():
        yield


def build_entry(cov: Coverage, filename: str, text: str, *, branch: bool) -> Entry:
    """Parse `text` as coverage.py's PythonFileReporter does (NotPython when it is not)."""
    from coverage.misc import join_regex
    from coverage.parser import PythonParser

    config = cov.config
    parser = PythonParser(text=text, filename=filename, exclude=join_regex(config.exclude_list))
    parser.parse_source()
    no_branch: set[TLineNo] = set()
    arcs: set[TArc] | None = None
    if branch:
        arcs = parser.arcs()
        no_branch = parser.lines_matching(
            join_regex(config.partial_list + config.partial_always_list)
        )
    return Entry(
        statements=parser.statements,
        excluded=parser.excluded,
        multiline=dict(parser.multiline_map),
        arcs=arcs,
        jump_fixers=dict(parser._with_jump_fixers) if branch else {},
        no_branch=no_branch,
    )


class CachedReporter(FileReporter):
    """What `analysis_from_file_reporter` asks of a Python file, answered from an entry with
    coverage.py's own parser code (line and arc translation, exit counts)."""

    def __init__(self, filename: str, entry: Entry) -> None:
        super().__init__(filename)
        self.entry = entry
        self.parser = _parser(filename, entry)

    def lines(self) -> set[TLineNo]:
        return self.entry.statements

    def excluded_lines(self) -> set[TLineNo]:
        return self.entry.excluded

    def translate_lines(self, lines: Iterable[TLineNo]) -> set[TLineNo]:
        return self.parser.translate_lines(lines)

    def translate_arcs(self, arcs: Iterable[TArc]) -> set[TArc]:
        return self.parser.translate_arcs(arcs)

    def arcs(self) -> set[TArc]:
        return self.parser.arcs()

    def exit_counts(self) -> dict[TLineNo, int]:
        return self.parser.exit_counts()

    def no_branch_lines(self) -> set[TLineNo]:
        return self.entry.no_branch


def _parser(filename: str, entry: Entry) -> PythonParser:
    """A parser in the state parsing the text left it in, without parsing anything."""
    from coverage.parser import PythonParser

    parser = PythonParser(text="\n", filename=filename)
    parser.statements = entry.statements
    parser.excluded = entry.excluded
    parser.multiline_map = entry.multiline
    if entry.arcs is not None:
        parser._all_arcs = entry.arcs
        parser._with_jump_fixers = entry.jump_fixers
    return parser


# --- entries on disk --------------------------------------------------------------------------


def read_entry(path: Path, key: str) -> Entry | None:
    """The entry at `path` when it is whole, of this format and of `key`; else None."""
    try:
        document = json.loads(path.read_bytes())
        if document.get("format") != FORMAT or document.get("key") != key:
            return None
        return _decode(document)
    except (OSError, ValueError, TypeError, AttributeError, KeyError):
        return None


def write_entry(path: Path, key: str, source: str, entry: Entry) -> None:
    """Write whole or not at all; a failure only costs the next run an analysis."""
    document = {"format": FORMAT, "key": key, "source": source, **_encode(entry)}
    text = json.dumps(document, separators=(",", ":"))
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)


def _flat(pairs: Iterable[tuple[int, int]]) -> list[int]:
    return [number for pair in sorted(pairs) for number in pair]


def _pairs(numbers: Sequence[int]) -> Iterator[tuple[int, int]]:
    if len(numbers) % 2 or not all(type(n) is int for n in numbers):
        raise ValueError("not a list of pairs of line numbers")
    return zip(numbers[0::2], numbers[1::2], strict=True)


def _lines(numbers: Sequence[int]) -> set[int]:
    if not all(type(n) is int for n in numbers):
        raise ValueError("not a list of line numbers")
    return set(numbers)


def _tuples(value: Any) -> Any:
    """JSON lists back into the tuples coverage.py keeps (any nesting); None stays None."""
    if isinstance(value, list):
        return tuple(_tuples(item) for item in value)
    if value is None or type(value) is int:
        return value
    raise ValueError(f"unexpected value in an entry: {value!r}")


def _encode(entry: Entry) -> dict[str, Any]:
    return {
        "statements": sorted(entry.statements),
        "excluded": sorted(entry.excluded),
        "multiline": _flat(entry.multiline.items()),
        "arcs": None if entry.arcs is None else _flat(entry.arcs),
        "jump_fixers": [[key, value] for key, value in entry.jump_fixers.items()],
        "no_branch": sorted(entry.no_branch),
    }


def _decode(document: dict[str, Any]) -> Entry:
    arcs = document["arcs"]
    return Entry(
        statements=_lines(document["statements"]),
        excluded=_lines(document["excluded"]),
        multiline=dict(_pairs(document["multiline"])),
        arcs=None if arcs is None else set(_pairs(arcs)),
        jump_fixers={_tuples(k): _tuples(v) for k, v in document["jump_fixers"]},
        no_branch=_lines(document["no_branch"]),
    )


# --- upkeep -----------------------------------------------------------------------------------


def prune(cache: AnalysisCache, keep: Iterable[str]) -> int:
    """Remove the entries of source files no longer present (and unreadable entries, and
    temporary files of runs that died); `keep` names the entries this run used. Returns how
    many files were removed."""
    kept = set(keep)
    removed = 0
    try:
        names = os.listdir(cache.folder)
    except OSError:
        return 0
    now = time.time()
    for name in names:
        if name in kept:
            continue
        path = cache.folder / name
        if name.endswith(SUFFIX):
            gone = _source_gone(path, cache.root)
        elif name.endswith(".tmp"):
            try:
                gone = now - path.stat().st_mtime > STALE_TEMPORARY_SECONDS
            except OSError:
                gone = False
        else:
            gone = False
        if gone:
            with contextlib.suppress(OSError):
                path.unlink()
                removed += 1
    return removed


def _source_gone(entry: Path, root: Path) -> bool:
    try:
        document = json.loads(entry.read_bytes())
        source = document["source"]
        if not isinstance(source, str):
            return True
    except (OSError, ValueError, TypeError, KeyError):
        return True
    return not (root / source).exists()
