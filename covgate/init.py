"""`covgate init`: propose a starting policy from the project's layout and write it."""

from __future__ import annotations

import configparser
import json
import math
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

from covgate.config import CONFIG_FILE, PYPROJECT, load_config, parse_toml
from covgate.errors import ConfigError, NothingToJudge
from covgate.model import floor_percent

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
TEST_FOLDERS = ("tests", "test", "testing")
COMMENT = "# covgate: a coverage threshold for each class of code (first matching class wins)."
SKIPPED = {"node_modules", "site-packages", "__pycache__", "build", "dist", "venv", "env"}


@dataclass(frozen=True)
class Proposal:
    name: str
    paths: tuple[str, ...]
    minimum: int
    files: int
    today: Fraction | None = None
    """The class's coverage in the existing data (a fraction of 1), when there is data."""


@dataclass(frozen=True)
class InitResult:
    path: Path
    proposals: tuple[Proposal, ...]
    tests: tuple[str, ...]
    overall: Proposal
    pytest_testpaths: tuple[str, ...] = ()
    """pytest's own testpaths, kept (then `tests` is empty)."""
    source: tuple[str, ...] = ()
    """The packages proposed as coverage.py's `source`."""
    source_written: bool = False
    """Whether `source` was written (into pyproject.toml), or is only a suggestion."""
    data: str | None = None
    """The coverage data today's figures come from, if any."""


def lowered(proposal: Proposal) -> Proposal:
    """The class's minimum at the lower of its default and today's figure, rounded down to a
    whole number: a new gate passes on the day it is written."""
    if proposal.today is None:
        return proposal
    today = math.floor(proposal.today * 100)
    return replace(proposal, minimum=min(proposal.minimum, today))


def pytest_testpaths(root: Path) -> tuple[str, ...] | None:
    """pytest's own `testpaths`, from the file pytest takes its configuration from in `root`
    (the first of pytest.toml, .pytest.toml, pytest.ini, .pytest.ini, pyproject.toml, tox.ini,
    setup.cfg that configures pytest); None when that file sets none."""
    for name in ("pytest.toml", ".pytest.toml"):
        if (root / name).is_file():
            table = _toml(root / name).get("pytest", {})
            return _paths(table.get("testpaths") if isinstance(table, dict) else None)
    for name in ("pytest.ini", ".pytest.ini"):
        if (root / name).is_file():
            return _ini_paths(root / name, "pytest", required=False) or None
    if (root / PYPROJECT).is_file():
        tool = _toml(root / PYPROJECT).get("tool", {})
        pytest = tool.get("pytest") if isinstance(tool, dict) else None
        if isinstance(pytest, dict):
            native = {k: v for k, v in pytest.items() if k != "ini_options"}
            table = pytest.get("ini_options") if "ini_options" in pytest else native
            return _paths(table.get("testpaths") if isinstance(table, dict) else None)
    for name, section in (("tox.ini", "pytest"), ("setup.cfg", "tool:pytest")):
        found = _ini_paths(root / name, section, required=True)
        if found is not None:
            return found or None
    return None


def _toml(path: Path) -> dict[str, object]:
    try:
        document = parse_toml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return {}
    return document or {}


def _paths(value: object) -> tuple[str, ...] | None:
    if isinstance(value, str):
        return tuple(value.split()) or None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value) or None
    return None


def _ini_paths(path: Path, section: str, *, required: bool) -> tuple[str, ...] | None:
    """The testpaths of `section` (an empty tuple when unset); None when the file does not
    configure pytest (no such file, or, when `required`, no such section)."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return None
    if not parser.has_section(section):
        return None if required or not path.is_file() else ()
    return tuple(parser.get(section, "testpaths", fallback="").split())


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


def is_test_file(path: str) -> bool:
    """Whether a project path is test code: under a test folder, or named as pytest collects
    tests (test_*.py, *_test.py), or a conftest.py."""
    *folders, name = path.split("/")
    return (
        any(folder in TEST_FOLDERS for folder in folders)
        or name == "conftest.py"
        or (name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py")))
    )


def package_roots(paths: Iterable[str], root: Path | None = None) -> list[str]:
    """The top-level folders holding the non-test files among `paths`, as coverage.py's
    `source` takes them: 'app', or 'src/app' in a src layout. Files at the top level and
    absolute paths count for none; with `root`, only folders with an __init__.py count."""
    found: list[str] = []
    for path in paths:
        parts = path.split("/")
        if path.startswith("/") or is_test_file(path):
            continue
        if parts[0] == "src" and len(parts) > 2:
            top = "/".join(parts[:2])
        elif len(parts) > 1:
            top = parts[0]
        else:
            continue
        if top not in found and (root is None or (root / top / "__init__.py").is_file()):
            found.append(top)
    return sorted(found)


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


def render(
    proposals: Sequence[Proposal],
    tests: tuple[str, ...],
    *,
    pyproject: bool,
    overall: Proposal | None = None,
) -> str:
    prefix = "tool.covgate" if pyproject else ""
    overall = overall or Proposal("overall", (), OVERALL, 0)

    def table(name: str) -> str:
        return ".".join(p for p in (prefix, name) if p)

    lines = [COMMENT]
    if pyproject:
        lines.append("[tool.covgate]")
    if tests:
        lines.append(f"tests = {json.dumps(list(tests))}")
    lines.append("branch = true")
    if not proposals:
        lines.append("classes = []  # no auth, payments, services or utils code found yet")
    lines.extend(["", f"[{table('overall')}]", _minimum(overall)])
    for proposal in proposals:
        lines.extend(
            [
                "",
                f"[[{table('classes')}]]",
                f"name = {json.dumps(proposal.name)}",
                f"paths = {json.dumps(list(proposal.paths))}",
                _minimum(proposal),
            ]
        )
    return "\n".join(lines) + "\n"


def _minimum(proposal: Proposal) -> str:
    line = f"min = {proposal.minimum}"
    if proposal.today is not None and proposal.minimum < _default(proposal.name):
        line += (
            f"  # today's figure ({floor_percent(proposal.today, 2)} %), below the default "
            f"{_default(proposal.name)}: raise it as coverage grows"
        )
    return line


def _default(name: str) -> int:
    return MINIMUMS.get(name, OVERALL)


def with_coverage_source(text: str, packages: Sequence[str]) -> str | None:
    """pyproject.toml's text with `source` set in [tool.coverage.run] (added when missing);
    None when that cannot be done cleanly (the table written with dotted keys)."""
    line = f"source = {json.dumps(list(packages))}\n"
    document = parse_toml(text)
    if document is None:
        return None
    tool = document.get("tool", {})
    coverage = tool.get("coverage", {}) if isinstance(tool, dict) else {}
    if not isinstance(coverage, dict) or "run" not in coverage:
        updated = (
            text.rstrip("\n") + ("\n\n" if text.strip() else "") + "[tool.coverage.run]\n" + line
        )
    else:
        lines = text.splitlines(keepends=True)
        for index, current in enumerate(lines):
            header = _HEADER.match(current)
            if header and header.group(1).replace('"', "").replace(" ", "") == "tool.coverage.run":
                lines.insert(index + 1, line)
                break
        else:
            return None
        updated = "".join(lines)
    parsed = parse_toml(updated)
    if parsed is None or parsed["tool"]["coverage"]["run"].get("source") != list(packages):
        return None
    return updated


_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")


def without_covgate_tables(text: str) -> str:
    """pyproject.toml's text without its [tool.covgate…] tables and the comment covgate writes
    above them (for --force)."""
    kept: list[str] = []
    dropping = False
    for line in text.splitlines(keepends=True):
        header = _HEADER.match(line)
        if header:
            name = header.group(1).replace('"', "").replace(" ", "")
            dropping = name == "tool.covgate" or name.startswith("tool.covgate.")
        if not dropping and line.rstrip("\r\n") != COMMENT:
            kept.append(line)
    return "".join(kept)


def todays_figures(
    root: Path, proposals: Sequence[Proposal], packages: Sequence[str], data_file: Path
) -> tuple[list[Proposal], Proposal, str | None]:
    """The proposals with today's figure of each class in the existing coverage data (only the
    files under `packages`, when given), and overall; unchanged when there is no data."""
    from covgate import sources
    from covgate.evaluate import evaluate
    from covgate.model import Measurement, PathClass, Policy, Thresholds

    overall = Proposal("overall", (), OVERALL, 0)
    try:
        paths = sources.default_data(root, data_file)
        measurement = sources.read_measurement(paths, root)
    except NothingToJudge:
        return list(proposals), overall, None
    if packages:
        kept = tuple(
            f for f in measurement.files if any(f.path.startswith(p + "/") for p in packages)
        )
        measurement = Measurement(kept, measurement.branch_measured, measurement.sources)
    if not measurement.files:
        return list(proposals), overall, None
    classes = tuple(
        PathClass(p.name, p.paths, Thresholds(min=Fraction(p.minimum)), allow_empty=True)
        for p in proposals
    )
    evaluation = evaluate(measurement, Policy(Thresholds(min=Fraction(OVERALL)), classes))
    found = []
    for proposal, group in zip(proposals, evaluation.classes, strict=True):
        today = group.counts.ratio if group.files else None
        found.append(lowered(replace(proposal, today=today)))
    overall = lowered(replace(overall, files=len(measurement.files),
                              today=evaluation.overall.counts.ratio))  # fmt: skip
    return found, overall, ", ".join(measurement.sources)


def init(root: Path, *, force: bool = False) -> InitResult:
    from covgate.analysis import project_coverage

    root = root.resolve()
    if not root.is_dir():
        raise ConfigError(f"-C/--root {root}: not a folder")
    pyproject = root / PYPROJECT
    own = root / CONFIG_FILE
    if own.exists() and not force:
        raise ConfigError(f"{own.name} already exists; use --force to overwrite it")
    current: str | None = None
    if pyproject.is_file() and not own.exists():
        try:
            current = pyproject.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{PYPROJECT}: cannot be read: {exc}") from None
        if load_config(root=root).source == pyproject and not force:
            raise ConfigError(
                f"{PYPROJECT} already has a [tool.covgate] table; use --force to replace it"
            )

    proposals, tests = survey(root)
    own_testpaths = pytest_testpaths(root)
    if own_testpaths:
        tests = ()  # pytest's own testpaths stay in charge
    coverage_config = project_coverage(root).config
    selects = (coverage_config.source, coverage_config.source_pkgs, coverage_config.source_dirs,
               coverage_config.run_include, coverage_config.report_include)  # fmt: skip
    packages: tuple[str, ...] = ()
    if not any(selects):
        packages = tuple(package_roots(python_files(root, skip_top=TEST_FOLDERS), root))
    data_file = (root / coverage_config.data_file).resolve()
    proposals, overall, data = todays_figures(root, proposals, packages, data_file)

    source_written = False
    if current is not None:
        base = without_covgate_tables(current).rstrip("\n")
        ours = render(proposals, tests, pyproject=True, overall=overall)
        text = (base + "\n\n" if base else "") + ours
        coverage_file = coverage_config.config_file
        if packages and (coverage_file is None or Path(coverage_file).resolve() == pyproject):
            with_source = with_coverage_source(text, packages)
            if with_source is not None:
                text, source_written = with_source, True
        target = pyproject
    else:
        text = render(proposals, tests, pyproject=False, overall=overall)
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
    return InitResult(
        target,
        tuple(proposals),
        tests,
        overall,
        pytest_testpaths=own_testpaths or (),
        source=packages,
        source_written=source_written,
        data=data,
    )


def summary(result: InitResult) -> list[str]:
    """What `covgate init` wrote and why, for the terminal."""
    lines = [f"wrote the covgate configuration to {result.path}"]
    if result.data:
        lines.append(f"  minimums at the lower of the default and today's figure in {result.data}")
    for proposal in (*result.proposals, result.overall):
        files = f"{proposal.files} file{'' if proposal.files == 1 else 's'}"
        paths = f", {files} ({', '.join(proposal.paths)})" if proposal.paths else ""
        today = (
            f" (today {floor_percent(proposal.today, 2)} %)" if proposal.today is not None else ""
        )
        lines.append(f"  {proposal.name}: min {proposal.minimum} %{today}{paths}")
    if not result.proposals:
        lines.append("  no auth, payments, services or utils folders found: overall only")
    if result.pytest_testpaths:
        kept = ", ".join(result.pytest_testpaths)
        lines.append(f"  tests: pytest's own testpaths ({kept}), kept")
    if result.source:
        setting = f"[tool.coverage.run] source = {json.dumps(list(result.source))}"
        if result.source_written:
            lines.append(f"  coverage.py: wrote {setting}, so that tests are not measured")
        else:
            lines.append(
                f"  coverage.py measures every file, tests included: consider {setting} "
                "(or source in [run] of your coverage.py configuration file)"
            )
    return lines
