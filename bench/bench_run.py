"""Benchmark `covgate run` on a real project's own test suite (more-itertools, from its sdist).

    python bench/bench_run.py --rounds 3

Prints, alternating the runs of each round:
- the floor: `pytest` without coverage;
- the usual way: `pytest -n 2 --cov --cov-branch` followed by `coverage report`;
- `covgate run -n 2`, and the ratio against the usual way (target <= 1.05);
- `covgate run` serial and with `workers = "auto"` (auto must never be slower than serial);
- whether covgate's counts with 2 workers equal a serial `coverage run --branch -m pytest`;
- on Python 3.12+ (found through pyenv), line coverage with coverage.py's sys.monitoring
  core against its C tracer (branch coverage under sys.monitoring needs Python 3.14).
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
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = HERE / ".work" / "run"
PACKAGE = "more-itertools"
VERSION = "10.5.0"
MODULE = "more_itertools"

COVERAGERC = f"""\
[run]
source = {MODULE}
branch = True
"""
COVGATE_TOML = """\
tests = ["tests"]
classes = []

[overall]
min = 0
"""


def env() -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("COVERAGE_", "COV_"))}
    clean["NO_COLOR"] = "1"
    return clean


def prepare() -> Path:
    """The project's sdist, unpacked once, with a coverage.py and a covgate configuration."""
    project = WORK / f"{PACKAGE}-{VERSION}"
    if not project.is_dir():
        WORK.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
             "-d", str(WORK), f"{PACKAGE}=={VERSION}"],
            check=True,
        )  # fmt: skip
        archive = next(WORK.glob(f"{PACKAGE}-{VERSION}.tar.gz"))
        with tarfile.open(archive) as tar:
            tar.extractall(WORK, filter="data")
    (project / ".coveragerc").write_text(COVERAGERC)
    (project / "covgate.toml").write_text(COVGATE_TOML)
    return project


def timed(
    commands: Sequence[Sequence[str]], cwd: Path, extra: dict[str, str] | None = None
) -> float:
    start = time.perf_counter()
    for command in commands:
        subprocess.run(command, cwd=cwd, env={**env(), **(extra or {})}, check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    return time.perf_counter() - start


def clean(project: Path) -> None:
    shutil.rmtree(project / ".covgate", ignore_errors=True)
    for stale in project.glob(".coverage*"):
        if stale.name != ".coveragerc":
            stale.unlink()


def totals(project: Path, python: str = sys.executable) -> dict[str, int]:
    out = subprocess.run([python, "-m", "coverage", "json", "-q", "-o", "-"], cwd=project,
                         env=env(), check=True, capture_output=True, text=True).stdout  # fmt: skip
    data = json.loads(out)["totals"]
    keys = ("num_statements", "missing_lines", "num_branches", "missing_branches")
    return {k: int(data[k]) for k in keys}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    project = prepare()
    py = sys.executable
    covgate = [py, "-m", "covgate", "run", "-q", "--no-color"]
    runs: dict[str, list[list[str]]] = {
        "pytest (floor, no coverage)": [[py, "-m", "pytest", "-q", "-p", "no:cacheprovider"]],
        "pytest -n 2 --cov --cov-branch + coverage report": [
            [py, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", f"--cov={MODULE}",
             "--cov-branch", "--cov-report="],
            [py, "-m", "coverage", "report"],
        ],
        "covgate run -n 2": [[*covgate, "-n", "2"]],
        "covgate run serial": [[*covgate, "-n", "0"]],
        "covgate run (workers = auto)": [covgate],
    }  # fmt: skip
    times: dict[str, list[float]] = {name: [] for name in runs}
    print(f"{PACKAGE} {VERSION}: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    clean(project)
    # One serial run first: "auto" decides from the durations it records.
    subprocess.run([*covgate, "-n", "0"], cwd=project, env=env(), check=False,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    for round_number in range(args.rounds):
        for name, commands in runs.items():
            if name.startswith("pytest -n 2"):
                for stale in project.glob(".coverage*"):
                    if stale.name != ".coveragerc":
                        stale.unlink()
            times[name].append(timed(commands, project))
        print(f"round {round_number + 1}: " + ", ".join(f"{t[-1]:.2f}s" for t in times.values()))
    print()
    print(f"{'command':<52} {'median':>8} {'min':>8}")
    for name, values in times.items():
        print(f"{name:<52} {statistics.median(values):>7.2f}s {min(values):>7.2f}s")
    usual = statistics.median(times["pytest -n 2 --cov --cov-branch + coverage report"])
    ours = statistics.median(times["covgate run -n 2"])
    serial = statistics.median(times["covgate run serial"])
    auto = statistics.median(times["covgate run (workers = auto)"])
    print(f"\ncovgate run -n 2 / (pytest -n 2 --cov + coverage report): {ours / usual:.3f}")
    print(f"covgate run auto / serial: {auto / serial:.3f}")

    clean(project)
    subprocess.run([*covgate, "-n", "2"], cwd=project, env=env(), check=False,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    with_workers = totals(project)
    clean(project)
    subprocess.run([py, "-m", "coverage", "run", "--branch", "-m", "pytest", "-q", "-p",
                    "no:cacheprovider"], cwd=project, env=env(), check=False,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    serial_totals = totals(project)
    print(f"\ncounts, covgate run -n 2:          {with_workers}")
    print(f"counts, coverage run --branch (serial): {serial_totals}")
    print(f"equal: {'yes' if with_workers == serial_totals else 'NO'}")
    sysmon(project, args.rounds)
    return 0


def sysmon(project: Path, rounds: int) -> None:
    """Line coverage: sys.monitoring core against the C tracer, on the newest Python here."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = sorted(root.glob("3.1[2-9]*/bin/python")) if root.is_dir() else []
    if not found:
        print("\nno Python 3.12+ found through pyenv: sys.monitoring not measured")
        return
    python = found[-1]
    venv = WORK / f"venv-{python.parent.parent.name}"
    if not (venv / "bin" / "covgate").exists():
        subprocess.run([str(python), "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(REPO)],
                       check=True)  # fmt: skip
    line_only = project.parent / "line-only"
    if line_only.exists():
        shutil.rmtree(line_only)
    shutil.copytree(project, line_only, ignore=shutil.ignore_patterns(".coverage*", ".covgate"))
    (line_only / ".coveragerc").write_text(f"[run]\nsource = {MODULE}\n")
    (line_only / "covgate.toml").write_text(
        COVGATE_TOML.replace("classes", "branch = false\nclasses")
    )
    command = [str(venv / "bin" / "covgate"), "run", "-q", "-n", "0"]
    results: dict[str, list[float]] = {"ctrace": [], "sysmon": []}
    for _ in range(rounds):
        for core, seconds in results.items():
            seconds.append(timed([command], line_only, {"COVERAGE_CORE": core}))
    c, s = (statistics.median(results[k]) for k in ("ctrace", "sysmon"))
    print(f"\nPython {python.parent.parent.name}, line coverage, covgate run serial:")
    print(f"  COVERAGE_CORE=ctrace {c:.2f}s, sysmon {s:.2f}s: sysmon takes {s / c:.3f} of the time")


if __name__ == "__main__":
    raise SystemExit(main())
