"""The Markdown report, for a pull-request comment or a GitHub job summary.

Every piece of text that comes from the project (file, class and test names, messages) is
escaped, so a name can neither break the table nor inject HTML or Markdown.
"""

from __future__ import annotations

import re

from covgate.model import Evaluation, Outcome, Status
from covgate.report import regressions, text

LIMIT = 1024 * 1024  # GitHub's limit for one step summary
UNCLASSIFIED_SHOWN = 50
PATCH_SHOWN = 100

_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "`": "&#96;"}
_BACKSLASHED = set("\\|*_[]~")
_ORDERED_ITEM = re.compile(r"^(\d+)([.)])(?=\s|$)")
_BLOCK_MARK = re.compile(r"^([-+#=])")


def escape(value: str) -> str:
    """Text safe in a Markdown table cell or list item: no HTML, no markup, one line."""
    out = []
    for char in value:
        if char in _ENTITIES:
            out.append(_ENTITIES[char])
        elif char in _BACKSLASHED:
            out.append("\\" + char)
        elif char in "\r\n\t\f\v\u2028\u2029":
            out.append(" ")
        else:
            out.append(char)
    # A leading '-', '+', '#', '=' or '1.' would start a list or a heading.
    escaped = _ORDERED_ITEM.sub(r"\1\\\2", "".join(out))
    return _BLOCK_MARK.sub(r"\\\1", escaped)


def render(
    outcome: Outcome, *, color: bool = False, width: int | None = None, verbosity: int = 0
) -> str:
    return cap(lines(outcome, verbosity), LIMIT)


def lines(outcome: Outcome, verbosity: int = 0) -> list[str]:
    evaluation = outcome.evaluation
    passed = outcome.exit_code == 0
    out = [f"## covgate: {'passed' if passed else 'FAILED'}", ""]
    out.extend(f"- {escape(note)}" for note in outcome.notes)
    out.append("")
    if outcome.tests is not None:
        tests = outcome.tests
        out.append(f"**Tests:** {text.tests_line(tests)}")
        out.append("")
        if tests.ended_early is not None:
            out.extend([f"**{escape(tests.ended_early)}**", ""])
        for failure in tests.failures[:20]:
            out.append(f"- {failure.kind}: {escape(failure.name)}: {escape(failure.message)}")
        if len(tests.failures) > 20:
            out.append(f"- and {len(tests.failures) - 20} more")
        if tests.failures:
            out.append("")
    if evaluation is not None:
        out.append("| " + " | ".join(text.COLUMNS) + " |")
        out.append("|" + "|".join(_align(column) for column in text.COLUMNS) + "|")
        groups = [*evaluation.classes]
        if evaluation.unclassified.files:
            groups.append(evaluation.unclassified)
        for group, cells in zip(groups, text.rows(evaluation, outcome.precision), strict=False):
            shown = [escape(cell) for cell in cells]
            if group.coverage_status in (Status.FAILED, Status.NO_FILES):
                shown[-1] = f"**{shown[-1]}**"
            out.append("| " + " | ".join(shown) + " |")
        overall = [escape(cell) for cell in text.row(evaluation.overall, outcome.precision)]
        out.append("| " + " | ".join(f"**{cell}**" if cell else "" for cell in overall) + " |")
        out.append("")
        misses = []
        for group in evaluation.classes:
            if group.status is Status.NO_FILES:
                misses.append(f"- {escape(text.empty_message(group))}")
        for group in evaluation.failed_groups:
            for line in text.misses(group, outcome.precision, text.gaps_limit(verbosity)):
                item = escape(line.text)
                bold = f"**{item}**" if line.kind == "heading" else item
                misses.append("  " * line.level + f"- {bold}")
        if misses:
            out.extend(["### What would make it pass", "", *misses, ""])
        out.extend(patch_lines(evaluation, outcome.precision))
        loose = evaluation.unclassified.files
        if loose:
            count = text.plural(len(loose), "unclassified file", "unclassified files")
            out.append(f"<details><summary>{count} (counted in overall only)</summary>")
            out.append("")
            out.extend(f"- {escape(f.path)}" for f in loose[:UNCLASSIFIED_SHOWN])
            if len(loose) > UNCLASSIFIED_SHOWN:
                out.append(f"- and {len(loose) - UNCLASSIFIED_SHOWN} more")
            out.extend(["", "</details>", ""])
    out.extend(_regressions(outcome))
    out.append(escape(text.headline(outcome)))
    return out


def _regressions(outcome: Outcome) -> list[str]:
    """The baseline and the policy at a git reference, as nested lists."""
    found = regressions.lines(outcome)
    if not found:
        return []
    out = ["### No regressions", ""]
    for line in found:
        item = escape(line.text)
        out.append("  " * line.level + f"- {f'**{item}**' if line.level == 0 else item}")
    out.append("")
    return out


def patch_lines(evaluation: Evaluation, precision: int) -> list[str]:
    """With a diff base: the patch table, then the uncovered changed lines per file."""
    diff = evaluation.diff
    if diff is None:
        return []
    heading = text.patch_heading(diff)
    out = [f"### {escape(heading[:1].upper() + heading[1:])}", ""]
    out.append("| " + " | ".join(text.COLUMNS) + " |")
    out.append("|" + "|".join(_align(column) for column in text.COLUMNS) + "|")
    for group in text.patch_groups(evaluation):
        shown = [escape(cell) for cell in text.patch_row(group, precision)]
        if group.patch is not None and not group.patch.passed:
            shown[-1] = f"**{shown[-1]}**"
        out.append("| " + " | ".join(shown) + " |")
    out.append("")
    gaps = text.patch_gap_files(evaluation)
    if gaps:
        out.extend(["**Uncovered changed lines**", ""])
        out.extend(f"- {escape(f.path)}: {escape(text.patch_gaps(f))}" for f in gaps[:PATCH_SHOWN])
        if len(gaps) > PATCH_SHOWN:
            out.append(f"- and {len(gaps) - PATCH_SHOWN} more files (see the JSON report)")
        out.append("")
    overall = evaluation.overall.patch
    if overall is not None and overall.unmeasured:
        out.extend([f"- {escape(text.unmeasured_message(overall.unmeasured, PATCH_SHOWN))}", ""])
    elif overall is not None and not gaps:
        out.extend(["Every changed line that coverage.py measures was run.", ""])
    return out


def _align(column: str) -> str:
    return ":--" if column in text.TEXT_COLUMNS else "--:"


def cap(lines: list[str], limit: int) -> str:
    """Join `lines`, cut at a line boundary so that the result stays within `limit` bytes."""
    note = "\n\n*(report truncated at {} KiB: the JSON report has everything)*\n"
    budget = limit - len(note.format(limit // 1024).encode())
    kept: list[str] = []
    used = 0
    for line in lines:
        size = len(line.encode()) + 1
        if used + size > budget:
            return "\n".join(kept) + note.format(limit // 1024)
        kept.append(line)
        used += size
    return "\n".join(kept) + "\n"
