"""Patch coverage (`--diff-base`): the pure rules as tables, then real git repositories with real
pytest + coverage.py data, compared with coverage.py's own JSON and with diff-cover."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from covgate.cli import main
from covgate.errors import ExitCode
from covgate.evaluate import evaluate
from covgate.model import (
    Counts,
    Diff,
    FileCoverage,
    Measurement,
    Outcome,
    PatchStatus,
    PathClass,
    Policy,
    Status,
    Thresholds,
)
from covgate.patch import file_patch
from covgate.report import github, markdown, terminal, text
from covgate.report import json as json_report
from tests.helpers import (
    AUTH,
    MAIN,
    TESTS,
    UTILS,
    clean_env,
    coverage_report,
    golden,
    measure,
    plain_environment,
    write_files,
)
from tests.helpers import covgate_main as run_main

slow = pytest.mark.slow

# --- the pure rules ---------------------------------------------------------------------------

BRANCHY = FileCoverage.measured(
    "app/auth/tokens.py",
    statements=[1, 2, 3, 4, 5, 6, 8],
    missing=[3, 8],
    branch_exits={2: 2, 4: 2, 6: 2},
    missing_arcs=[(2, 3), (4, 6), (6, 8)],
)


@pytest.mark.parametrize(
    ("changed", "counts", "uncovered", "partial"),
    [
        pytest.param((), None, None, None, id="unchanged"),
        pytest.param((7, 9, 10), Counts(), (), (), id="no-statement-changed"),
        pytest.param((1,), Counts(1, 0, 0, 0, 0), (), (), id="covered-line"),
        pytest.param((3,), Counts(1, 1, 0, 0, 0), (3,), (), id="missed-line"),
        # A branch counts where its source line changed, whatever its destination.
        pytest.param((2,), Counts(1, 0, 2, 1, 1), (), (2,), id="partial-branch"),
        pytest.param((3, 4, 5), Counts(3, 1, 2, 1, 1), (3,), (4,), id="range"),
        pytest.param((6, 7, 8), Counts(2, 1, 2, 1, 1), (8,), (6,), id="branch-to-missed"),
    ],
)
def test_file_patch(
    changed: tuple[int, ...],
    counts: Counts | None,
    uncovered: tuple[int, ...] | None,
    partial: tuple[int, ...] | None,
) -> None:
    found = file_patch(BRANCHY, changed)
    if counts is None:
        assert found is None
        return
    assert found is not None
    assert (found.counts, found.uncovered_lines, found.partial_lines) == (
        counts,
        uncovered,
        partial,
    )
    assert found.changed_lines == tuple(sorted(changed))


def test_line_only_data_gives_the_line_share() -> None:
    lines_only = FileCoverage.measured("a.py", statements=[1, 2, 3], missing=[3])
    found = file_patch(lines_only, (1, 2, 3, 4))
    assert found is not None
    assert found.counts == Counts(3, 1, 0, 0, 0)
    assert found.counts.ratio == Fraction(2, 3)


def policy(patch: Fraction | None, *, allow_empty: bool = False) -> Policy:
    return Policy(
        overall=Thresholds(min=Fraction(0), patch=Fraction(50)),
        classes=(
            PathClass("critical", ("**/auth/**",), Thresholds(patch=patch), allow_empty),
            PathClass("rest", ("lib/**",), Thresholds(patch=Fraction(100)), allow_empty=True),
        ),
    )


def diff(*files: tuple[str, tuple[int, ...]]) -> Diff:
    return Diff(ref="main", base="0" * 40, prefix="proj/", files=tuple(sorted(files)))


MEASURED = Measurement((BRANCHY,), branch_measured=True)


@pytest.mark.parametrize(
    ("threshold", "changes", "status", "needed", "group_status"),
    [
        # 2 of 4 changed statements and branches covered: line 3 missed; line 4 run, one of
        # its two exits taken.
        (Fraction(50), (("app/auth/tokens.py", (3, 4)),), PatchStatus.PASSED, 0, Status.PASSED),
        (Fraction(51), (("app/auth/tokens.py", (3, 4)),), PatchStatus.FAILED, 1, Status.FAILED),
        (Fraction(100), (("app/auth/tokens.py", (3, 4)),), PatchStatus.FAILED, 2, Status.FAILED),
        (Fraction(100), (("app/auth/tokens.py", (7,)),), PatchStatus.NO_CHANGES, 0, Status.PASSED),
        (Fraction(100), (("README.md", (1,)),), PatchStatus.NO_CHANGES, 0, Status.PASSED),
        (Fraction(0), (("app/auth/new.py", (1,)),), PatchStatus.NOT_MEASURED, 0, Status.FAILED),
        (None, (("app/auth/tokens.py", (3,)),), PatchStatus.INFO, 0, Status.PASSED),
    ],
)
def test_class_patch_decisions(
    threshold: Fraction | None,
    changes: tuple[tuple[str, tuple[int, ...]], ...],
    status: PatchStatus,
    needed: int,
    group_status: Status,
) -> None:
    evaluation = evaluate(MEASURED, policy(threshold), diff(*changes))

    critical = evaluation.classes[0]
    assert critical.patch is not None
    assert critical.patch.status is status
    assert critical.status is group_status
    assert sum(c.needed for c in critical.failed_checks) == needed


def test_unmeasured_files_fail_their_class_and_are_listed() -> None:
    changes = (
        ("app/auth/new.py", (1, 2)),
        ("lib/other.py", (1,)),
        ("scripts/tool.py", (1,)),
        ("docs/index.md", (1,)),
    )
    evaluation = evaluate(MEASURED, policy(Fraction(0)), diff(*changes))

    critical, rest = evaluation.classes
    assert critical.patch is not None
    assert rest.patch is not None
    assert critical.patch.unmeasured == ("app/auth/new.py",)
    assert [c.path for c in critical.failed_checks] == ["app/auth/new.py"]
    # A class without measured files, empty allowed, still fails on its unmeasured change.
    assert rest.patch.status is PatchStatus.NOT_MEASURED
    assert rest.status is Status.FAILED
    assert evaluation.unclassified.patch is not None
    assert evaluation.unclassified.patch.unmeasured == ("scripts/tool.py",)
    overall = evaluation.overall.patch
    assert overall is not None
    assert overall.unmeasured == ("app/auth/new.py", "lib/other.py", "scripts/tool.py")
    assert overall.status is PatchStatus.NO_CHANGES  # overall lists them, and does not fail


def test_without_a_diff_there_is_no_patch() -> None:
    evaluation = evaluate(MEASURED, policy(Fraction(100)))
    assert evaluation.diff is None
    assert all(g.patch is None for g in (*evaluation.classes, evaluation.overall))
    assert evaluation.classes[0].status is Status.PASSED  # no diff base: nothing to judge


@pytest.mark.parametrize(
    ("threshold", "changes", "critical", "rest"),
    [
        # Only the patch threshold misses: the main table passes the class.
        (Fraction(100), (("app/auth/tokens.py", (3, 4)),),
         (Status.FAILED, Status.PASSED), (Status.EMPTY, Status.EMPTY)),
        # A class without measured files (empty allowed) whose changed file went unmeasured:
        # skipped in the main table, failing in the patch table.
        (Fraction(0), (("lib/new.py", (1,)),),
         (Status.PASSED, Status.PASSED), (Status.FAILED, Status.EMPTY)),
        (None, (("app/auth/tokens.py", (3, 4)),),
         (Status.PASSED, Status.PASSED), (Status.EMPTY, Status.EMPTY)),
    ],
)  # fmt: skip
def test_the_main_table_judges_the_class_thresholds_alone(
    threshold: Fraction | None,
    changes: tuple[tuple[str, tuple[int, ...]], ...],
    critical: tuple[Status, Status],
    rest: tuple[Status, Status],
) -> None:
    evaluation = evaluate(MEASURED, policy(threshold, allow_empty=True), diff(*changes))

    found = [(g.status, g.coverage_status) for g in evaluation.classes]

    assert found == [critical, rest]
    assert evaluation.unclassified.coverage_status is Status.INFO


def test_a_missed_min_fails_the_main_table_whatever_the_patch() -> None:
    limits = Thresholds(min=Fraction(90), patch=Fraction(0))
    strict = Policy(Thresholds(), (PathClass("critical", ("**/auth/**",), limits),))

    evaluation = evaluate(MEASURED, strict, diff(("app/auth/tokens.py", (3, 4))))

    critical = evaluation.classes[0]
    assert (critical.status, critical.coverage_status) == (Status.FAILED, Status.FAILED)
    assert critical.patch is not None
    assert critical.patch.passed


@pytest.mark.parametrize(
    ("threshold", "expected"),
    [
        (Fraction(100), [
            ("critical patch 50.00 % < 100 %: cover 2 more changed lines or branches", 0),
            ("critical patch: app/auth/new.py changed but not measured (absent from the coverage "
             "data: never imported by the tests, or omitted?)", 0),
            ("app/auth/tokens.py: 2 missing: changed line 3 not run; partial branches at 4", 1),
        ]),
        # The metric is met: covering changed lines would not help, measuring new.py would.
        (Fraction(50), [
            ("critical patch: app/auth/new.py changed but not measured (absent from the coverage "
             "data: never imported by the tests, or omitted?)", 0),
        ]),
    ],
)  # fmt: skip
def test_a_patch_miss_names_the_changed_files(
    threshold: Fraction, expected: list[tuple[str, int]]
) -> None:
    changes = (("app/auth/tokens.py", (3, 4)), ("app/auth/new.py", (1,)))
    evaluation = evaluate(MEASURED, policy(threshold), diff(*changes))

    lines = text.misses(evaluation.classes[0], 2, text.RANGES_SHOWN)

    assert [(line.text, line.level) for line in lines] == expected


def canned_outcome() -> Outcome:
    files = (
        BRANCHY,
        FileCoverage.measured("lib/b.py", statements=range(1, 30), missing=range(1, 30, 2)),
    )
    changes = (("app/auth/tokens.py", (2, 3, 4, 8)), ("lib/b.py", tuple(range(1, 30))))
    evaluation = evaluate(
        Measurement(files, branch_measured=True),
        policy(Fraction(100)),
        diff(*changes, ("app/auth/gone.py", (1,))),
    )
    return Outcome(evaluation=evaluation, exit_code=2, precision=2)


def test_github_annotations_of_uncovered_changed_ranges() -> None:
    lines = github.all_annotations(canned_outcome(), prefix="ignored/")

    critical = "title=covgate%3A critical patch below target"
    rest = "title=covgate%3A rest patch below target"
    assert lines[:5] == [
        f"::error {critical}::critical patch 50.00 %25 < 100 %25: cover 4 more changed lines "
        "or branches",
        f"::error file=proj/app/auth/gone.py,{critical}::critical patch: app/auth/gone.py "
        "changed but not measured (absent from the coverage data: never imported by the "
        "tests, or omitted?)",
        f"::error {rest}::rest patch 48.27 %25 < 100 %25: cover 15 more changed lines or branches",
        "::error title=covgate%3A overall patch below target::overall patch 48.64 %25 < 50 %25: "
        "cover 1 more changed line or branch",
        f"::error file=proj/app/auth/tokens.py,line=3,endLine=3,{critical}::changed line 3 "
        "not run by the tests",
    ]
    errors = [line for line in lines if line.startswith("::error")]
    assert len(errors) == github.PER_LEVEL
    assert errors[-1] == (
        "::error title=covgate::and 14 more missed thresholds: see the job summary"
    )
    assert not [line for line in lines if line.startswith("::warning")]


def test_github_warnings_outside_failing_classes_are_capped() -> None:
    files = tuple(
        FileCoverage.measured(f"src/m{i}.py", statements=[1, 2, 3], missing=[2]) for i in range(12)
    )
    changes = tuple((f.path, (1, 2, 3)) for f in files)
    evaluation = evaluate(
        Measurement(files, branch_measured=False), policy(None, allow_empty=True), diff(*changes)
    )
    lines = github.all_annotations(Outcome(evaluation=evaluation, exit_code=0))

    assert lines[0] == (
        "::warning file=proj/src/m0.py,line=2,endLine=2,title=covgate%3A overall patch::"
        "changed line 2 not run by the tests"
    )
    assert len(lines) == github.PER_LEVEL
    assert lines[-1] == (
        "::warning title=covgate::and 3 more uncovered changed ranges: see the job summary"
    )


def test_every_report_shows_the_patch() -> None:
    outcome = canned_outcome()

    shown = terminal.render(outcome)
    document = json_report.document(outcome)
    summary = markdown.render(outcome)

    assert "patch coverage: lines changed since main (merge base 000000000000)" in shown
    assert "    app/auth/tokens.py: changed lines 3, 8 not run; partial branches at 2, 4" in shown
    assert "| critical | 1 | 4 | 2 | 4 | 2 | 2 | 50.00 % | 100 % | **FAIL** |" in summary
    assert (
        "- lib/b.py: changed lines 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29 not run"
        in summary
    )
    assert document["classes"][0]["patch"] == {
        "status": "failed",
        "files": 1,
        "statements": 4,
        "missing_statements": 2,
        "branches": 4,
        "missing_branches": 2,
        "partial_branches": 2,
        "covered": 4,
        "total": 8,
        "percent": 50.0,
        "threshold": 100.0,
        "passed": False,
        "unmeasured": ["app/auth/gone.py"],
        "most_missing": [
            {
                "path": "app/auth/tokens.py",
                "missing": 4,
                "uncovered_changed_lines": [3, 8],
                "partial_changed_lines": [2, 4],
            }
        ],
    }
    tokens = document["files"][0]
    assert (tokens["changed_lines"], tokens["uncovered_changed_lines"]) == ([2, 3, 4, 8], [3, 8])
    assert tokens["partial_changed_lines"] == [2, 4]
    assert document["diff"]["merge_base"] == "0" * 40


# --- real repositories, real pytest and coverage.py ---------------------------------------------

POLICY = """
[tool.covgate]
tests = ["tests"]
workers = 0

[tool.covgate.overall]
min = 50
patch = 50

[[tool.covgate.classes]]
name = "critical"
paths = ["**/auth/**"]
min = 50
patch = 100

[[tool.covgate.classes]]
name = "utils"
paths = ["**/utils/**"]
min = 50

[[tool.covgate.classes]]
name = "entry"
paths = ["**/main.py"]
patch = 90
"""

EXPIRY = """

def expiry(seconds: int, grace: bool) -> int:
    if seconds < 0:
        return 0
    if grace:
        total = seconds + 60
    else:
        total = seconds
    return total
"""

SHOUT = """

def shout(text: str) -> str:
    if text:
        return text.upper()
    return ""
"""

LEGACY = "".join(f"def legacy_{n}(x: int) -> int:\n    return x + {n}\n\n\n" for n in range(10))


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=clean_env()
    ).stdout


@dataclass(frozen=True)
class Repo:
    top: Path
    root: Path
    """The project root: a folder of the repository."""


def build_repo(top: Path, *, branch: bool) -> Repo:
    """A repository whose project lives in proj/, with a feature branch that has committed,
    staged (a rename), unstaged and untracked changes, and a main that moved on; measured."""
    root = top / "proj"
    write_files(
        root,
        {
            "app/__init__.py": "",
            "app/auth/__init__.py": "",
            "app/auth/tokens.py": AUTH,
            "app/utils/__init__.py": "",
            "app/utils/text.py": UTILS,
            "app/main.py": "# the entry point\n" + MAIN,
            "app/legacy.py": LEGACY,
            "tests/test_app.py": TESTS,
            "pyproject.toml": '[tool.coverage.run]\nsource = ["app"]\n'
            + f"branch = {str(branch).lower()}\n"
            + POLICY,
        },
    )
    (top / "README.md").write_text("the repository\n", encoding="utf-8")
    (top / ".gitignore").write_text(".coverage\ncoverage.*\n__pycache__/\n*.json\n", "utf-8")
    git(top, "init", "-q", "-b", "main")
    git(top, "config", "user.email", "dev@example.com")
    git(top, "config", "user.name", "Dev")
    git(top, "config", "commit.gpgsign", "false")
    git(top, "add", "-A")
    git(top, "commit", "-q", "-m", "start")
    git(top, "checkout", "-q", "-b", "feature")
    # Committed: a new function in auth, half tested; a deleted comment in main.py.
    tokens = root / "app/auth/tokens.py"
    tokens.write_text(AUTH + EXPIRY, encoding="utf-8")
    (root / "app/main.py").write_text(MAIN, encoding="utf-8")
    tests = TESTS + "\n\ndef test_expiry() -> None:\n    from app.auth.tokens import expiry\n\n"
    tests += "    assert expiry(10, True) == 70\n"
    (root / "tests/test_app.py").write_text(tests, encoding="utf-8")
    git(top, "commit", "-q", "-am", "expiry")
    # main moves on: its changes are not this branch's.
    git(top, "checkout", "-q", "main")
    (top / "README.md").write_text("the repository\nmoved on\n", encoding="utf-8")
    git(top, "commit", "-q", "-am", "main moves on")
    git(top, "checkout", "-q", "feature")
    # Staged: a rename with one line changed.
    git(top, "mv", "proj/app/legacy.py", "proj/app/renamed.py")
    renamed = root / "app/renamed.py"
    renamed.write_text(LEGACY.replace("x + 3\n", "x * 3\n"), encoding="utf-8")
    git(top, "add", "proj/app/renamed.py")
    # Unstaged: an untested function in utils.
    utils = root / "app/utils/text.py"
    utils.write_text(UTILS + SHOUT, encoding="utf-8")
    # Untracked: a new auth module (measured: never imported), a file no one measures in a
    # class with a patch threshold, and an unclassified script.
    write_files(
        root,
        {
            "app/auth/fresh.py": "def fresh() -> int:\n    return 1\n",
            "tools/auth/helper.py": "HELP = 1\n",
            "scratch.py": "print('scratch')\n",
        },
    )
    measure(root)
    for kind, name in (
        ("json", "coverage.json"),
        ("xml", "coverage.xml"),
        ("lcov", "coverage.lcov"),
    ):
        coverage_report(root, kind, "-o", name)
    return Repo(top=top, root=root)


@pytest.fixture(scope="module")
def branchy(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    return build_repo(tmp_path_factory.mktemp("branchy"), branch=True)


@pytest.fixture(scope="module")
def lines_only(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    return build_repo(tmp_path_factory.mktemp("lines"), branch=False)


def covgate_json(
    capsys: pytest.CaptureFixture[str], root: Path, *args: str
) -> tuple[int, dict[str, Any]]:
    code = main(["check", "-C", str(root), "--report", "json", *args])
    out, err = capsys.readouterr()
    assert out, err
    return code, json.loads(out)


def independent_changes(repo: Repo) -> dict[str, set[int]]:
    """The changed lines of the project's files, from `git diff --merge-base main -U0` and
    `git ls-files --others`, read here without covgate."""
    patch = git(repo.top, "diff", "--merge-base", "main", "-U0", "--no-color")
    changed: dict[str, set[int]] = {}
    current = ""
    for line in patch.splitlines():
        if line.startswith("+++ "):
            current = line[len("+++ b/") :]
        hunk = re.match(r"@@ -\S+ \+(\d+)(?:,(\d+))? @@", line)
        if hunk:
            start, count = int(hunk.group(1)), int(hunk.group(2) or 1)
            changed.setdefault(current, set()).update(range(start, start + count))
    untracked = git(repo.root, "ls-files", "--others", "--exclude-standard", "--full-name")
    for name in untracked.split():
        count = len((repo.top / name).read_text(encoding="utf-8").splitlines())
        changed[name] = set(range(1, count + 1))
    return {k.removeprefix("proj/"): v for k, v in changed.items() if k.startswith("proj/")}


def independent_patch(repo: Repo) -> tuple[Counts, dict[str, list[int]]]:
    """Overall patch counts and uncovered changed lines per file from coverage.py's own JSON
    report intersected with the diff."""
    report = json.loads((repo.root / "coverage.json").read_text(encoding="utf-8"))
    changed = independent_changes(repo)
    total = Counts()
    uncovered: dict[str, list[int]] = {}
    for name, entry in report["files"].items():
        lines = changed.get(name, set())
        missing = [n for n in entry["missing_lines"] if n in lines]
        statements = [n for n in entry["executed_lines"] + entry["missing_lines"] if n in lines]
        arcs = entry.get("executed_branches", []) + entry.get("missing_branches", [])
        missed_arcs = [a for a in entry.get("missing_branches", []) if a[0] in lines]
        total = total + Counts(
            statements=len(statements),
            missing_statements=len(missing),
            branches=sum(1 for a in arcs if a[0] in lines),
            missing_branches=len(missed_arcs),
            partial_branches=sum(1 for a in missed_arcs if a[0] not in entry["missing_lines"]),
        )
        if lines:
            uncovered[name] = missing
    return total, uncovered


def patch_counts(document: dict[str, Any]) -> Counts:
    patch = document["overall"]["patch"]
    return Counts(
        patch["statements"],
        patch["missing_statements"],
        patch["branches"],
        patch["missing_branches"],
        patch["partial_branches"],
    )


@slow
def test_branch_patch_equals_coverage_json_and_git_diff(
    branchy: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    expected, uncovered = independent_patch(branchy)
    assert expected.branches > expected.missing_branches > 0  # the data has what we compare
    assert expected.partial_branches > 0

    code, document = covgate_json(capsys, branchy.root, "--diff-base", "main")

    assert code == ExitCode.THRESHOLD_MISSED
    assert patch_counts(document) == expected
    found = {
        f["path"]: f["uncovered_changed_lines"] for f in document["files"] if f["changed_lines"]
    }
    assert found == uncovered


@slow
def test_the_changes_covgate_sees(branchy: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    _, document = covgate_json(capsys, branchy.root, "--diff-base", "main")

    changed = {f["path"]: f["changed_lines"] for f in document["files"] if f["changed_lines"]}
    assert changed == {
        "app/auth/fresh.py": [1, 2],  # untracked: wholly added
        "app/auth/tokens.py": list(range(15, 25)),  # committed
        "app/renamed.py": [14],  # staged rename, one line changed
        "app/utils/text.py": list(range(11, 17)),  # unstaged
    }
    assert document["diff"]["repository_prefix"] == "proj/"
    assert document["diff"]["merge_base"] == git(branchy.top, "merge-base", "main", "HEAD").strip()
    assert "app/main.py" not in changed  # a deletion only
    by_name = {c["name"]: c for c in document["classes"]}
    assert by_name["critical"]["patch"]["status"] == "failed"
    assert by_name["critical"]["patch"]["unmeasured"] == ["tools/auth/helper.py"]
    assert by_name["utils"]["patch"]["status"] == "info"
    assert by_name["entry"]["patch"]["status"] == "no changed lines"
    assert by_name["entry"]["passed"]
    # Changed tests are not measured either: listed, never failing on their own.
    unclassified = ["scratch.py", "tests/test_app.py"]
    assert document["unclassified"]["patch"]["unmeasured"] == unclassified
    assert document["overall"]["patch"]["unmeasured"] == [*unclassified, "tools/auth/helper.py"]
    assert (document["overall"]["patch"]["covered"], document["overall"]["patch"]["total"]) == (
        8,
        20,
    )
    assert document["overall"]["patch"]["status"] == "failed"  # 40 % < 50 %


@slow
@pytest.mark.parametrize("data", ["coverage.json", "coverage.xml", "coverage.lcov"])
def test_every_format_gives_the_same_patch(
    branchy: Repo, capsys: pytest.CaptureFixture[str], data: str
) -> None:
    _, from_data = covgate_json(capsys, branchy.root, "--diff-base", "main")

    _, from_report = covgate_json(
        capsys, branchy.root, "--diff-base", "main", str(branchy.root / data)
    )

    def patch_view(document: dict[str, Any]) -> Any:
        groups = [document["overall"], *document["classes"], document["unclassified"]]
        files = [
            (f["path"], f["changed_lines"], f["uncovered_changed_lines"],
             f["partial_changed_lines"])
            for f in document["files"]
        ]  # fmt: skip
        return [g["patch"] for g in groups], files

    assert patch_view(from_report) == patch_view(from_data)


@slow
def test_line_patch_equals_diff_cover(lines_only: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    # The same diff for both: the branch since its merge base with main, working tree
    # included, and the untracked files as new files. (diff-cover's own --include-untracked
    # lists untracked files relative to the project, so in a project below the repository
    # root it would miss them.)
    top = lines_only.top
    patch = git(top, "diff", "--merge-base", "main", "-U0", "--no-color")
    for name in git(top, "ls-files", "--others", "--exclude-standard").split():
        patch += subprocess.run(
            ["git", "diff", "--no-index", "-U0", "--no-color", "/dev/null", name],
            cwd=top, capture_output=True, text=True, check=False, env=clean_env(),
        ).stdout  # fmt: skip
    diff_file = top / "branch.diff"
    diff_file.write_text(patch, encoding="utf-8")
    report = lines_only.root / "diff-cover.json"
    subprocess.run(
        [sys.executable, "-m", "diff_cover.diff_cover_tool", "coverage.xml",
         "--diff-file", str(diff_file), "--format", f"json:{report}"],
        cwd=lines_only.root, check=True, capture_output=True, env=clean_env(),
    )  # fmt: skip
    theirs = json.loads(report.read_text(encoding="utf-8"))
    assert theirs["total_num_lines"] > theirs["total_num_violations"] > 0

    _, document = covgate_json(
        capsys, lines_only.root, "--diff-base", "main", str(lines_only.root / "coverage.xml")
    )

    patch = document["overall"]["patch"]
    assert patch["branches"] == 0
    assert (patch["statements"], patch["missing_statements"]) == (
        theirs["total_num_lines"],
        theirs["total_num_violations"],
    )
    assert int(patch["percent"]) == theirs["total_percent_covered"]
    mine = {
        f["path"]: f["uncovered_changed_lines"] for f in document["files"] if f["changed_lines"]
    }
    assert mine == {
        path.removeprefix("proj/"): stats["violation_lines"]
        for path, stats in theirs["src_stats"].items()
    }


def project_copy(repo: Repo, tmp_path: Path) -> Path:
    """The measured repository copied elsewhere (its data still names the original paths);
    returns the copy's project root."""
    copy = tmp_path / "copy"
    shutil.copytree(repo.top, copy)
    return copy / "proj"


@slow
def test_run_with_a_diff_base_gates_the_changed_lines(
    branchy: Repo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project_copy(branchy, tmp_path)
    (root / ".coverage").unlink()
    _, checked = covgate_json(capsys, branchy.root, "--diff-base", "main")

    code, out, err = run_main(
        capsys, "run", "-C", str(root), "--diff-base", "main", "--report", "terminal",
        "--report", f"json:{tmp_path / 'r.json'}",
    )  # fmt: skip

    assert code == ExitCode.THRESHOLD_MISSED, out + err
    ran = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert ran["overall"]["patch"] == checked["overall"]["patch"]
    assert [c["patch"] for c in ran["classes"]] == [c["patch"] for c in checked["classes"]]
    assert "critical patch 53.84 % < 100 %: cover 6 more changed lines or branches" in out


def shown(repo: Repo, report: str) -> str:
    """A report with the merge base (new in every built repository) named MERGE_BASE."""
    base = git(repo.top, "merge-base", "main", "HEAD").strip()
    return report.replace(base[:12], "MERGE_BASE").replace(base, "MERGE_BASE")


# The branchy repository's policy passes critical (75.75 % of 50 %) and overall (51.94 % of
# 50 %) on their files as a whole, and misses both of their patch thresholds (53.84 % of 100 %,
# 40 % of 50 %); the options move critical's and entry's thresholds.
VERDICT_CASES = [
    pytest.param("patch-only", (), id="patch-only"),
    pytest.param("patch-and-class", ("--fail-under", "critical=80"), id="both"),
    # entry: 66.66 % of 70 % misses; its patch threshold passes (no changed lines).
    pytest.param("class-only", ("--fail-under", "entry=70"), id="class-only"),
]


@slow
@pytest.mark.parametrize(("gold", "options"), VERDICT_CASES)
def test_each_table_judges_its_own_thresholds(
    branchy: Repo,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    gold: str,
    options: tuple[str, ...],
) -> None:
    plain_environment(monkeypatch)
    check = ("check", "-C", str(branchy.root), "--diff-base", "main", *options)

    code, out, err = run_main(capsys, *check)
    md_code, summary, _ = run_main(capsys, *check, "--report", "markdown")

    assert (code, md_code, err) == (ExitCode.THRESHOLD_MISSED, ExitCode.THRESHOLD_MISSED, "")
    golden(f"verdicts-{gold}.txt", shown(branchy, out))
    golden(f"verdicts-{gold}.md", shown(branchy, summary))


@slow
def test_a_class_missing_only_its_patch_threshold(
    branchy: Repo, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    plain_environment(monkeypatch)
    check = ("check", "-C", str(branchy.root), "--diff-base", "main")

    code, out, _ = run_main(capsys, *check)
    _, document = covgate_json(capsys, branchy.root, "--diff-base", "main")
    _, annotations, _ = run_main(capsys, *check, "--report", "github")

    assert code == ExitCode.THRESHOLD_MISSED
    main_table, patch_table = out.split("patch coverage: lines changed since main")
    # The main table passes what meets its thresholds; the patch table fails what misses.
    assert (
        "| critical     |     3 |         21 |                  5 |       12 |                "
        "3 |       3 |  75.75 % | 50 %   | pass    |" in main_table
    )
    assert (
        "| critical     |     2 |          9 |                  4 |        4 |                "
        "2 |       2 |  53.84 % | 100 %  | FAIL             |" in patch_table
    )
    assert (
        "critical patch 53.84 % < 100 %: cover 6 more changed lines or branches\n"
        "critical patch: tools/auth/helper.py changed but not measured (absent from the "
        "coverage data: never imported by the tests, or omitted?)\n"
        "    app/auth/tokens.py: 4 missing: changed lines 19, 23 not run; partial branches at "
        "18, 20\n"
        "    app/auth/fresh.py: 2 missing: changed lines 1-2 not run\n" in patch_table
    )
    critical = document["classes"][0]
    assert (critical["status"], critical["coverage_status"], critical["passed"]) == (
        "failed",
        "passed",
        False,
    )
    assert critical["most_missing"] == []
    assert critical["patch"]["most_missing"] == [
        {
            "path": "app/auth/tokens.py",
            "missing": 4,
            "uncovered_changed_lines": [19, 23],
            "partial_changed_lines": [18, 20],
        },
        {
            "path": "app/auth/fresh.py",
            "missing": 2,
            "uncovered_changed_lines": [1, 2],
            "partial_changed_lines": [],
        },
    ]
    assert [c["metric"] for c in critical["checks"] if not c["passed"]] == ["patch", "patch"]
    # utils has no patch threshold: its uncovered change counts against overall's.
    assert (
        "::error file=proj/app/utils/text.py,line=14,endLine=16,title=covgate%3A overall patch "
        "below target::changed lines 14-16 not run by the tests"
    ) in annotations.splitlines()


@slow
def test_a_class_missing_only_its_own_threshold_reads_as_without_a_diff(
    branchy: Repo, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    plain_environment(monkeypatch)
    entry = (
        "entry 66.66 % < 70 %: cover 1 more line or branch\n"
        "    app/main.py: 2 missing: line 4; partial branches at 2\n"
    )

    code, with_diff, _ = run_main(
        capsys, "check", "-C", str(branchy.root), "--diff-base", "main", "--fail-under", "entry=70"
    )
    _, without, _ = run_main(capsys, "check", "-C", str(branchy.root), "--fail-under", "entry=70")

    assert code == ExitCode.THRESHOLD_MISSED
    assert entry in with_diff
    assert entry in without
    assert (
        "| entry        |     1 |          4 |                  1 |        2 |                1 "
        "|       1 |  66.66 % | 70 %   | FAIL    |" in with_diff
    )


@slow
def test_run_checks_the_reference_before_any_test_runs(
    branchy: Repo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project_copy(branchy, tmp_path)
    (root / ".coverage").unlink()

    code, out, err = run_main(capsys, "run", "-C", str(root), "--diff-base", "no-such-branch")

    assert code == ExitCode.USAGE
    assert err == "covgate: error: unknown git reference 'no-such-branch'\n"
    assert "passed" not in out  # pytest never ran
    assert not (root / ".coverage").exists()


@slow
def test_diff_base_from_the_configuration(
    branchy: Repo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project_copy(branchy, tmp_path)
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(text.replace("[tool.covgate]\n", '[tool.covgate]\ndiff_base = "main"\n'))
    # The JSON report names files relative to the project: it reads the same in the copy.
    data = str(root / "coverage.json")
    _, from_option = covgate_json(capsys, branchy.root, "--diff-base", "main")

    _, configured = covgate_json(capsys, root, data)
    _, overridden = covgate_json(capsys, root, "--diff-base", "HEAD", data)

    assert configured["overall"]["patch"] == from_option["overall"]["patch"]
    assert overridden["diff"]["ref"] == "HEAD"
    assert overridden["diff"]["changed_files"] != configured["diff"]["changed_files"]


@slow
def test_patch_thresholds_without_a_diff_base_are_said_unchecked(
    branchy: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    _, document = covgate_json(capsys, branchy.root)

    assert "diff" not in document
    assert "patch" not in document["overall"]
    assert "changed_lines" not in document["files"][0]
    assert (
        "warning: patch thresholds (critical, entry, overall) not checked: no --diff-base given "
        "and no diff_base configured"
    ) in document["notes"]


def shallow_clone(tmp_path: Path) -> Path:
    origin = tmp_path / "origin"
    write_files(origin, {"app/a.py": "x = 1\n", "pyproject.toml": POLICY})
    git(origin, "init", "-q", "-b", "main")
    git(origin, "-c", "user.email=d@e", "-c", "user.name=D", "add", "-A")
    git(origin, "-c", "user.email=d@e", "-c", "user.name=D", "commit", "-q", "-m", "one")
    git(origin, "checkout", "-q", "-b", "feature")
    for n in range(3):
        (origin / "app/a.py").write_text(f"x = {n}\n", encoding="utf-8")
        git(origin, "-c", "user.email=d@e", "-c", "user.name=D", "commit", "-q", "-am", f"{n}")
    git(origin, "checkout", "-q", "main")
    (origin / "app/b.py").write_text("y = 1\n", encoding="utf-8")
    git(origin, "add", "-A")
    git(origin, "-c", "user.email=d@e", "-c", "user.name=D", "commit", "-q", "-m", "main")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", "--no-single-branch", origin.as_uri(), "clone")
    git(clone, "checkout", "-q", "feature")
    return clone


@pytest.mark.parametrize(
    ("where", "ref", "message"),
    [
        (
            "shallow",
            "origin/main",
            "covgate: error: no merge base of 'origin/main' and HEAD: this is a shallow clone; "
            "fetch more history (actions/checkout with fetch-depth: 0, or git fetch --deepen=N "
            "/ --unshallow)\n",
        ),
        (
            "shallow",
            "origin/nope",
            "covgate: error: unknown git reference 'origin/nope' (not fetched? in CI check out "
            "with fetch-depth: 0, or run git fetch origin)\n",
        ),
        ("plain", "main", "covgate: error: {root}: not inside a git repository\n"),
        ("shallow", "--output=x", "covgate: error: --diff-base '--output=x': expected a git "
         "reference, e.g. origin/main\n"),
    ],
)  # fmt: skip
def test_git_problems_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str, ref: str, message: str
) -> None:
    if where == "shallow":
        root = shallow_clone(tmp_path)
    else:
        root = tmp_path / "plain"
        write_files(root, {"pyproject.toml": POLICY})

    code, out, err = run_main(capsys, "check", "-C", str(root), f"--diff-base={ref}")

    assert code == ExitCode.USAGE
    assert err == message.format(root=root)
    assert out == ""


@slow
def test_changed_files_missing_from_the_data_fail_loudly(
    branchy: Repo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Data measured in another checkout: its paths match none of the changed files here.
    root = project_copy(branchy, tmp_path)

    code, document = covgate_json(capsys, root, "--diff-base", "main")

    assert code == ExitCode.THRESHOLD_MISSED
    critical = document["classes"][0]
    assert critical["patch"]["status"] == "not measured"
    assert critical["patch"]["unmeasured"] == [
        "app/auth/fresh.py",
        "app/auth/tokens.py",
        "tools/auth/helper.py",
    ]
    assert [c["path"] for c in critical["checks"] if not c["passed"]] == critical["patch"][
        "unmeasured"
    ]


@slow
def test_a_pull_request_cannot_lower_its_own_patch_threshold(
    branchy: Repo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project_copy(branchy, tmp_path)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text(encoding="utf-8").replace("patch = 100", "patch = 0"))
    data = str(root / "coverage.json")
    code, lowered = covgate_json(capsys, root, "--diff-base", "main", data)
    assert code == ExitCode.THRESHOLD_MISSED  # overall's patch threshold still misses
    assert lowered["classes"][0]["patch"]["status"] == "not measured"  # tools/auth/helper.py

    code, guarded = covgate_json(capsys, root, "--diff-base", "main", "--policy-ref", "main", data)

    assert code == ExitCode.THRESHOLD_MISSED
    at_ref = guarded["policy_ref"]["classes"][0]["patch"]
    assert (at_ref["threshold"], at_ref["status"]) == (100.0, "failed")
    assert at_ref["covered"] == lowered["classes"][0]["patch"]["covered"]


def test_git_not_installed_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "project"
    write_files(root, {"pyproject.toml": POLICY})
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # a machine without git

    code, out, err = run_main(capsys, "check", "-C", str(root), "--diff-base", "main")

    assert code == ExitCode.USAGE
    assert err == "covgate: error: git is not installed (or not on PATH): it is needed here\n"
    assert out == ""
