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
    Diff,
    Evaluation,
    FileCoverage,
    FilePatch,
    GroupResult,
    Measurement,
    Metric,
    PatchResult,
    PatchStatus,
    Policy,
    Status,
    Thresholds,
    format_threshold,
)
from covgate.patch import file_patch, is_python

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


def evaluate(measurement: Measurement, policy: Policy, diff: Diff | None = None) -> Evaluation:
    """Judge `measurement` by `policy`; with a `diff`, the changed lines too."""
    classifier = Classifier(policy.classes)
    changed = dict(diff.files) if diff is not None else {}
    classified = tuple(
        ClassifiedFile(f, m.class_name, m.pattern, file_patch(f, changed.get(f.path, ())))
        for f, m in zip(
            measurement.files,
            classifier.classify_all(f.path for f in measurement.files),
            strict=True,
        )
    )
    measured = {f.path for f in measurement.files}
    unmeasured = [p for p in changed if p not in measured and is_python(p)]
    unmeasured_class = dict(
        zip(unmeasured, (m.class_name for m in classifier.classify_all(unmeasured)), strict=True)
    )

    def patch_of(
        name: str | None, threshold: Fraction | None, *, unmeasured_fails: bool = True
    ) -> tuple[PatchResult, tuple[Check, ...]] | None:
        if diff is None:
            return None
        every = name == OVERALL
        files = [c.patch for c in classified if c.patch and (every or c.class_name == name)]
        claimed = [p for p, owner in unmeasured_class.items() if every or owner == name]
        return _group_patch(files, claimed, threshold, unmeasured_fails=unmeasured_fails)

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
                patch=patch_of(path_class.name, path_class.thresholds.patch),
            )
        )
    overall = judge(
        OVERALL,
        (),
        measurement.files,
        policy.overall,
        branch_measured=measurement.branch_measured,
        empty_status=Status.NO_FILES,
        # Every changed file is overall's: one the data does not hold is listed, not failed
        # (tests and scripts are rarely measured).
        patch=patch_of(OVERALL, policy.overall.patch, unmeasured_fails=False),
    )
    loose = tuple(c.file for c in classified if c.class_name is None)
    loose_patch = patch_of(None, None)
    unclassified = GroupResult(
        name=UNCLASSIFIED,
        paths=(),
        files=loose,
        counts=Counts.sum(f.counts for f in loose),
        thresholds=Thresholds(),
        checks=(),
        status=Status.INFO,
        patch=loose_patch[0] if loose_patch else None,
    )
    return Evaluation(
        overall=overall,
        classes=tuple(results),
        unclassified=unclassified,
        files=classified,
        policy=policy,
        branch_measured=measurement.branch_measured,
        sources=measurement.sources,
        diff=diff,
    )


def _group_patch(
    files: Sequence[FilePatch],
    unmeasured: Sequence[str],
    threshold: Fraction | None,
    *,
    unmeasured_fails: bool,
) -> tuple[PatchResult, tuple[Check, ...]]:
    """A group's patch figures, and its patch checks when it has a `patch` threshold: the
    metric, and one failing check per changed Python file it claims that was not measured
    (when `unmeasured_fails`)."""
    counts = Counts.sum(f.counts for f in files)
    checks: list[Check] = []
    if threshold is not None:
        checks.append(
            Check(
                metric=Metric.PATCH,
                threshold=threshold,
                actual=percent(counts.covered, counts.total),
                passed=meets(counts.covered, counts.total, threshold),
                needed=needed(counts.covered, counts.total, threshold),
            )
        )
        if unmeasured_fails:
            checks.extend(
                Check(Metric.PATCH, threshold, Fraction(0), passed=False, path=path)
                for path in unmeasured
            )
    if threshold is None:
        status = PatchStatus.INFO
    elif not checks[0].passed:
        status = PatchStatus.FAILED
    elif unmeasured and unmeasured_fails:
        status = PatchStatus.NOT_MEASURED
    elif counts.total == 0:
        status = PatchStatus.NO_CHANGES
    else:
        status = PatchStatus.PASSED
    result = PatchResult(
        counts=counts,
        files=tuple(sorted(files, key=lambda f: f.path)),
        unmeasured=tuple(sorted(unmeasured)),
        status=status,
    )
    return result, tuple(checks)


def judge(
    name: str,
    paths: tuple[str, ...],
    files: Sequence[FileCoverage],
    thresholds: Thresholds,
    *,
    branch_measured: bool,
    empty_status: Status,
    patch: tuple[PatchResult, tuple[Check, ...]] | None = None,
) -> GroupResult:
    """Compare one group of files with its thresholds (and its changed lines with its
    `patch` threshold: the result and checks of `group_patch`)."""
    if thresholds.branches is not None and not branch_measured:
        raise NothingToJudge(
            f"class '{name}' sets branches = {format_threshold(thresholds.branches)} but the "
            "coverage data has no branch measurement (measure with branch coverage on)"
        )
    counts = Counts.sum(f.counts for f in files)
    files = tuple(files)
    result, patch_checks = patch if patch is not None else (None, ())
    if not files:
        # A class without measured files still fails when its changed files went unmeasured.
        missed = empty_status is Status.EMPTY and not all(c.passed for c in patch_checks)
        status = Status.FAILED if missed else empty_status
        return GroupResult(name, paths, files, counts, thresholds, patch_checks, status, result)
    checks = (*_checks(counts, files, thresholds), *patch_checks)
    status = Status.PASSED if all(c.passed for c in checks) else Status.FAILED
    return GroupResult(name, paths, files, counts, thresholds, checks, status, result)


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
                actual=percent(covered, total),
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
            actual=percent(f.counts.covered, f.counts.total),
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
            actual=percent(lowest.counts.covered, lowest.counts.total),
            passed=True,
            path=lowest.path,
        )
    ]


def percent(covered: int, total: int) -> Fraction:
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
