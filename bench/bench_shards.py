"""Benchmark `covgate run --shard K/3` and `covgate combine` on a real project's own test suite
(more-itertools by default, or boltons, from its sdist, as bench_run.py fetches it).

    python bench/bench_shards.py --rounds 3 [--suite boltons]

First the three shards run without recorded durations (a split by collection order) and
`covgate combine` records the durations; then, each round, the three shards run one after the
other with those durations, and combine gates them. Printed per round:
- each shard's pytest session time (from its manifest) and the slowest shard against the
  ideal, the mean of the three (target <= 1.15);
- the same for the tests' own time (the sum of the shard's test durations), which is what the
  split balances: the session time adds the fixed start-up and collection of every shard;
  and the bound, the best any split can do when one test is longer than the ideal;
- the wall time of `covgate combine` (verification, combining, analysis, the gate);
- whether the combined counts equal a serial `coverage run --branch -m pytest`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_run  # a sibling script, found through the sys.path entry above

SHARDS = 3
TARGET = 1.15
# more-itertools' sdist has no pytest configuration: without one named, pytest would take the
# pytest settings of a project above it (this repository's, with filterwarnings = error).
# boltons has its own, in its pyproject.toml.
PYTEST_ARGS = {
    "more-itertools": ["-p", "no:cacheprovider", "-c", "setup.cfg", "--rootdir", "."],
    "boltons": ["-p", "no:cacheprovider", "-c", "pyproject.toml", "--rootdir", "."],
}


def shard(project: Path, index: int, pytest_args: list[str]) -> dict[str, float]:
    subprocess.run(
        [sys.executable, "-m", "covgate", "run", "-q", "--no-color", "-n", "0", "--shard",
         f"{index}/{SHARDS}", "--", *pytest_args],
        cwd=project, env=bench_run.env(), check=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    manifest = json.loads(
        (project / f"covgate-shard-{index}-of-{SHARDS}" / "manifest.json").read_text()
    )
    durations = [float(t["duration"]) for t in manifest["tests"]]
    return {
        "session": float(manifest["duration"]),
        "tests": sum(durations),
        "longest": max(durations, default=0.0),
    }


def combine(project: Path) -> tuple[float, dict[str, int]]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "covgate", "combine", ".", "--expect", str(SHARDS), "-q",
         "--no-color", "--report", "json:combined.json"],
        cwd=project, env=bench_run.env(), check=False, capture_output=True, text=True,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"covgate combine exited {done.returncode}:\n{done.stdout}{done.stderr}")
    overall = json.loads((project / "combined.json").read_text())["overall"]
    return seconds, {
        "num_statements": overall["statements"],
        "missing_lines": overall["missing_statements"],
        "num_branches": overall["branches"],
        "missing_branches": overall["missing_branches"],
    }


def ratio(values: list[float]) -> float:
    return max(values) / statistics.mean(values)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--suite", choices=sorted(bench_run.SUITES), default=bench_run.PACKAGE)
    args = parser.parse_args()
    suite = bench_run.SUITES[args.suite]
    pytest_args = PYTEST_ARGS[suite.package]
    project = bench_run.prepare(suite)
    bench_run.clean(project)
    for old in project.glob("covgate-shard-*"):
        shutil.rmtree(old)
    print(f"{suite.package} {suite.version}: {os.cpu_count()} CPUs, "
          f"Python {sys.version.split()[0]}, {SHARDS} shards run one after the other")  # fmt: skip

    subprocess.run(
        [sys.executable, "-m", "coverage", "run", "--branch", "-m", "pytest", "-q",
         *pytest_args],
        cwd=project, env=bench_run.env(), check=True, capture_output=True,
    )  # fmt: skip
    serial = bench_run.totals(project)
    bench_run.clean(project)

    header = f"{'round':<22} {'session s (1/2/3)':<22} {'max/ideal':>9}  {'tests s (1/2/3)':<22} "
    print(header + f"{'max/ideal':>9}  {'bound':>6}  {'combine s':>9}  counts")
    session_ratios, test_ratios, bounds, combines = [], [], [], []
    for round_ in range(args.rounds + 1):
        runs = [shard(project, index, pytest_args) for index in range(1, SHARDS + 1)]
        seconds, counts = combine(project)  # records the durations for the next round
        sessions = [r["session"] for r in runs]
        tests = [r["tests"] for r in runs]
        # No split does better than the longest single test allows.
        ideal = statistics.mean(tests)
        bound = max(ideal, *(r["longest"] for r in runs)) / ideal
        label = "no durations (order)" if round_ == 0 else f"durations, round {round_}"
        print(
            f"{label:<22} {'/'.join(f'{s:.2f}' for s in sessions):<22} {ratio(sessions):>9.3f}  "
            f"{'/'.join(f'{t:.2f}' for t in tests):<22} {ratio(tests):>9.3f}  {bound:>6.3f}  "
            f"{seconds:>9.2f}  "
            f"{'equal' if counts == serial else f'DIFFER {counts} vs {serial}'}"
        )
        if round_:
            session_ratios.append(ratio(sessions))
            test_ratios.append(ratio(tests))
            bounds.append(bound)
            combines.append(seconds)
    print(
        f"with durations, median over {args.rounds} rounds: slowest shard / ideal "
        f"{statistics.median(session_ratios):.3f} (session), "
        f"{statistics.median(test_ratios):.3f} (tests' own time; the longest test allows "
        f"{statistics.median(bounds):.3f}), target <= {TARGET}; "
        f"combine {statistics.median(combines):.2f}s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
