""".pre-commit-hooks.yaml: the manifest validates, and `pre-commit try-repo` runs the real hook
(the gate, in the user's own environment) on a passing and on a failing project."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import POLICY, clean_env, small_project

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / ".pre-commit-hooks.yaml"
TIMEOUT = 300


def pre_commit() -> list[str]:
    """How to start pre-commit: the running interpreter's, else the one on PATH."""
    if importlib.util.find_spec("pre_commit") is not None:
        return [sys.executable, "-m", "pre_commit"]
    found = shutil.which("pre-commit")
    if found is None:
        pytest.skip("pre-commit is not installed (pip install pre-commit)")
    return [found]


def environment(home: Path) -> dict[str, str]:
    """The user's shell: covgate's dev venv first on PATH, pre-commit's cache under `home`,
    and nothing from an enclosing git hook or CI job."""
    env = clean_env()
    for name in list(env):
        if name.startswith(("GIT_", "COVGATE_", "GITHUB_", "PRE_COMMIT")):
            del env[name]
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PRE_COMMIT_HOME"] = str(home)
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    env["HOME"] = str(home)
    return env


def test_the_manifest_declares_a_pre_push_hook_in_the_users_environment() -> None:
    hooks = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(hooks, list)
    (hook,) = (h for h in hooks if h["id"] == "covgate")
    expected: dict[str, Any] = {
        "entry": "covgate run",
        "language": "system",
        "pass_filenames": False,
        "always_run": True,
        "require_serial": True,
        "stages": ["pre-push"],
    }
    assert {key: hook.get(key) for key in expected} == expected


def test_the_manifest_validates(tmp_path: Path) -> None:
    result = subprocess.run(
        [*pre_commit(), "validate-manifest", str(MANIFEST)],
        env=environment(tmp_path / "home"),
        capture_output=True,
        text=True,
        check=False,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("minimum", "passes"), [(80, True), (100, False)])
def test_try_repo_runs_the_gate_before_a_push(tmp_path: Path, minimum: int, passes: bool) -> None:
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    command = pre_commit()
    project = small_project(tmp_path / "project", POLICY.replace("min = 80", f"min = {minimum}"))
    env = environment(tmp_path / "home")
    covgate = shutil.which("covgate", path=env["PATH"])
    assert covgate is not None
    assert Path(covgate).parent == Path(sys.executable).parent

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv, cwd=project, env=env, capture_output=True, text=True, check=False,
            timeout=TIMEOUT,
        )  # fmt: skip

    tracked = run(git, "-C", str(ROOT), "ls-files", "--error-unmatch", MANIFEST.name)
    assert tracked.returncode == 0, (
        f"{MANIFEST.name} is not tracked by git in {ROOT}: try-repo sees tracked files only "
        f"(git add it)\n{tracked.stderr}"
    )
    for argv in ([git, "init", "-q"], [git, "add", "-A"]):
        assert run(*argv).returncode == 0
    result = run(*command, "try-repo", str(ROOT), "covgate", "--hook-stage", "pre-push",
                 "--all-files", "--color", "never")  # fmt: skip
    output = result.stdout + result.stderr
    if passes:
        assert result.returncode == 0, output
        assert "Passed" in output
    else:
        assert result.returncode != 0, output
        assert "Failed" in output
        assert "exit code: 2" in output  # covgate's own: a threshold was missed
        assert "critical" in output
