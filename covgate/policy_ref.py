"""The policy at a git reference (`--policy-ref`): a pull request cannot lower its own gate.

covgate's configuration is read as it is at the reference with `git show` (the same file path
relative to the repository), with the baseline it names there; coverage.py's settings at the
reference are compared with the working tree's, and every setting the working tree weakened
is listed (SPEC §11).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from covgate import baseline as baselines
from covgate import git
from covgate.config import CONFIG_FILE, PYPROJECT, Config, config_from_text, default_config
from covgate.errors import ConfigError
from covgate.model import Baseline

# The files coverage.py reads its settings from, in its order (the first with settings wins).
COVERAGE_FILES = (".coveragerc", ".coveragerc.toml", "setup.cfg", "tox.ini", PYPROJECT)

# Patterns whose new entries measure less: omitted files, excluded lines, partial branches.
ADDED_WEAKENS = (
    ("run:omit", "[run] omit"),
    ("report:omit", "[report] omit"),
    ("report:exclude_lines", "[report] exclude_lines/exclude_also"),
    ("report:partial_branches", "[report] partial_branches/partial_also"),
)
# Lists that narrow what is measured: an entry removed, or the list set where it was not.
NARROWING = (
    ("run:source", "[run] source"),
    ("run:source_pkgs", "[run] source_pkgs"),
    ("run:include", "[run] include"),
    ("report:include", "[report] include"),
)


@dataclass(frozen=True)
class CoverageOptions:
    """The coverage.py settings that decide what is measured and counted."""

    file: str | None
    """The file coverage.py read them from (its name in the project root), or None."""
    branch: bool
    lists: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class RefPolicy:
    """Everything read at the reference, before any test runs."""

    ref: str
    commit: str
    config: Config
    source: str
    baseline: Baseline | None
    baseline_source: str
    weakened: tuple[str, ...]


def load(ref: str, settings: Config) -> RefPolicy:
    """Read covgate's and coverage.py's configuration at `ref`, and the baseline it names."""
    root = settings.root
    repository = git.toplevel(root)
    commit = git.commit(ref, root)
    try:
        folder = root.resolve().relative_to(repository)
    except ValueError:
        raise ConfigError(f"--policy-ref: the project root {root} is not in the repository "
                          f"{repository}") from None  # fmt: skip

    def at_ref(path: Path) -> str | None:
        """The text of `path` (relative to the project root) at the reference."""
        name = (folder / path).as_posix().removeprefix("./")
        content = git.show(commit, name, root)
        if content is None:
            return None
        try:
            return content.decode("utf-8")
        except UnicodeDecodeError:
            raise ConfigError(f"{name} at {ref}: not UTF-8 text") from None

    config, source = _config_at(ref, settings, at_ref)
    found = None
    shown = ""
    if config.baseline is not None:
        shown = f"{config.baseline} at {ref}"
        text = at_ref(Path(config.baseline))
        if text is None:
            raise ConfigError(f"{shown}: no such baseline file (the configuration there names it)")
        found = baselines.parse(text, shown)
    files = {name: at_ref(Path(name)) for name in COVERAGE_FILES}
    with _materialised(files) as copy:
        ref_options = coverage_options(copy, f"coverage.py configuration at {ref}")
    head_options = coverage_options(root, "coverage.py configuration")
    weakened = list(weakened_settings(head_options, ref_options, ref))
    if config.branch and not settings.branch:
        weakened.append(f"covgate's branch = false (true at {ref})")
    return RefPolicy(
        ref=ref,
        commit=commit,
        config=config,
        source=source,
        baseline=found,
        baseline_source=shown,
        weakened=tuple(weakened),
    )


def _config_at(
    ref: str, settings: Config, at_ref: Callable[[Path], str | None]
) -> tuple[Config, str]:
    """covgate's configuration at `ref`: the file the working tree uses (when named with
    --config), else covgate.toml, else a pyproject.toml with [tool.covgate], in the project
    root; none there: the default policy."""
    root = settings.root
    names: list[Path] = []
    if settings.source is not None:
        with contextlib.suppress(ValueError):
            names.append(settings.source.relative_to(root))
    names.extend(Path(name) for name in (CONFIG_FILE, PYPROJECT) if Path(name) not in names)
    for name in names:
        text = at_ref(name)
        if text is None:
            continue
        shown = f"{name.as_posix()} at {ref}"
        config = config_from_text(text, root / name, root, shown)
        if config is not None:
            where = "[tool.covgate] in " if name.name == PYPROJECT else ""
            return config, f"{where}{shown}"
    return default_config(root), f"no covgate configuration at {ref}: the default policy"


@contextlib.contextmanager
def _materialised(files: Mapping[str, str | None]) -> Iterator[Path]:
    """A temporary folder holding the files that exist."""
    folder = Path(tempfile.mkdtemp(prefix="covgate-ref-"))
    try:
        for name, text in files.items():
            if text is not None:
                (folder / name).write_text(text, encoding="utf-8")
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def coverage_options(folder: Path, where: str) -> CoverageOptions:
    """coverage.py's own reading of its configuration in `folder`."""
    from coverage import Coverage
    from coverage.exceptions import CoverageException

    from covgate.paths import working_directory

    try:
        with working_directory(folder):
            cov = Coverage(config_file=True)
    except CoverageException as exc:
        raise ConfigError(f"{where}: {exc}") from None

    def strings(option: str) -> tuple[str, ...]:
        value = cov.get_option(option)
        return tuple(str(v).strip() for v in value) if isinstance(value, list) else ()

    read = getattr(cov.config, "config_file", None)
    options = [option for option, _ in (*ADDED_WEAKENS, *NARROWING)]
    return CoverageOptions(
        file=Path(read).name if read else None,
        branch=bool(cov.get_option("run:branch")),
        lists={option: strings(option) for option in options},
    )


def weakened_settings(head: CoverageOptions, ref: CoverageOptions, name: str) -> Iterator[str]:
    """What the working tree's coverage.py settings measure less than those at `name`."""
    for option, shown in ADDED_WEAKENS:
        added = [p for p in head.lists[option] if p not in ref.lists[option]]
        if added:
            yield f"{shown} adds {_quoted(added)} (not at {name})"
    for option, shown in NARROWING:
        before, now = ref.lists[option], head.lists[option]
        removed = [p for p in before if p not in now]
        if removed:
            yield f"{shown} drops {_quoted(removed)} (at {name})"
        elif now and not before:
            yield f"{shown} is set to {_quoted(list(now))} (not set at {name}: measures less)"
    if ref.branch and not head.branch:
        yield f"[run] branch is off (on at {name})"
    if head.file not in (None, ref.file, PYPROJECT):
        was = ref.file or "no file"
        yield f"coverage.py reads its settings from a new {head.file} (at {name}: {was})"


def _quoted(values: list[str]) -> str:
    return ", ".join(repr(v) for v in values)
