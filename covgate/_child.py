"""The child process of `covgate run`: pytest under coverage.py.

Started as `python -m covgate._child PYTEST_ARGS…` in the project root, with
COVGATE_CHILD_SPEC = "<data file><os.pathsep><branch 0|1>", COVGATE_RESULTS naming the
file where covgate's plugin records the session (covgate.results), and COVGATE_CHILD_CORE =
"<coverage core to set, or empty><os.pathsep><file to name the core that measured in>". All are
removed from the environment before any test runs, so a pytest that a test starts records
nothing of covgate's.
"""

from __future__ import annotations

import gc
import importlib.util
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from coverage import Coverage

CHILD_SPEC = "COVGATE_CHILD_SPEC"
RESULTS = "COVGATE_RESULTS"
CHILD_CORE = "COVGATE_CHILD_CORE"


def start_coverage(data_file: str, branch: bool, core: str | None = None) -> Coverage:
    """coverage.py with the project's configuration, measuring this process and every Python
    started from it, into parallel files named after `data_file` (with `core` when given)."""
    from coverage import Coverage

    cov = Coverage(data_file=data_file, config_file=True)
    cov.set_option("run:data_file", data_file)
    cov.set_option("run:parallel", True)
    cov.set_option("run:branch", branch)
    if core:  # before the configuration is exported: every process measures with it
        cov.set_option("run:core", core)
    patches = list(cov.get_option("run:patch") or [])  # type: ignore[arg-type]
    # Workers and other subprocesses can end with os._exit: save their data first.
    cov.set_option("run:patch", sorted({*patches, "_exit"}))
    # What `[run] patch = subprocess` does: every Python started from here measures itself
    # with this same configuration (the .pth file coverage.py installs reads it).
    os.environ["COVERAGE_PROCESS_CONFIG"] = cov.config.serialize()
    # With xdist the tests run in the workers, and when pytest cannot start there is nothing to
    # measure: covgate itself says when the run produced no data.
    silenced = list(cov.get_option("run:disable_warnings") or [])  # type: ignore[arg-type]
    cov.set_option("run:disable_warnings", [*silenced, "no-data-collected"])
    cov.start()
    return cov


def main(argv: list[str]) -> int:
    data_file, branch = os.environ.pop(CHILD_SPEC).rsplit(os.pathsep, 1)
    results = os.environ.pop(RESULTS)
    core, core_file = os.environ.pop(CHILD_CORE, os.pathsep).split(os.pathsep, 1)
    if importlib.util.find_spec("pytest_cov") is not None:
        # A `--cov` in the project's addopts would start a second tracer that takes over.
        argv = ["--no-cov", *argv]
    # Loaded here and, through these arguments, in each xdist worker (see covgate._worker).
    argv = ["-p", "covgate._worker", *argv]
    cov = start_coverage(data_file, branch == "1", core or None)
    if core_file:  # the tracer that really measures (coverage.py may have overruled a choice)
        with open(core_file, "w", encoding="utf-8") as stream:
            stream.write(str(dict(cov.sys_info()).get("core", "")))
    recorder = None
    try:
        import pytest

        from covgate.plugin import Recorder

        recorder = Recorder(Path(results))
        return int(pytest.main(argv, plugins=[recorder]))
    finally:
        cov.stop()
        cov.save()
        if recorder is not None and recorder.distributed:
            # The tests ran in xdist's workers: no object of theirs lives here. The
            # interpreter's last collection of everything this process holds (a fifth of a
            # second on a large suite) would only delay the gate; the system frees it all.
            gc.freeze()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
