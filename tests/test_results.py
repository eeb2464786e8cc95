"""The session record of covgate's plugin: reading it, its journal, and what counts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from covgate import results
from covgate.commands import session_summary
from covgate.errors import ExitCode, NothingToJudge
from covgate.model import FailedTest, SlowTest, TestSummary
from covgate.results import Session, TestResult
from covgate.runner import PytestCouldNotRun

RESULTS = (
    TestResult("tests/test_a.py::test_ok", "passed", 0.5),
    TestResult("tests/test_a.py::TestC::test_m[1]", "failed", 0.25, "AssertionError: wrong"),
    TestResult("tests/test_a.py::test_td", "error", 0.125, "RuntimeError: boom"),
    TestResult("tests/test_a.py::test_sk", "skipped", 0.0, "later"),
    TestResult("tests/test_a.py::test_xf", "xfailed", 0.0625, "known bug"),
    TestResult("tests/test_a.py::test_xp", "xpassed", 0.0625, ""),
)


def finished(
    exitstatus: int = 0, collected: int | None = 6, stopped: str | None = None, count: int = 6
) -> Session:
    return Session(True, exitstatus, collected, RESULTS[:count], (), 2.5, stopped)


def test_a_finished_record_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    doc = results.document(
        exitstatus=1,
        collected=6,
        results=RESULTS,
        collection_errors=[TestResult("tests/test_bad.py", "error", 0.0, "ImportError: x")],
        duration=2.5,
        stopped=None,
    )
    path.write_text(json.dumps(doc))
    session = results.load(path)
    assert session == Session(
        True, 1, 6, RESULTS, (TestResult("tests/test_bad.py", "error", 0.0, "ImportError: x"),),
        2.5, None,
    )  # fmt: skip
    assert session.complete
    assert results.summary(session) == TestSummary(
        passed=1,
        failed=1,
        errors=2,
        skipped=1,
        duration=2.5,
        failures=(
            FailedTest("tests/test_bad.py", "ImportError: x", "error"),
            FailedTest("tests/test_a.py::TestC::test_m[1]", "AssertionError: wrong", "failure"),
            FailedTest("tests/test_a.py::test_td", "RuntimeError: boom", "error"),
        ),
        slowest=(
            SlowTest("tests/test_a.py::test_ok", 0.5),
            SlowTest("tests/test_a.py::TestC::test_m[1]", 0.25),
            SlowTest("tests/test_a.py::test_td", 0.125),
            SlowTest("tests/test_a.py::test_xf", 0.0625),
            SlowTest("tests/test_a.py::test_xp", 0.0625),
        ),
        xfailed=1,
        xpassed=1,
        collected=6,
    )
    assert results.durations(session)["tests/test_a.py::TestC::test_m[1]"] == 0.25


def test_without_a_record_the_journal_tells_how_far_the_session_got(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    lines = [
        json.dumps({"collected": 5}),
        *(json.dumps(r.to_json()) for r in RESULTS[:2]),
        json.dumps(RESULTS[0].to_json()),  # a rerun: the last report wins, counted once
        '{"nodeid": "tests/test_a.py::test_cut", "outc',  # the process died mid-line
    ]
    results.journal_path(path).write_text("\n".join(lines))
    session = results.load(path)
    assert session == Session(False, None, 5, RESULTS[:2], (), 0.75, None)
    assert not session.complete


@pytest.mark.parametrize(
    "content",
    ['{"version": 1, "finished": false}', '{"version": 99, "finished": true}', "not json", None],
)
def test_no_usable_record_and_no_journal_is_none(tmp_path: Path, content: str | None) -> None:
    path = tmp_path / "results.json"
    if content is not None:
        path.write_text(content)
    assert results.load(path) is None


def test_an_unknown_outcome_is_not_a_record(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    doc = results.document(exitstatus=0, collected=1, results=[], collection_errors=[],
                           duration=1.0, stopped=None)  # fmt: skip
    doc["results"] = [{"nodeid": "t", "outcome": "rerun", "duration": 0.1}]
    path.write_text(json.dumps(doc))
    assert results.load(path) is None


@pytest.mark.parametrize(
    ("returncode", "session", "ended_early"),
    [
        (1, finished(1), None),
        (0, finished(0, collected=None), None),
        (2, finished(2, stopped="stop now", count=2), "after 2 of 6 tests (stop now)"),
        (1, finished(1, stopped="stopping after 1 failures", count=2),
         "after 2 of 6 tests (stopping after 1 failures)"),
        (0, Session(False, None, 6, RESULTS[:3]),
         "after 3 of 6 tests (pytest's process exited with code 0 before it finished)"),
        (-11, Session(False, None, None, RESULTS[:1]),
         "after 1 tests (pytest's process was killed by signal 11 before it finished)"),
        (3, Session(False, None, 6, ()),
         "after 0 of 6 tests (pytest's process exited with code 3 before it finished)"),
        (0, None, ", before any test reported (pytest's process exited with code 0)"),
        (-9, None, ", before any test reported (pytest's process was killed by signal 9)"),
    ],
)  # fmt: skip
def test_a_session_counts_only_when_every_collected_test_reported(
    returncode: int, session: Session | None, ended_early: str | None
) -> None:
    summary = session_summary(returncode, session, wall=7.0)
    if ended_early is None:
        assert summary.ended_early is None
        assert summary.collected == session.collected  # type: ignore[union-attr]
        return
    assert summary.ended_early == f"the test session ended early{' ' * (ended_early[0] != ',')}" + (
        ended_early
    )
    assert not summary.ok
    finished_session = session is not None and session.finished
    assert summary.duration == (2.5 if finished_session else 7.0)


@pytest.mark.parametrize(
    ("returncode", "session", "kind"),
    [
        (3, finished(3, count=0), "an internal error"),
        (4, finished(4, count=0), "a usage error"),
        (4, None, "a usage error"),
        (3, None, "an internal error"),
    ],
)
def test_pytest_that_could_not_run_the_suite_is_exit_3(
    returncode: int, session: Session | None, kind: str
) -> None:
    with pytest.raises(PytestCouldNotRun) as caught:
        session_summary(returncode, session)
    assert caught.value.exit_code == ExitCode.USAGE
    assert str(caught.value) == (
        f"pytest could not run the suite ({kind}, pytest's exit code {returncode}; see its "
        "message above): nothing was judged"
    )


def test_no_tests_collected_is_nothing_to_judge() -> None:
    with pytest.raises(NothingToJudge, match=r"^pytest collected no tests$"):
        session_summary(5, finished(5, collected=0, count=0))
