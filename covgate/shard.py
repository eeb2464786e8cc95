"""Shards: which slice of the suite this CI job runs, the pytest hook that selects it, and the
manifest that records what the shard did.

The split is a pure function of the collection (node ids in collection order), the recorded
durations and N, so every shard computes the same partition from the same inputs. The hook runs
in the pytest process that collects (every xdist worker collects, and all select alike).
"""

from __future__ import annotations

import heapq
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pluggy import HookimplMarker

from covgate.errors import ConfigError, DataError
from covgate.results import OUTCOMES, TestResult

if TYPE_CHECKING:
    import pytest

    from covgate.config import Config
    from covgate.results import Session

hookimpl = HookimplMarker("pytest")

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
DATA_NAME = "coverage.sqlite"
JUNIT_NAME = "junit.xml"
BALANCE = 1.10
"""Test files stay whole when the slowest shard stays within 10 % of the ideal."""


def folder_name(index: int, total: int) -> str:
    return f"covgate-shard-{index}-of-{total}"


@dataclass(frozen=True)
class ShardSpec:
    index: int
    """1-based."""
    total: int

    def __str__(self) -> str:
        return f"shard {self.index} of {self.total}"


# CI systems' parallel job variables: (index variable, total variable, first index).
CI_VARIABLES = (
    ("CI_NODE_INDEX", "CI_NODE_TOTAL", 1),  # GitLab `parallel:`
    ("CIRCLE_NODE_INDEX", "CIRCLE_NODE_TOTAL", 0),  # CircleCI `parallelism:`
    ("BUILDKITE_PARALLEL_JOB", "BUILDKITE_PARALLEL_JOB_COUNT", 0),  # Buildkite `parallelism:`
)


def parse_shard(value: str, env: Mapping[str, str]) -> ShardSpec:
    """`K/N` (1 <= K <= N), or `auto`: from the CI system's parallel job variables."""
    if value.strip() == "auto":
        return _from_ci(env)
    index, sep, total = value.partition("/")
    if not sep or not index.strip().isdigit() or not total.strip().isdigit():
        raise ConfigError(f"--shard {value!r}: expected K/N (for example 2/5) or auto")
    return _checked(int(index), int(total), f"--shard {value}")


def _checked(index: int, total: int, source: str) -> ShardSpec:
    if total < 1:
        raise ConfigError(f"{source}: the number of shards must be at least 1")
    if not 1 <= index <= total:
        raise ConfigError(f"{source}: shard {index} is out of range 1-{total}")
    return ShardSpec(index, total)


def _from_ci(env: Mapping[str, str]) -> ShardSpec:
    for index_var, total_var, first in CI_VARIABLES:
        raw_total = env.get(total_var, "").strip()
        if not raw_total:
            continue
        raw_index = env.get(index_var, "").strip()
        source = f"--shard auto ({index_var}={raw_index!r}, {total_var}={raw_total!r})"
        if not raw_total.isdigit():
            raise ConfigError(f"{source}: {total_var} is not a whole number")
        if not raw_index and raw_total == "1":
            return ShardSpec(1, 1)  # GitLab sets CI_NODE_TOTAL=1 for a job without parallel:
        if not raw_index.isdigit():
            raise ConfigError(f"{source}: {index_var} is not a whole number")
        return _checked(int(raw_index) - first + 1, int(raw_total), source)
    names = ", ".join(f"{i}/{t}" for i, t, _ in CI_VARIABLES)
    raise ConfigError(f"--shard auto: none of the CI variables is set ({names}); give K/N")


# --- the split ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    shards: tuple[int, ...]
    """For each collected test (by position), the shard that runs it (1-based)."""
    method: str
    """How the split was made, for the manifest and the output."""
    estimates: tuple[float, ...] = ()
    """Predicted seconds of each shard (empty without durations)."""


def split(ids: Sequence[str], durations: Mapping[str, float], total: int) -> Split:
    """The partition of the collection `ids` into `total` shards.

    It depends on the set of node ids, not on their order: a plugin that shuffles the tests
    (pytest-randomly, with another seed in every job) changes nothing. With recorded durations:
    longest-processing-time first, test files kept whole when the slowest shard then stays
    within 10 % of the ideal (total time / N); otherwise the heaviest files are split into their
    tests, as few as needed. Tests without a recorded duration count as the mean of those with
    one. Without any: contiguous runs of the sorted node ids, of equal counts (a file's tests
    stay together). Ties are broken by node id, so the result depends on nothing else.
    """
    order = sorted(range(len(ids)), key=lambda position: (ids[position], position))
    ranked = _split([ids[p] for p in order], durations, total)
    shards = [0] * len(ids)
    for rank, position in enumerate(order):
        shards[position] = ranked.shards[rank]
    return Split(tuple(shards), ranked.method, ranked.estimates)


def _split(ids: Sequence[str], durations: Mapping[str, float], total: int) -> Split:
    """`split` of node ids in sorted order."""
    known = [durations[i] for i in ids if i in durations]
    if not known or sum(known) <= 0:
        return Split(_by_order(len(ids), total), "node id order (no recorded durations)")
    mean = sum(known) / len(known)
    weights = [max(float(durations.get(i, mean)), 0.0) for i in ids]
    ideal = sum(weights) / total
    files: dict[str, list[int]] = {}
    for position, node in enumerate(ids):
        files.setdefault(node.split("::", 1)[0], []).append(position)
    heaviest = sorted(files.values(), key=lambda ps: (-sum(weights[p] for p in ps), ps[0]))
    best: tuple[float, int, list[int], list[float]] | None = None
    count = 0
    while True:
        broken = heaviest[:count]
        units = [*heaviest[count:], *([p] for ps in broken for p in ps)]
        shards, loads = _lpt(units, weights, total, len(ids))
        span = max(loads)
        if best is None or span < best[0]:
            best = (span, count, shards, loads)
        if span <= ideal * BALANCE or count >= len(heaviest):
            break
        count = max(1, count * 2) if count * 2 < len(heaviest) else len(heaviest)
    span, count, shards, loads = best
    if count == 0:
        method = "recorded durations, test files kept whole"
    else:
        method = f"recorded durations, {min(count, len(heaviest))} of {len(heaviest)} files split"
    return Split(tuple(shards), method, tuple(loads))


def _lpt(
    units: Sequence[Sequence[int]], weights: Sequence[float], total: int, size: int
) -> tuple[list[int], list[float]]:
    """Longest processing time first: each unit, heaviest first, to the least loaded shard
    (then the one with the fewest tests, then the lowest number)."""
    order = sorted(units, key=lambda ps: (-sum(weights[p] for p in ps), ps[0]))
    heap = [(0.0, 0, shard) for shard in range(total)]
    shards = [0] * size
    loads = [0.0] * total
    for unit in order:
        load, tests, shard = heapq.heappop(heap)
        for position in unit:
            shards[position] = shard + 1
        loads[shard] = load + sum(weights[p] for p in unit)
        heapq.heappush(heap, (loads[shard], tests + len(unit), shard))
    return shards, loads


def _by_order(size: int, total: int) -> tuple[int, ...]:
    """Contiguous slices whose sizes differ by at most one."""
    return tuple(position * total // size + 1 for position in range(size)) if size else ()


# --- the pytest hook, in the child process ---------------------------------------------------

SPEC_OPTION = "--covgate-shard"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(SPEC_OPTION, default=None, help="(covgate) the shard's selection file.")


@hookimpl(trylast=True)  # after -k, -m and --deselect: the slices share out what is left
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    spec_path = config.getoption(SPEC_OPTION)
    if not spec_path:
        return
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    ids = [item.nodeid for item in items]
    chosen = split(ids, spec["durations"], spec["total"])
    mine = [shard == spec["index"] for shard in chosen.shards]
    keep = [item for item, chosen_here in zip(items, mine, strict=True) if chosen_here]
    drop = [item for item, chosen_here in zip(items, mine, strict=True) if not chosen_here]
    # Every xdist worker collects and writes the same content; the rename keeps it whole.
    write_json(
        Path(spec["collection"]),
        {
            "ids": ids,
            "selected": len(keep),
            "method": chosen.method,
            "estimates": list(chosen.estimates),
            "core": _core(),
        },
    )
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _core() -> str | None:
    """The coverage.py core measuring this process ("ctrace", "pytrace", "sysmon")."""
    from coverage import Coverage

    current = Coverage.current()
    if current is None:
        return None
    info = dict(current.sys_info())
    names = {"CTracer": "ctrace", "PyTracer": "pytrace", "SysMonitor": "sysmon"}
    tracer = str(info.get("core", ""))
    return names.get(tracer, tracer or None)


def write_json(path: Path, data: object) -> None:
    """Write whole or not at all: a temporary file in the same folder, then a rename."""
    handle, temporary = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(data, stream, indent=1)
            stream.write("\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# --- the manifest --------------------------------------------------------------------------


@dataclass(frozen=True)
class Manifest:
    index: int
    total: int
    commit: str | None
    config_hash: str
    python: str
    implementation: str
    coverage_version: str
    coverage_core: str | None
    root: str
    """The project root where the shard ran (mapped to the combining project's root)."""
    data: str | None
    """The coverage data file in the folder, None when the shard measured nothing."""
    junit: str | None
    split_method: str
    durations_hash: str | None
    selected: int
    """How many tests the split gave this shard (it ran fewer when it stopped early)."""
    collection: tuple[str, ...]
    tests: tuple[TestResult, ...]
    """What this shard ran, in the order it finished."""
    collection_errors: tuple[TestResult, ...] = ()
    """Files that failed to collect (outcome "error"; every shard reports them)."""
    duration: float = 0.0
    """Seconds the shard's pytest session took."""

    @property
    def spec(self) -> ShardSpec:
        return ShardSpec(self.index, self.total)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": MANIFEST_VERSION,
            "shard": {"index": self.index, "total": self.total},
            "commit": self.commit,
            "config_hash": self.config_hash,
            "python": {"version": self.python, "implementation": self.implementation},
            "coverage": {"version": self.coverage_version, "core": self.coverage_core},
            "root": self.root,
            "data": self.data,
            "junit": self.junit,
            "split": {
                "method": self.split_method,
                "durations_hash": self.durations_hash,
                "selected": self.selected,
            },
            "collection": {
                "count": len(self.collection),
                "sha256": collection_hash(self.collection),
                "ids": list(self.collection),
            },
            "duration": self.duration,
            "tests": [t.to_json() for t in self.tests],
            "collection_errors": [t.to_json() for t in self.collection_errors],
        }


def collection_hash(ids: Sequence[str]) -> str:
    import hashlib

    digest = hashlib.sha256()
    for node in ids:
        digest.update(node.encode("utf-8", "surrogateescape") + b"\n")
    return digest.hexdigest()


def read_manifest(path: Path) -> Manifest:
    """A shard's manifest; anything unreadable or wrongly shaped is a one-line DataError."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror})") from None
    except ValueError as exc:
        raise DataError(f"{path}: not JSON ({exc})") from None
    reader = _Fields(path)
    version = reader.get(data, "schema_version", int)
    if version != MANIFEST_VERSION:
        raise DataError(
            f"{path}: schema_version {version} is not {MANIFEST_VERSION} (written by another "
            "covgate version? use the same covgate in every job)"
        )
    shard = reader.get(data, "shard", dict)
    python = reader.get(data, "python", dict)
    coverage = reader.get(data, "coverage", dict)
    split_info = reader.get(data, "split", dict)
    collection = reader.get(data, "collection", dict)
    ids = reader.get(collection, "ids", list, "collection.")
    if not all(isinstance(i, str) for i in ids):
        raise DataError(f"{path}: collection.ids must hold strings")
    index = reader.get(shard, "index", int, "shard.")
    total = reader.get(shard, "total", int, "shard.")
    if not 1 <= index <= total:
        raise DataError(f"{path}: shard.index {index} is out of range 1-{total}")
    return Manifest(
        index=index,
        total=total,
        commit=reader.get(data, "commit", (str, type(None))),
        config_hash=reader.get(data, "config_hash", str),
        python=reader.get(python, "version", str, "python."),
        implementation=reader.get(python, "implementation", str, "python."),
        coverage_version=reader.get(coverage, "version", str, "coverage."),
        coverage_core=reader.get(coverage, "core", (str, type(None)), "coverage."),
        root=reader.get(data, "root", str),
        data=_plain_name(path, reader.get(data, "data", (str, type(None))), "data"),
        junit=_plain_name(path, reader.get(data, "junit", (str, type(None))), "junit"),
        split_method=reader.get(split_info, "method", str, "split."),
        durations_hash=reader.get(split_info, "durations_hash", (str, type(None)), "split."),
        selected=reader.get(split_info, "selected", int, "split."),
        collection=tuple(ids),
        tests=reader.results(data, "tests"),
        collection_errors=reader.results(data, "collection_errors"),
        duration=float(reader.get(data, "duration", (int, float))),
    )


def _plain_name(path: Path, value: str | None, key: str) -> str | None:
    """A file name inside the shard folder: never a path that leaves it."""
    if value is not None and (not value or "/" in value or "\\" in value or value in ("..", ".")):
        raise DataError(f"{path}: {key} {value!r} is not a file name in the shard folder")
    return value


class _Fields:
    def __init__(self, path: Path) -> None:
        self.path = path

    def typed(self, value: Any, kind: type | tuple[type, ...], key: str) -> Any:
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(
                "null" if k is type(None) else k.__name__ for k in kind
            )  # fmt: skip
            raise DataError(f"{self.path}: {key} must be {names}, got {type(value).__name__}")
        return value

    def results(self, data: Any, key: str) -> tuple[TestResult, ...]:
        found = []
        for position, entry in enumerate(self.get(data, key, list)):
            where = f"{key}[{position}]."
            self.typed(entry, dict, f"{key}[{position}]")
            outcome = self.get(entry, "outcome", str, where)
            if outcome not in OUTCOMES:
                raise DataError(f"{self.path}: {where}outcome {outcome!r} is not one of {OUTCOMES}")
            found.append(
                TestResult(
                    nodeid=self.get(entry, "nodeid", str, where),
                    outcome=outcome,
                    duration=float(self.get(entry, "duration", (int, float), where)),
                    message=self.get(entry, "message", str, where),
                )
            )
        return tuple(found)

    def get(self, data: Any, key: str, kind: type | tuple[type, ...], prefix: str = "") -> Any:
        if not isinstance(data, dict) or key not in data:
            raise DataError(
                f"{self.path}: {prefix}{key} is missing (not a covgate shard manifest?)"
            )
        return self.typed(data[key], kind, prefix + key)


@dataclass(frozen=True)
class ShardRun:
    manifest: Manifest
    folder: Path
    exit_code: int
    ended_early: str | None = None
    """Why the session does not count, when it ended before every test of the slice reported."""

    def lines(self) -> list[str]:
        """What the shard did, for the end of its output."""
        m = self.manifest
        counts: dict[str, int] = {}
        for test in (*m.tests, *m.collection_errors):
            counts[test.outcome] = counts.get(test.outcome, 0) + 1
        done = ", ".join(f"{n} {o}" for o, n in counts.items()) or "nothing run"
        lines = [
            f"covgate: {m.spec}: {len(m.tests)} of the {len(m.collection)} collected tests "
            f"(split by {m.split_method}): {done} in {m.duration:.2f}s",
        ]
        problems = [t for t in (*m.collection_errors, *m.tests) if t.outcome in ("failed", "error")]
        lines += [f"  {t.outcome}: {t.nodeid}: {t.message}" for t in problems]
        if self.ended_early:
            lines.append(f"  {self.ended_early}")
        verdict = "tests passed" if self.exit_code == 0 else "tests FAILED"
        lines.append(
            f"covgate: {verdict}; wrote {self.folder.name}/ (not gated: covgate combine "
            "gates the whole set)"
        )
        return lines


# --- the parent side: what the shard hands to pytest, and the folder it writes ------------------

SPEC_FILE = "shard.json"
COLLECTION_FILE = "collection.json"
# coverage.py settings that say where a machine keeps things, not what is measured.
_MACHINE_SETTINGS = frozenset((
    "config_file", "config_files_attempted", "config_files_read", "core", "data_file", "debug",
    "debug_file",
))  # fmt: skip


def selection_args(workspace: Path, spec: ShardSpec, durations: Mapping[str, float]) -> list[str]:
    """The arguments that load the selection hook in pytest (and in every xdist worker), with
    the file holding what it needs: K, N, the recorded durations."""
    spec_file = workspace / SPEC_FILE
    write_json(
        spec_file,
        {
            "index": spec.index,
            "total": spec.total,
            "durations": dict(durations),
            "collection": str(workspace / COLLECTION_FILE),
        },
    )
    junit = workspace / JUNIT_NAME
    return ["-p", "covgate.shard", f"{SPEC_OPTION}={spec_file}", f"--junitxml={junit}"]


@dataclass(frozen=True)
class Collection:
    """What the hook saw: the whole collection (after -k/-m/--deselect, in the order pytest
    runs it) and how it split it."""

    ids: tuple[str, ...]
    selected: int
    method: str
    core: str | None


def read_collection(workspace: Path) -> Collection | None:
    """None when pytest stopped before its collection was done."""
    try:
        data = json.loads((workspace / COLLECTION_FILE).read_text(encoding="utf-8"))
    except OSError:
        return None
    return Collection(tuple(data["ids"]), int(data["selected"]), str(data["method"]), data["core"])


def config_hash(config: Config, coverage_config: object) -> str:
    """A hash of the covgate configuration and the coverage.py settings that decide what is
    measured, the same on every machine (paths of the machine left out)."""
    import dataclasses
    import hashlib

    covgate = {k: v for k, v in dataclasses.asdict(config).items() if k not in ("root", "source")}
    coverage = {
        key: value
        for key, value in sorted(vars(coverage_config).items())
        if not key.startswith("_") and key not in _MACHINE_SETTINGS
    }
    payload = json.dumps({"covgate": covgate, "coverage": coverage}, sort_keys=True, default=_plain)
    # A setting that names a path inside the project names it the same way on every machine.
    payload = payload.replace(json.dumps(str(config.root))[1:-1], "<root>")
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _plain(value: object) -> object:
    if isinstance(value, (set, frozenset)):
        return sorted(str(v) for v in value)
    return str(value)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def durations_hash(durations: Mapping[str, float]) -> str | None:
    import hashlib

    if not durations:
        return None
    payload = json.dumps(sorted(durations.items()))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def manifest(
    spec: ShardSpec,
    collection: Collection,
    session: Session | None,
    *,
    commit: str | None,
    config_hash: str,
    root: Path,
    durations: Mapping[str, float],
    wall: float,
) -> Manifest:
    """The manifest of a shard that ran (the files it names are set by write_folder)."""
    import platform

    from coverage import __version__ as coverage_version

    return Manifest(
        index=spec.index,
        total=spec.total,
        commit=commit,
        config_hash=config_hash,
        python=platform.python_version(),
        implementation=platform.python_implementation(),
        coverage_version=coverage_version,
        coverage_core=collection.core,
        root=str(root),
        data=None,
        junit=None,
        split_method=collection.method,
        durations_hash=durations_hash(durations),
        selected=collection.selected,
        collection=collection.ids,
        tests=session.results if session else (),
        collection_errors=session.collection_errors if session else (),
        duration=wall,
    )


def write_folder(
    root: Path, manifest: Manifest, data_files: Sequence[Path], workspace: Path
) -> Path:
    """Write `covgate-shard-K-of-N/` at the project root, whole or not at all (an earlier one
    of the same shard is replaced): the combined coverage data, the JUnit XML, the manifest."""
    import dataclasses
    import shutil

    from covgate import analysis

    final = root / folder_name(manifest.index, manifest.total)
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=root))
    except OSError as exc:
        raise DataError(f"{final}: cannot write the shard's folder: {exc}") from None
    try:
        if data_files:
            analysis.combine_into(data_files, staging / DATA_NAME, root)
        junit = workspace / JUNIT_NAME  # absent when the project's own --junitxml took it
        if junit.is_file():
            shutil.copyfile(junit, staging / JUNIT_NAME)
        manifest = dataclasses.replace(
            manifest,
            data=DATA_NAME if data_files else None,
            junit=JUNIT_NAME if (staging / JUNIT_NAME).is_file() else None,
        )
        write_json(staging / MANIFEST, manifest.to_json())
        # Readable like any file the user writes (mkdtemp and mkstemp make them private).
        for path in (staging, *staging.iterdir()):
            path.chmod((0o777 if path.is_dir() else 0o666) & ~_umask())
        if final.is_dir() and not final.is_symlink():
            shutil.rmtree(final)
        elif final.exists() or final.is_symlink():
            final.unlink()
        os.replace(staging, final)
    except OSError as exc:
        raise DataError(f"{final}: cannot write the shard's folder: {exc}") from None
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return final
