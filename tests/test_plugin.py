"""covgate's pytest plugin, in a real pytest session run in this process (pytester)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from covgate import results
from covgate.plugin import Recorder
from covgate.results import TestResult

pytest_plugins = ("pytester",)

MIXED = """\
import pytest


def test_ok():
    pass


@pytest.mark.xfail(reason="known bug")
def test_xfail():
    assert False


@pytest.mark.xfail(reason="fixed already?")
def test_xpass():
    pass


@pytest.mark.xfail(strict=True, reason="must fail")
def test_xpass_strict():
    pass


@pytest.mark.xfail(run=False, reason="would hang")
def test_xfail_not_run():
    pass


@pytest.mark.skip(reason="later")
def test_skip():
    pass


@pytest.fixture
def broken_setup():
    raise RuntimeError("setup boom")


@pytest.fixture
def broken_teardown():
    yield
    raise RuntimeError("teardown boom")


def test_setup_error(broken_setup):
    pass


def test_teardown_error(broken_teardown):
    pass


def test_fails_and_teardown_errors(broken_teardown):
    assert 1 == 2, "wrong"


@pytest.mark.parametrize("value", ["a::b", "c d"])
def test_param(value):
    pass


class TestGroup:
    class TestInner:
        def test_deep(self):
            pass
"""


def recorded(pytester: pytest.Pytester, *args: str) -> tuple[Any, pytest.RunResult]:
    path = pytester.path / "covgate-results.json"
    # Whatever plugins this environment has, the inner session does without them.
    outcome = pytester.runpytest_inprocess(
        "-p", "no:asyncio", "-p", "no:cacheprovider", *args, plugins=[Recorder(path)]
    )
    doc = json.loads(path.read_text())
    return doc, outcome


def test_outcomes_and_node_ids_as_pytest_reports_them(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(auth_test=MIXED)
    pytester.makeini("[pytest]\npython_files = *_test.py\n")
    doc, outcome = recorded(pytester)
    # pytest counts a failing teardown as an error beside its test's call; covgate counts each
    # test once, by its worst phase.
    outcome.assert_outcomes(passed=5, failed=2, errors=3, skipped=1, xfailed=2, xpassed=1)
    got = {r["nodeid"]: (r["outcome"], r["message"]) for r in doc["results"]}
    assert got == {
        "auth_test.py::test_ok": ("passed", ""),
        "auth_test.py::test_xfail": ("xfailed", "known bug"),
        "auth_test.py::test_xpass": ("xpassed", "fixed already?"),
        "auth_test.py::test_xpass_strict": ("failed", "[XPASS(strict)] must fail"),
        "auth_test.py::test_xfail_not_run": ("xfailed", "[NOTRUN] would hang"),
        "auth_test.py::test_skip": ("skipped", "later"),
        "auth_test.py::test_setup_error": ("error", "RuntimeError: setup boom"),
        "auth_test.py::test_teardown_error": ("error", "RuntimeError: teardown boom"),
        "auth_test.py::test_fails_and_teardown_errors": ("failed", "AssertionError: wrong"),
        "auth_test.py::test_param[a::b]": ("passed", ""),
        "auth_test.py::test_param[c d]": ("passed", ""),
        "auth_test.py::TestGroup::TestInner::test_deep": ("passed", ""),
    }
    header = (doc["version"], doc["finished"], doc["exitstatus"], doc["collected"])
    assert header == (1, True, 1, 12)
    assert doc["stopped"] is None
    assert all(r["duration"] >= 0 for r in doc["results"])
    session = results.load(pytester.path / "covgate-results.json")
    assert session is not None
    assert session.complete
    summary = results.summary(session)
    counts = (summary.passed, summary.failed, summary.errors, summary.skipped)
    assert (*counts, summary.xfailed, summary.xpassed) == (4, 2, 2, 1, 2, 1)


def test_durations_add_setup_call_and_teardown(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_slow="""\
        import time

        import pytest


        @pytest.fixture
        def slow_both_ends():
            time.sleep(0.2)
            yield
            time.sleep(0.2)


        def test_slow(slow_both_ends):
            time.sleep(0.2)
        """
    )
    doc, _ = recorded(pytester)
    (only,) = doc["results"]
    assert 0.6 <= only["duration"] < 2.0


def test_deselected_tests_are_not_collected(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_k="def test_one():\n    pass\n\n\ndef test_two():\n    pass\n")
    doc, _ = recorded(pytester, "-k", "one")
    assert doc["collected"] == 1
    assert [r["nodeid"] for r in doc["results"]] == ["test_k.py::test_one"]


def test_a_session_stopped_early_says_why(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_stop="""\
        import pytest


        def test_one():
            pass


        def test_two():
            pytest.exit("enough for today")


        def test_three():
            pass
        """
    )
    doc, _ = recorded(pytester)
    assert (doc["collected"], len(doc["results"]), doc["stopped"]) == (3, 1, "enough for today")
    session = results.load(pytester.path / "covgate-results.json")
    assert session is not None
    assert not session.complete


def test_exitfirst_and_collection_errors_say_why(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_x="def test_a():\n    assert 0\n\n\ndef test_b():\n    pass\n")
    doc, _ = recorded(pytester, "-x")
    assert (doc["collected"], len(doc["results"]), doc["stopped"]) == (
        2, 1, "stopping after 1 failures",
    )  # fmt: skip
    pytester.makepyfile(test_broken="import no_such_module_here\n")
    doc, _ = recorded(pytester)
    assert doc["stopped"] == "1 error during collection"
    (error,) = doc["collection_errors"]
    assert error["nodeid"] == "test_broken.py"
    assert error["message"].startswith("ImportError while importing test module")


def test_the_journal_is_written_as_tests_finish(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_j="def test_a():\n    pass\n\n\ndef test_b():\n    assert 0\n")
    recorded(pytester)
    journal = results.journal_path(pytester.path / "covgate-results.json").read_text()
    lines = [json.loads(line) for line in journal.splitlines()]
    assert lines == [
        {"collected": 2},
        TestResult("test_j.py::test_a", "passed", lines[1]["duration"]).to_json(),
        TestResult("test_j.py::test_b", "failed", lines[2]["duration"], "assert 0").to_json(),
    ]


def test_collect_only_runs_nothing_and_says_so(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makepyfile(test_c="def test_a():\n    pass\n")
    doc, _ = recorded(pytester, "--collect-only")
    assert (doc["collected"], doc["results"]) == (1, [])
    assert doc["stopped"] == "--collect-only: no test was run"


def test_a_plugin_s_own_categories_fall_back_to_pytest_s_outcome(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """\
        def pytest_report_teststatus(report, config):
            if report.when == "call":
                return "custom", "C", "CUSTOM"
        """
    )
    pytester.makepyfile(test_c="def test_good():\n    pass\n\n\ndef test_bad():\n    assert 0\n")
    doc, outcome = recorded(pytester)
    assert outcome.ret == 1
    assert [(r["nodeid"], r["outcome"]) for r in doc["results"]] == [
        ("test_c.py::test_good", "passed"),
        ("test_c.py::test_bad", "failed"),
    ]
