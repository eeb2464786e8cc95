"""`covgate combine`: find the shard folders, verify that they are one complete, exact set,
combine their coverage data and test results.

Verification refuses, naming what is wrong: shards of another N, commit or configuration
(exit 3) before a missing or duplicate shard (exit 4), then a partition that is not exact
(exit 4). The inputs are only read: the data files are combined from copies.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from covgate import analysis, paths
from covgate import results as results_module
from covgate.errors import ConfigError, DataError, NothingToJudge
from covgate.model import TestSummary
from covgate.results import Session, TestResult
from covgate.shard import MANIFEST, Manifest, ShardSpec, read_manifest

LISTED = 10


@dataclass(frozen=True)
class ShardFolder:
    folder: Path
    manifest: Manifest
    origin: Path | None = None
    """The archive the folder was extracted from, if it was."""

    @property
    def shown(self) -> Path:
        """Where the user gave or keeps it."""
        return self.origin or self.folder

    def __str__(self) -> str:
        return str(self.manifest.spec)


@contextlib.contextmanager
def opened(paths: Sequence[Path]) -> Iterator[list[ShardFolder]]:
    """The shard folders named, or found under the folders named (by their manifest.json),
    zip archives of them included (extracted to a temporary folder while combining)."""
    with tempfile.TemporaryDirectory(prefix="covgate-shards-") as scratch:
        yield find(paths, Path(scratch))


PREFIX = "covgate-shard-"
DEPTH = 2
"""How deep below a folder given to look for shard folders and archives."""


def find(paths: Sequence[Path], scratch: Path) -> list[ShardFolder]:
    """A shard folder or archive that the user named, or one named covgate-shard-*, must be a
    valid shard; a folder or zip that only happens to hold a manifest.json of another tool
    (a web app's, found while looking below `.`) is passed over."""
    named: dict[Path, Path | None] = {}
    other: dict[Path, Path | None] = {}
    archives: dict[Path, bool] = {}
    for path in paths:
        if not path.exists():
            raise DataError(f"{path}: no such file or folder")
        if path.is_file():
            if path.suffix.lower() == ".zip":
                archives[path.resolve()] = True
            elif path.name == MANIFEST:
                named[path.parent.resolve()] = None
            else:
                raise DataError(
                    f"{path}: not a shard folder (a folder holding {MANIFEST}) or a zip of one"
                )
        elif (path / MANIFEST).is_file():
            named[path.resolve()] = None
        else:
            for entry in _below(path, DEPTH):
                if entry.is_dir() and (entry / MANIFEST).is_file():
                    chosen = named if entry.name.startswith(PREFIX) else other
                    chosen[entry.resolve()] = None
                elif entry.is_file() and entry.suffix.lower() == ".zip":
                    archives.setdefault(entry.resolve(), entry.name.startswith(PREFIX))
    for number, (archive, required) in enumerate(archives.items()):
        try:
            folders = _extract(archive, scratch / str(number))
        except DataError:
            if required:
                raise
            continue
        for folder in folders:
            (named if required else other)[folder] = archive
    found = [ShardFolder(f, read_manifest(f / MANIFEST), origin) for f, origin in named.items()]
    found += [s for f, origin in other.items() if (s := _if_shard(f, origin)) is not None]
    if not found:
        shown = ", ".join(str(p) for p in paths)
        raise NothingToJudge(f"no covgate shard folder (one holding {MANIFEST}) in {shown}")
    return sorted(found, key=lambda s: (s.manifest.index, str(s.shown)))


def _below(folder: Path, depth: int) -> Iterator[Path]:
    """The entries up to `depth` levels below `folder`, in name order; hidden ones and
    symlinked folders are not entered."""
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        yield entry
        if depth > 1 and entry.is_dir() and not entry.is_symlink():
            yield from _below(entry, depth - 1)


def _if_shard(folder: Path, origin: Path | None) -> ShardFolder | None:
    """The shard in `folder`; None when its manifest.json is not covgate's at all."""
    path = folder / MANIFEST
    try:
        return ShardFolder(folder, read_manifest(path), origin)
    except DataError:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if isinstance(data, dict) and "shard" in data and "schema_version" in data:
            raise  # covgate's, but broken: say so
        return None


def _extract(archive: Path, into: Path) -> list[Path]:
    """The shard folders in a zip archive (none when it holds no manifest.json)."""
    try:
        with zipfile.ZipFile(archive) as opened_zip:
            if not any(Path(n).name == MANIFEST for n in opened_zip.namelist()):
                return []
            opened_zip.extractall(into)  # names that would leave `into` are made safe
    except (OSError, zipfile.BadZipFile) as exc:
        raise DataError(f"{archive}: not a readable zip archive ({exc})") from None
    return sorted(m.parent.resolve() for m in into.rglob(MANIFEST))


def verify(shards: Sequence[ShardFolder], expect: int, commit: str | None) -> None:
    """Refuse anything but one complete, exact set of `expect` shards of one commit and one
    configuration. `commit` is the combining checkout's (None outside git)."""
    _same_run(shards, expect, commit)
    _complete(shards, expect)
    problem = partition_problem([s.manifest for s in shards])
    if problem:
        raise NothingToJudge(problem)


def _same_run(shards: Sequence[ShardFolder], expect: int, commit: str | None) -> None:
    """Exit 3: the shards are not of this set (another N, commit or configuration)."""
    for shard in shards:
        if shard.manifest.total != expect:
            raise ConfigError(
                f"{shard.shown}: {shard} was split for {shard.manifest.total} shards, "
                f"but --expect is {expect}"
            )
    commits = _groups(shards, lambda m: m.commit or "no git commit")
    if len(commits) > 1:
        raise ConfigError(f"the shards are of different commits: {_describe(commits)}")
    shard_commit = shards[0].manifest.commit
    if commit is not None and shard_commit is not None and shard_commit != commit:
        raise ConfigError(
            f"the shards measured commit {shard_commit[:12]}, but this checkout is "
            f"{commit[:12]}: combine in a checkout of the commit the shards ran"
        )
    configs = _groups(shards, lambda m: m.config_hash[:12])
    if len(configs) > 1:
        versions = _groups(shards, lambda m: f"coverage.py {m.coverage_version}")
        hint = f" ({_describe(versions)})" if len(versions) > 1 else ""
        raise ConfigError(
            "the shards ran with different covgate or coverage.py configurations"
            f"{hint}: {_describe(configs)}"
        )


def _groups(shards: Sequence[ShardFolder], key: Callable[[Manifest], str]) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for shard in sorted(shards, key=lambda s: s.manifest.index):
        groups.setdefault(key(shard.manifest), []).append(shard.manifest.index)
    return groups


def _describe(groups: dict[str, list[int]]) -> str:
    return "; ".join(f"{_numbers(indexes)} {value}" for value, indexes in groups.items())


def _numbers(indexes: Sequence[int]) -> str:
    words = [str(i) for i in indexes]
    joined = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
    return f"shard{'s' if len(words) > 1 else ''} {joined}"


def _complete(shards: Sequence[ShardFolder], expect: int) -> None:
    """Exit 4: a shard is missing, or two folders are the same shard."""
    seen: dict[int, list[Path]] = {}
    for shard in shards:
        seen.setdefault(shard.manifest.index, []).append(shard.shown)
    problems = []
    twice = sorted(k for k, folders in seen.items() if len(folders) > 1)
    for index in twice:
        where = ", ".join(str(f) for f in seen[index])
        problems.append(f"{ShardSpec(index, expect)} found {len(seen[index])} times ({where})")
    missing = [k for k in range(1, expect + 1) if k not in seen]
    if missing:
        problems.append(f"{_numbers(missing)} of {expect} missing")
    if problems:
        raise NothingToJudge("; ".join(problems))


def partition_problem(manifests: Sequence[Manifest]) -> str | None:
    """Why the shards' tests are not exactly the collection (None when they are): a collected
    test that no shard ran, or one that two shards ran, up to 10 named."""
    collected: dict[str, None] = {}
    for manifest in manifests:
        collected.update(dict.fromkeys(manifest.collection))
    ran_by: dict[str, list[int]] = {}
    for manifest in sorted(manifests, key=lambda m: m.index):
        for node in dict.fromkeys(t.nodeid for t in manifest.tests):
            ran_by.setdefault(node, []).append(manifest.index)
    missing = [node for node in collected if node not in ran_by]
    twice = [node for node, indexes in ran_by.items() if len(indexes) > 1]
    if not missing and not twice:
        return None
    parts = []
    listed: list[str] = []
    if missing:
        parts.append(f"{_count(len(missing), 'collected test')} run by no shard")
        listed += missing
    if twice:
        parts.append(f"{_count(len(twice), 'test')} run by more than one shard")
        listed += [f"{node} (by {_numbers(ran_by[node])})" for node in twice]
    shown = ", ".join(listed[:LISTED])
    more = f" and {len(listed) - LISTED} more" if len(listed) > LISTED else ""
    return (
        f"the shards do not partition the suite exactly: {' and '.join(parts)}: "
        f"{shown}{more}{_hint(manifests)}"
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'} {'was' if number == 1 else 'were'}"


def _hint(manifests: Sequence[Manifest]) -> str:
    """What made the shards split or run differently, when the manifests show it."""
    causes = []
    ordered = sorted(manifests, key=lambda m: m.index)
    if len({frozenset(m.collection) for m in manifests}) > 1:
        counts = ", ".join(f"{m.spec}: {len(m.collection)}" for m in ordered)
        causes.append(
            f"the shards collected different tests ({counts}): give every shard the same "
            "pytest arguments"
        )
    elif len({m.durations_hash for m in manifests}) > 1:
        causes.append(
            "the shards split with different recorded durations: restore the same "
            ".covgate/durations.json in every shard job"
        )
    for manifest in ordered:
        if manifest.collection_errors:
            broken = manifest.collection_errors[0]
            causes.append(f"{manifest.spec} could not collect {broken.nodeid}: {broken.message}")
        elif len(manifest.tests) < manifest.selected:
            causes.append(
                f"{manifest.spec} ran {len(manifest.tests)} of the {manifest.selected} tests of "
                "its slice (stopped early: -x, --maxfail, a crash?)"
            )
    return f". {'; '.join(causes)}" if causes else ""


# --- test results ----------------------------------------------------------------------------


def results(shards: Sequence[ShardFolder]) -> list[TestResult]:
    return [t for s in sorted(shards, key=lambda s: s.manifest.index) for t in s.manifest.tests]


def summary(tests: Sequence[TestResult], shards: Sequence[ShardFolder]) -> TestSummary:
    """The shards' test results summed, as `run` shows one session's; a file that failed to
    collect counts once, however many shards reported it."""
    broken = {e.nodeid: e for s in shards for e in s.manifest.collection_errors}
    collected = {node for s in shards for node in s.manifest.collection}
    session = Session(
        finished=True,
        exitstatus=None,
        collected=len(collected),
        results=tuple(tests),
        collection_errors=tuple(broken.values()),
        duration=sum(s.manifest.duration for s in shards),
    )
    return results_module.summary(session)


def describe(shards: Sequence[ShardFolder]) -> str:
    """One line on the set that was combined."""
    first = shards[0].manifest
    commit = f"commit {first.commit[:12]}" if first.commit else "no git commit"
    tests = sum(len(s.manifest.tests) for s in shards)
    return (
        f"shards: {len(shards)} of {first.total} combined ({commit}), {tests} tests, "
        "each collected test run by exactly one shard"
    )


def durations(tests: Sequence[TestResult]) -> dict[str, float]:
    return {t.nodeid: t.duration for t in tests}


# --- coverage data -----------------------------------------------------------------------------

ALIAS = "covgate-shards"


def combine_data(shards: Sequence[ShardFolder], root: Path, target: Path) -> None:
    """Combine the shards' coverage data into `target`, mapping each shard's project root to
    `root` (after the project's own [paths] entries), from copies of the inputs."""
    from coverage.exceptions import CoverageException

    sources = [s for s in shards if s.manifest.data is not None]
    if not sources:
        raise NothingToJudge("no shard recorded coverage data")
    with _copies(sources) as copies:
        partial = target.with_name(target.name + "-covgate.tmp")
        cov = analysis.project_coverage(root, partial)
        aliases = dict(cov.config.paths)
        roots = sorted({s.manifest.root for s in sources} - {str(root)})
        patterns = [_escape(r) for r in roots if "]" not in r]
        if patterns:
            aliases[ALIAS] = [str(root), *patterns]
        try:
            with paths.working_directory(root):
                cov.set_option("run:parallel", False)
                cov.set_option("paths", aliases)
                cov.combine([str(c) for c in copies], strict=True, keep=True)
                cov.save()
            outside = [p for p in analysis.reported_paths(partial, root) if paths.is_outside(p)]
            if outside:
                raise ConfigError(
                    f"{outside[0]}: measured by a shard, but outside the project root {root} "
                    f"after mapping ({len(outside)} such files): map it with coverage.py's "
                    "[paths] setting, or measure with relative_files = true"
                )
            os.replace(partial, target)
        except (CoverageException, sqlite3.Error) as exc:
            raise DataError(f"cannot combine the shards' coverage data: {exc}") from None
        except OSError as exc:
            raise DataError(f"{target}: cannot write the combined coverage data: {exc}") from None
        finally:
            with contextlib.suppress(OSError):
                partial.unlink()


def _escape(path: str) -> str:
    """A literal path as a coverage.py [paths] pattern (its wildcards in brackets)."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in path)


@contextlib.contextmanager
def _copies(shards: Sequence[ShardFolder]) -> Iterator[list[Path]]:
    """Copies of the shards' data files: combining never touches the inputs."""
    folder = Path(tempfile.mkdtemp(prefix="covgate-combine-"))
    try:
        copies = []
        for shard in shards:
            assert shard.manifest.data is not None
            source = shard.folder / shard.manifest.data
            if not source.is_file():
                where = f"{shard.origin}: {shard.manifest.data}" if shard.origin else source
                raise DataError(f"{where}: missing (the manifest names it)")
            copy = folder / f"shard-{shard.manifest.index}.sqlite"
            shutil.copyfile(source, copy)
            try:
                analysis.check_readable(copy)
            except DataError:
                where = f"{shard.origin}: {shard.manifest.data}" if shard.origin else source
                raise DataError(f"{where}: not a readable coverage.py data file") from None
            copies.append(copy)
        yield copies
    finally:
        shutil.rmtree(folder, ignore_errors=True)
