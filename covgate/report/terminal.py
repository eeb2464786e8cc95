"""The terminal report: a rich table, colour only when asked for, plain text otherwise."""

from __future__ import annotations

import io

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from covgate.model import GroupResult, Outcome, Status, TestSummary
from covgate.report import regressions, text

PLAIN_WIDTH = 160
UNCLASSIFIED_SHOWN = 10
PATCH_FILES_SHOWN = 20

_STYLES = {
    Status.PASSED: "green",
    Status.FAILED: "bold red",
    Status.EMPTY: "dim",
    Status.NO_FILES: "bold red",
    Status.INFO: "dim",
}
_MISS_STYLES = {"heading": "bold red", "check": "red", "file": None}


def render(
    outcome: Outcome, *, color: bool = False, width: int | None = None, verbosity: int = 0
) -> str:
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        width=width or PLAIN_WIDTH,
        highlight=False,
        emoji=False,
        markup=False,
    )
    quiet = verbosity < 0
    if not quiet:
        for note in outcome.notes:
            _print(console, note, style="dim")
    if outcome.tests is not None:
        _tests(console, outcome.tests, quiet)
    evaluation = outcome.evaluation
    if evaluation is not None:
        if not quiet:
            _table(console, outcome, color)
            _patch(console, outcome, color)
        if verbosity > 0:
            _files(console, outcome, color)
        for group in evaluation.classes:
            if group.status is Status.NO_FILES:
                _print(console, text.empty_message(group), style="bold red")
        for group in evaluation.failed_groups:
            _misses(console, group, outcome.precision, text.gaps_limit(verbosity))
        _unclassified(console, evaluation.unclassified)
    for line in regressions.lines(outcome):
        if quiet and not line.failed:
            continue
        style = "red" if line.failed else None
        if line.level == 0:
            style = "bold red" if line.failed else "bold"
        _print(console, "    " * line.level + line.text, style=style)
    style = "bold green" if outcome.exit_code == 0 else "bold red"
    _print(console, text.headline(outcome), style=style)
    return buffer.getvalue()


def _print(console: Console, renderable: object, style: str | None = None) -> None:
    """Print one line or table; text never wraps (a long miss stays one log line) and
    control characters in names are shown escaped."""
    if isinstance(renderable, str):
        console.print(text.printable(renderable), style=style, soft_wrap=True)
    else:
        console.print(renderable, style=style)


def _table(console: Console, outcome: Outcome, color: bool) -> None:
    evaluation = outcome.evaluation
    assert evaluation is not None
    table = Table(box=box.SIMPLE_HEAVY if color else box.ASCII2)
    for column in text.COLUMNS:
        table.add_column(
            column,
            justify="left" if column in text.TEXT_COLUMNS else "right",
            no_wrap=column != "target",
        )
    groups: list[GroupResult] = list(evaluation.classes)
    if evaluation.unclassified.files:
        groups.append(evaluation.unclassified)
    groups.append(evaluation.overall)
    for group, cells in zip(groups, text.rows(evaluation, outcome.precision), strict=True):
        verdict = Text(cells[-1], style=_STYLES[group.coverage_status])
        end_section = group is groups[-2] if len(groups) > 1 else False
        shown = [text.printable(cell) for cell in cells[:-1]]
        table.add_row(*shown, verdict, end_section=end_section)
    _print(console, table)


def _patch(console: Console, outcome: Outcome, color: bool) -> None:
    """With a diff base: the coverage of the changed lines per class, the uncovered changed
    lines per file, and the changed files the data does not hold."""
    evaluation = outcome.evaluation
    assert evaluation is not None
    if evaluation.diff is None:
        return
    _print(console, text.patch_heading(evaluation.diff), style="bold")
    table = Table(box=box.SIMPLE_HEAVY if color else box.ASCII2)
    for column in text.COLUMNS:
        table.add_column(column, justify="left" if column in text.TEXT_COLUMNS else "right")
    groups = text.patch_groups(evaluation)
    for group in groups:
        cells = text.patch_row(group, outcome.precision)
        assert group.patch is not None
        style = "bold red" if not group.patch.passed else "green" if cells[-1] else "dim"
        table.add_row(*[text.printable(c) for c in cells[:-1]], Text(cells[-1], style=style),
                      end_section=len(groups) > 1 and group is groups[-2])  # fmt: skip
    _print(console, table)
    for file in text.patch_gap_files(evaluation)[:PATCH_FILES_SHOWN]:
        _print(console, f"    {file.path}: {text.patch_gaps(file)}")
    more = len(text.patch_gap_files(evaluation)) - PATCH_FILES_SHOWN
    if more > 0:
        _print(
            console, f"    and {text.plural(more, 'more file', 'more files')} (see the JSON report)"
        )
    overall = evaluation.overall.patch
    if overall is not None and overall.unmeasured:
        _print(
            console, text.unmeasured_message(overall.unmeasured, UNCLASSIFIED_SHOWN), style="yellow"
        )


def _files(console: Console, outcome: Outcome, color: bool) -> None:
    """-v: every file with its class and coverage."""
    evaluation = outcome.evaluation
    assert evaluation is not None
    table = Table(box=box.SIMPLE_HEAVY if color else box.ASCII2)
    for column in text.FILE_COLUMNS:
        table.add_column(column, justify="left" if column in text.TEXT_COLUMNS else "right")
    for item in evaluation.files:
        table.add_row(*(text.printable(cell) for cell in text.file_row(item, outcome.precision)))
    _print(console, table)


def _misses(console: Console, group: GroupResult, precision: int, limit: int | None) -> None:
    for line in text.misses(group, precision, limit):
        _print(console, "    " * line.level + line.text, style=_MISS_STYLES[line.kind])


def _unclassified(console: Console, group: GroupResult) -> None:
    if not group.files:
        return
    names = [f.path for f in group.files[:UNCLASSIFIED_SHOWN]]
    more = len(group.files) - len(names)
    listed = ", ".join(names) + (f" and {more} more" if more > 0 else "")
    _print(
        console,
        f"{text.plural(len(group.files), 'unclassified file', 'unclassified files')} "
        f"(counted in overall only): {listed}",
        style="dim",
    )


def _tests(console: Console, tests: TestSummary, quiet: bool) -> None:
    _print(
        console,
        f"tests: {text.tests_line(tests)}",
        style="bold" if tests.ok else "bold red",
    )
    if tests.ended_early is not None:
        _print(console, tests.ended_early, style="bold red")
    for failure in tests.failures:
        _print(console, f"  {failure.kind.upper()} {failure.name}: {failure.message}", style="red")
    if tests.slowest and not quiet:
        _print(console, "slowest tests:", style="dim")
        for slow in tests.slowest:
            _print(console, f"  {slow.seconds:8.2f}s  {slow.name}", style="dim")
