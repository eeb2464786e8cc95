"""Pure: measured files + changed lines -> the coverage of the changed lines (SPEC §10).

A statement is changed when the line coverage.py reports it on is changed; a branch is changed
when its source line is. The metric is the combined one of `min`, restricted to the changed
statements and branches; with line data only it is the share of changed lines executed.
"""

from __future__ import annotations

from collections.abc import Sequence

from covgate.model import Counts, FileCoverage, FilePatch

PYTHON_SUFFIXES = (".py", ".pyw")


def file_patch(file: FileCoverage, changed: Sequence[int]) -> FilePatch | None:
    """`file` restricted to its `changed` lines; None when none of its lines changed."""
    if not changed:
        return None
    lines = set(changed)
    statements = sum(1 for line in file.statements if line in lines)
    uncovered = tuple(line for line in file.missing_lines if line in lines)
    missed = set(uncovered)
    exits = sum(count for line, count in file.branch_exits if line in lines)
    not_taken = [(line, count) for line, count in file.missing_exits if line in lines]
    return FilePatch(
        path=file.path,
        changed_lines=tuple(sorted(lines)),
        counts=Counts(
            statements=statements,
            missing_statements=len(uncovered),
            branches=exits,
            missing_branches=sum(count for _, count in not_taken),
            partial_branches=sum(count for line, count in not_taken if line not in missed),
        ),
        uncovered_lines=uncovered,
        partial_lines=tuple(line for line, _ in not_taken if line not in missed),
    )


def is_python(path: str) -> bool:
    return path.endswith(PYTHON_SUFFIXES)
