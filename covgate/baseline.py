"""The baseline ratchet (SPEC §11): the committed figures coverage may not fall below.

`covgate-baseline.json` holds, per class and for overall, covered/total, and per measured file
its uncovered statements + branches. It is written sorted, one file per line, so that the same
data gives the same bytes and a change shows as a small diff. Comparing and tightening are pure;
reading and writing the file are the only I/O here.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from covgate.errors import DataError
from covgate.evaluate import needed
from covgate.model import (
    OVERALL,
    Baseline,
    BaselineResult,
    Evaluation,
    Figure,
    FileGrowth,
    GroupDrop,
    floor_percent,
    format_threshold,
)

VERSION = 1
SHOWN_PRECISION = 2


def figure(covered: int, total: int) -> Figure:
    return Figure(covered=covered, total=total)


def build(evaluation: Evaluation) -> Baseline:
    """The baseline of one evaluation: overall, every class with files, every measured file."""
    overall = evaluation.overall.counts
    return Baseline(
        overall=figure(overall.covered, overall.total),
        classes=_sorted({
            group.name: figure(group.counts.covered, group.counts.total)
            for group in evaluation.classes
            if group.files
        }),
        files=_sorted({item.file.path: item.file.counts.missing for item in evaluation.files}),
        branch=evaluation.branch_measured,
    )  # fmt: skip


# --- the file ---------------------------------------------------------------------------------


def render(baseline: Baseline) -> str:
    """The file's text: keys sorted, one class or file per line, the same bytes for the same
    figures."""

    def fig(value: Figure) -> str:
        return f'{{"covered": {value.covered}, "total": {value.total}}}'

    def block(name: str, entries: list[str], last: bool) -> list[str]:
        end = "" if last else ","
        if not entries:
            return [f'  "{name}": {{}}{end}']
        body = [f"    {entry}," for entry in entries[:-1]] + [f"    {entries[-1]}"]
        return [f'  "{name}": {{', *body, f"  }}{end}"]

    classes = [f"{json.dumps(name)}: {fig(baseline.classes[name])}" for name in
               sorted(baseline.classes)]  # fmt: skip
    files = [f"{json.dumps(path)}: {baseline.files[path]}" for path in sorted(baseline.files)]
    lines = [
        "{",
        f'  "version": {VERSION},',
        f'  "branch": {json.dumps(baseline.branch)},',
        f'  "overall": {fig(baseline.overall)},',
        *block("classes", classes, last=False),
        *block("files", files, last=True),
        "}",
    ]
    return "\n".join(lines) + "\n"


def parse(text: str, source: str) -> Baseline:
    """The baseline in `text`; a DataError (exit 3) naming `source` when it is not one."""

    def bad(where: str, expected: str, value: object = None) -> DataError:
        got = f", got {json.dumps(value)}" if value is not None else ""
        return DataError(f"{source}: not a covgate baseline: {where}: expected {expected}{got}")

    try:
        document = json.loads(text)
    except ValueError as exc:
        raise DataError(f"{source}: not a covgate baseline: not valid JSON ({exc})") from None
    if not isinstance(document, dict):
        raise bad("the document", "an object")
    unknown = sorted(set(document) - {"version", "branch", "overall", "classes", "files"})
    if unknown:
        raise bad(unknown[0], "only version, branch, overall, classes and files")
    if document.get("version") != VERSION:
        raise bad("version", str(VERSION), document.get("version"))
    if not isinstance(document.get("branch"), bool):
        raise bad("branch", "true or false", document.get("branch"))

    def count(where: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise bad(where, "a whole number of 0 or more", value)
        return value

    def read_figure(where: str, value: Any) -> Figure:
        if not isinstance(value, dict) or set(value) != {"covered", "total"}:
            raise bad(where, 'an object {"covered": N, "total": N}')
        covered = count(f"{where}.covered", value["covered"])
        total = count(f"{where}.total", value["total"])
        if covered > total:
            raise bad(where, "covered at most total", value)
        return figure(covered, total)

    def table(key: str) -> dict[str, Any]:
        value = document.get(key)
        if not isinstance(value, dict):
            raise bad(key, "an object")
        return value

    if "overall" not in document:
        raise bad("overall", 'an object {"covered": N, "total": N}')
    return Baseline(
        overall=read_figure("overall", document["overall"]),
        classes={k: read_figure(f"classes.{k}", v) for k, v in table("classes").items()},
        files={k: count(f"files.{k}", v) for k, v in table("files").items()},
        branch=document["branch"],
    )


def read(path: Path, shown: str) -> Baseline:
    """The baseline file at `path` (`shown` names it in errors)."""
    return parse(read_text(path, shown), shown)


def read_text(path: Path, shown: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(
            f"{shown}: no such baseline file (write it with covgate baseline)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise DataError(f"{shown}: cannot read the baseline: {reason}") from None


def write(path: Path, text: str, shown: str) -> None:
    """Write the whole file or nothing (a temporary file in the same folder, then a rename)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".covgate-baseline-", dir=path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
                stream.write(text)
            os.replace(temporary, path)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
    except OSError as exc:
        raise DataError(f"{shown}: cannot write the baseline: {exc.strerror}") from None


# --- comparing --------------------------------------------------------------------------------


def holds(current: Figure, base: Figure, tolerance: Fraction) -> bool:
    """current >= base - tolerance percentage points, exactly."""
    return current.ratio * 100 + tolerance >= base.ratio * 100


def compare(
    evaluation: Evaluation, baseline: Baseline, tolerance: Fraction, source: str
) -> BaselineResult:
    """Each class and overall against its baseline figure, each file against its count.

    A class missing from the baseline (new) is not compared; a file missing from it (new)
    answers to its class's thresholds only; a file missing from the data (deleted) is ignored.
    Figures with branches and without are not comparable: that is an error.
    """
    comparable(baseline, evaluation.branch_measured, source)
    groups = []
    for group in (*evaluation.classes, evaluation.overall):
        base = baseline.overall if group.name == OVERALL else baseline.classes.get(group.name)
        if base is None:
            continue
        current = figure(group.counts.covered, group.counts.total)
        groups.append(GroupDrop(group.name, base, current, holds(current, base, tolerance)))
    grown = []
    new = []
    for item in evaluation.files:
        before = baseline.files.get(item.file.path)
        if before is None:
            new.append(item.file.path)
        elif item.file.counts.missing > before:
            grown.append(FileGrowth(item.file, item.class_name, before))
    measured = {item.file.path for item in evaluation.files}
    return BaselineResult(
        source=source,
        tolerance=tolerance,
        groups=tuple(groups),
        grown=tuple(grown),
        new_files=tuple(new),
        deleted_files=tuple(sorted(set(baseline.files) - measured)),
        unknown_classes=tuple(sorted(set(baseline.classes) - {g.name for g in evaluation.classes})),
    )


def comparable(baseline: Baseline, branch_measured: bool, source: str) -> None:
    """A DataError (exit 3) when the baseline and the data differ in branch measurement."""
    if baseline.branch == branch_measured:
        return
    kinds = {True: "branch coverage", False: "line coverage only"}
    raise DataError(
        f"{source}: written from data with {kinds[baseline.branch]}, but this data has "
        f"{kinds[branch_measured]}: the figures are not comparable (measure as the baseline "
        "was, or rewrite it with covgate baseline --allow-loosen)"
    )


def show_figure(value: Figure) -> str:
    return f"{floor_percent(value.ratio, SHOWN_PRECISION)} % ({value.covered}/{value.total})"


def drop_message(drop: GroupDrop, tolerance: Fraction, precision: int) -> str:
    """'critical 93.10 % is below its baseline 95.00 %: cover 3 more lines or branches'."""
    now = floor_percent(drop.current.ratio, precision)
    before = floor_percent(drop.baseline.ratio, precision)
    points = "point" if tolerance == 1 else "points"
    allowed = f" (tolerance {format_threshold(tolerance)} {points})" if tolerance else ""
    need = needed(drop.current.covered, drop.current.total, drop.baseline.ratio * 100 - tolerance)
    more = f": cover {need} more {'line or branch' if need == 1 else 'lines or branches'}"
    return f"{drop.name} {now} % is below its baseline {before} %{allowed}{more}"


def growth_message(growth: FileGrowth) -> str:
    """'app/auth/tokens.py: 3 uncovered lines and branches, baseline 2'."""
    return (
        f"{growth.file.path}: {growth.file.counts.missing} uncovered lines and branches, "
        f"baseline {growth.baseline}"
    )


# --- tightening -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Update:
    """A baseline brought up to date, and what changed."""

    baseline: Baseline
    tightened: tuple[str, ...]
    loosened: tuple[str, ...]
    """Values that would loosen: kept, or written with allow_loosen."""
    added: tuple[str, ...]
    dropped: tuple[str, ...]


def tighten(old: Baseline | None, new: Baseline, *, allow_loosen: bool = False) -> Update:
    """`new` merged into `old` so that nothing loosens: higher class figures and lower file
    counts are taken, new files and classes added, deleted ones dropped; a value that would
    loosen keeps its old figure unless `allow_loosen`. With `allow_loosen`, a baseline of the
    other kind of measurement (with branches or without) is replaced whole; without it, the
    caller checks first that the two are `comparable`."""
    if old is None or (allow_loosen and old.branch != new.branch):
        names = [*sorted(new.classes), *sorted(new.files)]
        return Update(new, (), (), tuple(names), ())
    tightened: list[str] = []
    loosened: list[str] = []
    added: list[str] = []
    dropped: list[str] = []

    def pick_figure(name: str, before: Figure | None, now: Figure) -> Figure:
        if before is None:
            added.append(name)
            return now
        change = f"{name} {show_figure(before)} -> {show_figure(now)}"
        if now.ratio > before.ratio:
            tightened.append(change)
        elif now.ratio < before.ratio:
            loosened.append(change)
            return now if allow_loosen else before
        return now

    overall = pick_figure(OVERALL, old.overall, new.overall)
    classes = {name: pick_figure(name, old.classes.get(name), now)
               for name, now in new.classes.items()}  # fmt: skip
    dropped.extend(f"class {name}" for name in sorted(set(old.classes) - set(new.classes)))
    files: dict[str, int] = {}
    for path, now in new.files.items():
        before = old.files.get(path)
        if before is None:
            added.append(path)
            files[path] = now
            continue
        change = f"{path} {before} -> {now} uncovered"
        files[path] = now
        if now < before:
            tightened.append(change)
        elif now > before:
            loosened.append(change)
            files[path] = now if allow_loosen else before
    dropped.extend(sorted(set(old.files) - set(new.files)))
    return Update(
        Baseline(overall, _sorted(classes), _sorted(files), new.branch),
        tuple(tightened),
        tuple(loosened),
        tuple(added),
        tuple(dropped),
    )


def _sorted(mapping: Mapping[str, Any]) -> dict[str, Any]:
    return {key: mapping[key] for key in sorted(mapping)}
