"""One canned outcome that every report format renders (and the golden files record)."""

from __future__ import annotations

from fractions import Fraction

from covgate.evaluate import evaluate, exit_code
from covgate.model import (
    Counts,
    FailedTest,
    FileCoverage,
    Measurement,
    Outcome,
    PathClass,
    Policy,
    SlowTest,
    TestSummary,
    Thresholds,
)

FILES = (
    FileCoverage(
        "app/auth/tokens.py",
        Counts(40, 3, 10, 1, 1),
        missing_lines=(12, 13, 40),
        partial_lines=(22,),
    ),
    FileCoverage("app/auth/passwords.py", Counts(30, 0, 8, 0, 0)),
    FileCoverage("app/payments/charge.py", Counts(25, 1, 6, 0, 0), missing_lines=(7,)),
    FileCoverage(
        "app/services/posts.py",
        Counts(60, 2, 20, 2, 2),
        missing_lines=(88, 89),
        partial_lines=(30, 41),
    ),
    FileCoverage("app/utils/slug.py", Counts(12, 0, 4, 0, 0)),
    FileCoverage("app/main.py", Counts(8, 4, 2, 1, 0), missing_lines=(5, 6, 7, 8)),
)

POLICY = Policy(
    overall=Thresholds(min=Fraction(90)),
    classes=(
        PathClass(
            "critical",
            ("**/auth/**", "**/payments/**", "!**/migrations/**"),
            Thresholds(min=Fraction(95), per_file=Fraction(94)),
        ),
        PathClass("business", ("**/services/**",), Thresholds(min=Fraction("94.5"))),
        PathClass("utils", ("**/utils/**",), Thresholds(min=Fraction(85), branches=Fraction(80))),
        PathClass("legacy", ("**/legacy/**",), Thresholds(min=Fraction(50)), allow_empty=True),
    ),
)

TESTS = TestSummary(
    passed=41,
    failed=1,
    errors=0,
    skipped=2,
    duration=3.25,
    failures=(FailedTest("tests/test_auth.py::test_expiry", "AssertionError: assert 3 == 4"),),
    slowest=(SlowTest("tests/api/test_posts.py::test_create", 0.75),),
)


def outcome(with_tests: bool = False) -> Outcome:
    measurement = Measurement(FILES, branch_measured=True, sources=(".coverage",))
    evaluation = evaluate(measurement, POLICY)
    tests = TESTS if with_tests else None
    return Outcome(
        evaluation=evaluation,
        exit_code=exit_code(evaluation, tests.ok if tests else None),
        precision=2,
        tests=tests,
        notes=("configuration: [tool.covgate] in pyproject.toml",),
        coverage_core="ctrace" if with_tests else None,
    )
