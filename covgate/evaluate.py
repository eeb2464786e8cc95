"""Pure: classified counts + thresholds -> exact verdicts.

A class passes `min = 95` if and only if covered / total >= 95 / 100 in exact arithmetic.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

from covgate.classify import Classifier
from covgate.errors import ExitCode, NothingToJudge
from covgate.model import (
    OVERALL,
    Check,
    ClassifiedFile,
    Counts,
    Evaluation,
    FileCoverage,
    GroupResult,
    Measurement,
    Metric,
    Policy,
    Status,
    Thresholds,
    format_threshold,
)

UNCLASSIFIED = "unclassified"


def meets(covered: int, total: int, threshold: Fraction) -> bool:
    """covered / total >= threshold / 100, exactly; nothing to cover counts as 100 %."""
    if total == 0:
        return True
    return covered * 100 >= threshold * total


def needed(covered: int, total: int, threshold: Fraction) -> int:
    """How many more of `total` must be covered to reach `threshold` percent."""
    if meets(covered, total, threshold):
        return 0
    return math.ceil(threshold * total / 100) - covered


def evaluate(measurement: Measurement, policy: Policy) -> Evaluation:
    classifier = Classifier(policy.classes)
    classified = tuple(
        ClassifiedFile(f, m.class_name, m.pattern)
        for f, m in zip(
            measurement.files,
            classifier.classify_all(f.path for f in measurement.files),
            strict=True,
        )
    )
    results = []
    for path_class in policy.classes:
        files = tuple(c.file for c in classified if c.class_name == path_class.name)
        empty_allowed = path_class.allow_empty  # the default classes all allow it
        results.append(
            judge(
                path_class.name,
                path_class.paths,
                files,
                path_class.thresholds,
                branch_measured=measurement.branch_measured,
                empty_status=Status.EMPTY if empty_allowed else Status.NO_FILES,
            )
        )
    overall = judge(
        OVERALL,
        (),
        measurement.files,
        policy.overall,
        branch_measured=measurement.branch_measured,
        empty_status=Status.NO_FILES,
    )
    loose = tuple(c.file for c in classified if c.class_name is None)
    unclassified = GroupResult(
        name=UNCLASSIFIED,
        paths=(),
        files=loose,
        counts=Counts.sum(f.counts for f in loose),
        thresholds=Thresholds(),
        checks=(),
        status=Status.INFO,
    )
    return Evaluation(
        overall=overall,
        classes=tuple(results),
        unclassified=unclassified,
        files=classified,
        policy=policy,
        branch_measured=measurement.branch_measured,
        sources=measurement.sources,
    )


def judge(
    name: str,
    paths: tuple[str, ...],
    files: Sequence[FileCoverage],
    thresholds: Thresholds,
    *,
    branch_measured: bool,
    empty_status: Status,
) -> GroupResult:
    """Compare one group of files with its thresholds."""
    if thresholds.branches is not None and not branch_measured:
        raise NothingToJudge(
            f"class '{name}' sets branches = {format_threshold(thresholds.branches)} but the "
            "coverage data has no branch measurement (measure with branch coverage on)"
        )
    counts = Counts.sum(f.counts for f in files)
    files = tuple(files)
    if not files:
        return GroupResult(name, paths, files, counts, thresholds, (), empty_status)
    checks = _checks(counts, files, thresholds)
    status = Status.PASSED if all(c.passed for c in checks) else Status.FAILED
    return GroupResult(name, paths, files, counts, thresholds, checks, status)


def _checks(counts: Counts, files: Sequence[FileCoverage], limits: Thresholds) -> tuple[Check, ...]:
    checks: list[Check] = []
    ratios = (
        (Metric.MIN, limits.min, counts.covered, counts.total),
        (Metric.LINES, limits.lines, counts.statements - counts.missing_statements,
         counts.statements),
        (Metric.BRANCHES, limits.branches, counts.branches - counts.missing_branches,
         counts.branches),
    )  # fmt: skip
    for metric, threshold, covered, total in ratios:
        if threshold is None:
            continue
        checks.append(
            Check(
                metric=metric,
                threshold=threshold,
                actual=_percent(covered, total),
                passed=meets(covered, total, threshold),
                needed=needed(covered, total, threshold),
            )
        )
    if limits.per_file is not None:
        checks.extend(_per_file(files, limits.per_file))
    if limits.max_missing is not None:
        over = counts.missing - limits.max_missing
        checks.append(
            Check(
                metric=Metric.MAX_MISSING,
                threshold=Fraction(limits.max_missing),
                actual=Fraction(counts.missing),
                passed=over <= 0,
                needed=max(over, 0),
            )
        )
    return tuple(checks)


def _per_file(files: Sequence[FileCoverage], threshold: Fraction) -> list[Check]:
    """One failing check per file under the floor, or one passing check for the lowest file."""
    failing = [
        Check(
            metric=Metric.PER_FILE,
            threshold=threshold,
            actual=_percent(f.counts.covered, f.counts.total),
            passed=False,
            needed=needed(f.counts.covered, f.counts.total, threshold),
            path=f.path,
        )
        for f in files
        if not meets(f.counts.covered, f.counts.total, threshold)
    ]
    if failing:
        failing.sort(key=lambda c: (c.actual, c.path or ""))
        return failing
    lowest = min(files, key=lambda f: (f.counts.ratio, f.path))
    return [
        Check(
            metric=Metric.PER_FILE,
            threshold=threshold,
            actual=_percent(lowest.counts.covered, lowest.counts.total),
            passed=True,
            path=lowest.path,
        )
    ]


def _percent(covered: int, total: int) -> Fraction:
    return Fraction(covered * 100, total) if total else Fraction(100)


def exit_code(
    evaluation: Evaluation | None,
    tests_ok: bool | None = None,
    *,
    also: Sequence[Evaluation] = (),
    regressed: bool = False,
) -> ExitCode:
    """The one mapping of a judgement to an exit code (SPEC §5).

    Failed tests come first, then a class without files (nothing to judge), then a missed
    threshold. `also` are evaluations of the same data under other policies (the policy at a
    git reference) that must pass too; `regressed` is a fall below the baseline or a weakened
    setting, a missed threshold as well.
    """
    if tests_ok is False:
        return ExitCode.TESTS_FAILED
    if evaluation is None:
        return ExitCode.NOTHING_TO_JUDGE
    judged = (evaluation, *also)
    if any(e.empty_classes for e in judged):
        return ExitCode.NOTHING_TO_JUDGE
    if regressed or not all(e.thresholds_met for e in judged):
        return ExitCode.THRESHOLD_MISSED
    return ExitCode.OK
