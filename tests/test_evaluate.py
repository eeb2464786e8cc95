from __future__ import annotations

from fractions import Fraction

import pytest

from covgate.config import DEFAULT_CLASSES
from covgate.errors import ExitCode, NothingToJudge
from covgate.evaluate import evaluate, exit_code, meets, needed
from covgate.model import (
    Counts,
    FileCoverage,
    Measurement,
    Metric,
    PathClass,
    Policy,
    Status,
    Thresholds,
)


# The threshold rule, decided exactly (SPEC §3).
@pytest.mark.parametrize(
    ("covered", "total", "threshold", "passes"),
    [
        (9497, 10000, "95", False),  # 94.97 % does not pass 95 %
        (9499, 10000, "95", False),
        (9500, 10000, "95", True),
        (19, 20, "95", True),
        (18, 19, "95", False),  # 94.736...
        (2, 3, "66.67", False),  # 66.666... < 66.67
        (2, 3, "66.66", True),
        (1, 3, "33.333333", True),
        (1, 3, "33.333334", False),
        (0, 0, "100", True),  # nothing to cover is 100 %
        (0, 1, "0", True),
        (99, 100, "100", False),
        (100, 100, "100", True),
    ],
)
def test_threshold_decision(covered: int, total: int, threshold: str, passes: bool) -> None:
    assert meets(covered, total, Fraction(threshold)) is passes


@pytest.mark.parametrize(
    ("covered", "total", "threshold", "more"),
    [
        (9497, 10000, "95", 3),
        (9500, 10000, "95", 0),
        (0, 7, "100", 7),
        (16, 17, "95", 1),  # 17 * 0.95 = 16.15 -> 17 covered needed
        (40, 50, "90", 5),
        (2, 3, "66.67", 1),
    ],
)
def test_how_many_more_to_cover(covered: int, total: int, threshold: str, more: int) -> None:
    assert needed(covered, total, Fraction(threshold)) == more
    if more:
        assert meets(covered + more, total, Fraction(threshold))
        assert not meets(covered + more - 1, total, Fraction(threshold))


def file(path: str, stmts: int, miss: int, branches: int = 0, miss_br: int = 0) -> FileCoverage:
    return FileCoverage(
        path,
        Counts(stmts, miss, branches, miss_br),
        missing_lines=tuple(range(1, miss + 1)),
    )


def policy(*classes: PathClass, overall: str = "0", default: bool = False) -> Policy:
    return Policy(Thresholds(min=Fraction(overall)), classes, is_default=default)


def critical(**limits: object) -> PathClass:
    return PathClass("critical", ("**/auth/**",), Thresholds(**limits))  # type: ignore[arg-type]


def measured(*files: FileCoverage, branch: bool = True) -> Measurement:
    return Measurement(files=files, branch_measured=branch)


def test_class_counts_are_sums_and_percent_is_derived() -> None:
    data = measured(file("app/auth/a.py", 100, 0), file("app/auth/b.py", 2, 2), file("x.py", 5, 1))
    result = evaluate(data, policy(critical(min=Fraction(95))))
    group = result.classes[0]
    assert group.counts == Counts(102, 2, 0, 0)
    # Sums: 100/102 = 98.03 % passes; the average of file percentages (50 %) would not.
    assert group.status is Status.PASSED
    assert result.overall.counts == Counts(107, 3, 0, 0)
    assert [f.path for f in result.unclassified.files] == ["x.py"]


def test_a_class_at_94_97_percent_fails_95() -> None:
    data = measured(file("app/auth/a.py", 9000, 403, 1000, 100))  # 9497 / 10000
    result = evaluate(data, policy(critical(min=Fraction(95))))
    (check,) = result.classes[0].checks
    assert check.actual == Fraction(9497, 100)
    assert not check.passed
    assert check.needed == 3
    assert exit_code(result) is ExitCode.THRESHOLD_MISSED


def test_lines_and_branches_are_checked_apart() -> None:
    data = measured(file("app/auth/a.py", 100, 1, 10, 3))
    result = evaluate(data, policy(critical(lines=Fraction(99), branches=Fraction(80))))
    lines, branches = result.classes[0].checks
    assert (lines.metric, lines.passed) == (Metric.LINES, True)
    assert (branches.metric, branches.passed, branches.needed) == (Metric.BRANCHES, False, 1)


def test_per_file_floor_names_each_failing_file() -> None:
    data = measured(
        file("app/auth/a.py", 10, 0), file("app/auth/b.py", 10, 5), file("app/auth/c.py", 10, 3)
    )
    result = evaluate(data, policy(critical(per_file=Fraction(80))))
    failing = result.classes[0].failed_checks
    assert [(c.path, c.needed) for c in failing] == [("app/auth/b.py", 3), ("app/auth/c.py", 1)]


def test_per_file_floor_passing_reports_the_lowest_file() -> None:
    data = measured(file("app/auth/a.py", 10, 0), file("app/auth/b.py", 10, 1))
    (check,) = evaluate(data, policy(critical(per_file=Fraction(90)))).classes[0].checks
    assert (check.passed, check.path, check.actual) == (True, "app/auth/b.py", Fraction(90))


@pytest.mark.parametrize(("missing", "passes", "more"), [(10, True, 0), (11, False, 1)])
def test_max_missing(missing: int, passes: bool, more: int) -> None:
    data = measured(file("app/auth/a.py", 50, missing - 2, 10, 2))
    (check,) = evaluate(data, policy(critical(max_missing=10))).classes[0].checks
    assert (check.passed, check.needed, check.actual) == (passes, more, Fraction(missing))


def test_a_class_without_files_is_nothing_to_judge() -> None:
    result = evaluate(measured(file("app/x.py", 1, 0)), policy(critical(min=Fraction(90))))
    assert result.classes[0].status is Status.NO_FILES
    assert exit_code(result) is ExitCode.NOTHING_TO_JUDGE


def test_allow_empty_and_default_classes_are_skipped() -> None:
    allowed = PathClass("critical", ("**/auth/**",), Thresholds(min=Fraction(95)), True)
    result = evaluate(measured(file("app/x.py", 1, 0)), policy(allowed))
    assert result.classes[0].status is Status.EMPTY
    assert exit_code(result) is ExitCode.OK
    default = evaluate(measured(file("app/x.py", 1, 0)), policy(*DEFAULT_CLASSES, default=True))
    assert {group.status for group in default.classes} == {Status.EMPTY}


def test_overall_counts_every_file() -> None:
    data = measured(file("app/auth/a.py", 10, 0), file("x.py", 10, 10))
    result = evaluate(data, policy(critical(min=Fraction(90)), overall="90"))
    assert result.classes[0].passed
    assert not result.overall.passed
    assert result.overall.checks[0].needed == 8
    assert [g.name for g in result.failed_groups] == ["overall"]


def test_branch_threshold_without_branch_data_is_refused() -> None:
    data = measured(file("app/auth/a.py", 10, 0), branch=False)
    with pytest.raises(NothingToJudge, match="no branch measurement"):
        evaluate(data, policy(critical(branches=Fraction(90))))


@pytest.mark.parametrize(
    ("tests_ok", "files", "code"),
    [
        (True, [file("app/auth/a.py", 10, 0)], ExitCode.OK),
        (None, [file("app/auth/a.py", 10, 0)], ExitCode.OK),
        (False, [file("app/auth/a.py", 10, 0)], ExitCode.TESTS_FAILED),
        (True, [file("app/auth/a.py", 10, 5)], ExitCode.THRESHOLD_MISSED),
        (False, [file("app/auth/a.py", 10, 5)], ExitCode.TESTS_FAILED),
        (True, [file("app/x.py", 10, 0)], ExitCode.NOTHING_TO_JUDGE),
    ],
)
def test_exit_code_table(tests_ok: bool | None, files: list[FileCoverage], code: int) -> None:
    result = evaluate(measured(*files), policy(critical(min=Fraction(90))))
    assert exit_code(result, tests_ok) == code
