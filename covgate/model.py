"""The values passed between covgate's stages: all frozen, all plain data.

Counts add up; percentages are derived from them, never averaged. Every decision uses
`fractions.Fraction`, so 94.97 % never passes a 95 % threshold.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TypeVar


@dataclass(frozen=True)
class Counts:
    """What coverage.py measured for one file, or the sum for a group of files."""

    statements: int = 0
    missing_statements: int = 0
    branches: int = 0
    missing_branches: int = 0
    partial_branches: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            statements=self.statements + other.statements,
            missing_statements=self.missing_statements + other.missing_statements,
            branches=self.branches + other.branches,
            missing_branches=self.missing_branches + other.missing_branches,
            partial_branches=self.partial_branches + other.partial_branches,
        )

    @classmethod
    def sum(cls, counts: Iterable[Counts]) -> Counts:
        total = cls()
        for item in counts:
            total = total + item
        return total

    @property
    def covered(self) -> int:
        return (self.statements - self.missing_statements) + (self.branches - self.missing_branches)

    @property
    def total(self) -> int:
        return self.statements + self.branches

    @property
    def missing(self) -> int:
        """Uncovered statements plus uncovered branches."""
        return self.missing_statements + self.missing_branches

    @property
    def ratio(self) -> Fraction:
        """The combined metric coverage.py reports, exactly; 1 when there is nothing to cover."""
        return _ratio(self.covered, self.total)

    @property
    def line_ratio(self) -> Fraction:
        return _ratio(self.statements - self.missing_statements, self.statements)

    @property
    def branch_ratio(self) -> Fraction:
        return _ratio(self.branches - self.missing_branches, self.branches)

    @property
    def percent(self) -> float:
        """The unrounded percentage, for machines (decisions use `ratio`)."""
        return 100.0 * self.covered / self.total if self.total else 100.0


_Missing = TypeVar("_Missing", "FileCoverage", "FilePatch")


def _most_missing(files: Iterable[_Missing], limit: int) -> tuple[_Missing, ...]:
    """The files with any uncovered statement or branch, most first, then by path."""
    with_missing = [f for f in files if f.counts.missing]
    with_missing.sort(key=lambda f: (-f.counts.missing, f.path))
    return tuple(with_missing[:limit])


def _ratio(covered: int, total: int) -> Fraction:
    return Fraction(covered, total) if total else Fraction(1)


@dataclass(frozen=True)
class FileCoverage:
    """One measured file. `path` is relative to the project root, with `/`.

    The readers build it with `measured()`, which keeps the line sets and derives the counts
    from them; a value built with counts alone (in tests) has empty sets.
    """

    path: str
    counts: Counts
    missing_lines: tuple[int, ...] = ()
    partial_lines: tuple[int, ...] = ()
    """Executed lines with at least one branch exit never taken."""
    statements: tuple[int, ...] = ()
    """Every statement, by the line coverage.py reports it on, sorted."""
    branch_exits: tuple[tuple[int, int], ...] = ()
    """(line, exits) for every line that branches, sorted by line."""
    missing_exits: tuple[tuple[int, int], ...] = ()
    """(line, exits never taken) for every branch line with such an exit, sorted by line."""
    missing_arcs: tuple[tuple[int, int], ...] = ()
    """(line, destination) of each branch never taken, sorted, where the data names them
    (coverage.py data and JSON); Cobertura and LCOV carry only `missing_exits`."""

    @classmethod
    def measured(
        cls,
        path: str,
        *,
        statements: Iterable[int],
        missing: Iterable[int],
        branch_exits: Mapping[int, int] | None = None,
        missing_exits: Mapping[int, int] | None = None,
        missing_arcs: Iterable[tuple[int, int]] = (),
    ) -> FileCoverage:
        """A file from its line sets, counted as coverage.py counts: a branch is one exit of
        a line that branches; a partial branch is a missing exit of an executed line.

        `missing_exits` defaults to the exits of `missing_arcs`, grouped by line.
        """
        arcs = tuple(sorted(set(missing_arcs)))
        if missing_exits is None:
            grouped: dict[int, int] = {}
            for line, _ in arcs:
                grouped[line] = grouped.get(line, 0) + 1
            missing_exits = grouped
        lines = tuple(sorted(set(statements)))
        missed = tuple(sorted(set(missing)))
        missed_set = set(missed)
        exits = tuple(sorted((line, n) for line, n in (branch_exits or {}).items() if n))
        not_taken = tuple(sorted((line, n) for line, n in missing_exits.items() if n))
        partial = tuple(line for line, _ in not_taken if line not in missed_set)
        return cls(
            path=path,
            counts=Counts(
                statements=len(lines),
                missing_statements=len(missed),
                branches=sum(n for _, n in exits),
                missing_branches=sum(n for _, n in not_taken),
                partial_branches=sum(n for line, n in not_taken if line not in missed_set),
            ),
            missing_lines=missed,
            partial_lines=partial,
            statements=lines,
            branch_exits=exits,
            missing_exits=not_taken,
            missing_arcs=arcs,
        )


@dataclass(frozen=True)
class Measurement:
    """Everything read from one set of coverage data, analysed once."""

    files: tuple[FileCoverage, ...]
    branch_measured: bool
    sources: tuple[str, ...] = ()
    """Descriptions of the inputs, for the report (e.g. '.coverage (3 files combined)')."""
    notes: tuple[str, ...] = ()
    """What the reading found worth saying (e.g. that the analysis cache was off)."""


@dataclass(frozen=True)
class Diff:
    """The lines changed since the merge base of `ref` and HEAD, in the working tree
    (committed, staged and unstaged; untracked files wholly added; deletions not counted)."""

    ref: str
    base: str
    """The merge base, a full commit hash."""
    prefix: str
    """The project root's folder inside the repository, with a trailing '/', or ''."""
    files: tuple[tuple[str, tuple[int, ...]], ...]
    """(path relative to the project root with '/', its added or modified lines, sorted), for
    every file under the project root with at least one such line, sorted by path."""


# --- the policy -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Thresholds:
    """Per-class limits. Percentages are exact fractions of 100 (95.5 is Fraction(191, 2))."""

    min: Fraction | None = None
    lines: Fraction | None = None
    branches: Fraction | None = None
    per_file: Fraction | None = None
    max_missing: int | None = None
    patch: Fraction | None = None
    """The combined metric over the changed lines only (with a diff base)."""


@dataclass(frozen=True)
class PathClass:
    """A named group of files with its own thresholds. The first class that matches wins."""

    name: str
    paths: tuple[str, ...]
    thresholds: Thresholds
    allow_empty: bool = False


OVERALL = "overall"


@dataclass(frozen=True)
class Policy:
    overall: Thresholds
    classes: tuple[PathClass, ...]
    is_default: bool = False
    """True when no configuration named the classes and covgate's defaults apply."""


# --- the verdicts -----------------------------------------------------------------------------


class Metric(str, enum.Enum):
    MIN = "min"
    LINES = "lines"
    BRANCHES = "branches"
    PER_FILE = "per_file"
    MAX_MISSING = "max_missing"
    PATCH = "patch"


@dataclass(frozen=True)
class Check:
    """One threshold compared with one measured value.

    For the percentage metrics `threshold` and `actual` are fractions of 100 (exact); for
    `max_missing` they are counts. `needed` is how many more lines or branches must be covered
    for the check to pass (0 when it passes). A `per_file` check names its file.
    """

    metric: Metric
    threshold: Fraction
    actual: Fraction
    passed: bool
    needed: int = 0
    path: str | None = None


class PatchStatus(str, enum.Enum):
    PASSED = "passed"
    FAILED = "failed"
    NO_CHANGES = "no changed lines"
    """Nothing executable changed in the group: the patch check passes."""
    NOT_MEASURED = "not measured"
    """A changed Python file of the group is absent from the coverage data: it fails."""
    INFO = "info"
    """No patch threshold: the figures are shown, nothing is decided."""


@dataclass(frozen=True)
class FilePatch:
    """One measured file's changed lines, and its coverage restricted to them."""

    path: str
    changed_lines: tuple[int, ...]
    """Every added or modified line."""
    counts: Counts
    """Changed statements, and the branches leaving changed lines."""
    uncovered_lines: tuple[int, ...]
    """Changed statements never executed."""
    partial_lines: tuple[int, ...]
    """Changed lines with a branch exit never taken."""


@dataclass(frozen=True)
class PatchResult:
    """A group's coverage of the changed lines."""

    counts: Counts
    files: tuple[FilePatch, ...]
    """The group's measured files with changed lines, by path."""
    unmeasured: tuple[str, ...]
    """Changed Python files of the group that the coverage data does not hold."""
    status: PatchStatus

    @property
    def passed(self) -> bool:
        return self.status not in (PatchStatus.FAILED, PatchStatus.NOT_MEASURED)

    def most_missing(self, limit: int = 5) -> tuple[FilePatch, ...]:
        """The changed files with the most uncovered changed statements and branches, most
        first."""
        return _most_missing(self.files, limit)


class Status(str, enum.Enum):
    PASSED = "passed"
    FAILED = "failed"
    EMPTY = "empty"
    """No measured file, and the class allows it (or is a default class): skipped."""
    NO_FILES = "no files"
    """No measured file, and the class does not allow it: nothing to judge."""
    INFO = "info"
    """A group without thresholds (the unclassified files)."""


@dataclass(frozen=True)
class GroupResult:
    """One class, `overall`, or the unclassified files, with its checks."""

    name: str
    paths: tuple[str, ...]
    files: tuple[FileCoverage, ...]
    counts: Counts
    thresholds: Thresholds
    checks: tuple[Check, ...]
    status: Status
    patch: PatchResult | None = None
    """The coverage of the changed lines, when a diff base is given."""

    @property
    def passed(self) -> bool:
        return self.status in (Status.PASSED, Status.EMPTY, Status.INFO)

    @property
    def failed_checks(self) -> tuple[Check, ...]:
        return tuple(check for check in self.checks if not check.passed)

    @property
    def coverage_checks(self) -> tuple[Check, ...]:
        """The checks of the thresholds on the group's files as a whole (min, lines, branches,
        per_file, max_missing): what the main table judges."""
        return tuple(check for check in self.checks if check.metric is not Metric.PATCH)

    @property
    def patch_checks(self) -> tuple[Check, ...]:
        """The checks of the `patch` threshold: what the patch table judges."""
        return tuple(check for check in self.checks if check.metric is Metric.PATCH)

    @property
    def coverage_status(self) -> Status:
        """`status` judged by `coverage_checks` alone: the main table's verdict. A group that
        misses only its patch threshold passes here (or is skipped, when it has no files and
        may be empty), and still fails as a whole."""
        if self.status is not Status.FAILED or any(not c.passed for c in self.coverage_checks):
            return self.status
        return Status.PASSED if self.files else Status.EMPTY

    def most_missing(self, limit: int = 5) -> tuple[FileCoverage, ...]:
        """The files with the most uncovered lines and branches, most first."""
        return _most_missing(self.files, limit)


@dataclass(frozen=True)
class ClassifiedFile:
    file: FileCoverage
    class_name: str | None
    pattern: str | None
    patch: FilePatch | None = None
    """Its changed lines, when a diff base is given (None also when it has none)."""


@dataclass(frozen=True)
class Evaluation:
    """The gate's whole judgement of one measurement: what every report renders."""

    overall: GroupResult
    classes: tuple[GroupResult, ...]
    unclassified: GroupResult
    files: tuple[ClassifiedFile, ...]
    policy: Policy
    branch_measured: bool
    sources: tuple[str, ...] = ()
    diff: Diff | None = None
    """The changed lines the patch figures are about, when a diff base is given."""

    @property
    def thresholds_met(self) -> bool:
        return self.overall.passed and all(result.passed for result in self.classes)

    @property
    def empty_classes(self) -> tuple[GroupResult, ...]:
        return tuple(r for r in self.classes if r.status is Status.NO_FILES)

    @property
    def failed_groups(self) -> tuple[GroupResult, ...]:
        return tuple(r for r in (*self.classes, self.overall) if r.status is Status.FAILED)


@dataclass(frozen=True)
class FailedTest:
    name: str
    message: str
    kind: str = "failure"
    """'failure' or 'error'."""


@dataclass(frozen=True)
class SlowTest:
    name: str
    seconds: float


@dataclass(frozen=True)
class TestSummary:
    __test__ = False  # not a test class, for pytest

    passed: int
    failed: int
    errors: int
    skipped: int
    duration: float
    failures: tuple[FailedTest, ...] = ()
    slowest: tuple[SlowTest, ...] = ()
    xfailed: int = 0
    xpassed: int = 0
    collected: int | None = None
    """The tests pytest collected (after deselection), when known."""
    ended_early: str | None = None
    """Why the session does not count when it ended before every collected test reported."""

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.errors + self.skipped + self.xfailed + self.xpassed

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.errors == 0 and self.ended_early is None


# --- no regressions: the baseline and the base branch's policy ------------------------------


@dataclass(frozen=True)
class Figure:
    """A class's (or overall's) covered and total lines and branches, as a baseline holds it."""

    covered: int
    total: int

    @property
    def ratio(self) -> Fraction:
        return _ratio(self.covered, self.total)


@dataclass(frozen=True)
class Baseline:
    """The committed figures that coverage may not fall below (SPEC §11)."""

    overall: Figure
    classes: Mapping[str, Figure]
    files: Mapping[str, int]
    """Per measured file, its uncovered statements + branches."""
    branch: bool = True
    """Whether the figures count branches (written from branch coverage data)."""


@dataclass(frozen=True)
class GroupDrop:
    """A class or overall compared with its baseline figure."""

    name: str
    baseline: Figure
    current: Figure
    passed: bool


@dataclass(frozen=True)
class FileGrowth:
    """A file with more uncovered lines and branches than its baseline."""

    file: FileCoverage
    class_name: str | None
    baseline: int


@dataclass(frozen=True)
class BaselineResult:
    """The measurement compared with a baseline."""

    source: str
    """The baseline file, as shown (e.g. 'covgate-baseline.json' or '... at origin/main')."""
    tolerance: Fraction
    """Percentage points a class may fall below its baseline."""
    groups: tuple[GroupDrop, ...]
    grown: tuple[FileGrowth, ...]
    new_files: tuple[str, ...] = ()
    deleted_files: tuple[str, ...] = ()
    unknown_classes: tuple[str, ...] = ()
    """Classes in the baseline that the policy does not have (not compared)."""

    @property
    def passed(self) -> bool:
        return not self.grown and all(g.passed for g in self.groups)

    @property
    def dropped(self) -> tuple[GroupDrop, ...]:
        return tuple(g for g in self.groups if not g.passed)


@dataclass(frozen=True)
class RefResult:
    """The same measurement judged by the policy at a git reference (`--policy-ref`)."""

    ref: str
    commit: str
    source: str
    """Where the policy at the reference came from, as shown."""
    evaluation: Evaluation
    baseline: BaselineResult | None
    weakened: tuple[str, ...]
    """coverage.py (and covgate) settings the working tree weakened against the reference."""

    @property
    def passed(self) -> bool:
        evaluation = self.evaluation
        return (
            evaluation.thresholds_met
            and not evaluation.empty_classes
            and (self.baseline is None or self.baseline.passed)
            and not self.weakened
        )


@dataclass(frozen=True)
class Outcome:
    """What one covgate command found: the evaluation, the tests, the exit code, the notes."""

    evaluation: Evaluation | None
    exit_code: int
    precision: int = 2
    tests: TestSummary | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    root: Path | None = None
    baseline: BaselineResult | None = None
    policy_ref: RefResult | None = None
    coverage_core: str | None = None
    """The coverage.py core that measured a run ("sysmon", "ctrace", "pytrace"); None when
    unknown (`check` gates data measured elsewhere)."""


# --- display of exact numbers -----------------------------------------------------------------


def floor_percent(ratio: Fraction, precision: int) -> str:
    """A ratio as a percentage rounded *down* to `precision` decimals.

    A failing figure is never shown at or above its threshold: 94.999 % shows as 94.99.
    """
    scale = 10**precision
    scaled = math.floor(ratio * 100 * scale)
    whole, fraction = divmod(scaled, scale)
    return f"{whole}.{fraction:0{precision}d}" if precision else str(whole)


def format_threshold(value: Fraction) -> str:
    """A threshold as the user wrote it: 95, 94.5, 33.333 (never in scientific notation)."""
    if value.denominator == 1:
        return str(value.numerator)
    # Thresholds come from decimal text, so the denominator divides a power of ten.
    for digits in range(1, 12):
        scaled = value * 10**digits
        if scaled.denominator == 1:
            whole, fraction = divmod(scaled.numerator, 10**digits)
            return f"{whole}.{fraction:0{digits}d}"
    return f"{float(value):g}"


def line_ranges(lines: Sequence[int]) -> str:
    """[1, 2, 3, 7, 9, 10] -> '1-3, 7, 9-10'."""
    parts: list[str] = []
    start = previous = None
    for line in sorted(lines):
        if previous is not None and line == previous + 1:
            previous = line
            continue
        if start is not None:
            parts.append(str(start) if start == previous else f"{start}-{previous}")
        start = previous = line
    if start is not None:
        parts.append(str(start) if start == previous else f"{start}-{previous}")
    return ", ".join(parts)
