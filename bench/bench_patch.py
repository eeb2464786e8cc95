"""Benchmark `covgate check --diff-base` against `covgate check` on the large generated project.

    python bench/bench_patch.py --rounds 5

Generates the project of `gen_project.py` under bench/.work/patch/ (reused while the
generator's parameters and source are unchanged), makes it a git repository (`main`: the
generated project), then on a branch changes `--changed` files (default 50): half in a commit,
half as unstaged edits, each a new function appended and one line of the module edited. Measures
the result once with `python -m coverage run -m pytest -q` (branch coverage), checks that
covgate's diff holds exactly the changed files, then times, alternating,
`covgate check --report terminal --report json:FILE` with and without `--diff-base main`.
Prints medians, minimums and the ratio (target: <= 1.1). Timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_check  # sibling scripts, found through the sys.path entry above
import gen_project

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work" / "patch"
TARGET_RATIO = 1.1
ADDED = """

def changed_{index}(value: int) -> int:
    if value > 0:
        return value * 2
    return -value
"""


def git(project: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com",
         "-c", "commit.gpgsign=false", *args],
        cwd=project, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip


def make_repository(project: Path, changed: int) -> list[str]:
    """A fresh repository of the generated project with `changed` modules changed on a branch;
    the changed paths, relative to the project."""
    if (project / ".git").exists():  # an earlier run's: back to the generated files first
        git(project, "checkout", "-q", "-f", "main")
        shutil.rmtree(project / ".git")
    (project / ".gitignore").write_text(
        ".coverage\n.coverage.*\n__pycache__/\n.covgate/\n", encoding="utf-8"
    )
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "the generated project")
    git(project, "checkout", "-q", "-b", "feature")
    modules = sorted(
        p.relative_to(project).as_posix()
        for p in (project / "app").rglob("*.py")
        if p.name != "__init__.py"
    )
    if changed > len(modules):
        raise SystemExit(f"--changed {changed}: the project has {len(modules)} modules")
    step = len(modules) / changed
    picked = [modules[int(i * step)] for i in range(changed)]
    for index, name in enumerate(picked):
        path = project / name
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        middle = len(lines) // 2
        lines[middle] = lines[middle].rstrip("\n") + "  # edited\n"
        path.write_text("".join(lines) + ADDED.format(index=index), encoding="utf-8")
        if index == (changed - 1) // 2:
            git(project, "commit", "-q", "-am", "the first half of the changes")
    return picked


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=5, help="timed runs of each (default 5)")
    parser.add_argument("--changed", type=int, default=50, help="files changed (default 50)")
    gen_project.add_project_arguments(parser, WORK / "project")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.changed < 1:
        parser.error("--rounds and --changed must be at least 1")

    bench_check.machine()
    covgate = bench_check.covgate_executable()
    project: Path = args.project.resolve()
    bench_check.prepare(project, args.modules, args.seed, args.regenerate)
    picked = make_repository(project, args.changed)
    bench_check.measure(project)

    with tempfile.TemporaryDirectory(prefix="covgate-bench-") as folder:
        scratch = Path(folder)
        report = scratch / "r.json"
        plain = (covgate, "check", "--report", "terminal", "--report", f"json:{report}")
        with_diff = (*plain, "--diff-base", "main")
        result = bench_check.run(with_diff, project, check=False)
        document = json.loads(report.read_text(encoding="utf-8"))
        found = document["diff"]["changed_files"]
        patch = document["overall"]["patch"]
        same = sorted(found) == sorted(picked)
        print(
            f"diff: {len(found)} changed files ({'the changed ones' if same else 'DIFFERENT'}); "
            f"patch {patch['covered']}/{patch['total']} covered; exit code {result.returncode}"
        )
        print(f"load average before: {bench_check.load()}")
        rows = bench_check.compared(
            [
                # Exit 2: the generated project misses covgate's default policy.
                bench_check.Command("covgate check", plain, (0, 2)),
                bench_check.Command("covgate check --diff-base main", with_diff, (0, 2)),
            ],
            args.rounds,
            project,
            f"ratio with / without the diff (target <= {TARGET_RATIO})",
        )
        print(f"load average after: {bench_check.load()}")

    print(f"\n{args.rounds} alternating rounds (wall time, seconds):")
    print(bench_check.table([("command", "median", "min", "cpu/wall"), *rows]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
