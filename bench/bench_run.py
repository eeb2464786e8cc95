"""Benchmark `covgate run` on real projects' own test suites (from their sdists).

    python bench/bench_run.py --rounds 3

Suites: more-itertools 10.5.0 and boltons 26.2.0 (`--suites` picks). For each, alternating the
runs of each round (the order reversed every other round):
- the floor: `pytest` without coverage;
- the usual way: `pytest -n 2 --cov --cov-branch` followed by `coverage report`;
- `covgate run -n 2`, and its ratio to the usual way (target <= 1.05);
- `covgate run` serial, and with `workers = "auto"` (auto must never be slower than serial);
then whether covgate's counts with 2 workers equal a serial `coverage run --branch -m pytest`.

Then, on Python 3.12 (found through pyenv, or `--line-python`), line coverage: `covgate run`
serial, which picks coverage.py's sys.monitoring core there, against `pytest --cov` with the C
tracer (target <= 0.8), with a check that both count the same statements and misses. That
Python gets its own virtual environment under bench/.work/run/ with covgate (editable, from
this checkout), pytest-cov and pytest-xdist.

covgate's runs keep their analysis cache (`.covgate/`) between rounds, as a developer's
repeated runs do; the first, untimed run of each command fills it. Python writes bytecode
caches for every run under bench/.work/run/pycache (as on a usual machine, even where
PYTHONDONTWRITEBYTECODE is set), which that untimed run warms too: without them, each
process of each round compiles the suite, its tests and the tools again.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = HERE / ".work" / "run"
RATIO_XDIST = 1.05
RATIO_LINE = 0.8


@dataclass(frozen=True)
class Suite:
    package: str
    version: str
    module: str
    tests: str

    @property
    def folder(self) -> Path:
        return WORK / f"{self.package}-{self.version}"


SUITES = {
    "more-itertools": Suite("more-itertools", "10.5.0", "more_itertools", "tests"),
    "boltons": Suite("boltons", "26.2.0", "boltons", "tests"),
}
# The default suite (bench_shards.py uses it too).
PACKAGE = "more-itertools"
VERSION = SUITES[PACKAGE].version
MODULE = SUITES[PACKAGE].module


def coveragerc(suite: Suite, branch: bool) -> str:
    return f"[run]\nsource = {suite.module}\nbranch = {branch}\n"


def covgate_toml(suite: Suite, branch: bool) -> str:
    return (
        f'tests = ["{suite.tests}"]\nbranch = {str(branch).lower()}\nclasses = []\n\n'
        "[overall]\nmin = 0\n"
    )


def env() -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("COVERAGE_", "COV_"))}
    clean["NO_COLOR"] = "1"
    clean.pop("PYTHONDONTWRITEBYTECODE", None)
    clean["PYTHONPYCACHEPREFIX"] = str(WORK / "pycache")
    return clean


def prepare(suite: Suite | None = None, folder: Path | None = None, *, branch: bool = True) -> Path:
    """The suite's sdist (default: more-itertools), unpacked once (into `folder` when given),
    with a coverage.py and a covgate configuration."""
    suite = suite or SUITES[PACKAGE]
    source = suite.folder
    if not source.is_dir():
        WORK.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
             "-d", str(WORK), f"{suite.package}=={suite.version}"],
            check=True,
        )  # fmt: skip
        archive = next(WORK.glob(f"{suite.package}-{suite.version}.tar.gz"))
        with tarfile.open(archive) as tar:
            tar.extractall(WORK, filter="data")
    project = source
    if folder is not None:
        if folder.exists():
            shutil.rmtree(folder)
        shutil.copytree(source, folder, ignore=shutil.ignore_patterns(".coverage*", ".covgate"))
        project = folder
    (project / ".coveragerc").write_text(coveragerc(suite, branch))
    (project / "covgate.toml").write_text(covgate_toml(suite, branch))
    if not has_pytest_config(project):
        # Else pytest, looking upwards, would take this repository's own settings (its plugins,
        # --strict-config) for a suite that has none: an empty pytest.ini stops the search there,
        # as the sdist unpacked anywhere else runs.
        (project / "pytest.ini").write_text("[pytest]\n")
    return project


def has_pytest_config(project: Path) -> bool:
    """Whether the folder holds a pytest configuration of its own (pytest's own rules)."""
    if (project / "pytest.ini").is_file():
        return True
    sections = {"pyproject.toml": "[tool.pytest.ini_options]", "tox.ini": "[pytest]",
                "setup.cfg": "[tool:pytest]"}  # fmt: skip
    for name, header in sections.items():
        path = project / name
        if path.is_file() and header in path.read_text(encoding="utf-8", errors="replace"):
            return True
    return False


def clean(project: Path) -> None:
    """No analysis cache, no recorded durations, no data: as a fresh checkout."""
    shutil.rmtree(project / ".covgate", ignore_errors=True)
    clean_data(project)


def clean_data(project: Path) -> None:
    for stale in project.glob(".coverage*"):
        if stale.name != ".coveragerc":
            stale.unlink()


def timed(commands: Sequence[Sequence[str]], cwd: Path) -> float:
    """Wall time of the commands run one after the other; data files of earlier runs removed
    first (as a fresh CI job has none)."""
    clean_data(cwd)
    start = time.perf_counter()
    for command in commands:
        subprocess.run(command, cwd=cwd, env=env(), check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    return time.perf_counter() - start


def alternate(runs: dict[str, list[list[str]]], rounds: int, cwd: Path) -> dict[str, list[float]]:
    """One untimed run of each (bytecode, the analysis cache, recorded durations), then
    `rounds` timed rounds, the order reversed every other round."""
    for commands in runs.values():
        timed(commands, cwd)
    times: dict[str, list[float]] = {name: [] for name in runs}
    names = list(runs)
    for index in range(rounds):
        for name in names if index % 2 == 0 else reversed(names):
            times[name].append(timed(runs[name], cwd))
        print(f"  round {index + 1}: " + ", ".join(f"{t[-1]:.2f}s" for t in times.values()))
    return times


def table(times: dict[str, list[float]]) -> None:
    print(f"  {'command':<56} {'median':>8} {'min':>8}")
    for name, values in times.items():
        print(f"  {name:<56} {statistics.median(values):>7.2f}s {min(values):>7.2f}s")


def totals(project: Path, python: str = sys.executable) -> dict[str, int]:
    out = subprocess.run([python, "-m", "coverage", "json", "-q", "-o", "-"], cwd=project,
                         env=env(), check=True, capture_output=True, text=True).stdout  # fmt: skip
    data = json.loads(out)["totals"]
    keys = ("num_statements", "missing_lines", "num_branches", "missing_branches")
    return {k: int(data.get(k, 0)) for k in keys}


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"


def bench_xdist(suite: Suite, rounds: int) -> None:
    """Branch coverage with 2 xdist workers: covgate against pytest-cov + coverage report."""
    project = prepare(suite)
    py = sys.executable
    pytest = [py, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    covgate = [py, "-m", "covgate", "run", "-q", "--no-color"]
    usual = "pytest -n 2 --cov --cov-branch + coverage report"
    runs: dict[str, list[list[str]]] = {
        "pytest (floor, no coverage)": [[*pytest, suite.tests]],
        usual: [
            [*pytest, "-n", "2", f"--cov={suite.module}", "--cov-branch", "--cov-report=",
             suite.tests],
            [py, "-m", "coverage", "report"],
        ],
        "covgate run -n 2": [[*covgate, "-n", "2"]],
        "covgate run serial": [[*covgate, "-n", "0"]],
        "covgate run (workers = auto)": [covgate],
    }  # fmt: skip
    shutil.rmtree(project / ".covgate", ignore_errors=True)
    print(f"\n{suite.package} {suite.version}, branch coverage (load average {load()}):")
    times = alternate(runs, rounds, project)
    table(times)
    median = {name: statistics.median(values) for name, values in times.items()}
    print(
        f"  covgate run -n 2 / usual way: {median['covgate run -n 2'] / median[usual]:.3f} "
        f"(target <= {RATIO_XDIST}); floor / usual way: "
        f"{median['pytest (floor, no coverage)'] / median[usual]:.3f}"
    )
    auto, serial = median["covgate run (workers = auto)"], median["covgate run serial"]
    print(f"  covgate run auto / serial: {auto / serial:.3f}")

    timed([[*covgate, "-n", "2"]], project)
    with_workers = totals(project)
    timed([[py, "-m", "coverage", "run", "--branch", "-m", *pytest[1:], suite.tests]], project)
    serial_totals = totals(project)
    same = "equal" if with_workers == serial_totals else "DIFFERENT"
    print(f"  counts, covgate run -n 2:                {with_workers}")
    print(f"  counts, coverage run --branch (serial):  {serial_totals}: {same}")


def line_python(given: str | None) -> Path | None:
    if given:
        return Path(given)
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = sorted(root.glob("3.12*/bin/python")) if root.is_dir() else []
    return found[-1] if found else None


def venv_for(python: Path) -> Path:
    """A virtual environment of `python` with covgate (editable), pytest-cov, pytest-xdist."""
    ask = [str(python), "-c", "import platform; print(platform.python_version())"]
    version = subprocess.run(ask, check=True, capture_output=True, text=True).stdout.strip()
    venv = WORK / f"venv-{version}"
    marker = venv / "covgate-bench-ready"
    if not marker.exists():
        subprocess.run([str(python), "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "-e",
                        str(REPO), "pytest-cov"], check=True)  # fmt: skip
        marker.write_text("")
    return venv


def bench_line(suite: Suite, rounds: int, python: Path) -> None:
    """Line coverage on Python 3.12: covgate run (sys.monitoring) against pytest --cov."""
    venv = venv_for(python)
    py = str(venv / "bin" / "python")
    project = prepare(suite, WORK / f"line-{suite.package}", branch=False)
    pytest = [py, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    usual = "pytest --cov (C tracer, with its report)"
    runs: dict[str, list[list[str]]] = {
        "pytest (floor, no coverage)": [[*pytest, suite.tests]],
        usual: [[*pytest, f"--cov={suite.module}", suite.tests]],
        "covgate run serial (auto core)": [[py, "-m", "covgate", "run", "-q", "-n", "0"]],
    }
    version = python.parent.parent.name
    print(f"\n{suite.package} {suite.version}, line coverage, Python {version} "
          f"(load average {load()}):")  # fmt: skip
    times = alternate(runs, rounds, project)
    table(times)
    ours = statistics.median(times["covgate run serial (auto core)"])
    print(f"  covgate run / pytest --cov: {ours / statistics.median(times[usual]):.3f} "
          f"(target <= {RATIO_LINE})")  # fmt: skip

    clean_data(project)
    report = project / "covgate-report.json"
    subprocess.run([py, "-m", "covgate", "run", "-q", "-n", "0", "--report", f"json:{report}"],
                   cwd=project, env=env(), check=False, stdout=subprocess.DEVNULL)  # fmt: skip
    document = json.loads(report.read_text())
    overall = document["overall"]
    ours_counts = {"num_statements": overall["statements"],
                   "missing_lines": overall["missing_statements"]}  # fmt: skip
    timed([[*pytest, f"--cov={suite.module}", "--cov-report=", suite.tests]], project)
    theirs = totals(project, py)
    theirs_counts = {k: theirs[k] for k in ours_counts}
    same = "equal" if ours_counts == theirs_counts else "DIFFERENT"
    print(f"  core named by covgate: {document.get('coverage_core')}")
    print(f"  counts, covgate run:          {ours_counts}")
    print(f"  counts, pytest --cov (ctrace): {theirs_counts}: {same}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--suites", nargs="+", choices=sorted(SUITES), default=list(SUITES))
    parser.add_argument("--line-python", help="the Python 3.12+ of the line-coverage part")
    parser.add_argument("--skip-xdist", action="store_true", help="only the line-coverage part")
    parser.add_argument("--skip-line", action="store_true", help="only the xdist part")
    args = parser.parse_args(argv)
    print(f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, load average {load()}")
    if not args.skip_xdist:
        for name in args.suites:
            bench_xdist(SUITES[name], args.rounds)
    if not args.skip_line:
        python = line_python(args.line_python)
        if python is None:
            print("\nno Python 3.12 found through pyenv: give --line-python")
        else:
            for name in args.suites:
                bench_line(SUITES[name], args.rounds, python)
    print(f"\nload average at the end: {load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
