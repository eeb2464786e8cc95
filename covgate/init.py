"""`covgate init`: propose a starting policy from the project's layout and write it."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from covgate.config import CONFIG_FILE, PYPROJECT, load_config, parse_toml
from covgate.errors import ConfigError

# Folder or module names that suggest each class, in the order the classes are written.
KEYWORDS: dict[str, tuple[str, ...]] = {
    "critical": (
        "auth", "authentication", "authn", "authz", "permissions", "security", "crypto",
        "payments", "payment", "billing", "checkout", "invoicing", "wallet",
    ),
    "business": (
        "services", "service", "domain", "models", "usecases", "use_cases", "business",
        "logic", "core",
    ),
    "utils": ("utils", "util", "helpers", "helper", "common", "tools"),
}  # fmt: skip
MINIMUMS = {"critical": 95, "business": 95, "utils": 85}
OVERALL = 90
TEST_FOLDERS = ("tests", "test")
SKIPPED = {"node_modules", "site-packages", "__pycache__", "build", "dist", "venv", "env"}


@dataclass(frozen=True)
class Proposal:
    name: str
    paths: tuple[str, ...]
    minimum: int
    files: int


@dataclass(frozen=True)
class InitResult:
    path: Path
    proposals: tuple[Proposal, ...]
    tests: tuple[str, ...]


def python_files(root: Path, *, skip_top: tuple[str, ...] = ()) -> list[str]:
    """The project's .py files, relative to the root: no hidden, build or virtualenv folders,
    nor the top-level folders named in `skip_top`."""
    found: list[str] = []
    for folder, subfolders, files in os.walk(root):
        base = Path(folder).relative_to(root)
        top = base == Path(".")
        subfolders[:] = sorted(
            d
            for d in subfolders
            if not d.startswith(".") and d not in SKIPPED and not (top and d in skip_top)
        )
        found.extend((base / f).as_posix() for f in sorted(files) if f.endswith(".py"))
    return found


def survey(root: Path) -> tuple[list[Proposal], tuple[str, ...]]:
    """The classes the layout suggests (only names that exist), and the test folders."""
    sources = python_files(root, skip_top=TEST_FOLDERS)
    proposals = []
    claimed: set[str] = set()
    for name, words in KEYWORDS.items():
        patterns: list[str] = []
        for word in words:
            folder_hits = [s for s in sources if f"/{word}/" in f"/{s}"]
            file_hits = [s for s in sources if s == f"{word}.py" or s.endswith(f"/{word}.py")]
            if folder_hits:
                patterns.append(f"**/{word}/**")
            if file_hits:
                patterns.append(f"**/{word}.py")
        members = {s for s in sources if s not in claimed and _matches(s, patterns)}
        if patterns and members:
            claimed |= members
            proposals.append(Proposal(name, tuple(patterns), MINIMUMS[name], len(members)))
    tests = tuple(t for t in TEST_FOLDERS if (root / t).is_dir())
    return proposals, tests


def _matches(path: str, patterns: list[str]) -> bool:
    for pattern in patterns:
        word = pattern.split("/")[1].removesuffix(".py")
        if pattern.endswith("/**") and f"/{word}/" in f"/{path}":
            return True
        if pattern.endswith(".py") and (path == f"{word}.py" or path.endswith(f"/{word}.py")):
            return True
    return False


def render(proposals: list[Proposal], tests: tuple[str, ...], *, pyproject: bool) -> str:
    prefix = "tool.covgate" if pyproject else ""

    def table(name: str) -> str:
        return ".".join(p for p in (prefix, name) if p)

    lines = ["# covgate: a coverage threshold for each class of code (first matching class wins)."]
    if pyproject:
        lines.append("[tool.covgate]")
    if tests:
        lines.append(f"tests = {json.dumps(list(tests))}")
    lines.append("branch = true")
    if not proposals:
        lines.append("classes = []  # no auth, payments, services or utils code found yet")
    lines.extend(["", f"[{table('overall')}]", f"min = {OVERALL}"])
    for proposal in proposals:
        lines.extend(
            [
                "",
                f"[[{table('classes')}]]",
                f"name = {json.dumps(proposal.name)}",
                f"paths = {json.dumps(list(proposal.paths))}",
                f"min = {proposal.minimum}",
            ]
        )
    return "\n".join(lines) + "\n"


_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")


def without_covgate_tables(text: str) -> str:
    """pyproject.toml's text without its [tool.covgate…] tables (for --force)."""
    kept: list[str] = []
    dropping = False
    for line in text.splitlines(keepends=True):
        header = _HEADER.match(line)
        if header:
            name = header.group(1).replace('"', "").replace(" ", "")
            dropping = name == "tool.covgate" or name.startswith("tool.covgate.")
        if not dropping:
            kept.append(line)
    return "".join(kept)


def init(root: Path, *, force: bool = False) -> InitResult:
    root = root.resolve()
    if not root.is_dir():
        raise ConfigError(f"-C/--root {root}: not a folder")
    proposals, tests = survey(root)
    pyproject = root / PYPROJECT
    own = root / CONFIG_FILE
    if own.exists() and not force:
        raise ConfigError(f"{own.name} already exists; use --force to overwrite it")
    if pyproject.is_file() and not own.exists():
        try:
            current = pyproject.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{PYPROJECT}: cannot be read: {exc}") from None
        if load_config(root=root).source == pyproject and not force:
            raise ConfigError(
                f"{PYPROJECT} already has a [tool.covgate] table; use --force to replace it"
            )
        base = without_covgate_tables(current).rstrip("\n")
        text = (base + "\n\n" if base else "") + render(proposals, tests, pyproject=True)
        target = pyproject
    else:
        text = render(proposals, tests, pyproject=False)
        target = own
    if parse_toml(text) is None:
        raise ConfigError(
            f"{target.name}: its covgate settings could not be replaced in place (dotted "
            "tool.covgate keys?); remove them by hand, or move them to covgate.toml"
        )
    partial = target.with_name(target.name + ".covgate-tmp")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, target)
    load_config(root=root)  # what was written must load
    return InitResult(target, tuple(proposals), tests)
