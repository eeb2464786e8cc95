"""git, asked with a fixed argv and never through a shell: commits, merge bases, files at a ref,
the lines changed since a merge base.

Every failure a user can cause (no git, not a repository, an unknown ref, a shallow clone) is
a one-line `GitError` (exit 3) that says what to do.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

from covgate.errors import ConfigError
from covgate.model import Diff


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


# Options that keep the patch format the same whatever the user's git configuration says
# (prefixes, external diff drivers, text conversion, colour, relative paths, quoting).
_DIFF = (
    "-c", "core.quotepath=off", "diff", "--no-color", "--no-ext-diff", "--no-textconv",
    "--no-relative", "--src-prefix=a/", "--dst-prefix=b/", "--unified=0", "--find-renames",
    "--ignore-submodules",
)  # fmt: skip
_HUNK = re.compile(rb"^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def changed_lines(ref: str, root: Path) -> Diff:
    """The lines changed under `root` between the merge base of `ref` and HEAD and the working
    tree, as `git diff --merge-base REF` shows them, plus untracked files as wholly added."""
    top = toplevel(root)
    try:
        inside = root.resolve().relative_to(top).as_posix()
    except ValueError:
        raise GitError(f"{root}: not inside the work tree of {top}") from None
    prefix = "" if inside == "." else inside + "/"
    base = merge_base(ref, root)
    patch = run([*_DIFF, base, "--"], top).stdout
    found: dict[str, set[int]] = {}
    for name, lines in parse_patch(patch):
        path = name.decode("utf-8", "surrogateescape")
        if path.startswith(prefix) and lines:
            found.setdefault(path[len(prefix) :], set()).update(lines)
    untracked = run(["ls-files", "-z", "--others", "--exclude-standard", "--", "."], root).stdout
    for raw in untracked.split(b"\0"):
        if raw:
            path = raw.decode("utf-8", "surrogateescape")
            count = _line_count(root / path)
            if count:
                found[path] = set(range(1, count + 1))
    files = tuple((path, tuple(sorted(lines))) for path, lines in sorted(found.items()))
    return Diff(ref=ref, base=base, prefix=prefix, files=files)


def _line_count(path: Path) -> int:
    try:
        content = path.read_bytes()
    except OSError:  # a folder (a nested repository), a broken link, unreadable
        return 0
    return content.count(b"\n") + (1 if content and not content.endswith(b"\n") else 0)


def parse_patch(patch: bytes) -> Iterator[tuple[bytes, list[int]]]:
    """(new path, added lines) for each file of a `git diff --unified=0` patch with a/ and b/
    prefixes; a deleted file is skipped. Hunk bodies are consumed by their counts, so an
    added line that reads '++ x' is never taken for a header."""
    lines = patch.split(b"\n")
    index = 0
    name: bytes | None = None
    added: list[int] = []
    while index < len(lines):
        line = lines[index]
        index += 1
        if line.startswith(b"diff --git "):
            if name is not None:
                yield name, added
            name, added = None, []
        elif line.startswith(b"+++ "):
            target = _unquote(line[4:])
            name = target[2:] if target.startswith(b"b/") else None
        elif line.startswith(b"@@ "):
            hunk = _HUNK.match(line)
            if hunk is None:
                raise GitError(f"git diff printed a hunk header covgate cannot read: {line!r}")
            old = int(hunk.group(1) or b"1")
            start, new = int(hunk.group(2)), int(hunk.group(3) or b"1")
            added.extend(range(start, start + new))
            # Skip the body: old + new lines, and any '\ No newline at end of file' marks.
            remaining = old + new
            while remaining and index < len(lines):
                if not lines[index].startswith(b"\\"):
                    remaining -= 1
                index += 1
            while index < len(lines) and lines[index].startswith(b"\\"):
                index += 1
    if name is not None:
        yield name, added


_ESCAPES = {
    ord("a"): 7, ord("b"): 8, ord("t"): 9, ord("n"): 10, ord("v"): 11, ord("f"): 12,
    ord("r"): 13, ord('"'): 34, ord("\\"): 92,
}  # fmt: skip


def _unquote(name: bytes) -> bytes:
    """A file name as git prints it in a patch: C-quoted when it holds a control character,
    a quote or a backslash; else as it is, with a TAB after it when it holds a space."""
    if not name.startswith(b'"'):
        return name.removesuffix(b"\t")
    out = bytearray()
    index = 1
    while index < len(name) and name[index] != ord('"'):
        char = name[index]
        if char == ord("\\") and index + 1 < len(name):
            following = name[index + 1]
            if ord("0") <= following <= ord("7"):
                out.append(int(name[index + 1 : index + 4], 8))
                index += 4
                continue
            out.append(_ESCAPES.get(following, following))
            index += 2
            continue
        out.append(char)
        index += 1
    return bytes(out)
