"""Paths as covgate sees them: the one place where a path from the command line, a coverage
data file or a report becomes a project path (relative to the project root, with '/').

- DATA arguments are taken relative to the working folder (never the project root), made
  absolute, and the same file named twice is read once.
- A measured file's name, from coverage.py or from a report of any tool, is mapped through
  coverage.py's `[paths]` setting, then made relative to the root, seen through symlinks (a
  root reached through a symlink, or a file named through one, still gives a relative path).
- A Windows name read on another system (`C:\\proj\\app\\x.py`) is mapped through `[paths]`,
  else by the longest tail of it that exists under the root (`app/x.py`).
- A file outside the root keeps its absolute name with '/': `is_outside` tells.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from covgate.errors import ConfigError

if TYPE_CHECKING:
    from coverage.files import PathAliases

# A drive letter and a separator, or a UNC share: absolute on Windows, on any system.
_WINDOWS_ABSOLUTE = re.compile(r"^(?:[A-Za-z]:[\\/]|[\\/]{2}[^\\/])")
_FOREIGN = os.name != "nt"
"""Whether Windows names are foreign here (they can never name a file of this system)."""


def is_windows_absolute(name: str) -> bool:
    return bool(_WINDOWS_ABSOLUTE.match(name))


def is_outside(path: str) -> bool:
    """Whether a project path (as `Resolver.relative` gives it) lies outside the root."""
    return path.startswith("/") or is_windows_absolute(path)


def data_files(raw: Sequence[Path], cwd: Path) -> list[Path]:
    """DATA arguments as absolute paths, taken relative to the working folder `cwd`, in the
    order given; a file named twice (by any spelling or symlink) appears once."""
    found: list[Path] = []
    seen: set[str] = set()
    for path in raw:
        absolute = Path(os.path.normpath(cwd / path))
        identity = os.path.normcase(os.path.realpath(absolute))
        if identity not in seen:
            seen.add(identity)
            found.append(absolute)
    return found


def show(path: Path, root: Path) -> str:
    """A file of the user's for a message: relative to the root when inside it, else as is."""
    relative = _inside(os.path.abspath(path), str(root))
    return relative if relative is not None else str(path)


def _inside(absolute: str, root: str) -> str | None:
    """`absolute` relative to `root` with '/', lexically or through symlinks; None outside."""
    found = _below(absolute, root)
    if found is None:  # through symlinks, only when needed (it asks the file system)
        found = _below(os.path.realpath(absolute), os.path.realpath(root))
    return found


def _below(here: str, base: str) -> str | None:
    relative = os.path.relpath(here, base) if _same_drive(here, base) else os.pardir
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        return None
    return Path(relative).as_posix()


def _same_drive(a: str, b: str) -> bool:
    return os.path.splitdrive(a)[0].lower() == os.path.splitdrive(b)[0].lower()


@dataclass(frozen=True)
class UserPath:
    """A path that a user typed (e.g. to `covgate explain`), as the classes see it."""

    path: str
    exists: bool
    outside: bool


def user_path(raw: str, root: Path, cwd: Path) -> UserPath:
    """`raw` relative to the working folder `cwd`, as a project path."""
    absolute = os.path.normpath(os.path.join(cwd, raw))
    relative = _inside(absolute, str(root))
    exists = os.path.exists(absolute)
    if relative is None:
        return UserPath(Path(absolute).as_posix(), exists=exists, outside=True)
    return UserPath(relative, exists=exists, outside=False)


@dataclass(frozen=True)
class Resolver:
    """Maps the file names that coverage data and reports hold to project paths."""

    root: Path
    """The project root, absolute."""
    aliases: tuple[tuple[str, ...], ...] = ()
    """coverage.py's `[paths]` entries: each a result followed by the patterns mapped to it."""
    relative_files: bool = False
    """coverage.py's `[run] relative_files` (how `[paths]` results are read)."""

    def relative(self, name: str, base: str | None = None) -> str:
        """A measured file's project path; `base` is the folder a relative `name` is in
        (a Cobertura `<source>`; default the root). Outside the root: absolute, with '/'."""
        if base and not _is_absolute(name):
            name = _join(base, name)
        mapped = self._mapped(name)
        if mapped is not None:
            name = mapped
        if _FOREIGN and is_windows_absolute(name):
            return self._windows_tail(name)
        posix = name.replace("\\", "/")
        absolute = os.path.normpath(os.path.join(self.root, posix))
        relative = _inside(absolute, str(self.root))
        return relative if relative is not None else Path(absolute).as_posix()

    def locate(self, name: str, bases: Sequence[str]) -> str:
        """`name` under the first of `bases` where it exists (else the first): a Cobertura
        file name and the report's `<source>` folders."""
        found = [self.relative(name, base) for base in bases] or [self.relative(name)]
        for path in found:
            if not is_outside(path) and (self.root / path).exists():
                return path
        return found[0]

    def _mapped(self, name: str) -> str | None:
        if not self.aliases:
            return None
        with working_directory(self.root):
            mapped = _path_aliases(self.aliases, self.relative_files).map(name)
        return mapped if mapped != name else None

    def _windows_tail(self, name: str) -> str:
        """A Windows name on another system: the longest tail of it that is a file under the
        root, else the name itself with '/' (outside the root)."""
        posix = name.replace("\\", "/")
        parts = [part for part in posix.split("/")[1:] if part]
        for start in range(len(parts)):
            tail = "/".join(parts[start:])
            if (self.root / tail).is_file():
                return tail
        return posix


def _is_absolute(name: str) -> bool:
    return os.path.isabs(name) or name.startswith(("/", "\\")) or is_windows_absolute(name)


def _join(base: str, name: str) -> str:
    separator = "\\" if is_windows_absolute(base) and "/" not in base else "/"
    return base.rstrip("\\/") + separator + name


_ALIASES: dict[tuple[tuple[tuple[str, ...], ...], bool, str], PathAliases] = {}


def _path_aliases(entries: tuple[tuple[str, ...], ...], relative: bool) -> PathAliases:
    """coverage.py's own `[paths]` mapping (built in the root, as coverage.py builds it)."""
    from coverage.exceptions import CoverageException
    from coverage.files import PathAliases

    key = (entries, relative, os.getcwd())
    if key not in _ALIASES:
        aliases = PathAliases(relative=relative)
        for result, *patterns in entries:
            for pattern in patterns:
                try:
                    aliases.add(pattern, result)
                except CoverageException as exc:
                    raise ConfigError(
                        f"coverage.py [paths] {pattern!r} -> {result!r}: {exc}"
                    ) from None
        _ALIASES[key] = aliases
    return _ALIASES[key]


@contextmanager
def working_directory(path: Path) -> Iterator[None]:
    """coverage.py resolves its configuration and relative patterns against the cwd."""
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)
