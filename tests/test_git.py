"""covgate.git on real repositories made in temporary folders."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from covgate import git
from covgate.errors import ExitCode


def sh(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def make_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    sh(path, "init", "-q", "-b", "main")
    sh(path, "config", "user.email", "dev@example.com")
    sh(path, "config", "user.name", "Dev")
    sh(path, "config", "commit.gpgsign", "false")
    return path


def commit_file(repo: Path, name: str, content: str, message: str = "change") -> str:
    target = repo / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content, encoding="utf-8")
    sh(repo, "add", name)
    sh(repo, "commit", "-q", "-m", message)
    return sh(repo, "rev-parse", "HEAD")


def test_toplevel_from_a_subfolder(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    commit_file(repo, "sub/app.py", "x = 1\n")
    assert git.toplevel(repo / "sub") == repo.resolve()


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(git.GitError, match="not inside a git repository") as info:
        git.toplevel(tmp_path)
    assert info.value.exit_code == ExitCode.USAGE


def test_commit_and_unknown_ref(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    first = commit_file(repo, "a.py", "x = 1\n")
    assert git.commit("main", repo) == first
    assert git.commit("HEAD", repo) == first
    with pytest.raises(git.GitError, match="unknown git reference 'nope'"):
        git.commit("nope", repo)
    with pytest.raises(git.GitError, match="is not a git reference"):
        git.commit("--output=x", repo)


def test_merge_base_of_a_branch(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    base = commit_file(repo, "a.py", "x = 1\n")
    sh(repo, "checkout", "-q", "-b", "feature")
    commit_file(repo, "a.py", "x = 2\n")
    sh(repo, "checkout", "-q", "main")
    commit_file(repo, "b.py", "y = 1\n")
    sh(repo, "checkout", "-q", "feature")
    assert git.merge_base("main", repo) == base


def test_no_merge_base_in_a_shallow_clone(tmp_path: Path) -> None:
    origin = make_repo(tmp_path / "origin")
    commit_file(origin, "a.py", "x = 1\n")
    sh(origin, "checkout", "-q", "-b", "feature")
    for n in range(3):
        commit_file(origin, "a.py", f"x = {n + 2}\n")
    sh(origin, "checkout", "-q", "main")
    commit_file(origin, "b.py", "y = 1\n")
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", "--no-single-branch", origin.as_uri(), str(clone)],
        check=True,
        capture_output=True,
    )
    sh(clone, "checkout", "-q", "feature")
    assert git.is_shallow(clone)
    with pytest.raises(git.GitError, match=r"shallow clone.*fetch-depth: 0"):
        git.merge_base("origin/main", clone)


def test_unrelated_histories(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    commit_file(repo, "a.py", "x = 1\n")
    sh(repo, "checkout", "-q", "--orphan", "other")
    commit_file(repo, "b.py", "y = 1\n")
    with pytest.raises(git.GitError, match="share no history"):
        git.merge_base("main", repo)


def test_show_a_file_at_a_ref(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    first = commit_file(repo, "conf/covgate.toml", "a = 1\n")
    commit_file(repo, "conf/covgate.toml", "a = 2\n")
    assert git.show(first, "conf/covgate.toml", repo) == b"a = 1\n"
    assert git.show("HEAD", "conf/covgate.toml", repo) == b"a = 2\n"
    assert git.show("HEAD", "conf/missing.toml", repo) is None


def test_head_without_commits(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    assert git.head(repo) is None
    commit_file(repo, "a.py", "x = 1\n")
    sh(repo, "checkout", "-q", "--orphan", "fresh")  # HEAD names a branch with no commit
    assert git.head(repo) is None
    with pytest.raises(git.GitError, match="no commit yet"):
        git.merge_base("main", repo)
