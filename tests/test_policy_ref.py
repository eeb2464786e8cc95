"""covgate.policy_ref: the configuration at a git reference, and the settings weakened since."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from covgate import git, policy_ref
from covgate.config import load_config
from covgate.errors import ConfigError, DataError, ExitCode
from covgate.model import Figure
from covgate.policy_ref import CoverageOptions, coverage_options, weakened_settings
from tests.test_git import commit_file, make_repo, sh


def options(file: str | None = "pyproject.toml", branch: bool = True, **lists: list[str]) -> (
    CoverageOptions
):  # fmt: skip
    names = [o for o, _ in (*policy_ref.ADDED_WEAKENS, *policy_ref.NARROWING)]
    given = {name.replace("_", ":", 1): value for name, value in lists.items()}
    return CoverageOptions(file, branch, {n: tuple(given.get(n, ())) for n in names})


@pytest.mark.parametrize(
    ("head", "ref", "found"),
    [
        pytest.param(options(), options(), [], id="same"),
        pytest.param(
            options(run_omit=["a", "*/auth/*"]),
            options(run_omit=["a"]),
            ["[run] omit adds '*/auth/*' (not at main)"],
            id="new run omit",
        ),
        pytest.param(options(run_omit=[]), options(run_omit=["a"]), [], id="omit removed"),
        pytest.param(
            options(report_omit=["x.py"]),
            options(),
            ["[report] omit adds 'x.py' (not at main)"],
            id="new report omit",
        ),
        pytest.param(
            options(report_exclude_lines=["pragma", "def __repr__"]),
            options(report_exclude_lines=["pragma"]),
            ["[report] exclude_lines/exclude_also adds 'def __repr__' (not at main)"],
            id="new exclusion",
        ),
        pytest.param(
            options(report_partial_branches=["while True"]),
            options(),
            ["[report] partial_branches/partial_also adds 'while True' (not at main)"],
            id="new partial",
        ),
        pytest.param(
            options(run_source=["app"]),
            options(run_source=["app", "lib"]),
            ["[run] source drops 'lib' (at main)"],
            id="narrower source",
        ),
        pytest.param(
            options(run_source=["app", "lib"]), options(run_source=["app"]), [], id="wider source"
        ),
        pytest.param(
            options(run_include=["app/*"]),
            options(),
            ["[run] include is set to 'app/*' (not set at main: measures less)"],
            id="new include",
        ),
        pytest.param(
            options(report_include=[]),
            options(report_include=["app/*"]),
            ["[report] include drops 'app/*' (at main)"],
            id="include removed",
        ),
        pytest.param(
            options(branch=False), options(), ["[run] branch is off (on at main)"], id="branch"
        ),
        pytest.param(options(), options(branch=False), [], id="branch turned on"),
        pytest.param(
            options(file=".coveragerc"),
            options(),
            ["coverage.py reads its settings from a new .coveragerc (at main: pyproject.toml)"],
            id="new coveragerc",
        ),
        pytest.param(
            options(file="setup.cfg"),
            options(file=None),
            ["coverage.py reads its settings from a new setup.cfg (at main: no file)"],
            id="new setup.cfg section",
        ),
        pytest.param(options(file="pyproject.toml"), options(file=None), [], id="new pyproject"),
        pytest.param(options(file="tox.ini"), options(file="tox.ini"), [], id="same tox.ini"),
    ],
)
def test_weakened_settings(head: CoverageOptions, ref: CoverageOptions, found: list[str]) -> None:
    assert list(weakened_settings(head, ref, "main")) == found


def test_coverage_options_as_coverage_py_reads_them(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.coverage.run]\nsource = ["app"]\nomit = ["app/gen/*"]\n'
        '[tool.coverage.report]\nexclude_also = ["if DEBUG:"]\n'
    )
    found = coverage_options(tmp_path, "here")
    assert found.file == "pyproject.toml"
    assert not found.branch
    assert found.lists["run:source"] == ("app",)
    assert found.lists["run:omit"] == ("app/gen/*",)
    assert "if DEBUG:" in found.lists["report:exclude_lines"]  # exclude_also is added to them
    (tmp_path / ".coveragerc").write_text("[run]\nbranch = true\n")
    override = coverage_options(tmp_path, "here")
    assert (override.file, override.branch, override.lists["run:source"]) == (
        ".coveragerc",
        True,
        (),
    )
    (tmp_path / ".coveragerc").write_text("[run]\nbranch = maybe\n")
    with pytest.raises(ConfigError, match=r"^here: .*Not a boolean: maybe"):
        coverage_options(tmp_path, "here")


POLICY = """\
[tool.coverage.run]
branch = true

[tool.covgate]
baseline = "base.json"
baseline_tolerance = 1

[tool.covgate.overall]
min = 80
"""
BASELINE = """\
{"version": 1, "branch": true, "overall": {"covered": 9, "total": 10}, "classes": {},
 "files": {"a.py": 1}}
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_repo(tmp_path / "repo")
    commit_file(root, "base.json", BASELINE)
    commit_file(root, "pyproject.toml", POLICY)
    return root


def test_the_policy_at_a_ref_with_its_baseline(repo: Path) -> None:
    (repo / "pyproject.toml").write_text(POLICY.replace("min = 80", "min = 10"))
    (repo / "base.json").write_text(BASELINE.replace('"a.py": 1', '"a.py": 5'))
    settings = load_config(root=repo)
    assert settings.policy.overall.min == 10
    at_main = policy_ref.load("main", settings)
    assert at_main.commit == git.commit("main", repo)
    assert at_main.config.policy.overall.min == 80
    assert at_main.config.baseline_tolerance == 1
    assert at_main.source == "[tool.covgate] in pyproject.toml at main"
    assert at_main.baseline is not None
    assert at_main.baseline.files == {"a.py": 1}
    assert at_main.baseline.overall == Figure(9, 10)
    assert at_main.baseline_source == "base.json at main"
    assert at_main.weakened == ()


def test_covgate_toml_at_the_ref_and_the_project_in_a_subfolder(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    commit_file(root, "svc/covgate.toml", "[overall]\nmin = 77\n")
    (root / "svc" / "covgate.toml").unlink()
    (root / "svc" / "pyproject.toml").write_text("[tool.covgate.overall]\nmin = 5\n")
    settings = load_config(root=root / "svc")
    found = policy_ref.load("HEAD", settings)
    assert found.config.policy.overall.min == 77
    assert found.source == "covgate.toml at HEAD"
    assert found.baseline is None


def test_no_configuration_at_the_ref_is_the_default_policy(repo: Path) -> None:
    sh(repo, "checkout", "-q", "-b", "empty", "HEAD~1")
    commit_file(repo, "x.py", "x = 1\n")
    sh(repo, "checkout", "-q", "main")
    found = policy_ref.load("empty", load_config(root=repo))
    assert found.config.policy.is_default
    assert found.source == "no covgate configuration at empty: the default policy"
    # main's working tree reads branch = true from pyproject; at `empty` coverage.py had none.
    assert found.weakened == ()


def test_errors_at_the_ref_are_one_line(repo: Path) -> None:
    settings = load_config(root=repo)
    with pytest.raises(git.GitError, match="unknown git reference 'nope'") as info:
        policy_ref.load("nope", settings)
    assert info.value.exit_code == ExitCode.USAGE
    commit_file(repo, "pyproject.toml", POLICY.replace("min = 80", "mn = 80"))
    with pytest.raises(ConfigError) as bad:
        policy_ref.load("HEAD", settings)
    assert str(bad.value).startswith(
        "pyproject.toml at HEAD: pyproject.toml: tool.covgate.overall.mn: unknown key"
    )
    sh(repo, "rm", "-q", "base.json")
    commit_file(repo, "pyproject.toml", POLICY)
    with pytest.raises(ConfigError, match=r"^base\.json at HEAD: no such baseline file"):
        policy_ref.load("HEAD", settings)
    commit_file(repo, "base.json", "{}")
    with pytest.raises(DataError, match=r"^base\.json at HEAD: not a covgate baseline"):
        policy_ref.load("HEAD", settings)


def test_outside_a_repository(tmp_path: Path) -> None:
    (tmp_path / "covgate.toml").write_text("")
    with pytest.raises(git.GitError, match="not inside a git repository"):
        policy_ref.load("main", load_config(root=tmp_path))


def test_weakened_settings_against_the_ref(repo: Path) -> None:
    (repo / ".coveragerc").write_text("[run]\nomit = app/auth/*\n")
    (repo / "pyproject.toml").write_text(
        POLICY.replace("[tool.covgate]\n", "[tool.covgate]\nbranch = false\n")
    )
    settings = load_config(root=repo)
    found = policy_ref.load("main", settings)
    assert found.weakened == (
        "[run] omit adds 'app/auth/*' (not at main)",
        "[run] branch is off (on at main)",  # .coveragerc hides [tool.coverage] from coverage.py
        "coverage.py reads its settings from a new .coveragerc (at main: pyproject.toml)",
        "covgate's branch = false (true at main)",
    )
    assert Fraction(found.config.baseline_tolerance) == 1
