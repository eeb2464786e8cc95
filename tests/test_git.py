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


def numbered(count: int, tag: str = "line") -> str:
    return "".join(f"{tag}{n} = {n}\n" for n in range(1, count + 1))


def test_changed_lines_committed_staged_unstaged_untracked_renamed(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    commit_file(repo, "proj/app/edited.py", numbered(10))
    commit_file(repo, "proj/app/moved.py", numbered(30))
    commit_file(repo, "proj/app/gone.py", numbered(3))
    commit_file(repo, "proj/app/shrunk.py", numbered(5))
    commit_file(repo, "outside.py", numbered(3))
    sh(repo, "checkout", "-q", "-b", "feature")
    # Committed on the branch: lines 2 and 9-10 replaced.
    lines = numbered(10).splitlines(keepends=True)
    lines[1], lines[8], lines[9] = "two = 2\n", "nine = 9\n", "ten = 10\n"
    commit_file(repo, "proj/app/edited.py", "".join(lines))
    # Main moves on afterwards: its changes are not the branch's.
    sh(repo, "checkout", "-q", "main")
    commit_file(repo, "proj/app/shrunk.py", numbered(6))
    sh(repo, "checkout", "-q", "feature")
    # Staged: a rename with one line changed, a deletion, a new file.
    sh(repo, "mv", "proj/app/moved.py", "proj/app/renamed.py")
    moved = numbered(30).splitlines(keepends=True)
    moved[14] = "fifteen = 15\n"
    (repo / "proj/app/renamed.py").write_text("".join(moved), encoding="utf-8")
    sh(repo, "add", "proj/app/renamed.py")
    sh(repo, "rm", "-q", "proj/app/gone.py")
    (repo / "proj/app/staged_new.py").write_text("a = 1\nb = 2\n", encoding="utf-8")
    sh(repo, "add", "proj/app/staged_new.py")
    # Unstaged: a line appended to the edited file; a deletion only.
    with (repo / "proj/app/edited.py").open("a", encoding="utf-8") as stream:
        stream.write("eleven = 11\n")
    (repo / "proj/app/shrunk.py").write_text(numbered(4), encoding="utf-8")
    # Untracked, with odd names (no final newline in one); and ignored.
    odd = 'we ird\t"näme".py'
    (repo / "proj/app" / odd).write_text("x = 1\ny = 2\nz = 3", encoding="utf-8")
    (repo / "proj/new dir").mkdir()
    (repo / "proj/new dir/++ x.py").write_text("++ x\n", encoding="utf-8")
    (repo / ".gitignore").write_text("*.log\n", encoding="utf-8")
    (repo / "proj/debug.log").write_text("ignored\n", encoding="utf-8")
    (repo / "untracked_outside.py").write_text("x = 1\n", encoding="utf-8")

    diff = git.changed_lines("main", repo / "proj")

    assert diff.ref == "main"
    assert diff.base == sh(repo, "merge-base", "main", "HEAD")
    assert diff.prefix == "proj/"
    assert dict(diff.files) == {
        "app/edited.py": (2, 9, 10, 11),
        "app/renamed.py": (15,),
        "app/staged_new.py": (1, 2),
        f"app/{odd}": (1, 2, 3),
        "new dir/++ x.py": (1,),
    }


def test_changed_lines_at_the_repository_root(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    odd = 'tab\tand "quote" and späce.py'
    commit_file(repo, "a.py", numbered(3))
    commit_file(repo, odd, numbered(3))
    sh(repo, "checkout", "-q", "-b", "feature")
    # An added line that reads '++ b' in the patch, and a removed one that reads '-- a'.
    commit_file(repo, "a.py", "-- a\n" + numbered(3))
    (repo / "a.py").write_text("++ b\n" + numbered(3), encoding="utf-8")
    (repo / odd).write_text(numbered(4), encoding="utf-8")

    diff = git.changed_lines("main", repo)

    assert diff.prefix == ""
    assert diff.files == (("a.py", (1,)), (odd, (4,)))


def test_no_changes(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    commit_file(repo, "a.py", numbered(3))
    assert git.changed_lines("HEAD", repo).files == ()


@pytest.mark.parametrize(
    ("quoted", "name"),
    [
        (b"b/plain.py", b"b/plain.py"),
        (b"b/with space.py\t", b"b/with space.py"),
        (b'"b/tab\\there.py"', b"b/tab\there.py"),
        (b'"b/q\\"uote\\\\.py"', b'b/q"uote\\.py'),
        (b'"b/\\303\\244.py"', "b/ä.py".encode()),
        (b'"b/new\\nline.py"', b"b/new\nline.py"),
    ],
)
def test_unquote_file_names(quoted: bytes, name: bytes) -> None:
    assert git._unquote(quoted) == name


def test_changed_lines_against_the_upstream(tmp_path: Path) -> None:
    origin = make_repo(tmp_path / "origin")
    commit_file(origin, "a.py", numbered(3))
    clone = tmp_path / "clone"
    sh(tmp_path, "clone", "-q", origin.as_uri(), "clone")
    sh(clone, "config", "user.email", "dev@example.com")
    sh(clone, "config", "user.name", "Dev")
    sh(clone, "config", "commit.gpgsign", "false")
    commit_file(clone, "a.py", numbered(4), "not pushed yet")

    diff = git.changed_lines("@{upstream}", clone)  # what the pre-push hook documents

    assert diff.files == (("a.py", (4,)),)
    assert diff.base == sh(clone, "rev-parse", "origin/main")
