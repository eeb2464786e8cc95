from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest

from covgate.model import Counts, FileCoverage, floor_percent, format_threshold, line_ranges


@pytest.mark.parametrize(
    ("covered", "total", "precision", "shown"),
    [
        (9497, 10000, 2, "94.97"),
        (94999, 100000, 2, "94.99"),  # never rounded up to 95.00
        (2, 3, 2, "66.66"),
        (2, 3, 0, "66"),
        (1, 3, 3, "33.333"),
        (199, 200, 1, "99.5"),
        (999, 1000, 0, "99"),  # 99.9 is not shown as 100
        (1, 1, 2, "100.00"),
        (0, 5, 2, "0.00"),
        (1, 100000, 2, "0.00"),
    ],
)
def test_floor_percent_rounds_down(covered: int, total: int, precision: int, shown: str) -> None:
    assert floor_percent(Fraction(covered, total), precision) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Fraction(95), "95"),
        (Fraction("94.5"), "94.5"),
        (Fraction("94.97"), "94.97"),
        (Fraction("0.001"), "0.001"),
        (Fraction(0), "0"),
        (Fraction(100), "100"),
    ],
)
def test_format_threshold(value: Fraction, shown: str) -> None:
    assert format_threshold(value) == shown


@pytest.mark.parametrize(
    ("lines", "ranges"),
    [
        ([], ""),
        ([4], "4"),
        ([1, 2, 3, 7, 9, 10], "1-3, 7, 9-10"),
        ([10, 9, 1], "1, 9-10"),
    ],
)
def test_line_ranges(lines: list[int], ranges: str) -> None:
    assert line_ranges(lines) == ranges


def test_counts_add_and_derive() -> None:
    a = Counts(statements=10, missing_statements=2, branches=4, missing_branches=1)
    b = Counts(statements=5, missing_statements=5, branches=2, missing_branches=2)
    total = a + b
    assert total == Counts(15, 7, 6, 3, 0)
    assert total.covered == (15 - 7) + (6 - 3)
    assert total.total == 21
    assert total.ratio == Fraction(11, 21)
    assert total.percent == pytest.approx(100 * 11 / 21)
    assert Counts.sum([a, b]) == total
    # A class's percentage comes from the sums, never from an average of file percentages.
    assert total.ratio != (a.ratio + b.ratio) / 2


def test_nothing_to_cover_is_100_percent() -> None:
    empty = Counts()
    assert empty.ratio == 1
    assert empty.percent == 100.0
    assert empty.line_ratio == 1
    assert empty.branch_ratio == 1


@pytest.mark.parametrize(
    ("kwargs", "counts", "missing_lines", "partial_lines", "missing_exits"),
    [
        pytest.param(
            {"statements": [3, 1, 2, 2], "missing": [2]},
            Counts(3, 1, 0, 0, 0),
            (2,),
            (),
            (),
            id="lines-only",
        ),
        pytest.param(
            {
                "statements": [1, 2, 3, 4, 5],
                "missing": [4, 5],
                "branch_exits": {1: 2, 4: 2},
                "missing_arcs": [(1, 3), (4, 5), (4, -1), (4, 5)],
            },
            Counts(5, 2, 4, 3, 1),  # a partial branch: a missing exit of an executed line
            (4, 5),
            (1,),
            ((1, 1), (4, 2)),
            id="arcs",
        ),
        pytest.param(
            {
                "statements": [10, 11],
                "missing": [],
                "branch_exits": {10: 4},
                "missing_exits": {10: 3, 11: 0},
            },
            Counts(2, 0, 4, 3, 3),
            (),
            (10,),
            ((10, 3),),
            id="exit-counts",
        ),
    ],
)
def test_measured_file_derives_counts_from_its_lines(
    kwargs: dict[str, Any],
    counts: Counts,
    missing_lines: tuple[int, ...],
    partial_lines: tuple[int, ...],
    missing_exits: tuple[tuple[int, int], ...],
) -> None:
    file = FileCoverage.measured("a.py", **kwargs)

    assert file.counts == counts
    assert file.missing_lines == missing_lines
    assert file.partial_lines == partial_lines
    assert file.missing_exits == missing_exits
    assert file.statements == tuple(sorted(set(kwargs["statements"])))
