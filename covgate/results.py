"""The test results of one pytest session, as covgate's plugin records them.

The plugin (covgate.plugin, loaded in the child process) appends one JSON line per finished
test to a journal while the session runs, and at the session's end writes the whole record
atomically:

    {"version": 1, "finished": true, "exitstatus": 0, "collected": 12, "duration": 3.2,
     "stopped": null, "collection_errors": [{"nodeid": "tests/test_x.py", "message": "..."}],
     "results": [{"nodeid": "tests/test_x.py::test_a", "outcome": "passed",
                  "duration": 0.01, "message": ""}]}

`outcome` is one of OUTCOMES, as pytest counts it (xfail and xpass apart); a test counts once,
whatever its setup and teardown did. When the session never finished (a test called
os._exit, the process died), the journal still tells how far it got.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from covgate.model import FailedTest, SlowTest, TestSummary

VERSION = 1
OUTCOMES = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")
SLOWEST = 5


@dataclass(frozen=True)
class TestResult:
    __test__ = False  # not a test class, for pytest

    nodeid: str
    outcome: str
    duration: float
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "nodeid": self.nodeid,
            "outcome": self.outcome,
            "duration": self.duration,
            "message": self.message,
        }


@dataclass(frozen=True)
class Session:
    finished: bool
    """False when only the journal was found: the session ended before pytest finished it."""
    exitstatus: int | None
    collected: int | None
    """Items collected (after deselection); None when collection never finished."""
    results: tuple[TestResult, ...]
    collection_errors: tuple[TestResult, ...] = ()
    duration: float = 0.0
    stopped: str | None = None
    """Why pytest stopped before running every test, when it said (-x, pytest.exit, …)."""

    @property
    def complete(self) -> bool:
        """The session finished and every collected test reported an outcome."""
        return self.finished and len(self.results) >= (self.collected or 0)


def journal_path(results: Path) -> Path:
    return results.with_name(results.name + ".journal")


def load(path: Path) -> Session | None:
    """The session recorded at `path`, else what its journal holds, else None."""
    try:
        return _from_document(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError, KeyError):
        pass
    return _from_journal(journal_path(path))


def _result(entry: Mapping[str, Any]) -> TestResult:
    outcome = str(entry["outcome"])
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    return TestResult(
        str(entry["nodeid"]), outcome, float(entry["duration"]), str(entry.get("message", ""))
    )


def _from_document(doc: Mapping[str, Any]) -> Session:
    if doc["version"] != VERSION or doc.get("finished") is not True:
        raise ValueError("not a finished session of this version")
    collected = doc.get("collected")
    return Session(
        finished=True,
        exitstatus=int(doc["exitstatus"]),
        collected=int(collected) if collected is not None else None,
        results=tuple(_result(entry) for entry in doc["results"]),
        collection_errors=tuple(
            TestResult(str(e["nodeid"]), "error", 0.0, str(e.get("message", "")))
            for e in doc.get("collection_errors", [])
        ),
        duration=float(doc.get("duration", 0.0)),
        stopped=doc.get("stopped"),
    )


def _from_journal(path: Path) -> Session | None:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    collected = None
    results: dict[str, TestResult] = {}
    for line in lines:
        try:
            entry = json.loads(line)
            if "collected" in entry:
                collected = int(entry["collected"])
            else:
                result = _result(entry)
                results[result.nodeid] = result
        except (ValueError, TypeError, KeyError):
            continue  # a line cut short by the end of the process
    return Session(
        finished=False,
        exitstatus=None,
        collected=collected,
        results=tuple(results.values()),
        duration=sum(r.duration for r in results.values()),
    )


def document(
    *,
    exitstatus: int,
    collected: int | None,
    results: Iterable[TestResult],
    collection_errors: Iterable[TestResult],
    duration: float,
    stopped: str | None,
) -> dict[str, Any]:
    """The whole record, as the plugin writes it at the end of the session."""
    return {
        "version": VERSION,
        "finished": True,
        "exitstatus": exitstatus,
        "collected": collected,
        "duration": duration,
        "stopped": stopped,
        "collection_errors": [
            {"nodeid": e.nodeid, "message": e.message} for e in collection_errors
        ],
        "results": [r.to_json() for r in results],
    }


def summary(session: Session, ended_early: str | None = None) -> TestSummary:
    """The test summary the reports show."""
    count = dict.fromkeys(OUTCOMES, 0)
    for result in session.results:
        count[result.outcome] += 1
    problems = [
        *session.collection_errors,
        *(r for r in session.results if r.outcome in ("failed", "error")),
    ]
    slowest = sorted(session.results, key=lambda r: (-r.duration, r.nodeid))[:SLOWEST]
    return TestSummary(
        passed=count["passed"],
        failed=count["failed"],
        errors=count["error"] + len(session.collection_errors),
        skipped=count["skipped"],
        duration=session.duration,
        failures=tuple(
            FailedTest(r.nodeid, r.message, "failure" if r.outcome == "failed" else "error")
            for r in problems
        ),
        slowest=tuple(SlowTest(r.nodeid, r.duration) for r in slowest),
        xfailed=count["xfailed"],
        xpassed=count["xpassed"],
        collected=session.collected,
        ended_early=ended_early,
    )


def durations(session: Session) -> dict[str, float]:
    """Each test's duration (setup, call and teardown), by its exact node id."""
    return {r.nodeid: r.duration for r in session.results}
