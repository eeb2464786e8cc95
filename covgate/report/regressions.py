"""The no-regressions sections of the human-readable reports: the baseline comparison and the
policy at a git reference. Lines of text with a level and a verdict; no I/O, no decisions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from covgate import baseline as baselines
from covgate.model import OVERALL, BaselineResult, Evaluation, Outcome, RefResult, Status
from covgate.report import text

NAMES_SHOWN = 10


@dataclass(frozen=True)
class Line:
    text: str
    level: int
    """0: a section's verdict; 1: a detail under it; 2: a detail of a detail."""
    failed: bool


def lines(outcome: Outcome) -> list[Line]:
    found: list[Line] = []
    if outcome.baseline is not None and outcome.evaluation is not None:
        found.extend(_baseline(outcome.baseline, outcome.evaluation, outcome.precision))
    if outcome.policy_ref is not None:
        found.extend(_policy_ref(outcome.policy_ref, outcome.precision))
    return found


def _baseline(result: BaselineResult, evaluation: Evaluation, precision: int) -> Iterator[Line]:
    if result.passed:
        classes = sum(1 for g in result.groups if g.name != OVERALL)
        files = len(evaluation.files) - len(result.new_files)
        compared = (
            f"{text.plural(classes, 'class', 'classes')} and overall, "
            f"{text.plural(files, 'file', 'files')} compared"
        )
        yield Line(f"baseline {result.source}: passed ({compared})", 0, False)
    else:
        yield Line(f"baseline {result.source}: FAILED", 0, True)
    for drop in result.dropped:
        yield Line(baselines.drop_message(drop, result.tolerance, precision), 1, True)
    for growth in result.grown:
        gaps = text.file_gaps(growth.file)
        yield Line(baselines.growth_message(growth) + (f": {gaps}" if gaps else ""), 1, True)
    if result.new_files:
        yield Line("new files, judged by their class thresholds only: "
                   + _names(result.new_files), 1, False)  # fmt: skip
    if result.unknown_classes:
        yield Line("classes in the baseline but not in the policy (not compared): "
                   + _names(result.unknown_classes), 1, False)  # fmt: skip
    if result.deleted_files:
        yield Line("in the baseline but no longer measured (not compared): "
                   + _names(result.deleted_files), 1, False)  # fmt: skip


def _policy_ref(result: RefResult, precision: int) -> Iterator[Line]:
    verdict = "passed" if result.passed else "FAILED"
    heading = f"policy at {result.ref} ({result.commit[:12]}, {result.source}): {verdict}"
    yield Line(heading, 0, not result.passed)
    evaluation = result.evaluation
    for group in evaluation.classes:
        if group.status is Status.NO_FILES:
            yield Line(text.empty_message(group), 1, True)
    for group in evaluation.failed_groups:
        for check in group.failed_checks:
            yield Line(text.check_message(group.name, check, precision), 1, True)
    for setting in result.weakened:
        yield Line(f"weakened: {setting}", 1, True)
    if result.baseline is not None:
        for line in _baseline(result.baseline, evaluation, precision):
            yield Line(line.text, line.level + 1, line.failed)


def _names(names: tuple[str, ...]) -> str:
    shown = ", ".join(names[:NAMES_SHOWN])
    more = len(names) - NAMES_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")
