"""The child process of `covgate run`: pytest under coverage.py.

Started as `python -m covgate._child PYTEST_ARGS…` in the project root, with
COVGATE_CHILD_SPEC = "<data file><os.pathsep><branch 0|1>".
"""

from __future__ import annotations

import importlib.util
import os
import sys


def main(argv: list[str]) -> int:
    from coverage import Coverage

    data_file, branch = os.environ.pop("COVGATE_CHILD_SPEC").rsplit(os.pathsep, 1)
    cov = Coverage(data_file=data_file, config_file=True)
    cov.set_option("run:data_file", data_file)
    cov.set_option("run:parallel", True)
    cov.set_option("run:branch", branch == "1")
    patches = list(cov.get_option("run:patch") or [])  # type: ignore[arg-type]
    # Workers and other subprocesses can end with os._exit: save their data first.
    cov.set_option("run:patch", sorted({*patches, "_exit"}))
    # What `[run] patch = subprocess` does: every Python started from here measures itself
    # with this same configuration (the .pth file coverage.py installs reads it).
    os.environ["COVERAGE_PROCESS_CONFIG"] = cov.config.serialize()
    if "-n" in argv and argv[argv.index("-n") + 1] != "0":
        # With xdist, the tests run in the workers: this process measuring nothing is normal.
        silenced = list(cov.get_option("run:disable_warnings") or [])  # type: ignore[arg-type]
        cov.set_option("run:disable_warnings", [*silenced, "no-data-collected"])
    if importlib.util.find_spec("pytest_cov") is not None:
        # A `--cov` in the project's addopts would start a second tracer that takes over.
        argv = ["--no-cov", *argv]
    cov.start()
    try:
        import pytest

        return int(pytest.main(argv))
    finally:
        cov.stop()
        cov.save()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
