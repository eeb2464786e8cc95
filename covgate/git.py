"""git, asked with a fixed argv and never through a shell: commits, merge bases, files at a ref.

Every failure a user can cause (no git, not a repository, an unknown ref, a shallow clone) is
a one-line `GitError` (exit 3) that says what to do.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from covgate.errors import ConfigError


class GitError(ConfigError):
    """git is missing, the folder is not a repository, or a reference cannot be used."""


def run(
    args: Sequence[str], cwd: Path, *, check: bool = True
) -> subprocess.CompletedProcess[bytes]:
    """`git ARGS` in `cwd`; with `check`, a non-zero exit is a GitError quoting git's message."""
    try:
        result = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, stdin=subprocess.DEVNULL, check=False
        )
    except FileNotFoundError:
        raise GitError("git is not installed (or not on PATH): it is needed here") from None
    except NotADirectoryError:
        raise GitError(f"{cwd}: not a folder") from None
    if check and result.returncode != 0:
        raise GitError(f"git {' '.join(args[:2])} failed in {cwd}: {_message(result.stderr)}")
    return result


def text(args: Sequence[str], cwd: Path) -> str:
    """git's standard output as text (file names git could not decode keep their bytes)."""
    return run(args, cwd).stdout.decode("utf-8", "surrogateescape")


def _message(stderr: bytes) -> str:
    lines = stderr.decode("utf-8", "replace").strip().splitlines()
    return lines[-1].removeprefix("fatal: ") if lines else "no message"


def toplevel(cwd: Path) -> Path:
    """The root of the work tree that holds `cwd`."""
    result = run(["rev-parse", "--show-toplevel"], cwd, check=False)
    if result.returncode != 0:
        raise GitError(f"{cwd}: not inside a git repository")
    return Path(result.stdout.decode("utf-8", "surrogateescape").strip()).resolve()


def commit(ref: str, cwd: Path) -> str:
    """The commit `ref` names, as a full hash."""
    toplevel(cwd)
    if not ref or ref.startswith("-"):
        raise GitError(f"{ref!r} is not a git reference")
    result = run(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"],
                 cwd, check=False)  # fmt: skip
    if result.returncode != 0:
        hint = _fetch_hint(ref, cwd)
        raise GitError(f"unknown git reference {ref!r}{hint}")
    return result.stdout.decode().strip()


def _fetch_hint(ref: str, cwd: Path) -> str:
    if is_shallow(cwd) or ref.startswith("origin/"):
        return " (not fetched? in CI check out with fetch-depth: 0, or run git fetch origin)"
    return ""


def head(cwd: Path) -> str | None:
    """The commit checked out, or None in a repository without commits (or outside one)."""
    result = run(["rev-parse", "--verify", "--quiet", "HEAD"], cwd, check=False)
    return result.stdout.decode().strip() if result.returncode == 0 else None


def is_shallow(cwd: Path) -> bool:
    result = run(["rev-parse", "--is-shallow-repository"], cwd, check=False)
    return result.stdout.strip() == b"true"


def merge_base(ref: str, cwd: Path) -> str:
    """The merge base of `ref` and HEAD: where the current branch left `ref`."""
    target = commit(ref, cwd)
    if head(cwd) is None:
        raise GitError(f"{cwd}: the repository has no commit yet (HEAD), nothing to compare")
    result = run(["merge-base", target, "HEAD"], cwd, check=False)
    if result.returncode == 0:
        return result.stdout.decode().strip()
    if is_shallow(cwd):
        raise GitError(
            f"no merge base of {ref!r} and HEAD: this is a shallow clone; fetch more history "
            "(actions/checkout with fetch-depth: 0, or git fetch --deepen=N / --unshallow)"
        )
    raise GitError(f"no merge base of {ref!r} and HEAD: they share no history")


def show(ref: str, path: str, cwd: Path) -> bytes | None:
    """The content of `path` (relative to the repository root, with '/') at `ref`; None when
    the file does not exist there."""
    target = commit(ref, cwd)
    spec = f"{target}:{path}"
    if run(["cat-file", "-e", spec], cwd, check=False).returncode != 0:
        return None
    return run(["cat-file", "blob", spec], cwd).stdout
