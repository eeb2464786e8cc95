"""The static-analysis cache: coverage.py's analysis of each source file, kept across runs.

Which lines are statements, which are excluded, how multi-line statements map to their first
line, and which arcs the code can take depend only on the file's text, the Python that
compiles it, the coverage.py version and the exclusion and partial-branch settings. covgate
keeps them per file in `.covgate/analysis/`, one JSON entry per source file, keyed on all of
those: coverage.py's parser gives them once (statements, excluded lines, the multi-line map,
its fixes of arcs that leave `with` blocks, the possible arcs), and the entry keeps them in the
form a report needs (the lines that branch and their exits, the arcs that count as missing
branches unless executed). `judged` makes a file's numbers from an entry and the measured data
in the steps of coverage.py's `analysis_from_file_reporter` and `Analysis`, so a hit gives
exactly the numbers of a fresh analysis (tests/test_cache.py compares the two on every arc).

Entries are written to a temporary file and renamed into place: a concurrent run reads the
old entry or the new one, never half of one. An entry that cannot be read, of another format
or of another key is a miss, and is replaced. Entries of source files no longer present are
pruned.

The entry is a snapshot of coverage.py's `PythonParser` (internal attributes, hence the
upper bound on coverage.py in pyproject.toml); a coverage.py whose parser lacks them is
analysed without the cache.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from coverage import Coverage, CoverageData
    from coverage.results import Analysis
    from coverage.types import TArc, TLineNo

FOLDER = Path(".covgate") / "analysis"
FORMAT = 2
SUFFIX = ".json"
# A temporary file this old is the leftover of a run that died while writing it.
STALE_TEMPORARY_SECONDS = 3600.0
# The parser's attributes an entry snapshots; the cache is used only where all exist, and only
# with the coverage.py releases its equality with coverage.py's own analysis was tested on
# (7.12 to 7.17): another is analysed without the cache (slower, never wrong).
PARSER_FIELDS = ("statements", "excluded", "multiline_map", "_with_jump_fixers", "exit_counts")
VERIFIED_FROM = (7, 12)
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

    if not VERIFIED_FROM <= tuple(version_info[:2]) < VERIFIED_BELOW:
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
            f"analysis cache off: not checked against coverage.py {__version__}; "
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
    base = os.path.abspath(root)
    prefix = base if base.endswith(os.sep) else base + os.sep
    if absolute.startswith(prefix):  # both normalised: what relpath gives, without its work
        return absolute[len(prefix) :].replace(os.sep, "/")
    rel = os.path.relpath(absolute, base)
    if rel == os.pardir or rel.startswith(os.pardir + os.sep):
        return Path(absolute).as_posix()
    return Path(rel).as_posix()


# --- one file ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """coverage.py's static analysis of one source text, in the form a report needs it."""

    statements: frozenset[TLineNo]
    excluded: frozenset[TLineNo]
    first_lines: dict[TLineNo, TLineNo]
    """The first line of each multi-line statement, by each of its other lines; the same,
    negated, for exits (negative line numbers) from them."""
    jump_fixers: dict[Any, Any]
    """coverage.py's corrections of the arcs that leave `with` blocks."""
    branch: Branches | None
    """None when the entry was built for line data only."""


@dataclass(frozen=True)
class Branches:
    """What the possible arcs of a source say about branches, derived once."""

    exits: tuple[tuple[TLineNo, int], ...]
    """(line, possible exits) of each line with more than one (excluded ends not counted)."""
    single: dict[TLineNo, TLineNo]
    """The one destination of each line that has one."""
    candidates: tuple[TArc, ...]
    """The arcs that are missing branches unless executed, sorted: from a line that branches
    and is not `no branch`, to a line that is not excluded."""


@dataclass(frozen=True)
class FileAnalysis:
    """One measured file's numbers, as coverage.py's `Analysis` has them."""

    filename: str
    statements: Collection[TLineNo]
    missing: Collection[TLineNo]
    branch_exits: Mapping[TLineNo, int]
    """Lines with more than one exit, and their exits."""
    missing_arcs: Sequence[TArc]
    """The branches never taken, sorted."""

    @classmethod
    def of(cls, analysis: Analysis) -> FileAnalysis:
        arcs = analysis.missing_branch_arcs() if analysis.has_arcs else {}
        return cls(
            filename=analysis.filename,
            statements=analysis.statements,
            missing=analysis.missing,
            branch_exits={line: n for line, n in analysis.exit_counts.items() if n > 1},
            missing_arcs=tuple((line, end) for line, ends in arcs.items() for end in ends),
        )


def analyse(cov: Coverage, morf: str, cache: AnalysisCache | None) -> FileAnalysis:
    """The numbers of `morf` against the loaded data, as `coverage report` has them; the
    source's static analysis comes from `cache` when it holds a current entry."""
    from coverage.files import abs_file
    from coverage.python import PythonFileReporter, get_python_source

    if cache is None:
        return FileAnalysis.of(cov._analyze(morf))
    data = cov.get_data()
    if cov.config.plugins:
        reporter = cov._get_file_reporter(morf)
        if type(reporter) is not PythonFileReporter:  # a plugin's file: its own analysis
            return FileAnalysis.of(cov._analyze(morf, reporter))
    else:  # what _get_file_reporter gives when no plugin is loaded, without asking the data
        reporter = PythonFileReporter(morf, cov)
    branch = data.has_arcs()
    # Keyed on the file's bytes; the text coverage.py makes of them (decoded, newlines made
    # '\n') is read only to analyse it, or to key a source that is not a plain file.
    raw = _contents(reporter.filename)
    text = None
    if raw is None:
        text = get_python_source(reporter.filename)
        content = b"text\0" + text.encode("utf-8", "surrogatepass")
    else:
        content = raw
    key = hashlib.sha256(cache.settings.encode() + b"\0" + content).hexdigest()
    path = os.path.join(cache.folder, entry_name(relative(morf, cache.root)))
    entry = read_entry(path, key)
    if entry is None or (branch and entry.branch is None):
        if text is None:
            text = get_python_source(reporter.filename)
        entry = build_entry(cov, reporter.filename, text, branch=branch)
        if raw is None or _contents(reporter.filename) == raw:  # not edited meanwhile
            write_entry(path, key, relative(reporter.filename, cache.root), entry)
    # The reporter's name is canonical already, and abs_file (the usual mapper) leaves a
    # canonical name as it is: only another mapper (relative_files) needs the call.
    mapper = cov._file_mapper
    filename = reporter.filename if mapper is abs_file else mapper(reporter.filename)
    if not branch:
        return judged(entry, filename, data.lines(filename), None)
    arcs = data.arcs(filename)
    # The executed lines of branch data are its arcs' (as CoverageData.lines finds them),
    # without a second query.
    lines = data.lines(filename) if arcs is None else {n for arc in arcs for n in arc if n > 0}
    return judged(entry, filename, lines, arcs or [])


def _contents(filename: str) -> bytes | None:
    """The bytes of a plain file; None for anything else (a zip member, a missing file)."""
    try:
        with open(filename, "rb") as stream:
            return stream.read()
    except OSError:
        return None


def judged(
    entry: Entry,
    filename: str,
    lines: Iterable[TLineNo] | None,
    arcs: Iterable[TArc] | None,
) -> FileAnalysis:
    """What `coverage.results.analysis_from_file_reporter` and its `Analysis` make of the
    measured `lines` and, with branch data, `arcs` (None with line data), given the static
    analysis of `entry`."""
    first = entry.first_lines.get
    fix = _jump_fixer(entry.jump_fixers) if entry.jump_fixers else None

    def translated(pairs: Iterable[TArc]) -> set[TArc]:
        if fix is not None:
            pairs = fix(pairs)
        return {(first(start, start), first(end, end)) for start, end in pairs}

    executed = {first(line, line) for line in lines or ()} & entry.statements
    missing = entry.statements - executed
    branch = entry.branch
    if arcs is None or branch is None:
        return FileAnalysis(filename, entry.statements, missing, {}, ())
    single = branch.single
    taken: set[TArc] = set()
    for start, end in translated(arcs):
        if start != end:
            taken.add((start, end))
        elif start in single:
            taken.add((start, single[start]))
    taken = translated(taken)
    return FileAnalysis(
        filename,
        entry.statements,
        missing,
        dict(branch.exits),
        tuple(arc for arc in branch.candidates if arc not in taken),
    )


def _jump_fixer(fixers: dict[Any, Any]) -> Callable[[Iterable[TArc]], set[TArc]]:
    """The `fix_with_jumps` of this coverage.py's parser, given the fixers it made (their form
    and their use changed between coverage.py releases; the parser knows its own)."""
    from coverage.parser import PythonParser

    parser = PythonParser(text="\n")
    parser._with_jump_fixers = fixers
    return parser.fix_with_jumps


def first_lines(multiline: Mapping[TLineNo, TLineNo]) -> dict[TLineNo, TLineNo]:
    """coverage.py's multi-line map, with the exits from multi-line statements too (as its
    parser's `first_line` maps a negative line)."""
    both = dict(multiline)
    both.update({-line: -start for line, start in multiline.items()})
    return both


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
    branches = None
    if branch:
        possible = parser.arcs()  # also sets up the parser's `with` fixers
        no_branch = parser.lines_matching(
            join_regex(config.partial_list + config.partial_always_list)
        )
        exits = parser.exit_counts()
        branching = {line for line, count in exits.items() if count > 1}
        destinations: dict[TLineNo, set[TLineNo]] = collections.defaultdict(set)
        for start, end in possible:
            destinations[start].add(end)
        branches = Branches(
            exits=tuple(sorted((line, exits[line]) for line in branching)),
            single={
                start: next(iter(ends)) for start, ends in destinations.items() if len(ends) == 1
            },
            candidates=tuple(
                sorted(
                    (start, end)
                    for start, end in possible
                    if start in branching and start not in no_branch and end not in parser.excluded
                )
            ),
        )
    return Entry(
        statements=frozenset(parser.statements),
        excluded=frozenset(parser.excluded),
        first_lines=first_lines(parser.multiline_map),
        jump_fixers=dict(parser._with_jump_fixers) if branch else {},
        branch=branches,
    )


# --- entries on disk --------------------------------------------------------------------------


def read_entry(path: str | Path, key: str) -> Entry | None:
    """The entry at `path` when it is whole, of this format and of `key`; else None."""
    try:
        with open(path, "rb") as stream:
            document = json.loads(stream.read())
        if document.get("format") != FORMAT or document.get("key") != key:
            return None
        return _decode(document)
    except (OSError, ValueError, TypeError, AttributeError, KeyError):
        return None


def write_entry(path: str | Path, key: str, source: str, entry: Entry) -> None:
    """Write whole or not at all; a failure only costs the next run an analysis."""
    document = {"format": FORMAT, "key": key, "source": source, **_encode(entry)}
    text = json.dumps(document, separators=(",", ":"))
    try:
        folder, name = os.path.split(path)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=name[: -len(SUFFIX)], suffix=".tmp")
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


def _numbers(value: Any) -> list[int]:
    if type(value) is not list or not set(map(type, value)) <= {int}:
        raise ValueError("not a list of line numbers")
    return value


def _pairs(value: Any) -> Iterator[tuple[int, int]]:
    numbers = _numbers(value)
    if len(numbers) % 2:
        raise ValueError("not a list of pairs of line numbers")
    return zip(numbers[0::2], numbers[1::2], strict=True)


def _tuples(value: Any) -> Any:
    """JSON lists back into the tuples coverage.py keeps (any nesting); None stays None."""
    if isinstance(value, list):
        return tuple(_tuples(item) for item in value)
    if value is None or type(value) is int:
        return value
    raise ValueError(f"unexpected value in an entry: {value!r}")


def _encode(entry: Entry) -> dict[str, Any]:
    branch = entry.branch
    return {
        "statements": sorted(entry.statements),
        "excluded": sorted(entry.excluded),
        "multiline": _flat((line, first) for line, first in entry.first_lines.items() if line > 0),
        "jump_fixers": [[key, value] for key, value in entry.jump_fixers.items()],
        "branch": None
        if branch is None
        else {
            "exits": _flat(branch.exits),
            "single": _flat(branch.single.items()),
            "candidates": _flat(branch.candidates),
        },
    }


def _decode(document: dict[str, Any]) -> Entry:
    branch = document["branch"]
    return Entry(
        statements=frozenset(_numbers(document["statements"])),
        excluded=frozenset(_numbers(document["excluded"])),
        first_lines=first_lines(dict(_pairs(document["multiline"]))),
        jump_fixers={_tuples(k): _tuples(v) for k, v in document["jump_fixers"]},
        branch=None
        if branch is None
        else Branches(
            exits=tuple(_pairs(branch["exits"])),
            single=dict(_pairs(branch["single"])),
            candidates=tuple(_pairs(branch["candidates"])),
        ),
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
