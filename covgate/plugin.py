"""covgate's pytest plugin, loaded in the child process of `covgate run` only.

It records what pytest itself reports: each test's exact node id, its outcome as pytest's
terminal counts it (through `pytest_report_teststatus`, so xfail and xpass are apart), and
its duration; with pytest-xdist, the controller receives every worker's reports through the
same hooks. The record format is described in covgate.results. Nothing here changes how
pytest collects, runs or reports: a project's own `--junitxml` and options stay its own.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from covgate import results
from covgate.results import TestResult

_CALL_OUTCOMES = frozenset(("passed", "failed", "skipped", "xfailed", "xpassed"))


@dataclass
class _Progress:
    outcome: str | None = None
    duration: float = 0.0
    message: str = ""


class Recorder:
    """Records a session's results to `path` (and its journal while it runs)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.collected: int | None = None
        self.running: dict[str, _Progress] = {}
        self.finished: dict[str, TestResult] = {}
        self.collection_errors: list[TestResult] = []
        self.stopped: str | None = None
        self.started = time.perf_counter()
        self.config: pytest.Config | None = None
        self.distributed = False
        """Whether xdist ran the tests in workers (and none in this process)."""
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_BINARY", 0)
        self._journal = os.open(results.journal_path(path), flags, 0o644)

    # --- collection ---------------------------------------------------------------------------

    def pytest_configure(self, config: pytest.Config) -> None:
        self.config = config
        if config.option.collectonly:
            self.stopped = "--collect-only: no test was run"

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.started = time.perf_counter()

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_setupnodes(self, config: pytest.Config, specs: list[Any]) -> None:
        self.distributed = True

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self._set_collected(len(session.items))

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        """With xdist the controller collects nothing: each worker reports its collection."""
        if self.collected is None:
            self._set_collected(len(ids))

    def _set_collected(self, count: int) -> None:
        self.collected = count
        self._write_journal({"collected": count})

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors.append(TestResult(report.nodeid, "error", 0.0, _message(report)))

    # --- tests --------------------------------------------------------------------------------

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        progress = self.running.setdefault(report.nodeid, _Progress())
        progress.duration += report.duration
        reported = report.outcome  # as it came, whatever another plugin's hook does to it
        category = self._category(report)
        if report.when == "call":
            # A plugin's own category falls back to pytest's outcome; a report that is neither
            # (pytest-rerunfailures' "rerun", retried next) leaves the test as it was.
            outcome = category if category in _CALL_OUTCOMES else reported
            if outcome in _CALL_OUTCOMES:
                progress.outcome = outcome
                progress.message = _message(report)
        elif report.failed and progress.outcome not in ("failed", "error"):
            progress.outcome = "error"  # a failing setup or teardown
            progress.message = _message(report)
        elif report.when == "setup" and report.skipped:
            progress.outcome = "xfailed" if category == "xfailed" else "skipped"
            progress.message = _message(report)
        if report.when == "teardown":
            del self.running[report.nodeid]
            result = TestResult(
                report.nodeid, progress.outcome or "passed", progress.duration, progress.message
            )
            self.finished[report.nodeid] = result
            self._write_journal(result.to_json())

    def _category(self, report: pytest.TestReport) -> str:
        if self.config is None:
            return report.outcome
        status = self.config.hook.pytest_report_teststatus(report=report, config=self.config)
        return str(status[0]) if status else report.outcome

    # --- the end ------------------------------------------------------------------------------

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        """Ctrl-C, pytest.exit(), collection errors and xdist's -x all end up here."""
        value = excinfo.value
        self.stopped = str(getattr(value, "msg", "") or value or excinfo.typename)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        stopped = self.stopped or session.shouldfail or session.shouldstop or None
        doc = results.document(
            exitstatus=int(exitstatus),
            collected=self.collected,
            results=self.finished.values(),
            collection_errors=self.collection_errors,
            duration=time.perf_counter() - self.started,
            stopped=str(stopped) if stopped else None,
        )
        partial = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        partial.write_text(json.dumps(doc), encoding="utf-8")
        os.replace(partial, self.path)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        os.close(self._journal)

    def _write_journal(self, entry: dict[str, Any]) -> None:
        os.write(self._journal, (json.dumps(entry) + "\n").encode("utf-8"))


def _message(report: pytest.TestReport | pytest.CollectReport) -> str:
    """The first line pytest would show for this report: the error, or the skip reason."""
    reason = getattr(report, "wasxfail", None)
    longrepr = report.longrepr
    crash = getattr(longrepr, "reprcrash", None)
    if report.failed and crash is not None:
        text = str(crash.message)
    elif reason:
        text = str(reason)
    elif isinstance(longrepr, tuple) and len(longrepr) == 3:
        text = str(longrepr[2]).removeprefix("Skipped: ")
    elif longrepr is None:
        text = ""
    else:
        text = str(longrepr)
    text = text.strip()
    return text.splitlines()[0] if text else ""
