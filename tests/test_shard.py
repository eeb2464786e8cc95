"""covgate.shard: the shard option, the split, the manifest."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import pytest

from covgate.errors import ConfigError, DataError, ExitCode
from covgate.results import TestResult as Result
from covgate.shard import (
    Manifest,
    ShardRun,
    ShardSpec,
    parse_shard,
    read_collection,
    read_manifest,
    selection_args,
    split,
)

# --- --shard K/N and --shard auto --------------------------------------------------------------

GITLAB = {"CI_NODE_INDEX": "2", "CI_NODE_TOTAL": "4"}
CIRCLE = {"CIRCLE_NODE_INDEX": "0", "CIRCLE_NODE_TOTAL": "3"}
BUILDKITE = {"BUILDKITE_PARALLEL_JOB": "2", "BUILDKITE_PARALLEL_JOB_COUNT": "3"}


@pytest.mark.parametrize(
    ("value", "env", "expected"),
    [
        ("2/5", {}, ShardSpec(2, 5)),
        ("1/1", {}, ShardSpec(1, 1)),
        ("5/5", GITLAB, ShardSpec(5, 5)),  # K/N wins over the CI's variables
        ("auto", GITLAB, ShardSpec(2, 4)),  # GitLab counts from 1
        ("auto", CIRCLE, ShardSpec(1, 3)),  # CircleCI counts from 0
        ("auto", BUILDKITE, ShardSpec(3, 3)),  # Buildkite counts from 0
        ("auto", {"CI_NODE_TOTAL": "1"}, ShardSpec(1, 1)),  # GitLab without parallel:
        ("auto", {**CIRCLE, "CI_NODE_TOTAL": ""}, ShardSpec(1, 3)),
    ],
)
def test_parse_shard(value: str, env: dict[str, str], expected: ShardSpec) -> None:
    assert parse_shard(value, env) == expected


@pytest.mark.parametrize(
    ("value", "env", "message"),
    [
        ("0/3", {}, "--shard 0/3: shard 0 is out of range 1-3"),
        ("4/3", {}, "--shard 4/3: shard 4 is out of range 1-3"),
        ("1/0", {}, "--shard 1/0: the number of shards must be at least 1"),
        ("3", {}, "--shard '3': expected K/N (for example 2/5) or auto"),
        ("a/b", {}, "--shard 'a/b': expected K/N (for example 2/5) or auto"),
        ("-1/3", {}, "--shard '-1/3': expected K/N (for example 2/5) or auto"),
        (
            "auto",
            {},
            "--shard auto: none of the CI variables is set (CI_NODE_INDEX/CI_NODE_TOTAL, "
            "CIRCLE_NODE_INDEX/CIRCLE_NODE_TOTAL, BUILDKITE_PARALLEL_JOB/"
            "BUILDKITE_PARALLEL_JOB_COUNT); give K/N",
        ),
        (
            "auto",
            {"CIRCLE_NODE_INDEX": "3", "CIRCLE_NODE_TOTAL": "3"},
            "--shard auto (CIRCLE_NODE_INDEX='3', CIRCLE_NODE_TOTAL='3'): shard 4 is out of "
            "range 1-3",
        ),
        (
            "auto",
            {"CI_NODE_INDEX": "0", "CI_NODE_TOTAL": "2"},
            "--shard auto (CI_NODE_INDEX='0', CI_NODE_TOTAL='2'): shard 0 is out of range 1-2",
        ),
        (
            "auto",
            {"CI_NODE_TOTAL": "3"},
            "--shard auto (CI_NODE_INDEX='', CI_NODE_TOTAL='3'): CI_NODE_INDEX is not a whole "
            "number",
        ),
        (
            "auto",
            {"BUILDKITE_PARALLEL_JOB": "1", "BUILDKITE_PARALLEL_JOB_COUNT": "many"},
            "--shard auto (BUILDKITE_PARALLEL_JOB='1', BUILDKITE_PARALLEL_JOB_COUNT='many'): "
            "BUILDKITE_PARALLEL_JOB_COUNT is not a whole number",
        ),
    ],
)
def test_parse_shard_errors(value: str, env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_shard(value, env)
    assert str(error.value) == message
    assert error.value.exit_code == ExitCode.USAGE


# --- the split ---------------------------------------------------------------------------------


def ids(*files: tuple[str, int]) -> list[str]:
    return [f"{name}::test_{i}" for name, count in files for i in range(count)]


@pytest.mark.parametrize(
    ("collection", "durations", "total", "shards", "method"),
    [
        # Without durations: contiguous runs of the sorted node ids, sizes differing by one.
        (ids(("a.py", 10)), {}, 3, (1, 1, 1, 1, 2, 2, 2, 3, 3, 3), "node id order"),
        (ids(("a.py", 2)), {}, 3, (1, 2), "node id order"),
        (ids(("a.py", 3)), {}, 1, (1, 1, 1), "node id order"),
        ([], {}, 2, (), "node id order"),
        # Durations of nothing but zeros say nothing either.
        (ids(("a.py", 2)), {"a.py::test_0": 0.0}, 2, (1, 2), "node id order"),
        # Balanced whole files: each file on one shard, heaviest first.
        (
            ids(("a.py", 2), ("b.py", 2), ("c.py", 2)),
            dict.fromkeys(ids(("a.py", 2), ("b.py", 2), ("c.py", 2)), 1.0),
            3,
            (1, 1, 2, 2, 3, 3),
            "test files kept whole",
        ),
        (
            ids(("a.py", 1), ("b.py", 1), ("c.py", 1)),
            {"a.py::test_0": 1.0, "b.py::test_0": 5.0, "c.py::test_0": 4.0},
            2,
            (2, 1, 2),
            "test files kept whole",
        ),
        # One file dominates: it is split into its tests (no better split exists here).
        (
            ids(("a.py", 4), ("b.py", 1)),
            dict.fromkeys(ids(("a.py", 4), ("b.py", 1)), 3.0),
            2,
            (1, 2, 1, 2, 1),
            "1 of 2 files split",
        ),
        # A test without a recorded duration counts as the mean of the others (3 s here).
        (
            ["x.py::t", "y.py::t", "z.py::t"],
            {"x.py::t": 4.0, "z.py::t": 2.0, "gone.py::t": 100.0},
            2,
            (1, 2, 2),
            "test files kept whole",
        ),
    ],
)
def test_split(
    collection: list[str],
    durations: dict[str, float],
    total: int,
    shards: tuple[int, ...],
    method: str,
) -> None:
    result = split(collection, durations, total)
    assert result.shards == shards
    assert method in result.method


def suite(seed: int) -> tuple[list[str], dict[str, float]]:
    """A suite of 40 files, 1-60 tests each, with skewed durations and a few unknown ones."""
    rng = random.Random(seed)
    collection = ids(*((f"tests/test_{i}.py", rng.randint(1, 60)) for i in range(40)))
    durations = {n: rng.expovariate(20) for n in collection if rng.random() > 0.05}
    return collection, durations


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("total", [2, 3, 7])
def test_split_balances_and_is_the_same_everywhere(seed: int, total: int) -> None:
    collection, durations = suite(seed)
    result = split(collection, durations, total)
    assert len(result.shards) == len(collection)
    assert set(result.shards) == set(range(1, total + 1))
    ideal = sum(result.estimates) / total
    assert max(result.estimates) <= ideal * 1.10
    # The same inputs in another order of the durations file: the same partition.
    shuffled = list(durations.items())
    random.Random(seed + 100).shuffle(shuffled)
    assert split(collection, dict(shuffled), total) == result


def test_split_ignores_the_order_of_the_collection() -> None:
    """pytest-randomly shuffles with another seed in every job: the partition is the same."""
    collection, durations = suite(2)
    shuffled = list(collection)
    random.Random(7).shuffle(shuffled)
    for given in ({}, durations):
        first = dict(zip(collection, split(collection, given, 3).shards, strict=True))
        second = dict(zip(shuffled, split(shuffled, given, 3).shards, strict=True))
        assert first == second
    assert split(["b.py::t", "a.py::t", "c.py::t"], {}, 3).shards == (2, 1, 3)


def test_split_keeps_files_whole_when_that_balances() -> None:
    collection, durations = suite(1)
    result = split(collection, durations, 2)
    by_file: dict[str, set[int]] = {}
    for node, shard in zip(collection, result.shards, strict=True):
        by_file.setdefault(node.split("::")[0], set()).add(shard)
    assert result.method == "recorded durations, test files kept whole"
    assert all(len(shards) == 1 for shards in by_file.values())


# --- the manifest ------------------------------------------------------------------------------


def manifest(**changes: object) -> Manifest:
    base = Manifest(
        index=2,
        total=3,
        commit="a" * 40,
        config_hash="c" * 64,
        python="3.12.1",
        implementation="CPython",
        coverage_version="7.10.0",
        coverage_core="ctrace",
        root="/work/project",
        data="coverage.sqlite",
        junit="junit.xml",
        split_method="node id order (no recorded durations)",
        durations_hash=None,
        selected=2,
        collection=("tests/test_a.py::test_one", "tests/test_a.py::test_two"),
        tests=(Result("tests/test_a.py::test_two", "failed", 0.5, "assert 1 == 2"),),
        collection_errors=(Result("tests/test_b.py", "error", 0.0, "ImportError: x"),),
        duration=1.25,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_manifest_round_trip(tmp_path: Path) -> None:
    written = manifest()
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(written.to_json()), encoding="utf-8")
    assert read_manifest(path) == written
    doc = written.to_json()
    assert doc["schema_version"] == 1
    assert doc["collection"]["count"] == 2
    assert len(doc["collection"]["sha256"]) == 64


def _broken(doc: dict[str, object], key: str, value: object) -> dict[str, object]:
    target = doc
    *parents, last = key.split(".")
    for parent in parents:
        target = target[parent]  # type: ignore[assignment]
    if value is None:
        del target[last]
    else:
        target[last] = value
    return doc


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("schema_version", 2, "schema_version 2 is not 1 (written by another covgate version? "
         "use the same covgate in every job)"),
        ("commit", None, "commit is missing (not a covgate shard manifest?)"),
        ("shard.index", "2", "shard.index must be int, got str"),
        ("shard.index", True, "shard.index must be int, got bool"),
        ("shard.index", 4, "shard.index 4 is out of range 1-3"),
        ("commit", 5, "commit must be str or null, got int"),
        ("data", "../../etc/passwd", "data '../../etc/passwd' is not a file name in the shard "
         "folder"),
        ("tests", [{"nodeid": "t", "outcome": "won", "duration": 1, "message": ""}],
         "tests[0].outcome 'won' is not one of ('passed', 'failed', 'error', 'skipped', "
         "'xfailed', 'xpassed')"),
        ("tests", [3], "tests[0] must be dict, got int"),
        ("collection.ids", [1], "collection.ids must hold strings"),
    ],
)  # fmt: skip
def test_a_broken_manifest_is_named(tmp_path: Path, key: str, value: object, message: str) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(_broken(manifest().to_json(), key, value)), encoding="utf-8")
    with pytest.raises(DataError) as error:
        read_manifest(path)
    assert str(error.value) == f"{path}: {message}"
    assert error.value.exit_code == ExitCode.USAGE


def test_a_manifest_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_text("{", encoding="utf-8")
    with pytest.raises(DataError, match=r"manifest\.json: not JSON"):
        read_manifest(path)


# --- the selection hook, in a pytest session of this process -----------------------------------


INI = "[pytest]\npython_files = shardhook_*.py\n"
QUIET = ["-q", "-p", "no:cacheprovider", "-p", "no:asyncio"]


class Seen:
    """A plugin that records what the session deselected and ran."""

    def __init__(self) -> None:
        self.deselected: list[str] = []
        self.ran: list[str] = []

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.deselected += [item.nodeid for item in items]

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call":
            self.ran.append(report.nodeid)


def test_the_hook_selects_the_slice_after_pytest_s_own_deselection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    (project / "tests").mkdir(parents=True)
    (project / "pytest.ini").write_text(INI, encoding="utf-8")
    body = "".join(f"def test_{n}():\n    pass\n\n\n" for n in ("a", "b", "c", "slow"))
    for name in ("shardhook_one", "shardhook_two"):
        (project / "tests" / f"{name}.py").write_text(body, encoding="utf-8")
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    durations = {"tests/shardhook_one.py::test_a": 5.0}
    args = selection_args(workspace, ShardSpec(2, 2), durations)
    monkeypatch.chdir(project)
    seen = Seen()
    code = pytest.main([*args, *QUIET, "-k", "not slow", "tests"],
                       plugins=[seen])  # fmt: skip
    assert code == 0
    collection = read_collection(workspace)
    assert collection is not None
    ids = [f"tests/shardhook_{f}.py::test_{n}" for f in ("one", "two") for n in ("a", "b", "c")]
    assert collection.ids == tuple(ids)
    # test_a alone is 5 s (the others count as that mean): file one on one shard, two on the other
    assert collection.method == "recorded durations, test files kept whole"
    assert seen.ran == ids[3:]
    assert seen.deselected == [*(i.replace("_a", "_slow") for i in ids[::3]), *ids[:3]]
    assert collection.selected == 3
    assert collection.core in (None, "ctrace", "pytrace", "sysmon")


def test_without_its_option_the_hook_does_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pytest.ini").write_text(INI, encoding="utf-8")
    (tmp_path / "shardhook_alone.py").write_text("def test_x():\n    pass\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    seen = Seen()
    code = pytest.main([*QUIET, "-p", "covgate.shard"], plugins=[seen])
    assert (code, seen.ran, seen.deselected) == (0, ["shardhook_alone.py::test_x"], [])


def test_what_a_shard_says_at_its_end() -> None:
    done = ShardRun(
        manifest(),
        Path("/work/project/covgate-shard-2-of-3"),
        1,
        "the test session ended early after 1 of 2 tests (stopping after 1 failures)",
    )
    assert done.lines() == [
        "covgate: shard 2 of 3: 1 of the 2 collected tests (split by node id order (no recorded "
        "durations)): 1 failed, 1 error in 1.25s",
        "  error: tests/test_b.py: ImportError: x",
        "  failed: tests/test_a.py::test_two: assert 1 == 2",
        "  the test session ended early after 1 of 2 tests (stopping after 1 failures)",
        "covgate: tests FAILED; wrote covgate-shard-2-of-3/ (not gated: covgate combine gates "
        "the whole set)",
    ]
