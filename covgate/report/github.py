"""GitHub Actions: workflow-command annotations and step outputs, escaped by GitHub's rules.

Pure functions of an `Outcome`; the command line writes the files and the log lines.
Annotation data escapes `%`, CR and LF; properties also `:` and `,` (what the runner
unescapes). Everything else covgate prints in GitHub mode is fenced with `::stop-commands::`,
so no file or test name echoed to the log can start a workflow command.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import replace

from covgate import baseline as baselines
from covgate.model import Check, GroupResult, Metric, Outcome, Status, floor_percent
from covgate.report import regressions, text

PER_LEVEL = 10


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: str | int | None) -> str:
    shown = ",".join(
        f"{key}={escape_property(str(value))}"
        for key, value in properties.items()
        if value is not None
    )
    return f"::{name}{' ' + shown if shown else ''}::{escape_data(message)}"


def new_token() -> str:
    """A fresh token for `::stop-commands::`; it must not be guessable from the log."""
    return secrets.token_hex(16)


def error_annotations(outcome: Outcome, prefix: str = "") -> list[str]:
    """`::error` lines for each class without files, each missed class and each file under
    a per-file floor; at most PER_LEVEL, the last one saying how many more there are.

    `prefix` turns project paths into repository paths (the project's folder in the
    repository, with a trailing '/', or '').
    """
    evaluation = outcome.evaluation
    if evaluation is None:
        return []
    errors: list[str] = []
    for group in evaluation.classes:
        if group.status is Status.NO_FILES:
            errors.append(
                command("error", text.empty_message(group), title=f"covgate: {group.name}")
            )
    for group in evaluation.failed_groups:
        for check in group.failed_checks:
            if check.metric is Metric.PATCH and evaluation.diff is not None:
                errors.append(_patch_error(group, check, outcome.precision, evaluation.diff.prefix))
            else:
                errors.append(_check_error(group, check, outcome.precision, prefix))
    errors.extend(_regression_errors(outcome, prefix))
    errors.extend(patch_annotations(outcome)[0])
    if len(errors) > PER_LEVEL:
        more = len(errors) - (PER_LEVEL - 1)
        errors = errors[: PER_LEVEL - 1]
        summary = f"and {more} more missed thresholds: see the job summary"
        errors.append(command("error", summary, title="covgate"))
    return errors


def warning_annotations(outcome: Outcome) -> list[str]:
    """`::warning` lines for the uncovered changed lines outside the groups that miss their
    patch threshold; at most PER_LEVEL, the last one saying how many more there are."""
    warnings = patch_annotations(outcome)[1]
    if len(warnings) > PER_LEVEL:
        more = len(warnings) - (PER_LEVEL - 1)
        summary = f"and {more} more uncovered changed ranges: see the job summary"
        warnings = [*warnings[: PER_LEVEL - 1], command("warning", summary, title="covgate")]
    return warnings


def all_annotations(outcome: Outcome, prefix: str = "") -> list[str]:
    """Every annotation: the errors, then the warnings."""
    return [*error_annotations(outcome, prefix), *warning_annotations(outcome)]


def patch_annotations(outcome: Outcome) -> tuple[list[str], list[str]]:
    """(errors, warnings): one per range of uncovered changed lines and per changed line with
    a branch never taken, at its file and lines, the path relative to the repository root
    (so that it shows in the pull request's diff). Errors where the file's class, or overall,
    misses its patch threshold."""
    evaluation = outcome.evaluation
    if evaluation is None or evaluation.diff is None:
        return [], []
    prefix = evaluation.diff.prefix
    failing = {g.name for g in evaluation.classes if g.patch and not g.patch.passed}
    overall = evaluation.overall.patch
    overall_fails = overall is not None and not overall.passed
    errors: list[str] = []
    warnings: list[str] = []
    for item in evaluation.files:
        patch = item.patch
        if patch is None:
            continue
        # The title names the patch threshold the range counts against: its class's when that
        # misses, else overall's (a class without a patch threshold misses none of its own).
        if item.class_name in failing:
            missed, title = True, f"covgate: {item.class_name} patch below target"
        elif overall_fails:
            missed, title = True, "covgate: overall patch below target"
        else:
            missed, title = False, f"covgate: {item.class_name or 'overall'} patch"
        found = errors if missed else warnings
        for start, end in _runs(patch.uncovered_lines):
            shown = f"line {start}" if start == end else f"lines {start}-{end}"
            found.append(
                command("error" if missed else "warning",
                        f"changed {shown} not run by the tests", file=prefix + item.file.path,
                        line=start, endLine=end, title=title)
            )  # fmt: skip
        for line in patch.partial_lines:
            found.append(
                command("error" if missed else "warning",
                        f"changed line {line}: a branch never taken",
                        file=prefix + item.file.path, line=line, title=title)
            )  # fmt: skip
    return errors, warnings


def _runs(lines: tuple[int, ...]) -> list[tuple[int, int]]:
    """(first, last) of each run of consecutive line numbers."""
    runs: list[tuple[int, int]] = []
    for line in lines:
        if runs and runs[-1][1] == line - 1:
            runs[-1] = (runs[-1][0], line)
        else:
            runs.append((line, line))
    return runs


def _patch_error(group: GroupResult, check: Check, precision: int, prefix: str) -> str:
    """A missed patch threshold (its uncovered lines have their own annotations), or a changed
    file that was not measured, at that file (`prefix`: the project in the repository)."""
    message = text.check_message(group.name, check, precision)
    title = f"covgate: {group.name} patch below target"
    if check.path is None:
        return command("error", message, title=title)
    return command("error", message, file=prefix + check.path, title=title)


def _check_error(group: GroupResult, check: Check, precision: int, prefix: str) -> str:
    message = text.check_message(group.name, check, precision)
    if check.metric is Metric.PER_FILE and check.path is not None:
        file = next((f for f in group.files if f.path == check.path), None)
        line = _first_gap(file.missing_lines, file.partial_lines) if file else None
        return command("error", message, file=prefix + check.path, line=line,
                       title=f"covgate: {group.name} per-file floor")  # fmt: skip
    worst = group.most_missing(1)
    if worst:
        return command(
            "error",
            message,
            file=prefix + worst[0].path,
            line=_first_gap(worst[0].missing_lines, worst[0].partial_lines),
            title=f"covgate: {group.name} below target",
        )
    return command("error", message, title=f"covgate: {group.name} below target")


def _regression_errors(outcome: Outcome, prefix: str) -> list[str]:
    """A fall below the baseline at each file whose uncovered count grew; a failed policy at
    the reference, with each of its misses."""
    errors = []
    result = outcome.baseline
    if result is not None:
        for drop in result.dropped:
            message = baselines.drop_message(drop, result.tolerance, outcome.precision)
            errors.append(command("error", message, title="covgate: baseline"))
        for growth in result.grown:
            line = _first_gap(growth.file.missing_lines, growth.file.partial_lines)
            errors.append(command("error", baselines.growth_message(growth),
                                  file=prefix + growth.file.path, line=line,
                                  title="covgate: more uncovered than the baseline"))  # fmt: skip
    ref = outcome.policy_ref
    if ref is not None and not ref.passed:
        # What the working tree's policy and baseline already said is not said twice.
        said = {line.text for line in regressions.lines(replace(outcome, policy_ref=None))}
        if outcome.evaluation is not None:
            said.update(
                text.check_message(group.name, check, outcome.precision)
                for group in outcome.evaluation.failed_groups
                for check in group.failed_checks
            )
        title = f"covgate: policy at {ref.ref}"
        errors.extend(
            command("error", line.text, title=title)
            for line in regressions.lines(replace(outcome, baseline=None))
            if line.level > 0 and line.failed and line.text not in said
        )
    return errors


def _first_gap(missing: tuple[int, ...], partial: tuple[int, ...]) -> int | None:
    lines = [*missing[:1], *partial[:1]]
    return min(lines) if lines else None


def outputs(outcome: Outcome, report_json: str) -> dict[str, str]:
    evaluation = outcome.evaluation
    overall = ""
    failed: list[str] = []
    if evaluation is not None:
        overall = floor_percent(evaluation.overall.counts.ratio, outcome.precision)
        failed = [g.name for g in (*evaluation.failed_groups, *evaluation.empty_classes)]
    return {
        "passed": "true" if outcome.exit_code == 0 else "false",
        "overall": overall,
        "failed-classes": json.dumps(failed),
        "report-json": report_json,
    }


def format_outputs(
    values: Mapping[str, str], delimiter: Callable[[], str] = lambda: f"covgate_{new_token()}"
) -> str:
    """The $GITHUB_OUTPUT lines: `name=value`, or a heredoc with a random delimiter."""
    lines = []
    for name, value in values.items():
        if "\n" in value or "\r" in value:
            mark = delimiter()
            while mark in value:
                mark = delimiter()
            lines.extend([f"{name}<<{mark}", value, mark])
        else:
            lines.append(f"{name}={value}")
    return "\n".join(lines) + "\n"


def render(
    outcome: Outcome, *, color: bool = False, width: int | None = None, verbosity: int = 0
) -> str:
    """The annotation lines, as `--report github:PATH` writes them."""
    found = all_annotations(outcome)
    return "\n".join(found) + "\n" if found else ""
