"""Benchmark `covgate check` against `coverage report` on a large generated project.

    python bench/bench_check.py --rounds 5

Generates the project of `gen_project.py` under bench/.work/check/ (reused while the
generator's parameters and source are unchanged), measures it once with
`python -m coverage run -m pytest -q` (branch coverage), checks that covgate (with a cold
analysis cache, a warm one, and none) and coverage.py count the same statements, branches and
missing lines in every file, then times, alternating, `python -m coverage report` and
`covgate check --report terminal --report json:FILE` in the project folder (outputs to
/dev/null) cold (its analysis cache removed before each run) and warm (the cache of the
previous run), and the start-up of `covgate --version`, `covgate --help` and
`python -m coverage --version`. Prints medians, minimums, the ratios covgate / coverage report
(targets: cold <= 0.6, warm <= 0.10) and the peak memory of each command (the largest process,
and the whole process tree sampled every 20 ms; target: covgate <= 1.5x coverage report).
Timings are reported, never asserted.

Python writes bytecode caches for these runs under bench/.work/check/pycache (as on a usual
machine, even where PYTHONDONTWRITEBYTECODE is set), and one untimed run of each command
warms them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gen_project  # a sibling script, found through the sys.path entry above

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work" / "check"
TARGET_RATIO = 0.6
TARGET_WARM = 0.10
TARGET_MEMORY = 1.5
SAMPLE_SECONDS = 0.02


@dataclass(frozen=True)
class Command:
    label: str
    argv: tuple[str, ...]
    accepted: tuple[int, ...] = (0,)  # exit codes of a normal run
    cpus: frozenset[int] | None = None  # pinned to these CPUs when set
    setup: Callable[[], None] | None = None  # run, untimed, before each run


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float
    """CPU seconds of the process and its children."""
    largest_kib: int
    """Peak resident memory of the largest process (wait4's ru_maxrss)."""
    tree_kib: int
    """Peak resident memory of the process and all its descendants together (sampled)."""


@dataclass(frozen=True)
class Timing:
    label: str
    seconds: tuple[float, ...]
    cpu: tuple[float, ...]  # CPU seconds of the process and its children, per run
    largest_kib: tuple[int, ...] = ()
    tree_kib: tuple[int, ...] = ()

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def best(self) -> float:
        return min(self.seconds)

    @property
    def parallelism(self) -> float:
        """CPU time over wall time: about 2 when two worker processes really ran at once."""
        return statistics.median(c / s for c, s in zip(self.cpu, self.seconds, strict=True))

    def row(self) -> tuple[str, ...]:
        return (
            self.label,
            f"{self.median:.3f}",
            f"{self.best:.3f}",
            f"{self.parallelism:.2f}",
        )


def bench_env() -> dict[str, str]:
    """The environment of every timed process: the caller's, with bytecode caching on."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(WORK / "pycache")
    return env


def covgate_executable() -> str:
    beside = Path(sys.executable).parent / "covgate"
    if beside.is_file():
        return str(beside)
    found = shutil.which("covgate")
    if found is None:
        raise SystemExit("covgate is not installed in this environment (pip install -e .)")
    return found


def run(argv: Sequence[str], cwd: Path, *, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        argv, cwd=cwd, env=bench_env(), capture_output=True, text=True, check=False
    )
    if check and result.returncode != 0:
        sys.stderr.write(result.stdout[-3000:] + result.stderr[-3000:])
        raise SystemExit(f"{' '.join(argv)}: exit code {result.returncode}")
    return result


def tree_rss_kib(pid: int) -> int:
    """Resident memory of `pid` and all its descendants now, in KiB (Linux /proc; 0 elsewhere)."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/status", encoding="utf-8") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children", encoding="utf-8") as children:
                    pending.extend(int(child) for child in children.read().split())
        except (OSError, ValueError):
            continue
    return total


def timed(command: Command, cwd: Path) -> Run:
    """Wall and CPU time and peak memory of one run, output discarded; an unexpected exit code
    stops the benchmark."""
    if command.setup is not None:
        command.setup()
    start = time.perf_counter()
    process = subprocess.Popen(
        command.argv,
        cwd=cwd,
        env=bench_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if command.cpus is not None:  # before the interpreter has started its first worker
        os.sched_setaffinity(process.pid, command.cpus)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], tree_rss_kib(process.pid))
            done.wait(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    done.set()
    sampler.join()
    process.returncode = code = os.waitstatus_to_exitcode(status)
    if code not in command.accepted:
        raise SystemExit(f"{command.label}: exit code {code}")
    return Run(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, peak[0])


def alternate(commands: Sequence[Command], rounds: int, cwd: Path) -> list[Timing]:
    """Run every command once per round, reversing the order every other round."""
    runs: dict[str, list[Run]] = {command.label: [] for command in commands}
    for index in range(rounds):
        for command in commands if index % 2 == 0 else list(reversed(commands)):
            runs[command.label].append(timed(command, cwd))
    return [
        Timing(
            command.label,
            tuple(r.wall for r in runs[command.label]),
            tuple(r.cpu for r in runs[command.label]),
            tuple(r.largest_kib for r in runs[command.label]),
            tuple(r.tree_kib for r in runs[command.label]),
        )
        for command in commands
    ]


def prepare(project: Path, modules: int, seed: int, regenerate: bool) -> None:
    if not regenerate and gen_project.is_current(project, modules, seed):
        print(f"project: {project} (reused: {modules} modules, seed {seed})")
        return
    start = time.perf_counter()
    try:
        summary = gen_project.generate(project, modules=modules, seed=seed)
    except (FileExistsError, ValueError) as exc:
        raise SystemExit(f"cannot generate the project: {exc}") from None
    print(
        f"project: {project} (generated in {time.perf_counter() - start:.1f} s: "
        f"{summary.modules} modules, {summary.source_lines} lines, {summary.test_functions} tests)"
    )


def measure(project: Path) -> None:
    """A fresh .coverage from the generated test suite, with branch coverage."""
    for old in project.glob(".coverage*"):
        old.unlink()
    start = time.perf_counter()
    result = run([sys.executable, "-m", "coverage", "run", "-m", "pytest", "-q"], project)
    last = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    print(f"measured: coverage run -m pytest -q in {time.perf_counter() - start:.1f} s ({last})")


def drop_cache(project: Path) -> None:
    shutil.rmtree(project / ".covgate" / "analysis", ignore_errors=True)


def per_file(document: dict[str, object]) -> dict[str, tuple[int, ...]]:
    """covgate's JSON report: each file's counts and missing lines."""
    files = document["files"]
    assert isinstance(files, list)
    return {
        f["path"]: (
            f["statements"],
            f["missing_statements"],
            f["branches"],
            f["missing_branches"],
            f["partial_branches"],
            *f["missing_lines"],
        )
        for f in files
    }


def coverage_per_file(document: dict[str, object]) -> dict[str, tuple[int, ...]]:
    """coverage.py's JSON report, in the same shape."""
    files = document["files"]
    assert isinstance(files, dict)
    found = {}
    for path, entry in files.items():
        summary = entry["summary"]
        found[path] = (
            summary["num_statements"],
            summary["missing_lines"],
            summary.get("num_branches", 0),
            summary.get("missing_branches", 0),
            summary.get("num_partial_branches", 0),
            *sorted(entry["missing_lines"]),
        )
    return found


def compare_counts(project: Path, covgate: str, scratch: Path) -> None:
    """covgate's numbers for every file, with a cold analysis cache, a warm one and none,
    against coverage.py's own JSON report: the cache changes no number, and the timed
    commands do the same work."""
    theirs = scratch / "coverage.json"
    run([sys.executable, "-m", "coverage", "json", "-q", "-o", str(theirs)], project)
    expected = coverage_per_file(json.loads(theirs.read_text(encoding="utf-8")))
    drop_cache(project)
    overall: dict[str, object] = {}
    for label, extra in (("cold", []), ("warm", []), ("--no-cache", ["--no-cache"])):
        ours = scratch / f"covgate-{label}.json"
        result = run([covgate, "check", *extra, "--report", f"json:{ours}"], project, check=False)
        if result.returncode not in (0, 2):
            sys.stderr.write(result.stdout[-3000:] + result.stderr[-3000:])
            raise SystemExit(f"covgate check: exit code {result.returncode}")
        document = json.loads(ours.read_text(encoding="utf-8"))
        found = per_file(document)
        differing = sorted(path for path in expected.keys() | found.keys()
                           if expected.get(path) != found.get(path))  # fmt: skip
        verdict = "same as coverage.py" if not differing else (
            f"DIFFERENT from coverage.py in {len(differing)} files, e.g. {differing[0]}"
        )  # fmt: skip
        print(f"counts, covgate check ({label}): {len(found)} files, every count and missing "
              f"line {verdict}")  # fmt: skip
        overall = document["overall"]
    assert isinstance(overall, dict)
    print(
        f"totals: {overall['statements']} statements, {overall['missing_statements']} missing, "
        f"{overall['branches']} branches, {overall['missing_branches']} missing: "
        f"{overall['percent']:.2f} %"
    )


def usable_cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def machine() -> None:
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs ({usable_cpus()} usable)")
    print(
        f"versions: Python {platform.python_version()}, coverage {version('coverage')}, "
        f"covgate {version('covgate')}, pytest {version('pytest')}"
    )


def load() -> str:
    if not hasattr(os, "getloadavg"):
        return "n/a"
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def table(rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def compared(pairs: Sequence[Command], rounds: int, cwd: Path, ratio: str) -> list[tuple[str, ...]]:
    """Table rows: each command's median and min, then the ratio of the second to the first."""
    alternate(pairs, 1, cwd)  # warm the bytecode and file caches
    base, ours = alternate(pairs, rounds, cwd)
    return [base.row(), ours.row(), ratio_row(f"  {ratio}", base, ours)]


def ratio_row(label: str, base: Timing, ours: Timing) -> tuple[str, ...]:
    return (label, f"{ours.median / base.median:.2f}", f"{ours.best / base.best:.2f}", "")


def memory_rows(timings: Sequence[Timing]) -> list[tuple[str, ...]]:
    """Peak memory of each command (median over the rounds, MiB), and its ratio to the first."""
    base = timings[0]
    rows: list[tuple[str, ...]] = []
    for timing in timings:
        largest = statistics.median(timing.largest_kib)
        tree = statistics.median(timing.tree_kib)
        rows.append(
            (
                timing.label,
                f"{largest / 1024:.0f}",
                f"{tree / 1024:.0f}",
                f"{largest / statistics.median(base.largest_kib):.2f}",
                f"{tree / statistics.median(base.tree_kib):.2f}" if tree else "n/a",
            )
        )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=5, help="timed runs of each (default 5)")
    parser.add_argument(
        "--startup-runs", type=int, default=10, help="runs of each start-up (default 10)"
    )
    gen_project.add_project_arguments(parser, WORK / "project")
    parser.add_argument(
        "--single-cpu",
        action="store_true",
        help="also time both commands pinned to one CPU (Linux), as on a busy or 1-CPU runner",
    )
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.startup_runs < 1:
        parser.error("--rounds and --startup-runs must be at least 1")
    if args.single_cpu and not hasattr(os, "sched_setaffinity"):
        parser.error("--single-cpu needs os.sched_setaffinity (Linux)")

    machine()
    covgate = covgate_executable()
    project: Path = args.project.resolve()
    prepare(project, args.modules, args.seed, args.regenerate)
    measure(project)

    with tempfile.TemporaryDirectory(prefix="covgate-bench-") as folder:
        scratch = Path(folder)
        compare_counts(project, covgate, scratch)
        report = (sys.executable, "-m", "coverage", "report")
        check = (covgate, "check", "--report", "terminal", "--report", f"json:{scratch / 'r.json'}")
        print(f"load average before: {load()}")
        # covgate exits 2 here: the generated project misses the default policy.
        main_commands = [
            Command("coverage report", report),
            Command(
                "covgate check (terminal + json), cold",
                check,
                (0, 2),
                setup=lambda: drop_cache(project),
            ),
            Command("covgate check (terminal + json), warm", check, (0, 2)),
        ]
        alternate(main_commands, 1, project)  # warm the bytecode and file caches
        base, cold, warm = alternate(main_commands, args.rounds, project)
        rows = [
            base.row(),
            cold.row(),
            warm.row(),
            ratio_row(f"  ratio cold / coverage report (target <= {TARGET_RATIO})", base, cold),
            ratio_row(f"  ratio warm / coverage report (target <= {TARGET_WARM})", base, warm),
        ]
        memory = memory_rows([base, cold, warm])
        if args.single_cpu:
            one = frozenset({min(os.sched_getaffinity(0))})
            rows += compared(
                [
                    Command("coverage report, 1 CPU", report, cpus=one),
                    Command("covgate check, 1 CPU", check, (0, 2), cpus=one),
                ],
                args.rounds,
                project,
                "ratio covgate / coverage, 1 CPU",
            )
        startups = [
            Command("python -c pass", (sys.executable, "-c", "pass")),
            Command(
                "python -m coverage --version", (sys.executable, "-m", "coverage", "--version")
            ),
            Command("covgate --version", (covgate, "--version")),
            Command("covgate --help", (covgate, "--help")),
        ]
        alternate(startups, 1, project)
        started = alternate(startups, args.startup_runs, project)
        print(f"load average after: {load()}")

    print(f"\ncheck vs report, {args.rounds} alternating rounds (wall time, seconds):")
    print(table([("command", "median", "min", "cpu/wall"), *rows]))
    print(
        f"\npeak memory, median of {args.rounds} runs (MiB; target: covgate <= "
        f"{TARGET_MEMORY}x coverage report):"
    )
    print(
        table(
            [
                ("command", "largest process", "process tree", "ratio", "ratio (tree)"),
                *memory,
            ]
        )
    )
    print(f"\nstart-up, {args.startup_runs} alternating runs (wall time, seconds):")
    print(table([("command", "median", "min", "cpu/wall"), *(t.row() for t in started)]))
    print(
        "\ncpu/wall: CPU time over wall time of a run (median), about the number of cores the"
        f"\ncommand kept busy. covgate check well below {usable_cpus()} means other processes"
        "\nwere using cores meanwhile; the ratio then says more about the machine than covgate."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
