"""The JSON report: one versioned document holding everything the terminal shows, exactly."""

from __future__ import annotations

import json
from fractions import Fraction
from typing import Any

from covgate import __version__
from covgate.model import (
    BaselineResult,
    ClassifiedFile,
    Counts,
    Evaluation,
    Figure,
    GroupResult,
    Outcome,
    PatchResult,
    PatchStatus,
    RefResult,
    Status,
    TestSummary,
)

SCHEMA_VERSION = 1


def render(
    outcome: Outcome, *, color: bool = False, width: int | None = None, verbosity: int = 0
) -> str:
    return json.dumps(document(outcome), indent=2) + "\n"


def document(outcome: Outcome) -> dict[str, Any]:
    evaluation = outcome.evaluation
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "covgate_version": __version__,
        "passed": outcome.exit_code == 0,
        "exit_code": outcome.exit_code,
        "precision": outcome.precision,
        "notes": list(outcome.notes),
        "coverage_core": outcome.coverage_core,
    }
    if evaluation is not None:
        doc.update(_evaluation(evaluation))
    else:
        doc.update({"overall": None, "classes": [], "unclassified": None, "files": []})
    doc["tests"] = _tests(outcome.tests) if outcome.tests is not None else None
    doc["baseline"] = _baseline(outcome.baseline) if outcome.baseline is not None else None
    doc["policy_ref"] = _policy_ref(outcome.policy_ref) if outcome.policy_ref is not None else None
    return doc


def _figure(figure: Figure) -> dict[str, Any]:
    return {
        "covered": figure.covered,
        "total": figure.total,
        "percent": 100.0 * figure.covered / figure.total if figure.total else 100.0,
    }


def _baseline(result: BaselineResult) -> dict[str, Any]:
    return {
        "path": result.source,
        "passed": result.passed,
        "tolerance": float(result.tolerance),
        "groups": [
            {
                "name": g.name,
                "baseline": _figure(g.baseline),
                **_figure(g.current),
                "passed": g.passed,
            }
            for g in result.groups
        ],
        "grown_files": [
            {
                "path": g.file.path,
                "class": g.class_name,
                "baseline": g.baseline,
                "uncovered": g.file.counts.missing,
                "missing_lines": list(g.file.missing_lines),
                "partial_lines": list(g.file.partial_lines),
            }
            for g in result.grown
        ],
        "new_files": list(result.new_files),
        "deleted_files": list(result.deleted_files),
        "classes_not_in_policy": list(result.unknown_classes),
    }


def _policy_ref(result: RefResult) -> dict[str, Any]:
    evaluation = result.evaluation
    return {
        "ref": result.ref,
        "commit": result.commit,
        "source": result.source,
        "passed": result.passed,
        "default_policy": evaluation.policy.is_default,
        "overall": _group(evaluation.overall),
        "classes": [_group(group) for group in evaluation.classes],
        "weakened": list(result.weakened),
        "baseline": _baseline(result.baseline) if result.baseline is not None else None,
    }


def _evaluation(evaluation: Evaluation) -> dict[str, Any]:
    found: dict[str, Any] = {
        "default_policy": evaluation.policy.is_default,
        "branch_measured": evaluation.branch_measured,
        "sources": list(evaluation.sources),
        "overall": _group(evaluation.overall),
        "classes": [_group(group) for group in evaluation.classes],
        "unclassified": {
            "files": len(evaluation.unclassified.files),
            **_counts(evaluation.unclassified.counts),
            "paths": [f.path for f in evaluation.unclassified.files],
        },
        "files": [_file(c, with_patch=evaluation.diff is not None) for c in evaluation.files],
    }
    diff = evaluation.diff
    if diff is not None:
        # Present only with a diff base (patch coverage); schema 1 readers lose nothing.
        found["diff"] = {
            "ref": diff.ref,
            "merge_base": diff.base,
            "repository_prefix": diff.prefix,
            "changed_files": [path for path, _ in diff.files],
        }
        loose = evaluation.unclassified.patch
        if loose is not None:
            found["unclassified"]["patch"] = _patch(loose, None)
    return found


def _file(item: ClassifiedFile, *, with_patch: bool) -> dict[str, Any]:
    found: dict[str, Any] = {
        "path": item.file.path,
        "class": item.class_name,
        "pattern": item.pattern,
        **_counts(item.file.counts),
        "missing_lines": list(item.file.missing_lines),
        "partial_lines": list(item.file.partial_lines),
    }
    if with_patch:
        patch = item.patch
        found["changed_lines"] = list(patch.changed_lines) if patch else []
        found["uncovered_changed_lines"] = list(patch.uncovered_lines) if patch else []
        found["partial_changed_lines"] = list(patch.partial_lines) if patch else []
    return found


def _patch(patch: PatchResult, threshold: Fraction | None) -> dict[str, Any]:
    return {
        "status": patch.status.value,
        "files": len(patch.files),
        **_counts(patch.counts),
        "threshold": _number(threshold),
        "passed": patch.passed,
        "unmeasured": list(patch.unmeasured),
        "most_missing": [
            {
                "path": f.path,
                "missing": f.counts.missing,
                "uncovered_changed_lines": list(f.uncovered_lines),
                "partial_changed_lines": list(f.partial_lines),
            }
            for f in patch.most_missing()
        ]
        if patch.status is PatchStatus.FAILED
        else [],
    }


def _counts(counts: Counts) -> dict[str, Any]:
    return {
        "statements": counts.statements,
        "missing_statements": counts.missing_statements,
        "branches": counts.branches,
        "missing_branches": counts.missing_branches,
        "partial_branches": counts.partial_branches,
        "covered": counts.covered,
        "total": counts.total,
        "percent": counts.percent,
    }


def _number(value: Fraction | int | None) -> float | None:
    return None if value is None else float(value)


def _group(group: GroupResult) -> dict[str, Any]:
    limits = group.thresholds
    return {
        "name": group.name,
        "paths": list(group.paths),
        "status": group.status.value,
        "coverage_status": group.coverage_status.value,
        "files": len(group.files),
        **_counts(group.counts),
        "threshold": _number(limits.min),
        "thresholds": {
            "min": _number(limits.min),
            "lines": _number(limits.lines),
            "branches": _number(limits.branches),
            "per_file": _number(limits.per_file),
            "max_missing": limits.max_missing,
        },
        "passed": group.passed,
        "checks": [
            {
                "metric": check.metric.value,
                "threshold": float(check.threshold),
                "actual": float(check.actual),
                "passed": check.passed,
                "needed": check.needed,
                "path": check.path,
            }
            for check in group.checks
        ],
        "most_missing": [
            {"path": f.path, "missing": f.counts.missing, "missing_lines": list(f.missing_lines)}
            for f in group.most_missing()
        ]
        if group.coverage_status is Status.FAILED
        else [],
        **({"patch": _patch(group.patch, limits.patch)} if group.patch is not None else {}),
    }


def _tests(tests: TestSummary) -> dict[str, Any]:
    return {
        "passed": tests.passed,
        "failed": tests.failed,
        "errors": tests.errors,
        "skipped": tests.skipped,
        "xfailed": tests.xfailed,
        "xpassed": tests.xpassed,
        "total": tests.total,
        "collected": tests.collected,
        "ended_early": tests.ended_early,
        "duration": tests.duration,
        "failures": [
            {"name": f.name, "kind": f.kind, "message": f.message} for f in tests.failures
        ],
        "slowest": [{"name": s.name, "seconds": s.seconds} for s in tests.slowest],
    }
