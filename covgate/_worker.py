"""Coverage in pytest-xdist's workers, started as pytest loads its plugins there.

The child of `covgate run` exports its coverage.py configuration so that every Python started
from it measures itself from interpreter start (covgate.runner). For xdist's workers that
start is costly: coverage.py is imported and started before the worker can answer the
controller, so each worker also delays the start of the next one, and everything the worker
loads before its first test runs under the tracer. This module, loaded with `-p` in the child
and (through the same arguments) in every worker, moves the start in the workers to the
moment pytest imports it there: before the project's plugins, conftest files and tests.

That is only exact when nothing the project measures runs in a worker before that moment.
The child checks this when xdist is about to start the workers: if a file that coverage.py
would measure was loaded before this module (a project that is itself a pytest plugin, or
pytest, pluggy or xdist measuring themselves), the workers measure from interpreter start as
any other child Python does.

The configuration travels in an environment variable of its own while the workers are
started, and the worker puts coverage.py's variables back before it starts, so the tests'
own child processes are measured as always.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from coverage import Coverage

STASH = "COVGATE_WORKER_COVERAGE"
"""coverage.py's start-up variables, while xdist starts the workers (a JSON object)."""
STARTUP_VARIABLES = ("COVERAGE_PROCESS_CONFIG", "COVERAGE_PROCESS_START")
# The packages whose code runs in a worker before this module: xdist's worker loop and
# execnet's bootstrap (the controller imports them too, but after this module).
_WORKER_PACKAGES = ("xdist", "execnet")
_SOURCE_SUFFIXES = (".py", ".pyw", ".pyc")


def _start_in_worker() -> None:
    stashed = os.environ.pop(STASH, None)
    if stashed is None:
        return
    os.environ.update(json.loads(stashed))
    import coverage

    coverage.process_startup()


def _module_files(names: Iterable[str] | None = None) -> frozenset[str]:
    modules = sys.modules if names is None else {n: sys.modules.get(n) for n in names}
    files = (getattr(module, "__file__", None) for module in list(modules.values()))
    return frozenset(file for file in files if isinstance(file, str))


_start_in_worker()
# What this process had loaded by now: in a worker, the same had run before its start.
_LOADED_BEFORE = _module_files()


def measured_early(cov: Coverage, files: Iterable[str]) -> bool:
    """Whether coverage.py would measure any of `files`; True when it cannot be told.

    Most of them ran here under the tracer already, which then asked coverage.py and kept
    the answer: that answer is taken (asking again costs a realpath per file, 70 ms for a
    few hundred). Compiled modules are never measured."""
    should_trace = getattr(getattr(cov, "_inorout", None), "should_trace", None)
    if should_trace is None:
        return True
    decided = getattr(getattr(cov, "_collector", None), "should_trace_cache", None)
    if not isinstance(decided, dict):
        decided = {}
    try:
        for file in files:
            if not file.endswith(_SOURCE_SUFFIXES):
                continue
            disposition = decided[file] if file in decided else should_trace(file)
            if disposition is not None and disposition.trace:
                return True
    except Exception:  # noqa: BLE001 -- coverage.py's internals differ: measure from the start
        return True
    return False


class _Moved:
    variables: dict[str, str] | None = None
    pending = 0


def _restore() -> None:
    if _Moved.variables is not None:
        os.environ.pop(STASH, None)
        os.environ.update(_Moved.variables)
        _Moved.variables = None


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_setupnodes(config: pytest.Config, specs: Sequence[Any]) -> None:
    """Just before xdist starts the workers (in the controller): hand them the start."""
    from coverage import Coverage

    cov = Coverage.current()
    if cov is None or not specs or not all(getattr(spec, "popen", False) for spec in specs):
        return
    worker_code = [n for n in sys.modules if n.partition(".")[0] in _WORKER_PACKAGES]
    if measured_early(cov, _LOADED_BEFORE | _module_files(worker_code)):
        return
    moved = {name: os.environ.pop(name) for name in STARTUP_VARIABLES if name in os.environ}
    if moved:
        os.environ[STASH] = json.dumps(moved)
        _Moved.variables, _Moved.pending = moved, len(specs)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_newgateway(gateway: Any) -> None:
    """After each worker started: once all have, processes start measured again."""
    _Moved.pending -= 1
    if _Moved.pending <= 0:
        _restore()


def pytest_unconfigure(config: pytest.Config) -> None:
    _restore()
