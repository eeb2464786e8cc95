"""Reads coverage data in every format covgate accepts and turns it into one `Measurement`.

- coverage.py data files (`.coverage`, parallel `.coverage.*` combined): see `analysis`.
- coverage.py JSON reports (format 2 and 3).
- Cobertura XML, from coverage.py or any other tool: counts recomputed from the `<line>`
  elements, classes of the same file merged, file names resolved against `<source>`.
- LCOV tracefiles: repeated records of a file merged, counts recomputed from DA and BRDA.

Reports are merged line by line when several are given, so the same file measured twice is
counted once.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.parsers import expat

from covgate import analysis
from covgate.analysis import ProgressCallback
from covgate.errors import DataError, NothingToJudge
from covgate.model import FileCoverage, Measurement
from covgate.paths import Resolver, is_outside, show

COVERAGE = "coverage.py data"
JSON = "coverage.py JSON"
XML = "Cobertura XML"
LCOV = "LCOV"
MIXED = "cannot mix coverage.py data files ({}) with JSON, XML or LCOV reports ({}): pass one kind"


def sniff(path: Path) -> str:
    """The format of a data file, judged by its content; DataError when it is none of ours."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read: {exc.strerror}") from None
    if stat.S_ISDIR(mode):
        raise DataError(f"{path}: is a folder, expected a coverage data file")
    if not stat.S_ISREG(mode):
        raise DataError(f"{path}: is not a regular file (a pipe or a device?), expected a "
                        "coverage data file")  # fmt: skip
    try:
        with path.open("rb") as stream:
            head = stream.read(4096)
    except OSError as exc:
        raise DataError(f"{path}: cannot be read: {exc.strerror}") from None
    if head.startswith(analysis.SQLITE_HEADER):
        return COVERAGE
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"{"):
        return JSON
    if text.startswith(b"<"):
        return XML
    if re.search(rb"^(TN|SF):", text, re.MULTILINE):
        return LCOV
    if not head:
        raise DataError(f"{path}: is empty, expected coverage data")
    raise DataError(
        f"{path}: unknown format, expected a .coverage data file, coverage.json, "
        "Cobertura XML or LCOV"
    )


def default_data(root: Path, data_file: Path | None = None) -> list[Path]:
    """The project's own data file and its parallel siblings (NothingToJudge when none)."""
    data_file = data_file or analysis.coverage_settings(root).data_file
    if data_file.exists() and not data_file.is_file():
        sniff(data_file)  # a folder or a pipe where the data file belongs: say so
    files = [data_file] if data_file.is_file() else []
    files += analysis.parallel_siblings(data_file)
    if not files:
        shown = show(data_file, root)
        raise NothingToJudge(
            f"no coverage data: {shown} does not exist (run the tests under coverage first, "
            "or use 'covgate run')"
        )
    return files


def read_measurement(
    paths: Sequence[Path],
    root: Path,
    *,
    progress: ProgressCallback | None = None,
    resolver: Resolver | None = None,
    cache: bool = True,
) -> Measurement:
    """Read and analyse `paths`, every file once (coverage.py data through the project's
    analysis cache unless `cache` is false). `resolver` maps the file names of reports (give
    the one of the project's coverage.py settings, for its `[paths]`)."""
    kinds = {path: sniff(path) for path in paths}
    coverage_files = [p for p, kind in kinds.items() if kind == COVERAGE]
    if coverage_files and len(coverage_files) != len(paths):
        raise DataError(_mixed(kinds))
    if coverage_files:
        described = _describe(coverage_files, root)
        with analysis.combined(coverage_files, root) as data_file:
            measurement = analysis.analyse(
                data_file, root, sources=(described,), progress=progress, cache=cache
            )
    else:
        measurement = _read_reports(kinds, resolver or Resolver(root))
    if not measurement.files:
        raise NothingToJudge(f"{', '.join(measurement.sources)}: no measured file")
    return measurement


def file_paths(paths: Sequence[Path], root: Path, resolver: Resolver | None = None) -> list[str]:
    """The measured files' paths, without analysing them (for `covgate classes`)."""
    kinds = {path: sniff(path) for path in paths}
    if all(kind == COVERAGE for kind in kinds.values()):
        with analysis.combined(list(kinds), root) as data_file:
            return analysis.reported_paths(data_file, root)
    if any(kind == COVERAGE for kind in kinds.values()):
        raise DataError(_mixed(kinds))
    return [f.path for f in _read_reports(kinds, resolver or Resolver(root)).files]


def _mixed(kinds: dict[Path, str]) -> str:
    data = ", ".join(str(p) for p, kind in kinds.items() if kind == COVERAGE)
    reports = ", ".join(str(p) for p, kind in kinds.items() if kind != COVERAGE)
    return MIXED.format(data, reports)


def _describe(files: Sequence[Path], root: Path) -> str:
    if len(files) == 1:
        return show(files[0], root)
    return f"{show(files[0], root)} + {len(files) - 1} more combined"


# --- reports: merged line by line -------------------------------------------------------------


@dataclass
class _Lines:
    """What reports say of one file: hits per statement line, taken per branch exit.

    Within one format a branch exit has an identity (JSON: the target line, LCOV: block and
    branch, Cobertura: its index), so the same exit measured twice counts once. Formats do
    not share identities: where reports of different formats describe the same line, it
    keeps the larger count of exits and of taken exits (never claiming more than either).
    """

    kind: str = ""
    lines: dict[int, bool] = field(default_factory=dict)
    branches: dict[tuple[int, str], bool] = field(default_factory=dict)

    def line(self, number: int, hit: bool) -> None:
        self.lines[number] = self.lines.get(number, False) or hit

    def branch(self, line: int, key: str, taken: bool) -> None:
        self.branches[(line, key)] = self.branches.get((line, key), False) or taken

    def merge(self, other: _Lines) -> None:
        for number, hit in other.lines.items():
            self.line(number, hit)
        if other.kind == self.kind:
            for (line, key), taken in other.branches.items():
                self.branch(line, key, taken)
            return
        # Per line, the side that claims at least as many exits and taken exits keeps its
        # own exits (and so its arcs); otherwise the larger counts, as anonymous exits.
        mine, theirs = self._by_line(), other._by_line()
        merged: dict[tuple[int, str], bool] = {}
        for line in sorted(mine.keys() | theirs.keys()):
            ours, other_exits = mine.get(line, {}), theirs.get(line, {})
            exits = max(len(ours), len(other_exits))
            done = max(sum(ours.values()), sum(other_exits.values()))
            for side in (ours, other_exits):
                if len(side) == exits and sum(side.values()) == done:
                    merged.update({(line, key): taken for key, taken in side.items()})
                    break
            else:
                merged.update({(line, f"#{i}"): i < done for i in range(exits)})
        self.branches = merged
        self.kind = "mixed"

    def _by_line(self) -> dict[int, dict[str, bool]]:
        """Per branch line: its exits and whether each was taken."""
        found: dict[int, dict[str, bool]] = {}
        for (line, key), taken in self.branches.items():
            found.setdefault(line, {})[key] = taken
        return found

    def to_file(self, path: str) -> FileCoverage:
        exits: dict[int, int] = {}
        not_taken: dict[int, int] = {}
        arcs: list[tuple[int, int]] = []
        for (line, key), taken in self.branches.items():
            exits[line] = exits.get(line, 0) + 1
            if not taken:
                not_taken[line] = not_taken.get(line, 0) + 1
                if key.startswith(_ARC):
                    arcs.append((line, int(key[len(_ARC) :])))
        return FileCoverage.measured(
            path,
            statements=self.lines,
            missing=[n for n, hit in self.lines.items() if not hit],
            branch_exits=exits,
            missing_exits=not_taken,
            missing_arcs=arcs,
        )


_ARC = "->"
"""The key of a branch exit that names its destination line (coverage.py JSON)."""


class _Merged:
    """The files of one report (`kind` names its format)."""

    def __init__(self, resolver: Resolver, kind: str) -> None:
        self.resolver = resolver
        self.kind = kind
        self.files: dict[str, _Lines] = {}
        self.branch_measured = False

    def file(self, path: str) -> _Lines:
        """The lines of the file at project path `path`."""
        return self.files.setdefault(path, _Lines(self.kind))


def _read_reports(kinds: dict[Path, str], resolver: Resolver) -> Measurement:
    readers = {JSON: _read_json, XML: _read_xml, LCOV: _read_lcov}
    files: dict[str, _Lines] = {}
    branch_measured = False
    for path, kind in kinds.items():
        report = _Merged(resolver, kind)
        readers[kind](path, report)
        _check_extent(path, report)
        branch_measured = branch_measured or report.branch_measured
        for name, lines in report.files.items():
            if name in files:
                files[name].merge(lines)
            else:
                files[name] = lines
    sources = tuple(f"{show(p, resolver.root)} ({kind})" for p, kind in kinds.items())
    return Measurement(
        files=tuple(lines.to_file(name) for name, lines in sorted(files.items())),
        branch_measured=branch_measured,
        sources=sources,
    )


def _check_extent(path: Path, report: _Merged) -> None:
    """Refuse a report that names lines past the end of a file that exists (data of another
    version of the file, or a damaged report)."""
    for name, lines in report.files.items():
        last = max((*lines.lines, *(line for line, _ in lines.branches)), default=0)
        source = report.resolver.root / name
        if last == 0 or is_outside(name) or not source.is_file():
            continue
        try:
            data = source.read_bytes()
        except OSError:
            continue
        length = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
        if last > length:
            raise DataError(
                f"{path}: {name}: line {last} is past the end of the file ({length} lines): "
                "a report of another version of it?"
            )


def _number(text: str) -> int:
    """A whole number of a report (ValueError when it is none, or absurdly long)."""
    digits = text.strip().lstrip("+-")
    if len(digits) > MAX_DIGITS:
        raise ValueError(f"a number of {len(digits)} digits")
    return int(text)


def _line_number(value: object) -> int:
    """A line number of a report: a whole number from 1 on."""
    number = _number(value) if isinstance(value, str) else value
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise ValueError(f"line {_clip(repr(number))} is not a line number (1 or more)")
    return number


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else f"{text[:limit]}…"


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot be read: {exc}") from None


def _read_json(path: Path, merged: _Merged) -> None:
    try:
        document = json.loads(_read_text(path), parse_int=_number)
    except RecursionError:
        raise DataError(f"{path}: not a coverage.py JSON report (nested too deeply)") from None
    except ValueError as exc:  # JSONDecodeError included
        raise DataError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(document, dict) or not isinstance(document.get("files"), dict):
        raise DataError(f"{path}: not a coverage.py JSON report (no 'files' object)")
    meta = document.get("meta", {})
    version = meta.get("format") if isinstance(meta, dict) else None
    if version not in (2, 3):
        raise DataError(f"{path}: unsupported coverage.py JSON format {version!r}, expected 3")
    if meta.get("branch_coverage"):
        merged.branch_measured = True
    for name, entry in document["files"].items():
        try:
            _json_file(merged.file(merged.resolver.relative(name)), entry)
        except (TypeError, ValueError, KeyError, OverflowError) as exc:
            raise DataError(f"{path}: file {_clip(repr(name))}: malformed entry ({exc})") from None


def _json_file(lines: _Lines, entry: dict[str, Any]) -> None:
    for number in entry["executed_lines"]:
        lines.line(_line_number(number), True)
    for number in entry["missing_lines"]:
        lines.line(_line_number(number), False)
    for source, target in entry.get("executed_branches", ()):
        lines.branch(_line_number(source), f"{_ARC}{_target(target)}", True)
    for source, target in entry.get("missing_branches", ()):
        lines.branch(_line_number(source), f"{_ARC}{_target(target)}", False)


def _target(value: object) -> int:
    """Where a branch goes: a line, or a negative number for an exit from a code object."""
    if isinstance(value, bool) or not isinstance(value, int) or value == 0:
        raise ValueError(f"branch destination {_clip(repr(value))} is not a line number")
    return value


MAX_EXITS = 10_000  # more exits than any line of code has: the report is damaged
MAX_DIGITS = 18  # longer numbers are no line number or count of any real report
MAX_XML_BYTES = 1 << 30
"""The largest XML report covgate reads (1 GiB: a Cobertura report of ~15 million lines)."""
MAX_XML_DEPTH = 100
"""How deep XML elements may nest (a Cobertura report nests about 10 deep)."""
_CONDITION = re.compile(r"\((\d+)/(\d+)\)")


class _EntityDeclared(Exception):
    pass


class _TooDeep(Exception):
    pass


class _CoberturaReader:
    """Streams a Cobertura report through expat, refusing entity declarations (so neither a
    billion-laughs bomb nor an external entity is ever expanded)."""

    def __init__(self, path: Path, merged: _Merged) -> None:
        self.path = path
        self.merged = merged
        self.bases: list[str] = []
        self.text: list[str] | None = None
        self.current: _Lines | None = None
        self.first = True
        self.depth = 0

    def read(self) -> None:
        parser = expat.ParserCreate()
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end
        parser.CharacterDataHandler = self.data
        parser.EntityDeclHandler = self.refuse
        parser.UnparsedEntityDeclHandler = self.refuse
        parser.ExternalEntityRefHandler = self.refuse_external
        try:
            with self.path.open("rb") as stream:
                size = os.fstat(stream.fileno()).st_size
                if size > MAX_XML_BYTES:
                    raise DataError(
                        f"{self.path}: {size:,} bytes, larger than the {MAX_XML_BYTES:,} bytes "
                        "covgate reads from an XML report"
                    )
                parser.ParseFile(stream)
        except _TooDeep:
            raise DataError(
                f"{self.path}: XML nested deeper than {MAX_XML_DEPTH} elements"
            ) from None
        except _EntityDeclared as exc:
            raise DataError(
                f"{self.path}: declares the XML entity {exc.args[0]!r}; entities are refused"
            ) from None
        except expat.ExpatError as exc:
            raise DataError(f"{self.path}: not well-formed XML ({exc})") from None
        except OSError as exc:
            raise DataError(f"{self.path}: cannot be read: {exc}") from None

    def refuse(self, name: str, *_: object) -> None:
        raise _EntityDeclared(name)

    def refuse_external(self, context: str, base: str | None, system: str | None,
                        public: str | None) -> int:  # fmt: skip
        raise _EntityDeclared(system or public or context)

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        self.depth += 1
        if self.depth > MAX_XML_DEPTH:
            raise _TooDeep
        if self.first:
            self.first = False
            if tag != "coverage":
                raise DataError(f"{self.path}: not a Cobertura report (root element <{tag}>)")
            if _int_attr(tag, attrs, "branches-valid", self.path) > 0:
                self.merged.branch_measured = True
        elif tag == "source":
            self.text = []
        elif tag == "class":
            name = attrs.get("filename")
            if not name:
                raise DataError(f"{self.path}: a <class> element has no filename")
            self.current = self.merged.file(self.merged.resolver.locate(name, self.bases))
        elif tag == "line" and self.current is not None:
            _xml_line(self.current, attrs, self.path)
            if attrs.get("branch") == "true":
                self.merged.branch_measured = True

    def end(self, tag: str) -> None:
        self.depth -= 1
        if tag == "source" and self.text is not None:
            text = "".join(self.text).strip()
            if text:
                self.bases.append(text)
            self.text = None
        elif tag == "class":
            self.current = None

    def data(self, text: str) -> None:
        if self.text is not None:
            self.text.append(text)


def _read_xml(path: Path, merged: _Merged) -> None:
    _CoberturaReader(path, merged).read()


def _xml_line(lines: _Lines, attrs: dict[str, str], path: Path) -> None:
    number = _int_attr("line", attrs, "number", path)
    if number < 1:
        raise DataError(f"{path}: <line> number: line {number} is not a line number (1 or more)")
    hits = _int_attr("line", attrs, "hits", path)
    if hits < 0:
        raise DataError(f"{path}: line {number}: hits={attrs['hits']!r} is negative")
    lines.line(number, hits > 0)
    if attrs.get("branch") != "true":
        return
    text = attrs.get("condition-coverage", "")
    condition = _CONDITION.search(text)
    if not condition:
        raise DataError(f"{path}: line {number}: branch without condition-coverage '(k/n)'")
    digits = max(len(condition.group(1)), len(condition.group(2)))
    taken, total = (int(g) for g in condition.groups()) if digits <= MAX_DIGITS else (1, 0)
    if not 0 <= taken <= total <= MAX_EXITS:
        raise DataError(f"{path}: line {number}: condition-coverage {_clip(text)!r} is impossible")
    for index in range(total):
        lines.branch(number, str(index), index < taken)


def _int_attr(tag: str, attrs: dict[str, str], name: str, path: Path) -> int:
    value = attrs.get(name, "0")
    try:
        return int(float(value)) if len(value) <= MAX_DIGITS else _number(value)
    except (ValueError, OverflowError):
        raise DataError(f"{path}: <{tag}> {name}={_clip(value)!r} is not a number") from None


def _read_lcov(path: Path, merged: _Merged) -> None:
    current: _Lines | None = None
    for number, raw in enumerate(_read_text(path).splitlines(), start=1):
        record, _, value = raw.strip().partition(":")
        try:
            if record == "SF":
                if not value.strip():
                    raise ValueError("SF without a file name")
                current = merged.file(merged.resolver.relative(value))
            elif record == "end_of_record":
                current = None
            elif record in ("DA", "BRDA"):
                if current is None:
                    raise ValueError(f"{record} outside an SF record")
                _lcov_record(current, record, value.split(","))
                if record == "BRDA":
                    merged.branch_measured = True
        except (ValueError, IndexError) as exc:
            raise DataError(
                f"{path}:{number}: malformed LCOV line {_clip(raw.strip())!r} ({exc})"
            ) from None


def _lcov_record(lines: _Lines, record: str, fields: list[str]) -> None:
    if record == "DA":
        lines.line(_line_number(fields[0]), _count(fields[1]) > 0)
    else:
        line, block, branch, taken = fields[:4]
        lines.branch(_line_number(line), f"{block}.{branch}", taken != "-" and _count(taken) > 0)


def _count(text: str) -> int:
    count = _number(text)
    if count < 0:
        raise ValueError(f"count {count} is negative")
    return count
