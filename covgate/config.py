"""The only module that reads covgate's configuration. It validates everything in one pass,
before any test runs, and names the file, the key and what was expected in every error."""

from __future__ import annotations

import difflib
import math
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

from covgate.cores import AUTO as AUTO_CORE
from covgate.cores import CORE_SETTINGS
from covgate.errors import ConfigError
from covgate.model import OVERALL, PathClass, Policy, Thresholds

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

CONFIG_FILE = "covgate.toml"
PYPROJECT = "pyproject.toml"
DEFAULT_BASELINE = "covgate-baseline.json"

Workers = int | Literal["auto"]

DEFAULT_CLASSES: tuple[PathClass, ...] = (
    PathClass(
        name="critical",
        paths=("**/auth/**", "**/auth.py", "**/payments/**", "**/payments.py"),
        thresholds=Thresholds(min=Fraction(95)),
        allow_empty=True,
    ),
    PathClass(
        name="business",
        paths=("**/services/**", "**/domain/**", "**/models/**"),
        thresholds=Thresholds(min=Fraction(95)),
        allow_empty=True,
    ),
    PathClass(
        name="utils",
        paths=("**/utils/**", "**/utils.py", "**/helpers/**"),
        thresholds=Thresholds(min=Fraction(85)),
        allow_empty=True,
    ),
)
DEFAULT_OVERALL = Thresholds(min=Fraction(90))


@dataclass(frozen=True)
class Config:
    root: Path
    source: Path | None
    """The file the settings came from; None when covgate's defaults apply."""
    policy: Policy
    tests: tuple[str, ...] = ()
    pytest_args: tuple[str, ...] = ()
    workers: Workers = "auto"
    branch: bool = True
    precision: int | None = None
    """Decimals shown; None: coverage.py's `[report] precision` when set above 0, else 2."""
    baseline: str | None = None
    """The committed baseline to compare with, relative to the root (SPEC §11)."""
    baseline_tolerance: Fraction = Fraction(0)
    policy_ref: str | None = None
    """The git reference whose policy must pass too."""
    diff_base: str | None = None
    """The git reference whose merge base with HEAD the patch metric compares with."""

    def baseline_path(self) -> Path:
        """The baseline file: the configured one, else covgate-baseline.json in the root."""
        return self.root / (self.baseline or DEFAULT_BASELINE)

    core: str = "auto"
    """The coverage.py core of `covgate run`: "auto" (covgate picks), or one it pins."""

    def describe_source(self) -> str:
        if self.source is None:
            return "no configuration found: covgate's default policy applies"
        where = "[tool.covgate] in " if self.source.name == PYPROJECT else ""
        return f"configuration: {where}{_display(self.source, self.root)}"


_TOP_KEYS = ("tests", "pytest_args", "workers", "branch", "precision", "core", "overall",
             "classes", "baseline", "baseline_tolerance", "policy_ref", "diff_base")  # fmt: skip
_THRESHOLD_KEYS = ("min", "lines", "branches", "per_file", "max_missing", "patch")
_CLASS_KEYS = ("name", "paths", *_THRESHOLD_KEYS, "allow_empty")


def load_config(
    *,
    root: Path | None = None,
    config_file: Path | None = None,
    cwd: Path | None = None,
) -> Config:
    """Find, read and validate the configuration.

    `config_file` names the file (its folder is the root unless `root` is given); otherwise
    covgate.toml or a pyproject.toml with [tool.covgate] is looked for in `root`, or in the
    working folder and its parents.
    """
    cwd = cwd or Path.cwd()
    if config_file is not None:
        path = (cwd / config_file).resolve()
        if not path.exists():
            raise ConfigError(f"{config_file}: no such configuration file")
        _regular(path, config_file)
        table = _read_table(path, required=True)
        assert table is not None
        base = (cwd / root).resolve() if root is not None else path.parent
        return _build(table, path, base)

    if root is not None:
        base = (cwd / root).resolve()
        if not base.is_dir():
            raise ConfigError(f"-C/--root {root}: not a folder")
        candidates = [base]
    else:
        base = cwd.resolve()
        candidates = [base, *base.parents]

    for folder in candidates:
        for name in (CONFIG_FILE, PYPROJECT):
            if (folder / name).exists():
                _regular(folder / name, folder / name)
        if (folder / CONFIG_FILE).is_file():
            path = folder / CONFIG_FILE
            table = _read_table(path, required=True)
            assert table is not None
            return _build(table, path, base if root is not None else folder)
        if (folder / PYPROJECT).is_file():
            path = folder / PYPROJECT
            table = _read_table(path, required=False)
            project_root = base if root is not None else folder
            if table is None:
                return default_config(project_root)
            return _build(table, path, project_root)
    return default_config(base)


def _regular(path: Path, shown: Path) -> None:
    """A configuration path must be a file: a folder (or a pipe) there is a mistake."""
    if path.is_dir():
        raise ConfigError(f"{shown}: is a folder, expected a covgate.toml or pyproject.toml")
    if not path.is_file():
        raise ConfigError(f"{shown}: is not a regular file, expected a covgate.toml or "
                          "pyproject.toml")  # fmt: skip


def default_config(root: Path) -> Config:
    return Config(
        root=root,
        source=None,
        policy=Policy(overall=DEFAULT_OVERALL, classes=DEFAULT_CLASSES, is_default=True),
    )


def parse_toml(text: str) -> dict[str, Any] | None:
    """The document, or None when `text` is not valid TOML."""
    try:
        return dict(tomllib.loads(text))
    except tomllib.TOMLDecodeError:
        return None


def config_from_text(text: str, path: Path, root: Path, where: str) -> Config | None:
    """The configuration in `text`, the content of `path` somewhere else (e.g. at a git
    reference), validated as load_config validates a file; None when `path` is a pyproject.toml
    without [tool.covgate]. Errors start with `where`."""
    try:
        table = _table(_parse(text, path), path, required=False)
        return None if table is None else _build(table, path, root)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _parse(text: str, path: Path) -> dict[str, Any]:
    try:
        return dict(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name}: not valid TOML: {exc}") from None


def _read_table(path: Path, *, required: bool) -> dict[str, Any] | None:
    try:
        document = _parse(path.read_text(encoding="utf-8"), path)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None
    return _table(document, path, required=required)


def _table(document: dict[str, Any], path: Path, *, required: bool) -> dict[str, Any] | None:
    if path.name != PYPROJECT:
        return dict(document)
    tool = document.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"{path.name}: tool: expected a table, got {_show(tool)}")
    table = tool.get("covgate")
    if table is None:
        if required:
            raise ConfigError(f"{path.name}: has no [tool.covgate] table")
        return None
    if not isinstance(table, dict):
        raise ConfigError(f"{path.name}: tool.covgate must be a table")
    return dict(table)


class _Reader:
    """Validates one table, naming the file and the key in each error."""

    def __init__(self, path: Path, root: Path, prefix: str) -> None:
        self.file = _display(path, root)
        self.prefix = prefix

    def fail(self, key: str, message: str) -> ConfigError:
        where = f"{self.prefix}.{key}" if self.prefix else key
        return ConfigError(f"{self.file}: {where}: {message}")

    def check_keys(self, table: Mapping[str, Any], allowed: Sequence[str]) -> None:
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                valid = ", ".join(allowed)
                raise self.fail(key, f"unknown key{hint} (valid keys: {valid})")

    def percent(self, table: Mapping[str, Any], key: str) -> Fraction | None:
        if key not in table:
            return None
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(key, f"expected a number from 0 to 100, got {_show(value)}")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(key, f"expected a number from 0 to 100, got {value}")
        exact = Fraction(str(value)) if isinstance(value, float) else Fraction(value)
        if not 0 <= exact <= 100:
            raise self.fail(key, f"expected a number from 0 to 100, got {value}")
        return exact

    def count(self, table: Mapping[str, Any], key: str) -> int | None:
        if key not in table:
            return None
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.fail(key, f"expected a whole number of 0 or more, got {_show(value)}")
        return value

    def boolean(self, table: Mapping[str, Any], key: str, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, f"expected true or false, got {_show(value)}")
        return value

    def strings(self, table: Mapping[str, Any], key: str) -> tuple[str, ...] | None:
        if key not in table:
            return None
        value = table[key]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, f"expected a list of strings, got {_show(value)}")
        return tuple(value)

    def thresholds(self, table: Mapping[str, Any]) -> Thresholds:
        return Thresholds(
            min=self.percent(table, "min"),
            lines=self.percent(table, "lines"),
            branches=self.percent(table, "branches"),
            per_file=self.percent(table, "per_file"),
            max_missing=self.count(table, "max_missing"),
            patch=self.percent(table, "patch"),
        )


def _build(table: Mapping[str, Any], path: Path, root: Path) -> Config:
    prefix = "tool.covgate" if path.name == PYPROJECT else ""
    reader = _Reader(path, root, prefix)
    reader.check_keys(table, _TOP_KEYS)

    tests = reader.strings(table, "tests") or ()
    pytest_args = reader.strings(table, "pytest_args") or ()
    workers = _workers(reader, table.get("workers", "auto"))
    branch = reader.boolean(table, "branch", True)
    precision = table.get("precision")
    if precision is not None and (
        isinstance(precision, bool) or not isinstance(precision, int) or not 0 <= precision <= 6
    ):
        raise reader.fail("precision", f"expected a whole number from 0 to 6, got {precision!r}")
    core = table.get("core", AUTO_CORE)
    if core not in CORE_SETTINGS:
        choices = ", ".join(f'"{c}"' for c in CORE_SETTINGS)
        raise reader.fail("core", f"expected one of {choices}, got {_show(core)}")

    overall = DEFAULT_OVERALL
    if "overall" in table:
        overall_table = table["overall"]
        overall_reader = _Reader(path, root, _join(prefix, "overall"))
        if not isinstance(overall_table, dict):
            raise reader.fail("overall", f"expected a table, got {_show(overall_table)}")
        overall_reader.check_keys(overall_table, _THRESHOLD_KEYS)
        overall = overall_reader.thresholds(overall_table)

    if "classes" in table:
        classes = _classes(path, root, prefix, table["classes"])
        is_default = False
    else:
        classes = DEFAULT_CLASSES
        is_default = True
    if not branch:
        limited = [c.name for c in classes if c.thresholds.branches is not None]
        if overall.branches is not None:
            limited.append(OVERALL)
        if limited:
            raise reader.fail(
                "branch",
                f"branch = false, but {', '.join(limited)} set a branches threshold: "
                "measure branches, or remove the threshold",
            )
    return Config(
        root=root,
        source=path,
        policy=Policy(overall=overall, classes=classes, is_default=is_default),
        tests=tests,
        pytest_args=pytest_args,
        workers=workers,
        branch=branch,
        precision=precision,
        baseline=_name(reader, table, "baseline", 'a file path, e.g. "covgate-baseline.json"'),
        baseline_tolerance=reader.percent(table, "baseline_tolerance") or Fraction(0),
        policy_ref=_name(reader, table, "policy_ref", 'a git reference, e.g. "origin/main"'),
        diff_base=_name(reader, table, "diff_base", 'a git reference, e.g. "origin/main"'),
        core=core,
    )


def _name(reader: _Reader, table: Mapping[str, Any], key: str, expected: str) -> str | None:
    """A non-empty string setting (a path or a git reference), or None when absent."""
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or value.startswith("-"):
        raise reader.fail(key, f"expected {expected}, got {_show(value)}")
    return value


def _workers(reader: _Reader, value: object) -> Workers:
    if value == "auto":
        return "auto"
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise reader.fail("workers", f'expected "auto" or a whole number >= 0, got {_show(value)}')
    return value


def _classes(path: Path, root: Path, prefix: str, value: object) -> tuple[PathClass, ...]:
    from covgate.classify import validate_pattern

    key = _join(prefix, "classes")
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        reader = _Reader(path, root, prefix)
        raise reader.fail("classes", "expected an array of tables ([[tool.covgate.classes]])")
    seen: set[str] = set()
    classes: list[PathClass] = []
    for index, item in enumerate(value):
        label = f"{key}[{index}]"
        if isinstance(item.get("name"), str) and item["name"]:
            label = f"{label} ({item['name']})"
        reader = _Reader(path, root, label)
        reader.check_keys(item, _CLASS_KEYS)
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            raise reader.fail("name", f"expected a non-empty string, got {_show(name)}")
        if name != name.strip() or not name.isprintable():
            raise reader.fail(
                "name", f"{name!r}: no leading or trailing spaces or control characters"
            )
        if name == OVERALL:
            raise reader.fail("name", "'overall' is reserved; set [tool.covgate.overall] instead")
        if name in seen:
            raise reader.fail("name", f"duplicate class name '{name}'")
        seen.add(name)
        patterns = reader.strings(item, "paths")
        if not patterns:
            raise reader.fail("paths", "expected a non-empty list of glob patterns")
        for pattern in patterns:
            problem = validate_pattern(pattern)
            if problem:
                raise reader.fail("paths", f"malformed glob {pattern!r}: {problem}")
        classes.append(
            PathClass(
                name=name,
                paths=patterns,
                thresholds=reader.thresholds(item),
                allow_empty=reader.boolean(item, "allow_empty", False),
            )
        )
    return tuple(classes)


# The thresholds that --fail-under can set, as CLASS.METRIC=PCT (CLASS=PCT sets `min`).
_SETTERS: dict[str, Callable[[Thresholds, Fraction], Thresholds]] = {
    "min": lambda limits, value: replace(limits, min=value),
    "lines": lambda limits, value: replace(limits, lines=value),
    "branches": lambda limits, value: replace(limits, branches=value),
    "per_file": lambda limits, value: replace(limits, per_file=value),
    "patch": lambda limits, value: replace(limits, patch=value),
}
FAIL_UNDER_METRICS = tuple(_SETTERS)


def apply_fail_under(policy: Policy, overrides: Sequence[str]) -> Policy:
    """Apply `--fail-under CLASS=PCT` (the class's `min`) and `--fail-under CLASS.METRIC=PCT`
    options (METRIC: min, lines, branches, per_file or patch)."""
    for option in overrides:
        name, sep, number = option.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ConfigError(
                f"--fail-under {option!r}: expected CLASS=PCT or CLASS.METRIC=PCT, e.g. "
                "critical=95 or critical.patch=100"
            )
        value = Fraction(number.strip()) if _DECIMAL.fullmatch(number.strip()) else None
        if value is None or not 0 <= value <= 100:
            raise ConfigError(
                f"--fail-under {option!r}: {number.strip()!r} is not a number from 0 to 100"
            )
        names = [c.name for c in policy.classes]
        name, metric = _class_and_metric(option, name, names)
        if name == OVERALL:
            policy = replace(policy, overall=_SETTERS[metric](policy.overall, value))
            continue
        if name not in names:
            close = difflib.get_close_matches(name, [*names, OVERALL], n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            known = ", ".join([*names, OVERALL])
            raise ConfigError(f"--fail-under {option!r}: no class named {name!r}{hint} ({known})")
        policy = replace(
            policy,
            classes=tuple(
                replace(c, thresholds=_SETTERS[metric](c.thresholds, value))
                if c.name == name
                else c
                for c in policy.classes
            ),
        )
    return policy


def _class_and_metric(option: str, name: str, names: Sequence[str]) -> tuple[str, str]:
    """'critical' -> ('critical', 'min'); 'critical.patch' -> ('critical', 'patch'). A class
    whose own name holds a dot wins over the split."""
    if name in names or name == OVERALL:
        return name, "min"
    group, dot, metric = name.rpartition(".")
    if not dot or not group:
        return name, "min"
    if metric not in FAIL_UNDER_METRICS:
        close = difflib.get_close_matches(metric, FAIL_UNDER_METRICS, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise ConfigError(
            f"--fail-under {option!r}: unknown threshold {metric!r}{hint} "
            f"(thresholds: {', '.join(FAIL_UNDER_METRICS)})"
        )
    return group, metric


_DECIMAL = re.compile(r"\d+(\.\d+)?")


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _display(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _show(value: object) -> str:
    kinds = {str: "a string", bool: "a boolean", int: "an integer", float: "a number"}
    kinds.update({list: "an array", dict: "a table"})
    kind = kinds.get(type(value), type(value).__name__)
    text = repr(value)
    return f"{kind} ({text})" if len(text) <= 40 else kind
