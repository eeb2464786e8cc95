"""Test results: pytest's JUnit XML, read with junitparser, summarised for the reports."""

from __future__ import annotations

from pathlib import Path

from covgate.errors import DataError
from covgate.model import FailedTest, SlowTest, TestSummary

SLOWEST = 5


def node_name(classname: str | None, name: str | None) -> str:
    """pytest's JUnit classname joins folders, module and classes with dots:
    'tests.api.test_posts.TestCreate' + 'test_ok' -> 'tests/api/test_posts.py::TestCreate::test_ok'.
    """
    if not classname:
        return name or "?"
    parts = classname.split(".")
    # The module is the last part that starts with 'test' (pytest's default naming); what
    # follows it are classes.
    split = next(
        (i for i in range(len(parts) - 1, -1, -1) if parts[i].startswith("test")), len(parts) - 1
    )
    module = "/".join(parts[: split + 1]) + ".py"
    return "::".join([module, *parts[split + 1 :], name or "?"])


def _cases(path: Path) -> tuple[list[tuple[str, float, str, str]], float]:
    """(node name, seconds, outcome, message) of each test case, and the session's seconds.
    The outcome is 'passed', 'failure', 'error' or 'skipped'."""
    from junitparser import Error, Failure, JUnitXml, JUnitXmlError, TestSuite

    try:
        xml = JUnitXml.fromfile(str(path))
    except (OSError, JUnitXmlError, SyntaxError) as exc:
        raise DataError(f"{path}: cannot read the JUnit XML of the test run ({exc})") from None
    suites = [xml] if isinstance(xml, TestSuite) else list(xml)
    cases = []
    seconds = 0.0
    for suite in suites:
        seconds += float(suite.time or 0.0)
        for case in suite:
            results = case.result
            problem = next((r for r in results if isinstance(r, (Error, Failure))), None)
            if problem is not None:
                outcome = "error" if isinstance(problem, Error) else "failure"
                message = _first_line(problem.message)
            else:
                outcome = "skipped" if case.is_skipped else "passed"
                message = ""
            name = node_name(case.classname, case.name)
            cases.append((name, float(case.time or 0.0), outcome, message))
    return cases, seconds


def read_summary(path: Path) -> TestSummary:
    """The summary of one run, with the session time pytest recorded."""
    cases, duration = _cases(path)
    count = dict.fromkeys(("passed", "failure", "error", "skipped"), 0)
    for _, _, outcome, _ in cases:
        count[outcome] += 1
    slowest = sorted(cases, key=lambda c: (-c[1], c[0]))[:SLOWEST]
    return TestSummary(
        passed=count["passed"],
        failed=count["failure"],
        errors=count["error"],
        skipped=count["skipped"],
        duration=duration,
        failures=tuple(
            FailedTest(name, message, outcome)
            for name, _, outcome, message in cases
            if outcome in ("failure", "error")
        ),
        slowest=tuple(SlowTest(name, seconds) for name, seconds, _, _ in slowest),
    )


def read_durations(path: Path) -> dict[str, float]:
    """Each test's duration, by node name."""
    return {name: seconds for name, seconds, _, _ in _cases(path)[0]}


def _first_line(message: str | None) -> str:
    text = (message or "").strip()
    return text.splitlines()[0] if text else ""
