"""Wording shared by every human-readable report: verdicts, misses, what would make them pass."""

from __future__ import annotations

from covgate.model import (
    Check,
    Evaluation,
    FileCoverage,
    GroupResult,
    Metric,
    Outcome,
    Status,
    TestSummary,
    floor_percent,
    format_threshold,
    line_ranges,
)

COLUMNS = (
    "class",
    "files",
    "statements",
    "missing",
    "branches",
    "partial",
    "coverage",
    "target",
    "verdict",
)

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
    """One table row, in the order of COLUMNS."""
    counts = group.counts
    empty = not group.files
    return (
        group.name,
        str(len(group.files)),
        str(counts.statements),
        str(counts.missing_statements),
        str(counts.branches),
        str(counts.partial_branches),
        "-" if empty else f"{floor_percent(counts.ratio, precision)} %",
        "" if group.status is Status.INFO else target(group),
        VERDICTS[group.status],
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
    }[check.metric]
    return f"{label} {shown} % < {limit} %: {more}"


def file_gaps(file: FileCoverage) -> str:
    """'12-14, 40; partial branches at 7, 9'."""
    parts = []
    if file.missing_lines:
        word = "line" if len(file.missing_lines) == 1 else "lines"
        parts.append(f"{word} {line_ranges(file.missing_lines)}")
    if file.partial_lines:
        parts.append(f"partial branches at {line_ranges(file.partial_lines)}")
    return "; ".join(parts)


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
            names = ", ".join(g.name for g in failed)
            parts.append(f"{len(failed)} below target ({names})")
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
