"""covgate.combine: verifying a set of shards, merging their test results."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import yaml

from covgate import combine, durations, junit
from covgate import shard as shard_module
from covgate.cli import main
from covgate.combine import ShardFolder, partition_problem, verify
from covgate.errors import CovgateError, ExitCode
from covgate.model import FailedTest, SlowTest
from covgate.model import TestSummary as Summary
from covgate.results import TestResult as Result
from covgate.shard import Manifest
from tests.helpers import (
    COVERAGE_CONFIG,
    POLICY,
    clean_env,
    coverage_report,
    small_project,
    write_files,
)

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
        split_method="node id order (no recorded durations)",
        durations_hash=None,
        selected=len(mine),
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
        f"shard: {', '.join(many[1:11])} and 2 more. the shards collected different tests "
        "(shard 1 of 3: 13, shard 2 of 3: 1): give every shard the same pytest arguments"
    )
    third = shard(1, tests=(), durations_hash="x")
    assert partition_problem([third.manifest, shard(2).manifest, shard(3).manifest]) == (
        "the shards do not partition the suite exactly: 2 collected tests were run by no shard: "
        "tests/test_a.py::test_0, tests/test_a.py::test_1. the shards split with different "
        "recorded durations: restore the same .covgate/durations.json in every shard job"
    )
    broken = Result("tests/test_a.py", "error", 0.0, "ImportError: nope")
    stopped = replace(shard(2), manifest=replace(shard(2).manifest, selected=3))
    failing = shard(1, tests=(), collection_errors=(broken,))
    assert partition_problem([failing.manifest, stopped.manifest, shard(3).manifest]) == (
        "the shards do not partition the suite exactly: 2 collected tests were run by no shard: "
        "tests/test_a.py::test_0, tests/test_a.py::test_1. shard 1 of 3 could not collect "
        "tests/test_a.py: ImportError: nope; shard 2 of 3 ran 2 of the 3 tests of its slice "
        "(stopped early: -x, --maxfail, a crash?)"
    )


def test_test_results_are_summed() -> None:
    outcomes = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")
    results = [Result(f"t.py::{o}", o, 0.1 * i, f"{o}!") for i, o in enumerate(outcomes)]
    broken = Result("tests/test_x.py", "error", 0.0, "ImportError: nope")
    shards = [shard(1, collection_errors=(broken,)), shard(2, collection_errors=(broken,))]
    assert combine.summary(results, shards) == Summary(
        passed=1,
        failed=1,
        errors=2,
        skipped=1,
        xfailed=1,
        xpassed=1,
        duration=2.0,
        collected=len(COLLECTION),
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
    with combine.opened([tmp_path / "artifacts", named, named / "manifest.json"]) as found:
        assert [(f.folder.name, f.manifest.index) for f in found] == [
            ("covgate-shard-1-of-2", 1),
            ("covgate-shard-2-of-2", 2),
        ]
    with pytest.raises(CovgateError) as error:
        combine.find([tmp_path / "nothing"], tmp_path)
    assert (error.value.exit_code, str(error.value)) == (
        ExitCode.USAGE,
        f"{tmp_path / 'nothing'}: no such file or folder",
    )
    # A web app's manifest.json below the folder given is not a shard's: passed over.
    write_files(tmp_path / "empty", {"static/manifest.json": '{"name": "app"}'})
    with pytest.raises(CovgateError) as error:
        combine.find([tmp_path / "empty"], tmp_path)
    assert (error.value.exit_code, str(error.value)) == (
        ExitCode.NOTHING_TO_JUDGE,
        f"no covgate shard folder (one holding manifest.json) in {tmp_path / 'empty'}",
    )
    # A folder named as a shard's must hold a valid manifest; so must one that claims to be.
    for name, text in (("covgate-shard-1-of-2", "{"), ("web", '{"schema_version": 1, "shard": 1}')):
        write_files(tmp_path / "more" / name, {"manifest.json": text})
        with pytest.raises(CovgateError) as error:
            combine.find([tmp_path / "more"], tmp_path)
        assert error.value.exit_code == ExitCode.USAGE
        assert str(error.value).startswith(str(tmp_path / "more" / name / "manifest.json"))
        shutil.rmtree(tmp_path / "more")


# ---------------------------------------------------------------------------------------------
# End to end: a real suite as 3 shards, in 3 copies of the project at different absolute paths,
# combined in a fourth checkout.

MORE_TESTS = """\
import pytest
import yaml

from app.main import main
from app.utils.text import clamp, slug


@pytest.mark.parametrize("value", [1, 5, 9])
def test_clamp_inside(value: int) -> None:
    assert clamp(value, 0, 10) == value


class TestSlug:
    def test_lower(self) -> None:
        assert slug("AB") == "ab"

    def test_spaces(self) -> None:
        assert slug("a b c") == "a-b-c"


@pytest.mark.skip(reason="not yet")
def test_later() -> None:
    assert False


def test_main_false() -> None:
    assert main(False) == 2
"""
CI_VARIABLES = [name for pair in shard_module.CI_VARIABLES for name in pair[:2]]
AUTO = {
    1: {"CI_NODE_INDEX": "1", "CI_NODE_TOTAL": "3"},  # GitLab, from 1
    2: {"CIRCLE_NODE_INDEX": "1", "CIRCLE_NODE_TOTAL": "3"},  # CircleCI, from 0
    3: {"BUILDKITE_PARALLEL_JOB": "2", "BUILDKITE_PARALLEL_JOB_COUNT": "3"},  # Buildkite, from 0
}


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=root, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def in_process(root: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """covgate's exit code and its output (stdout and stderr), run in this process so that it
    is measured with the rest of the suite; pytest's own output goes to the captured fds."""
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        for name in ("GITHUB_ACTIONS", "FORCE_COLOR", *CI_VARIABLES):
            patch.delenv(name, raising=False)
        patch.setenv("NO_COLOR", "1")
        for name, value in (env or {}).items():
            patch.setenv(name, value)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            code = main(list(args))
    return code, out.getvalue()


def run_shard(root: Path, index: int, *args: str, env: dict[str, str] | None = None) -> Path:
    code, output = in_process(root, "run", "--shard", f"{index}/3", *args, env=env)
    assert code in (0, 1), output
    return root / f"covgate-shard-{index}-of-3"


def artifact(folder: Path, into: Path) -> Path:
    """What upload-artifact and download-artifact make of a shard folder elsewhere."""
    return Path(shutil.copytree(folder, into / folder.name))


@dataclass(frozen=True)
class Set:
    checkout: Path
    """The combining job's checkout: a fourth copy at yet another path."""
    copies: dict[int, Path]
    folders: dict[int, Path]
    """The downloaded artifacts, one folder per shard."""


@pytest.fixture(scope="module")
def shard_set(tmp_path_factory: pytest.TempPathFactory) -> Set:
    base = tmp_path_factory.mktemp("combine-job") / "project"
    small_project(base, POLICY)
    write_files(base, {"tests/test_more.py": MORE_TESTS, ".gitignore": "covgate-shard-*/\n"})
    git(base, "init", "-q")
    git(base, "add", "-A")
    git(base, "commit", "-q", "-m", "the project")
    copies = {k: tmp_path_factory.mktemp(f"runner{k}") / ("x" * k) / "project" for k in (1, 2, 3)}
    artifacts = tmp_path_factory.mktemp("artifacts")
    folders = {}
    for index, copy in copies.items():
        shutil.copytree(base, copy)
        # Shard 3 runs with two xdist workers: each collects and selects the same slice.
        extra = ("--workers", "2") if index == 3 else ()
        written = run_shard(copy, index, *extra, "--", "-p", "no:cacheprovider")
        folders[index] = artifact(written, artifacts)
    return Set(base, copies, folders)


def tree_hashes(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.slow
def test_shards_combined_equal_a_serial_run(shard_set: Set, tmp_path: Path) -> None:
    artifacts = shard_set.folders[1].parent
    before = tree_hashes(artifacts)
    checkout = shard_set.checkout
    code, output = in_process(checkout, "combine", str(artifacts), "--expect", "3",
                              "--report", "json:report.json")  # fmt: skip
    assert code == 0, output
    assert tree_hashes(artifacts) == before  # the inputs are untouched

    serial = Path(shutil.copytree(checkout, tmp_path / "serial"))
    subprocess.run(
        [sys.executable, "-m", "coverage", "run", "--branch", "-m", "pytest", "-q",
         "-p", "no:cacheprovider", "--junitxml=serial.xml"],
        cwd=serial, env=clean_env(), capture_output=True, check=True,
    )  # fmt: skip
    coverage_report(serial, "json")
    expected = json.loads((serial / "coverage.json").read_text(encoding="utf-8"))
    report = json.loads((checkout / "report.json").read_text(encoding="utf-8"))
    got = {
        f["path"]: (f["statements"], f["missing_statements"], f["branches"],
                    f["missing_branches"], f["missing_lines"])
        for f in report["files"]
    }  # fmt: skip
    assert got == {
        path: (s["num_statements"], s["missing_lines"], s["num_branches"],
               s["missing_branches"], data["missing_lines"])
        for path, data in expected["files"].items()
        for s in [data["summary"]]
    }  # fmt: skip
    totals = expected["totals"]
    assert report["overall"]["covered"] == totals["covered_lines"] + totals["covered_branches"]
    assert report["overall"]["total"] == totals["num_statements"] + totals["num_branches"]
    tests = junit.read_summary(serial / "serial.xml")
    assert (report["tests"]["passed"], report["tests"]["skipped"]) == (tests.passed, tests.skipped)
    assert report["tests"]["passed"] + report["tests"]["skipped"] == 10

    # The next split has every test's duration.
    recorded = json.loads((checkout / ".covgate" / "durations.json").read_text())
    manifest = json.loads((shard_set.folders[1] / "manifest.json").read_text())
    assert sorted(recorded["tests"]) == sorted(manifest["collection"]["ids"])


@pytest.mark.slow
def test_the_shard_folders(shard_set: Set) -> None:
    slices = {}
    for index, folder in shard_set.folders.items():
        names = [p.name for p in folder.rglob("*")]
        assert sorted(names) == ["coverage.sqlite", "junit.xml", "manifest.json"]
        doc = json.loads((folder / "manifest.json").read_text())
        assert doc["shard"] == {"index": index, "total": 3}
        assert doc["root"] == str(shard_set.copies[index])
        assert doc["commit"] == git(shard_set.checkout, "rev-parse", "HEAD")
        assert doc["collection"]["count"] == 10
        slices[index] = [t["nodeid"] for t in doc["tests"]]
    assert len({json.loads((f / "manifest.json").read_text())["config_hash"]
                for f in shard_set.folders.values()}) == 1  # fmt: skip
    # Without recorded durations: runs of the sorted node ids (xdist's order within shard 3).
    assert slices[1] == [
        "tests/test_app.py::test_auth", "tests/test_app.py::test_utils",
        "tests/test_app.py::test_main", "tests/test_more.py::TestSlug::test_lower",
    ]  # fmt: skip
    assert slices[2] == [
        "tests/test_more.py::test_clamp_inside[1]", "tests/test_more.py::test_clamp_inside[5]",
        "tests/test_more.py::TestSlug::test_spaces",
    ]  # fmt: skip
    assert sorted(slices[3]) == [
        "tests/test_more.py::test_clamp_inside[9]", "tests/test_more.py::test_later",
        "tests/test_more.py::test_main_false",
    ]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(
    ("shards", "code", "message"),
    [
        ((1, 2), 4, "shard 3 of 3 missing"),
        ((1, 2, 2, 3), 4, "shard 2 of 3 found 2 times"),
    ],
)
def test_a_missing_or_duplicate_shard(
    shard_set: Set, tmp_path: Path, shards: tuple[int, ...], code: int, message: str
) -> None:
    paths = []
    for position, index in enumerate(shards):
        paths.append(str(artifact(shard_set.folders[index], tmp_path / str(position))))
    got, output = in_process(shard_set.checkout, "combine", *paths, "--expect", "3")
    assert (got, output.splitlines()[-1].split(" (")[0]) == (code, f"covgate: error: {message}")


@pytest.mark.slow
def test_zip_archives_of_shard_folders(shard_set: Set, tmp_path: Path) -> None:
    """As a CI's API hands artifacts out: one zip per shard, the folder's files at its root."""
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    for index, folder in shard_set.folders.items():
        with zipfile.ZipFile(downloads / f"covgate-shard-{index}-of-3.zip", "w") as archive:
            for file in folder.iterdir():
                archive.write(file, file.name)
    broken = downloads / "covgate-shard-1-of-3 (1).zip"
    broken.write_bytes(b"")
    (downloads / "notes.zip").write_bytes(b"")  # not a shard's: passed over
    code, output = in_process(shard_set.checkout, "combine", str(downloads), "--expect", "3")
    assert (code, output.splitlines()[-1]) == (
        3,
        f"covgate: error: {broken}: not a readable zip archive (File is not a zip file)",
    )
    broken.unlink()
    code, output = in_process(shard_set.checkout, "combine", str(downloads), "--expect", "3")
    assert code == 0, output
    assert output.splitlines()[1].startswith(
        f"data: {downloads / 'covgate-shard-1-of-3.zip'}, {downloads / 'covgate-shard-2-of-3.zip'}"
    )


@pytest.mark.slow
def test_combine_keeps_the_baseline(shard_set: Set, tmp_path: Path) -> None:
    """The ratchet holds for a sharded suite as for one run: written, then judged."""
    artifacts = str(shard_set.folders[1].parent)
    base = tmp_path / "covgate-baseline.json"
    combined = ("combine", artifacts, "--expect", "3", "--baseline", str(base))
    code, output = in_process(shard_set.checkout, *combined, "--write-baseline")
    assert code == 0, output
    doc = json.loads(base.read_text(encoding="utf-8"))
    assert doc["files"]["app/main.py"] == 0  # test_main and test_main_false, in two shards
    doc["files"]["app/utils/text.py"] -= 1  # as if it had been better covered before
    base.write_text(json.dumps(doc), encoding="utf-8")
    code, output = in_process(shard_set.checkout, *combined)
    assert code == 2
    lines = output.splitlines()
    assert lines[-3:] == [
        f"baseline {base}: FAILED",
        "    app/utils/text.py: 2 uncovered lines and branches, baseline 1: line 9; partial "
        "branches at 8",
        "covgate: FAILED: 1 regression against the baseline",
    ]


@pytest.mark.slow
def test_a_shard_of_another_commit(shard_set: Set, tmp_path: Path) -> None:
    copy = Path(shutil.copytree(shard_set.copies[3], tmp_path / "later" / "project"))
    shutil.rmtree(copy / "covgate-shard-3-of-3")
    (copy / "NOTES.md").write_text("later\n", encoding="utf-8")
    git(copy, "add", "NOTES.md")
    git(copy, "commit", "-q", "-m", "later")
    # This checkout has durations from an earlier combine: the split uses them.
    (copy / ".covgate").mkdir()
    (copy / ".covgate" / "durations.json").write_text(json.dumps({
        "version": durations.VERSION, "runs": [],
        "tests": dict.fromkeys(shard_set_ids(shard_set), 1.0),
    }), encoding="utf-8")  # fmt: skip
    later = run_shard(copy, 3, "--", "-p", "no:cacheprovider")
    doc = json.loads((later / "manifest.json").read_text())
    assert doc["split"]["method"] == "recorded durations, 1 of 2 files split"
    code, output = in_process(
        shard_set.checkout, "combine", str(shard_set.folders[1]), str(shard_set.folders[2]),
        str(later), "--expect", "3",
    )  # fmt: skip
    first = git(shard_set.checkout, "rev-parse", "HEAD")
    assert (code, output.splitlines()[-1]) == (
        3,
        "covgate: error: the shards are of different commits: shards 1 and 2 "
        f"{first}; shard 3 {git(copy, 'rev-parse', 'HEAD')}",
    )


def shard_set_ids(shard_set: Set) -> list[str]:
    doc = json.loads((shard_set.folders[1] / "manifest.json").read_text())
    ids: list[str] = doc["collection"]["ids"]
    return ids


@pytest.mark.slow
def test_a_partition_that_is_not_exact(shard_set: Set, tmp_path: Path) -> None:
    copy = Path(shutil.copytree(shard_set.copies[1], tmp_path / "narrow" / "project"))
    narrowed = run_shard(copy, 1, "--", "-p", "no:cacheprovider",
                         "--deselect", "tests/test_app.py::test_utils")  # fmt: skip
    code, output = in_process(
        shard_set.checkout, "combine", str(narrowed), str(shard_set.folders[2]),
        str(shard_set.folders[3]), "--expect", "3",
    )  # fmt: skip
    assert (code, output.splitlines()[-1]) == (
        4,
        "covgate: error: the shards do not partition the suite exactly: 1 collected test was "
        "run by no shard: tests/test_app.py::test_utils. the shards collected different tests "
        "(shard 1 of 3: 9, shard 2 of 3: 10, shard 3 of 3: 10): give every shard the same pytest "
        "arguments",
    )


@pytest.mark.slow
def test_a_failing_test_in_a_shard(shard_set: Set, tmp_path: Path) -> None:
    copy = Path(shutil.copytree(shard_set.copies[2], tmp_path / "failing" / "project"))
    test_file = copy / "tests" / "test_more.py"
    test_file.write_text(
        test_file.read_text().replace('== "a-b-c"', '== "A-B-C"'), encoding="utf-8"
    )
    code, output = in_process(copy, "run", "--shard", "2/3", "--", "-p", "no:cacheprovider",
                              env={"GITHUB_ACTIONS": "true"})  # fmt: skip
    assert code == 1
    # In GitHub Actions, nothing pytest prints can start a workflow command.
    lines = output.splitlines()
    token = lines[0].removeprefix("::stop-commands::")
    assert (len(token), lines[-1]) == (32, f"::{token}::")
    assert lines[-3:-1] == [
        "  failed: tests/test_more.py::TestSlug::test_spaces: AssertionError: assert 'a-b-c' == "
        "'A-B-C'",
        "covgate: tests FAILED; wrote covgate-shard-2-of-3/ (not gated: covgate combine gates "
        "the whole set)",
    ]
    code, output = in_process(
        shard_set.checkout, "combine", str(shard_set.folders[1]),
        str(copy / "covgate-shard-2-of-3"), str(shard_set.folders[3]), "--expect", "3",
        "--report", "json",
    )  # fmt: skip
    report = json.loads(output[output.index("{") :])
    assert (code, report["exit_code"], report["passed"]) == (1, 1, False)
    assert report["overall"]["passed"] is True  # the gate is still evaluated and shown
    assert report["tests"]["failed"] == 1


@pytest.mark.slow
def test_a_file_outside_the_root_after_mapping(shard_set: Set, tmp_path: Path) -> None:
    """Combined in a folder that is not a checkout of the project: nothing maps."""
    elsewhere = tmp_path / "elsewhere"
    write_files(elsewhere, {"pyproject.toml": COVERAGE_CONFIG + POLICY})
    code, output = in_process(elsewhere, "combine", str(shard_set.folders[1].parent),
                              "--expect", "3")  # fmt: skip
    assert code == 3
    assert output.splitlines()[-1] == (
        f"covgate: error: {shard_set.copies[1]}/app/__init__.py: measured by a shard, but "
        f"outside the project root {elsewhere} after mapping (18 such files): map it with "
        "coverage.py's [paths] setting, or measure with relative_files = true"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--shard", "auto"), "--shard auto: none of the CI variables is set"),
        (("--shard", "4/3"), "--shard 4/3: shard 4 is out of range 1-3"),
        (("--shard", "1/3", "--report", "json"), "--shard does not gate: give --report to "
         "covgate combine (see covgate --help)"),
    ],
)  # fmt: skip
def test_shard_usage_errors_write_nothing(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    project = small_project(tmp_path / "project", POLICY)
    code, output = in_process(project, "run", *args)
    assert code == ExitCode.USAGE
    assert output.splitlines()[-1].startswith(f"covgate: error: {message}")
    assert sorted(p.name for p in project.iterdir()) == ["app", "pyproject.toml", "tests"]


@pytest.mark.slow
@pytest.mark.parametrize("index", [1, 2, 3])
def test_shard_auto_reads_each_ci(tmp_path: Path, index: int) -> None:
    project = small_project(tmp_path / "project", POLICY)
    code, output = in_process(project, "run", "--shard", "auto", "--", "-p", "no:cacheprovider",
                              env=AUTO[index])  # fmt: skip
    assert code == 0, output
    assert [p.name for p in project.glob("covgate-shard-*")] == [f"covgate-shard-{index}-of-3"]


def test_the_readme_workflow_is_valid_and_complete(tmp_path: Path) -> None:
    """The README's sharded workflow: a valid GitHub workflow whose shards upload with
    if-no-files-found: error, one combine job gates, and the durations go through the cache."""
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### A complete GitHub Actions workflow") :]
    text = section[section.index("```yaml\n") + 8 : section.index("```\n", 8)]
    workflow = tmp_path / "tests.yml"
    workflow.write_text(text, encoding="utf-8")
    checked = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
         str(workflow)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    jobs = yaml.safe_load(text)["jobs"]
    shards = jobs["shard"]["strategy"]["matrix"]["shard"]
    uses = {
        job: [s.get("uses", "").split("@")[0] for s in spec["steps"]] for job, spec in jobs.items()
    }
    upload = next(s for s in jobs["shard"]["steps"] if "upload-artifact" in s.get("uses", ""))
    assert upload["with"]["if-no-files-found"] == "error"
    assert upload["if"] == "${{ !cancelled() }}"
    run = next(s for s in jobs["shard"]["steps"] if s.get("uses", "").startswith("covgate/"))
    assert run["with"] == {"shard": f"${{{{ matrix.shard }}}}/{len(shards)}"}
    gate = next(s for s in jobs["coverage"]["steps"] if s.get("uses", "").startswith("covgate/"))
    assert gate["with"] == {"combine": "shards", "expect": len(shards)}
    assert jobs["coverage"]["needs"] == "shard"
    assert "actions/cache/restore" in uses["shard"]
    assert "actions/cache/save" in uses["coverage"]
    inputs = yaml.safe_load((Path(__file__).parent.parent / "action.yml").read_text())["inputs"]
    assert {"shard", "combine", "expect"} <= set(inputs)


@pytest.mark.slow
def test_combine_gates_the_changed_lines(shard_set: Set, tmp_path: Path) -> None:
    """--diff-base on combine as on run and check; run --shard refuses it (it does not gate)."""
    checkout = tmp_path / "checkout"
    shutil.copytree(shard_set.checkout, checkout)
    with (checkout / "app/auth/tokens.py").open("a", encoding="utf-8") as stream:
        stream.write("\n\ndef revoke(token: str) -> bool:\n    return bool(token)\n")
    artifacts = str(shard_set.folders[1].parent)

    gate = ("--diff-base", "HEAD", "--fail-under", "critical.patch=100")
    code, output = in_process(checkout, "combine", artifacts, "--expect", "3", *gate)

    assert code == ExitCode.THRESHOLD_MISSED, output
    assert "critical patch 0.00 % < 100 %: cover 2 more changed lines or branches" in output
    assert "    app/auth/tokens.py: changed lines 17-18 not run" in output
    code, output = in_process(checkout, "run", "--shard", "1/3", "--diff-base", "HEAD")
    assert code == ExitCode.USAGE
    assert output.splitlines()[-1] == (
        "covgate: error: --shard does not gate: give --diff-base to covgate combine "
        "(see covgate --help)"
    )
