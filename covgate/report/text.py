"""Wording shared by every human-readable report: verdicts, misses, what would make them pass."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from covgate.model import (
    Check,
    ClassifiedFile,
    Diff,
    Evaluation,
    FileCoverage,
    FilePatch,
    GroupResult,
    Metric,
    Outcome,
    PatchStatus,
    Status,
    TestSummary,
    floor_percent,
    format_threshold,
    line_ranges,
)

# The summary table. `missing statements` and `missing branches` add up to what "cover N more
# lines or branches" counts; `partial` counts lines with a branch not taken (coverage.py's BrPart).
COLUMNS = (
    "class",
    "files",
    "statements",
    "missing statements",
    "branches",
    "missing branches",
    "partial",
    "coverage",
    "target",
    "verdict",
)
FILE_COLUMNS = (
    "file",
    "class",
    "statements",
    "missing statements",
    "branches",
    "missing branches",
    "partial",
    "coverage",
)
TEXT_COLUMNS = frozenset(("class", "file", "target", "verdict"))
"""Left-aligned; every other column is a number."""

RANGES_SHOWN = 8
"""Line ranges shown per file and kind (missing lines, partial branches), unless verbose."""

VERDICTS = {
    Status.PASSED: "pass",
    Status.FAILED: "FAIL",
    Status.EMPTY: "skipped",
    Status.NO_FILES: "NO FILES",
    Status.INFO: "",
}

_WHAT = {
    Metric.MIN: ("line or branch", "lines or branches"),
    Metric.LINES: ("line", "lines"),
    Metric.BRANCHES: ("branch", "branches"),
    Metric.PER_FILE: ("line or branch", "lines or branches"),
    Metric.MAX_MISSING: ("line or branch", "lines or branches"),
    Metric.PATCH: ("changed line or branch", "changed lines or branches"),
}

PATCH_VERDICTS = {
    PatchStatus.PASSED: "pass",
    PatchStatus.FAILED: "FAIL",
    PatchStatus.NO_CHANGES: "no changed lines",
    PatchStatus.NOT_MEASURED: "FAIL: not measured",
    PatchStatus.INFO: "",
}


def printable(value: str) -> str:
    """Control characters shown escaped ('\\n', '\\x1b'): a name never moves the cursor,
    splits a log line or colours a terminal."""
    if value.isprintable():
        return value
    out = []
    for char in value:
        if char.isprintable() or char == " ":
            out.append(char)
        else:
            out.append(repr(char)[1:-1] if char in "\n\r\t" else f"\\u{ord(char):04x}")
    return "".join(out)


def plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def target(group: GroupResult) -> str:
    """The `min` threshold, plus the other limits in short form."""
    limits = group.thresholds
    parts = []
    if limits.min is not None:
        parts.append(f"{format_threshold(limits.min)} %")
    if limits.lines is not None:
        parts.append(f"lines {format_threshold(limits.lines)} %")
    if limits.branches is not None:
        parts.append(f"branches {format_threshold(limits.branches)} %")
    if limits.per_file is not None:
        parts.append(f"each file {format_threshold(limits.per_file)} %")
    if limits.max_missing is not None:
        parts.append(f"max {limits.max_missing} missing")
    return ", ".join(parts) if parts else "-"


def row(group: GroupResult, precision: int) -> tuple[str, ...]:
    """One table row, in the order of COLUMNS. The verdict is that of the thresholds the row
    shows (`coverage_status`): the patch threshold has its own table."""
    counts = group.counts
    empty = not group.files
    return (
        group.name,
        str(len(group.files)),
        str(counts.statements),
        str(counts.missing_statements),
        str(counts.branches),
        str(counts.missing_branches),
        str(counts.partial_branches),
        "-" if empty else f"{floor_percent(counts.ratio, precision)} %",
        "" if group.status is Status.INFO else target(group),
        VERDICTS[group.coverage_status],
    )


def file_row(item: ClassifiedFile, precision: int) -> tuple[str, ...]:
    """One file's row, in the order of FILE_COLUMNS."""
    counts = item.file.counts
    return (
        item.file.path,
        item.class_name or "-",
        str(counts.statements),
        str(counts.missing_statements),
        str(counts.branches),
        str(counts.missing_branches),
        str(counts.partial_branches),
        f"{floor_percent(counts.ratio, precision)} %",
    )


def rows(evaluation: Evaluation, precision: int) -> list[tuple[str, ...]]:
    """The classes in config order, the unclassified files when there are any, overall."""
    table = [row(group, precision) for group in evaluation.classes]
    if evaluation.unclassified.files:
        table.append(row(evaluation.unclassified, precision))
    table.append(row(evaluation.overall, precision))
    return table


def check_message(name: str, check: Check, precision: int) -> str:
    """'critical 94.12 % < 95 %: cover 3 more lines or branches'."""
    one, many = _WHAT[check.metric]
    more = f"cover {check.needed} more {one if check.needed == 1 else many}"
    if check.metric is Metric.PATCH and check.path is not None:
        return (
            f"{name} patch: {check.path} changed but not measured (absent from the coverage "
            "data: never imported by the tests, or omitted?)"
        )
    if check.metric is Metric.MAX_MISSING:
        return (
            f"{name}: {check.actual} uncovered lines and branches > max_missing "
            f"{check.threshold}: {more}"
        )
    shown = floor_percent(check.actual / 100, precision)
    limit = format_threshold(check.threshold)
    label = {
        Metric.MIN: name,
        Metric.LINES: f"{name} lines",
        Metric.BRANCHES: f"{name} branches",
        Metric.PER_FILE: f"{name} file {check.path}",
        Metric.PATCH: f"{name} patch",
    }[check.metric]
    return f"{label} {shown} % < {limit} %: {more}"


@dataclass(frozen=True)
class MissLine:
    """One line of what would make a group pass."""

    text: str
    level: int
    """Nesting: a heading is 0, what it heads one more, a file one more than its check."""
    kind: Literal["heading", "check", "file"]


FILES_SHOWN = 5
"""Files listed under a missed threshold."""


def misses(group: GroupResult, precision: int, limit: int | None) -> list[MissLine]:
    """What would make a failed group pass: each missed threshold with how much more to
    cover, then the files that serve it. Under the thresholds on the group's files as a whole,
    the files with the most missing lines and branches; under `patch`, the changed files with
    the most uncovered changed lines and branches, with their uncovered changed ranges (when
    the metric misses, not only a changed file the data lacks). When
    both kinds miss, each list has a heading that names the thresholds it serves. `limit`
    caps the ranges shown per file (`gaps_limit`)."""
    own = [check for check in group.coverage_checks if not check.passed]
    patch = [check for check in group.patch_checks if not check.passed]
    both = bool(own and patch)
    level = 1 if both else 0
    found: list[MissLine] = []
    if own:
        if both:
            found.append(MissLine(_own_heading(group), 0, "heading"))
        found.extend(MissLine(check_message(group.name, c, precision), level, "check") for c in own)
        for file in group.most_missing(FILES_SHOWN):
            gaps = f"{file.counts.missing} missing: {file_gaps(file, limit)}"
            found.append(MissLine(f"{file.path}: {gaps}", level + 1, "file"))
    if patch:
        if both:
            shown = format_threshold(patch[0].threshold)
            heading = f"{group.name}: to meet its patch threshold on the changed lines ({shown} %)"
            found.append(MissLine(heading, 0, "heading"))
        found.extend(
            MissLine(check_message(group.name, c, precision), level, "check") for c in patch
        )
        # Covering changed lines helps only when the metric misses (status failed); a changed
        # file the data lacks needs measuring, which its own message says.
        result = group.patch
        missed = result is not None and result.status is PatchStatus.FAILED
        changed = result.most_missing(FILES_SHOWN) if result is not None and missed else ()
        for item in changed:
            gaps = f"{item.counts.missing} missing: {patch_gaps(item, limit)}"
            found.append(MissLine(f"{item.path}: {gaps}", level + 1, "file"))
    return found


def _own_heading(group: GroupResult) -> str:
    """'critical: to meet its thresholds on all its files (95 %, each file 94 %)'."""
    limits = group.thresholds
    count = sum(
        value is not None
        for value in (
            limits.min,
            limits.lines,
            limits.branches,
            limits.per_file,
            limits.max_missing,
        )
    )
    what = "its threshold" if count == 1 else "its thresholds"
    return f"{group.name}: to meet {what} on all its files ({target(group)})"


def file_gaps(file: FileCoverage, limit: int | None = RANGES_SHOWN) -> str:
    """'lines 12-14, 40; partial branches at 7, 9', each kind capped to `limit` ranges
    ('lines 1-3, 7, and 42 more ranges'); None shows them all."""
    parts = []
    if file.missing_lines:
        word = "line" if len(file.missing_lines) == 1 else "lines"
        parts.append(f"{word} {_capped(file.missing_lines, limit)}")
    if file.partial_lines:
        parts.append(f"partial branches at {_capped(file.partial_lines, limit)}")
    return "; ".join(parts)


def _capped(lines: tuple[int, ...], limit: int | None) -> str:
    ranges = line_ranges(lines).split(", ")
    if limit is None or len(ranges) <= limit:
        return ", ".join(ranges)
    more = len(ranges) - limit
    return ", ".join(ranges[:limit]) + f", and {plural(more, 'more range', 'more ranges')}"


def gaps_limit(verbosity: int) -> int | None:
    """How many ranges a report shows per file: all of them with -v."""
    return None if verbosity > 0 else RANGES_SHOWN


def patch_heading(diff: Diff) -> str:
    """'patch coverage: lines changed since origin/main (merge base 1a2b3c4d5e6f)'."""
    return f"patch coverage: lines changed since {diff.ref} (merge base {diff.base[:12]})"


def patch_groups(evaluation: Evaluation) -> list[GroupResult]:
    """The groups of the patch table: classes, unclassified files with changes, overall."""
    groups = list(evaluation.classes)
    loose = evaluation.unclassified.patch
    if loose is not None and (loose.files or loose.unmeasured):
        groups.append(evaluation.unclassified)
    groups.append(evaluation.overall)
    return groups


def patch_row(group: GroupResult, precision: int) -> tuple[str, ...]:
    """One row of the patch table, in the order of COLUMNS ('files': files with changes)."""
    patch = group.patch
    assert patch is not None
    counts = patch.counts
    limit = group.thresholds.patch
    return (
        group.name,
        str(len(patch.files)),
        str(counts.statements),
        str(counts.missing_statements),
        str(counts.branches),
        str(counts.missing_branches),
        str(counts.partial_branches),
        f"{floor_percent(counts.ratio, precision)} %" if counts.total else "-",
        f"{format_threshold(limit)} %" if limit is not None else "",
        PATCH_VERDICTS[patch.status],
    )


def patch_gaps(file: FilePatch, limit: int | None = None) -> str:
    """'changed lines 12-14 not run; partial branches at 20', each kind capped to `limit`
    ranges as in `file_gaps` (None shows them all)."""
    parts = []
    if file.uncovered_lines:
        word = "line" if len(file.uncovered_lines) == 1 else "lines"
        parts.append(f"changed {word} {_capped(file.uncovered_lines, limit)} not run")
    if file.partial_lines:
        parts.append(f"partial branches at {_capped(file.partial_lines, limit)}")
    return "; ".join(parts)


def patch_gap_files(evaluation: Evaluation) -> list[FilePatch]:
    """The files with uncovered changed lines or partial changed branches, by path."""
    overall = evaluation.overall.patch
    if overall is None:
        return []
    return [f for f in overall.files if f.uncovered_lines or f.partial_lines]


def unmeasured_message(paths: tuple[str, ...], limit: int) -> str:
    shown = ", ".join(paths[:limit]) + (
        f" and {len(paths) - limit} more" if len(paths) > limit else ""
    )
    return (
        f"changed but not measured ({plural(len(paths), 'file', 'files')} absent from the "
        f"coverage data): {shown}"
    )


def empty_message(group: GroupResult) -> str:
    patterns = ", ".join(group.paths)
    return (
        f"class '{group.name}' matched no measured file (paths: {patterns}): fix its paths, "
        "or set allow_empty = true"
    )


def tests_line(tests: TestSummary) -> str:
    """'41 passed, 1 failed, 0 errors, 2 skipped in 3.25s' (xfailed, xpassed when any)."""
    counts = f"{tests.passed} passed, {tests.failed} failed, {tests.errors} errors, " + (
        f"{tests.skipped} skipped"
    )
    if tests.xfailed:
        counts += f", {tests.xfailed} xfailed"
    if tests.xpassed:
        counts += f", {tests.xpassed} xpassed"
    return f"{counts} in {tests.duration:.2f}s"


def _missed_targets(group: GroupResult) -> list[str]:
    patch = any(not check.passed for check in group.patch_checks)
    if not patch:
        return [group.name]
    own = group.coverage_status is Status.FAILED
    return [group.name, f"{group.name} patch"] if own else [f"{group.name} patch"]


def headline(outcome: Outcome) -> str:
    """The closing line: what the gate decided."""
    evaluation = outcome.evaluation
    tests = outcome.tests
    parts = []
    if tests is not None and tests.ended_early is not None:
        parts.append(tests.ended_early)
    elif tests is not None and not tests.ok:
        parts.append(f"tests failed ({tests.failed} failed, {tests.errors} errors)")
    if evaluation is not None:
        failed = evaluation.failed_groups
        empty = evaluation.empty_classes
        if failed:
            # Each missed target by the table that shows it: "critical" (its own thresholds),
            # "critical patch" (its changed lines), or both.
            names = [name for group in failed for name in _missed_targets(group)]
            parts.append(f"{len(names)} below target ({', '.join(names)})")
        if empty:
            parts.append(f"{len(empty)} without files ({', '.join(g.name for g in empty)})")
    if outcome.baseline is not None and not outcome.baseline.passed:
        count = len(outcome.baseline.dropped) + len(outcome.baseline.grown)
        parts.append(f"{plural(count, 'regression', 'regressions')} against the baseline")
    if outcome.policy_ref is not None and not outcome.policy_ref.passed:
        parts.append(f"the policy at {outcome.policy_ref.ref} failed")
    if not parts and outcome.exit_code == 0:
        return "covgate: passed, every threshold met"
    if not parts:
        return f"covgate: failed (exit {outcome.exit_code})"
    return "covgate: FAILED: " + "; ".join(parts)
