"""No regressions, end to end: real git repositories, real coverage data, the real command line.

One small project is measured once per selection of its tests (a selection per scenario), into
data files that the tests then gate with `covgate check DATA`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from covgate.errors import ExitCode
from tests.helpers import POLICY, clean_env, plain_environment, write_files
from tests.helpers import covgate_main as covgate
from tests.test_git import sh

pytestmark = pytest.mark.slow

TOKENS = """\
def issue(user):
    return "t-" + user


def revoke(token):
    return token[2:]
"""
KEYS = """\
def rotate(key):
    return key[::-1]


def length(key):
    return len(key)
"""
TEXT = """\
def slug(text):
    return text.lower()


def shout(text):
    return text.upper()
"""
TESTS = """\
from app.auth.keys import length, rotate
from app.auth.tokens import issue, revoke
from app.utils.text import slug


def test_issue():
    assert issue("a") == "t-a"


def test_revoke():
    assert revoke("t-a") == "a"


def test_rotate():
    assert rotate("ab") == "ba"


def test_length():
    assert length("ab") == 2


def test_slug():
    assert slug("A") == "a"
"""
COVERAGE = """\
[tool.coverage.run]
source = ["app"]
branch = true
relative_files = true
"""
# POLICY (tests.helpers) puts app/auth in critical: here tokens.py and keys.py, 4 statements
# each (two defs, two returns). The ratchet's tests lower its min to 70 %, so that only the
# baseline fails them.
RATCHET = POLICY.replace("min = 80", "min = 70").replace(
    "workers = 0\n", 'workers = 0\nbaseline = "covgate-baseline.json"\n'
)

# The data files, by the tests they leave out. Critical coverage of each:
SELECTIONS = {
    "all": "",  # 8/8
    "no-rotate": "not test_rotate",  # 7/8: keys.py 1 uncovered
    "no-issue": "not test_issue",  # 7/8: tokens.py 1 uncovered (the class holds)
    "keys-half": "not test_rotate and not test_length",  # 6/8 = 75 %: keys.py 2 uncovered
}


def measure(root: Path, name: str, selection: str = "") -> Path:
    """Run the tests (those `selection` selects) under coverage.py into the data file NAME."""
    args = ["-k", selection] if selection else []
    subprocess.run(
        [sys.executable, "-m", "coverage", "run", f"--data-file={name}",
         "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=root, env=clean_env(), check=True, capture_output=True,
    )  # fmt: skip
    return root / name


def project(root: Path, covgate: str = RATCHET) -> Path:
    write_files(
        root,
        {
            "app/__init__.py": "",
            "app/auth/__init__.py": "",
            "app/auth/tokens.py": TOKENS,
            "app/auth/keys.py": KEYS,
            "app/utils/__init__.py": "",
            "app/utils/text.py": TEXT,
            "tests/test_app.py": TESTS,
            "pyproject.toml": COVERAGE + covgate,
            ".gitignore": ".coverage*\ndata-*\n",
        },
    )
    return root


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = project(tmp_path_factory.mktemp("measured"))
    for name, selection in SELECTIONS.items():
        measure(root, f"data-{name}", selection)
    return root


@pytest.fixture
def repo(measured: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the measured project as a git repository with one commit on main."""
    root = tmp_path / "repo"
    shutil.copytree(measured, root)
    sh(root, "init", "-q", "-b", "main")
    sh(root, "config", "user.email", "dev@example.com")
    sh(root, "config", "user.name", "Dev")
    sh(root, "config", "commit.gpgsign", "false")
    sh(root, "add", "-A")
    sh(root, "commit", "-q", "-m", "base")
    monkeypatch.chdir(root)
    plain_environment(monkeypatch)
    return root


def commit(root: Path, message: str = "change") -> None:
    sh(root, "add", "-A")
    sh(root, "commit", "-q", "-m", message)


def section(out: str) -> list[str]:
    """The no-regressions lines of the terminal report (from the first 'baseline' or 'policy')
    up to the verdict."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(("baseline ", "policy at ")))
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("covgate: "))
    return lines[start:end]


# --- the baseline file ------------------------------------------------------------------------


def test_the_baseline_is_stable_and_byte_identical(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = covgate(capsys, "baseline", "data-no-rotate")
    assert code == ExitCode.OK
    assert out.splitlines()[-1] == (
        "baseline: wrote covgate-baseline.json (1 class and overall, 6 files)"
    )
    written = (repo / "covgate-baseline.json").read_bytes()
    assert written.decode() == (
        "{\n"
        '  "version": 1,\n'
        '  "branch": true,\n'
        '  "overall": {"covered": 10, "total": 12},\n'
        '  "classes": {\n'
        '    "critical": {"covered": 7, "total": 8}\n'
        "  },\n"
        '  "files": {\n'
        '    "app/__init__.py": 0,\n'
        '    "app/auth/__init__.py": 0,\n'
        '    "app/auth/keys.py": 1,\n'
        '    "app/auth/tokens.py": 0,\n'
        '    "app/utils/__init__.py": 0,\n'
        '    "app/utils/text.py": 1\n'
        "  }\n"
        "}\n"
    )
    (repo / "covgate-baseline.json").unlink()
    assert covgate(capsys, "baseline", "--update", "data-no-rotate")[0] == ExitCode.OK
    assert (repo / "covgate-baseline.json").read_bytes() == written
    code, out, _ = covgate(capsys, "baseline", "data-no-rotate")
    assert out.splitlines()[-1] == (
        "baseline: unchanged covgate-baseline.json (1 class and overall, 6 files)"
    )


def test_unchanged_data_passes(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    covgate(capsys, "baseline", "data-no-rotate")
    code, out, _ = covgate(capsys, "check", "data-no-rotate")
    assert code == ExitCode.OK, out
    assert section(out) == [
        "baseline covgate-baseline.json: passed (1 class and overall, 6 files compared)"
    ]


def test_a_class_drop_fails_naming_both_figures(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    covgate(capsys, "baseline", "data-no-rotate")
    code, out, _ = covgate(capsys, "check", "data-keys-half")
    assert code == ExitCode.THRESHOLD_MISSED
    row = (
        "| critical     |     3 |          8 |                  2 |        0 |"
        "                0 |       0 |  75.00 % | 70 %   |"
    )
    assert f"{row} pass    |" in out.splitlines()  # its min holds
    assert section(out) == [
        "baseline covgate-baseline.json: FAILED",
        "    critical 75.00 % is below its baseline 87.50 %: cover 1 more line or branch",
        "    overall 75.00 % is below its baseline 83.33 %: cover 1 more line or branch",
        "    app/auth/keys.py: 2 uncovered lines and branches, baseline 1: lines 2, 6",
    ]
    assert out.splitlines()[-1] == "covgate: FAILED: 3 regressions against the baseline"
    # A tolerance of 13 points lets the class drop pass; the grown file still fails.
    pyproject = repo / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace("workers = 0", "workers = 0\nbaseline_tolerance = 13")
    )
    code, out, _ = covgate(capsys, "check", "data-keys-half")
    assert code == ExitCode.THRESHOLD_MISSED
    assert section(out)[1:] == [
        "    app/auth/keys.py: 2 uncovered lines and branches, baseline 1: lines 2, 6"
    ]


def test_a_grown_file_fails_while_its_class_holds(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    covgate(capsys, "baseline", "data-no-rotate")
    code, out, _ = covgate(
        capsys, "check", "data-no-issue", "--report", "json:report.json", "--report",
        "github:annotations.txt", "--report", "terminal",
    )  # fmt: skip
    assert code == ExitCode.THRESHOLD_MISSED
    assert section(out) == [
        "baseline covgate-baseline.json: FAILED",
        "    app/auth/tokens.py: 1 uncovered lines and branches, baseline 0: line 2",
    ]
    report = json.loads((repo / "report.json").read_text())
    assert report["baseline"] == {
        "path": "covgate-baseline.json",
        "passed": False,
        "tolerance": 0.0,
        "groups": [
            {"name": "critical", "baseline": {"covered": 7, "total": 8, "percent": 87.5},
             "covered": 7, "total": 8, "percent": 87.5, "passed": True},
            {"name": "overall", "baseline": {"covered": 10, "total": 12, "percent": 250 / 3},
             "covered": 10, "total": 12, "percent": 250 / 3, "passed": True},
        ],
        "grown_files": [
            {"path": "app/auth/tokens.py", "class": "critical", "baseline": 0, "uncovered": 1,
             "missing_lines": [2], "partial_lines": []}
        ],
        "new_files": [],
        "deleted_files": [],
        "classes_not_in_policy": [],
    }  # fmt: skip
    assert report["policy_ref"] is None
    assert (repo / "annotations.txt").read_text() == (
        "::error file=app/auth/tokens.py,line=2,title=covgate%3A more uncovered than the "
        "baseline::app/auth/tokens.py: 1 uncovered lines and branches, baseline 0\n"
    )


def test_a_new_file_is_judged_by_its_class(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    covgate(capsys, "baseline", "data-no-rotate")
    write_files(repo, {
        "app/auth/extra.py": "def extra():\n    return 1\n\n\ndef unused():\n    return 2\n",
        "tests/test_extra.py": "from app.auth.extra import extra\n\n\n"
                               "def test_extra():\n    assert extra() == 1\n",
    })  # fmt: skip
    measure(repo, "data-new")
    code, out, _ = covgate(capsys, "check", "data-new")
    # extra.py has an uncovered line but no baseline of its own; critical, 11/12 with it,
    # holds its baseline of 7/8.
    assert code == ExitCode.OK, out
    assert section(out) == [
        "baseline covgate-baseline.json: passed (1 class and overall, 6 files compared)",
        "    new files, judged by their class thresholds only: app/auth/extra.py",
    ]
    assert "| critical     |     4 |         12 |                  1 |" in out


def test_a_deleted_file_is_ignored(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    covgate(capsys, "baseline", "data-no-rotate")
    (repo / "app" / "auth" / "keys.py").unlink()
    tests = repo / "tests" / "test_app.py"
    text = tests.read_text().replace("from app.auth.keys import length, rotate\n", "")
    tests.write_text(
        text.split("def test_rotate")[0] + "def test_slug" + text.split("def test_slug")[1]
    )
    measure(repo, "data-deleted")
    code, out, _ = covgate(capsys, "check", "data-deleted")
    assert code == ExitCode.OK, out
    assert section(out) == [
        "baseline covgate-baseline.json: passed (1 class and overall, 5 files compared)",
        "    in the baseline but no longer measured (not compared): app/auth/keys.py",
    ]


def test_update_tightens_and_never_loosens_without_the_flag(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    covgate(capsys, "baseline", "data-no-rotate")
    before = (repo / "covgate-baseline.json").read_text()
    code, out, _ = covgate(capsys, "baseline", "--update", "data-no-issue")
    assert code == ExitCode.OK
    assert out.splitlines()[-3:] == [
        "baseline: wrote covgate-baseline.json (1 class and overall, 6 files)",
        "baseline: tightened: app/auth/keys.py 1 -> 0 uncovered",
        "baseline: kept, as they would loosen (covgate baseline --allow-loosen writes them): "
        "app/auth/tokens.py 0 -> 1 uncovered",
    ]
    after = json.loads((repo / "covgate-baseline.json").read_text())
    assert after["files"]["app/auth/keys.py"] == 0
    assert after["files"]["app/auth/tokens.py"] == 0
    assert after != json.loads(before)
    # The tightened baseline now fails both selections that leave a test out.
    assert covgate(capsys, "check", "data-no-issue")[0] == ExitCode.THRESHOLD_MISSED
    assert covgate(capsys, "check", "data-no-rotate")[0] == ExitCode.THRESHOLD_MISSED
    code, out, _ = covgate(capsys, "baseline", "--allow-loosen", "data-no-issue")
    assert out.splitlines()[-1] == (
        "baseline: loosened (--allow-loosen): app/auth/tokens.py 0 -> 1 uncovered"
    )
    assert (
        json.loads((repo / "covgate-baseline.json").read_text())["files"]["app/auth/tokens.py"] == 1
    )
    assert covgate(capsys, "check", "data-no-issue")[0] == ExitCode.OK


def test_check_writes_the_baseline_only_when_asked(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    covgate(capsys, "baseline", "data-no-rotate")
    before = (repo / "covgate-baseline.json").read_bytes()
    covgate(capsys, "check", "data-all")
    assert (repo / "covgate-baseline.json").read_bytes() == before
    code, out, _ = covgate(capsys, "check", "data-all", "--write-baseline")
    assert code == ExitCode.OK
    assert (
        "baseline: tightened: overall 83.33 % (10/12) -> 91.66 % (11/12); critical 87.50 % "
        "(7/8) -> 100.00 % (8/8); app/auth/keys.py 1 -> 0 uncovered"
    ) in out.splitlines()
    assert json.loads((repo / "covgate-baseline.json").read_text())["classes"] == {
        "critical": {"covered": 8, "total": 8}
    }


def test_run_writes_the_baseline(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = covgate(capsys, "run", "--write-baseline")
    assert code == ExitCode.OK, out + err
    assert "baseline: wrote covgate-baseline.json (1 class and overall, 6 files)" in out
    written = json.loads((repo / "covgate-baseline.json").read_text())
    assert written["classes"] == {"critical": {"covered": 8, "total": 8}}
    assert written["files"]["app/utils/text.py"] == 1
    code, out, _ = covgate(capsys, "check", "data-no-issue")
    assert code == ExitCode.THRESHOLD_MISSED
    assert section(out)[1] == (
        "    critical 87.50 % is below its baseline 100.00 %: cover 1 more line or branch"
    )


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, "covgate-baseline.json: no such baseline file (write it with covgate baseline)"),
        ("{", "covgate-baseline.json: not a covgate baseline: not valid JSON"),
        ('{"version": 1, "branch": true, "overall": {"covered": 1, "total": 2}, "classes": {}, '
         '"files": []}',
         "covgate-baseline.json: not a covgate baseline: files: expected an object"),
    ],
)  # fmt: skip
def test_a_missing_or_corrupt_baseline_is_exit_3_in_one_line(
    repo: Path, capsys: pytest.CaptureFixture[str], content: str | None, words: str
) -> None:
    if content is not None:
        (repo / "covgate-baseline.json").write_text(content)
    code, out, err = covgate(capsys, "check", "data-all")
    assert code == ExitCode.USAGE
    assert out == ""
    assert len(err.splitlines()) == 1
    assert err.startswith(f"covgate: error: {words}")


def test_baseline_option_names_another_file(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    covgate(capsys, "baseline", "--baseline", "gate/old.json", "data-all")
    code, out, _ = covgate(capsys, "check", "data-no-rotate", "--baseline", "gate/old.json", "-q")
    assert code == ExitCode.THRESHOLD_MISSED
    assert "baseline gate/old.json: FAILED" in out.splitlines()


# --- the policy at the base branch ------------------------------------------------------------


@pytest.fixture
def pull_request(repo: Path) -> Path:
    """main with the plain policy (no baseline), and a branch `pr` checked out."""
    (repo / "pyproject.toml").write_text(COVERAGE + POLICY)
    commit(repo, "policy")
    sh(repo, "checkout", "-q", "-b", "pr")
    return repo


def edit(root: Path, old: str, new: str) -> None:
    path = root / "pyproject.toml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    commit(root)


def test_lowering_min_fails_under_the_policy_ref(
    pull_request: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert covgate(capsys, "check", "data-keys-half")[0] == ExitCode.THRESHOLD_MISSED
    edit(pull_request, "min = 80", "min = 70")
    assert covgate(capsys, "check", "data-keys-half")[0] == ExitCode.OK
    code, out, _ = covgate(capsys, "check", "data-keys-half", "--policy-ref", "main")
    assert code == ExitCode.THRESHOLD_MISSED
    main_commit = sh(pull_request, "rev-parse", "main")[:12]
    assert section(out) == [
        f"policy at main ({main_commit}, [tool.covgate] in pyproject.toml at main): FAILED",
        "    critical 75.00 % < 80 %: cover 1 more line or branch",
    ]
    assert out.splitlines()[-1] == "covgate: FAILED: the policy at main failed"


def test_moving_a_file_out_of_critical_fails_under_the_policy_ref(
    pull_request: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(pull_request, 'paths = ["**/auth/**"]', 'paths = ["**/auth/**", "!**/keys.py"]')
    assert covgate(capsys, "check", "data-keys-half")[0] == ExitCode.OK
    code, out, _ = covgate(
        capsys, "check", "data-keys-half", "--policy-ref", "main", "--report", "json:r.json",
        "--report", "terminal",
    )  # fmt: skip
    assert code == ExitCode.THRESHOLD_MISSED
    assert section(out)[1:] == ["    critical 75.00 % < 80 %: cover 1 more line or branch"]
    report = json.loads((pull_request / "r.json").read_text())
    at_main = report["policy_ref"]
    assert (at_main["ref"], at_main["passed"], at_main["weakened"]) == ("main", False, [])
    assert at_main["commit"] == sh(pull_request, "rev-parse", "main")
    assert [(c["name"], c["files"], c["covered"], c["total"]) for c in at_main["classes"]] == [
        ("critical", 3, 6, 8)
    ]
    assert [(c["name"], c["files"], c["passed"]) for c in report["classes"]] == [
        ("critical", 2, True)  # __init__.py and tokens.py
    ]


def test_omitting_an_auth_file_fails_under_the_policy_ref(
    pull_request: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    omit = '\n[tool.coverage.report]\nomit = ["app/auth/keys.py"]\n'
    edit(pull_request, "relative_files = true\n", "relative_files = true\n" + omit)
    code, out, _ = covgate(capsys, "check", "data-keys-half")
    assert code == ExitCode.OK, out
    code, out, _ = covgate(capsys, "check", "data-keys-half", "--policy-ref", "main")
    assert code == ExitCode.THRESHOLD_MISSED
    # The same data judged by main's classes passes (keys.py is omitted from it); the new omit
    # is what fails.
    assert section(out)[1:] == ["    weakened: [report] omit adds 'app/auth/keys.py' (not at main)"]


def test_policy_ref_from_the_config_and_the_baseline_at_the_ref(
    pull_request: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # main gains a baseline; the pull request loosens it and drops the key.
    sh(pull_request, "checkout", "-q", "main")
    (pull_request / "pyproject.toml").write_text(COVERAGE + RATCHET)
    covgate(capsys, "baseline", "data-all")
    commit(pull_request, "baseline")
    sh(pull_request, "checkout", "-q", "-b", "pr2")
    (pull_request / "pyproject.toml").write_text(
        COVERAGE + POLICY.replace("workers = 0", 'workers = 0\npolicy_ref = "main"')
    )
    covgate(capsys, "baseline", "--allow-loosen", "data-no-issue")
    commit(pull_request)
    code, out, _ = covgate(capsys, "check", "data-no-issue")
    assert code == ExitCode.THRESHOLD_MISSED
    assert section(out)[1:] == [
        "    baseline covgate-baseline.json at main: FAILED",
        "        critical 87.50 % is below its baseline 100.00 %: cover 1 more line or branch",
        "        overall 83.33 % is below its baseline 91.66 %: cover 1 more line or branch",
        "        app/auth/tokens.py: 1 uncovered lines and branches, baseline 0: line 2",
    ]


def test_no_configuration_at_the_ref_is_the_default_policy(
    pull_request: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = pull_request
    sh(repo, "checkout", "-q", "--orphan", "bare")
    sh(repo, "rm", "-rq", "--cached", ".")
    (repo / "pyproject.toml").write_text(COVERAGE)  # coverage.py's settings, no covgate's
    sh(repo, "add", "pyproject.toml")
    sh(repo, "commit", "-q", "-m", "bare")
    sh(repo, "checkout", "-q", "-f", "pr")
    assert covgate(capsys, "check", "data-all")[0] == ExitCode.OK
    code, out, _ = covgate(capsys, "check", "data-all", "--policy-ref", "bare")
    # The default policy has a utils class at 85 %: text.py is 3/4.
    assert code == ExitCode.THRESHOLD_MISSED
    bare = sh(repo, "rev-parse", "bare")[:12]
    assert section(out) == [
        f"policy at bare ({bare}, no covgate configuration at bare: the default policy): FAILED",
        "    utils 75.00 % < 85 %: cover 1 more line or branch",
    ]


def test_an_unknown_ref_is_exit_3_in_one_line(
    pull_request: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = covgate(capsys, "check", "data-all", "--policy-ref", "origin/nope")
    assert code == ExitCode.USAGE
    assert out == ""
    assert err.splitlines() == [
        "covgate: error: unknown git reference 'origin/nope' (not fetched? in CI check out "
        "with fetch-depth: 0, or run git fetch origin)"
    ]
