"""No regressions (SPEC §11): the baseline ratchet and the base branch's policy, wired to the
gate. Everything is read before any test runs; the judgement reuses the one measurement."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from covgate import baseline as baselines
from covgate.config import Config
from covgate.errors import CovgateError
from covgate.evaluate import evaluate
from covgate.model import Baseline, BaselineResult, Evaluation, Measurement, RefResult
from covgate.policy_ref import RefPolicy
from covgate.policy_ref import load as load_ref


@dataclass(frozen=True)
class Guards:
    """The command line's part: `--baseline PATH`, `--write-baseline`, `--policy-ref REF`."""

    baseline: Path | None = None
    write_baseline: bool = False
    policy_ref: str | None = None


@dataclass(frozen=True)
class Prepared:
    """The baseline and the policy at the reference, read and validated."""

    baseline: Baseline | None
    baseline_source: str
    baseline_path: Path
    write: bool
    ref: RefPolicy | None


def baseline_path(settings: Config, option: Path | None) -> tuple[Path, str]:
    """The baseline file (the option's, relative to the working folder, else the config's,
    relative to the root) and how it is shown."""
    path = (Path.cwd() / option).resolve() if option is not None else settings.baseline_path()
    try:
        shown = path.relative_to(settings.root).as_posix()
    except ValueError:
        shown = str(option if option is not None else path)
    return path, shown


def prepare(settings: Config, guards: Guards) -> Prepared:
    """Read the baseline (when configured or named) and the policy at the reference (when
    configured or named): every mistake here fails before any test runs."""
    path, shown = baseline_path(settings, guards.baseline)
    found = None
    first = guards.write_baseline and not path.exists()  # nothing to compare with yet
    if (guards.baseline is not None or settings.baseline is not None) and not first:
        found = baselines.read(path, shown)
    ref = guards.policy_ref or settings.policy_ref
    return Prepared(
        baseline=found,
        baseline_source=shown,
        baseline_path=path,
        write=guards.write_baseline,
        ref=load_ref(ref, settings) if ref else None,
    )


def judge(
    prepared: Prepared, settings: Config, measurement: Measurement, evaluation: Evaluation
) -> tuple[BaselineResult | None, RefResult | None]:
    """The evaluation against the baseline; the same measurement under the policy at the
    reference, against the baseline there."""
    head = None
    if prepared.baseline is not None:
        head = baselines.compare(
            evaluation, prepared.baseline, settings.baseline_tolerance, prepared.baseline_source
        )
    ref = prepared.ref
    if ref is None:
        return head, None
    try:
        at_ref = evaluate(measurement, ref.config.policy, evaluation.diff)
    except CovgateError as exc:
        raise type(exc)(f"the policy at {ref.ref}: {exc}") from None
    ref_baseline = None
    if ref.baseline is not None:
        ref_baseline = baselines.compare(
            at_ref, ref.baseline, ref.config.baseline_tolerance, ref.baseline_source
        )
    result = RefResult(
        ref=ref.ref,
        commit=ref.commit,
        source=ref.source,
        evaluation=at_ref,
        baseline=ref_baseline,
        weakened=ref.weakened,
    )
    return head, result


def update(
    path: Path, shown: str, evaluation: Evaluation, *, allow_loosen: bool = False
) -> list[str]:
    """Write (or tighten) the baseline file from `evaluation`; the lines that say what changed.
    The file is not touched when nothing changed."""
    current = baselines.read_text(path, shown) if path.exists() else None
    old = baselines.parse(current, shown) if current is not None else None
    if old is not None and not allow_loosen:
        baselines.comparable(old, evaluation.branch_measured, shown)
    change = baselines.tighten(old, baselines.build(evaluation), allow_loosen=allow_loosen)
    text = baselines.render(change.baseline)
    unchanged = current == text
    if not unchanged:
        baselines.write(path, text, shown)
    lines = [f"baseline: {'unchanged' if unchanged else 'wrote'} {shown}" + _counts(change)]
    if old is not None and old.branch != change.baseline.branch:
        lines.append("baseline: replaced whole (--allow-loosen): it held figures "
                     f"{'with' if old.branch else 'without'} branches")  # fmt: skip
    if change.tightened:
        lines.append(f"baseline: tightened: {'; '.join(change.tightened)}")
    if old is not None and change.added:
        lines.append(f"baseline: added: {', '.join(change.added)}")
    if change.dropped:
        lines.append(f"baseline: dropped (no longer measured): {', '.join(change.dropped)}")
    if change.loosened and allow_loosen:
        lines.append(f"baseline: loosened (--allow-loosen): {'; '.join(change.loosened)}")
    elif change.loosened:
        lines.append(
            "baseline: kept, as they would loosen (covgate baseline --allow-loosen writes "
            f"them): {'; '.join(change.loosened)}"
        )
    return lines


def _counts(change: baselines.Update) -> str:
    written = change.baseline
    classes = "1 class" if len(written.classes) == 1 else f"{len(written.classes)} classes"
    files = "1 file" if len(written.files) == 1 else f"{len(written.files)} files"
    return f" ({classes} and overall, {files})"
