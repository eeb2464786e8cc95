"""covgate.combine: verifying a set of shards, merging their test results."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from covgate import combine
from covgate.combine import ShardFolder, partition_problem, verify
from covgate.errors import CovgateError, ExitCode
from covgate.model import FailedTest, SlowTest
from covgate.model import TestSummary as Summary
from covgate.shard import Manifest
from covgate.shard import TestResult as Result

COMMIT = "a" * 40
COLLECTION = tuple(f"tests/test_{name}.py::test_{i}" for name in "abc" for i in range(2))


def shard(
    index: int, total: int = 3, tests: tuple[str, ...] | None = None, **changes: object
) -> ShardFolder:
    """Shard `index` of a clean set: the collection dealt out file by file."""
    mine = tests if tests is not None else COLLECTION[2 * (index - 1) : 2 * index]
    manifest = Manifest(
        index=index,
        total=total,
        commit=COMMIT,
        config_hash="c" * 64,
        python="3.12.1",
        implementation="CPython",
        coverage_version="7.10.0",
        coverage_core="ctrace",
        root=f"/runner/{index}/project",
        data="coverage.sqlite",
        junit="junit.xml",
        split_method="collection order (no recorded durations)",
        durations_hash=None,
        collection=COLLECTION,
        tests=tuple(Result(node, "passed", 0.1) for node in mine),
        duration=1.0,
    )
    folder = Path(f"/artifacts/covgate-shard-{index}-of-{total}")
    return ShardFolder(folder, replace(manifest, **changes))  # type: ignore[arg-type]


def refusal(
    shards: list[ShardFolder], expect: int = 3, commit: str | None = COMMIT
) -> tuple[int, str]:
    with pytest.raises(CovgateError) as error:
        verify(shards, expect, commit)
    return int(error.value.exit_code), str(error.value)


def test_a_complete_exact_set_passes() -> None:
    verify([shard(3), shard(1), shard(2)], 3, COMMIT)
    verify([shard(1), shard(2), shard(3)], 3, None)  # combined outside git


@pytest.mark.parametrize(
    ("shards", "expect", "code", "message"),
    [
        pytest.param([shard(1), shard(2)], 3, 4, "shard 3 of 3 missing", id="missing"),
        pytest.param([shard(2)], 3, 4, "shards 1 and 3 of 3 missing", id="two-missing"),
        pytest.param(
            [shard(1), shard(2), shard(3), replace(shard(2), folder=Path("/elsewhere"))],
            3,
            4,
            "shard 2 of 3 found 2 times (/artifacts/covgate-shard-2-of-3, /elsewhere)",
            id="duplicate",
        ),
        pytest.param(
            [shard(1, total=2), shard(2, total=2)],
            3,
            3,
            "/artifacts/covgate-shard-1-of-2: shard 1 of 2 was split for 2 shards, but "
            "--expect is 3",
            id="other-n",
        ),
        pytest.param(
            [shard(1), shard(2, commit="b" * 40), shard(3)],
            3,
            3,
            f"the shards are of different commits: shards 1 and 3 {COMMIT}; shard 2 {'b' * 40}",
            id="other-commit",
        ),
        pytest.param(
            [shard(1, config_hash="d" * 64), shard(2), shard(3)],
            3,
            3,
            "the shards ran with different covgate or coverage.py configurations: shard 1 "
            "dddddddddddd; shards 2 and 3 cccccccccccc",
            id="other-config",
        ),
        pytest.param(
            [shard(1, config_hash="d" * 64, coverage_version="7.11.0"), shard(2)],
            3,
            3,
            "the shards ran with different covgate or coverage.py configurations (shard 1 "
            "coverage.py 7.11.0; shard 2 coverage.py 7.10.0): shard 1 dddddddddddd; shard 2 "
            "cccccccccccc",
            id="mismatch-before-missing",
        ),
    ],
)
def test_an_incomplete_or_mismatched_set_is_refused(
    shards: list[ShardFolder], expect: int, code: int, message: str
) -> None:
    assert refusal(shards, expect) == (code, message)


def test_the_checkout_must_be_the_shards_commit() -> None:
    assert refusal([shard(1), shard(2), shard(3)], commit="f" * 40) == (
        3,
        f"the shards measured commit {'a' * 12}, but this checkout is {'f' * 12}: combine in "
        "a checkout of the commit the shards ran",
    )


def test_a_test_that_no_shard_ran_or_two_ran() -> None:
    one, two, three = COLLECTION[:2], COLLECTION[2:4], COLLECTION[4:]
    shards = [shard(1, tests=one), shard(2, tests=(*two, one[0])), shard(3, tests=three[:1])]
    assert refusal(shards) == (
        4,
        "the shards do not partition the suite exactly: 1 collected test was run by no shard "
        "and 1 test was run by more than one shard: tests/test_c.py::test_1, "
        "tests/test_a.py::test_0 (by shards 1 and 2)",
    )


def test_up_to_ten_are_listed_with_the_reason_when_the_manifests_show_it() -> None:
    many = tuple(f"t.py::t{i}" for i in range(13))
    first = shard(1, tests=(), collection=many)
    second = shard(2, tests=many[:1], collection=many[:1])
    problem = partition_problem([first.manifest, second.manifest])
    assert problem == (
        "the shards do not partition the suite exactly: 12 collected tests were run by no "
        f"shard: {', '.join(many[1:11])} and 2 more (the shards collected different tests: "
        "shard 1 of 3: 13, shard 2 of 3: 1; give every shard the same pytest arguments)"
    )
    third = shard(1, tests=(), durations_hash="x")
    assert partition_problem([third.manifest, shard(2).manifest, shard(3).manifest]) == (
        "the shards do not partition the suite exactly: 2 collected tests were run by no shard: "
        "tests/test_a.py::test_0, tests/test_a.py::test_1 (the shards split with different "
        "recorded durations: restore the same .covgate/durations.json in every shard job)"
    )


def test_test_results_are_summed() -> None:
    outcomes = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")
    results = [Result(f"t.py::{o}", o, 0.1 * i, f"{o}!") for i, o in enumerate(outcomes)]
    broken = Result("tests/test_x.py", "error", 0.0, "ImportError: nope")
    shards = [shard(1, collection_errors=(broken,)), shard(2, collection_errors=(broken,))]
    assert combine.summary(results, shards) == Summary(
        passed=2,
        failed=1,
        errors=2,
        skipped=2,
        duration=2.0,
        failures=(
            FailedTest("tests/test_x.py", "ImportError: nope", "error"),
            FailedTest("t.py::failed", "failed!", "failure"),
            FailedTest("t.py::error", "error!", "error"),
        ),
        slowest=tuple(
            SlowTest(f"t.py::{o}", 0.1 * i) for i, o in reversed(list(enumerate(outcomes)))
        )[:5],
    )
    assert combine.durations(results)["t.py::xpassed"] == 0.5


def test_shard_folders_are_found_under_a_parent(tmp_path: Path) -> None:
    for index in (1, 2):
        folder = tmp_path / "artifacts" / f"covgate-shard-{index}-of-2"
        folder.mkdir(parents=True)
        doc = shard(index, total=2).manifest.to_json()
        (folder / "manifest.json").write_text(json.dumps(doc), encoding="utf-8")
    named = tmp_path / "artifacts" / "covgate-shard-1-of-2"
    found = combine.find([tmp_path / "artifacts", named, named / "manifest.json"])
    assert [(f.folder.name, f.manifest.index) for f in found] == [
        ("covgate-shard-1-of-2", 1),
        ("covgate-shard-2-of-2", 2),
    ]
    with pytest.raises(CovgateError) as error:
        combine.find([tmp_path / "nothing"])
    assert (error.value.exit_code, str(error.value)) == (
        ExitCode.USAGE,
        f"{tmp_path / 'nothing'}: no such file or folder",
    )
    (tmp_path / "empty").mkdir()
    with pytest.raises(CovgateError) as error:
        combine.find([tmp_path / "empty"])
    assert (error.value.exit_code, str(error.value)) == (
        ExitCode.NOTHING_TO_JUDGE,
        f"no covgate shard folder (one holding manifest.json) in {tmp_path / 'empty'}",
    )
