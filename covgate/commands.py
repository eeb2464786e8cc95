"""What each command does, stage by stage, without the command line around it."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from covgate import analysis, cores, durations, git, paths, regressions, results, sources
from covgate.analysis import ProgressCallback
from covgate.classify import Classifier, pattern_usage
from covgate.classify import explain as explain_path
from covgate.config import Config, Workers, apply_fail_under, load_config
from covgate.errors import ConfigError, DataError, ExitCode, NothingToJudge
from covgate.evaluate import evaluate, exit_code
from covgate.init import is_test_file, package_roots, python_files
from covgate.model import (
    BaselineResult,
    Diff,
    Evaluation,
    Measurement,
    Outcome,
    Policy,
    RefResult,
    TestSummary,
    format_threshold,
)
from covgate.regressions import Guards
from covgate.runner import PytestCouldNotRun, RunPlan, run_pytest, workspace

if TYPE_CHECKING:
    from covgate import shard as sharding


def check(
    data: Sequence[Path],
    *,
    root: Path | None = None,
    config: Path | None = None,
    fail_under: Sequence[str] = (),
    diff_base: str | None = None,
    cache: bool = True,
    progress: ProgressCallback | None = None,
    guards: Guards | None = None,
) -> Outcome:
    """`covgate check`: gate existing data."""
    settings = load_config(root=root, config_file=config)
    policy = apply_fail_under(settings.policy, fail_under)
    coverage = analysis.coverage_settings(settings.root)
    diff = changed_lines(settings, diff_base)
    prepared = regressions.prepare(settings, guards or Guards())
    files = paths.data_files(data, Path.cwd()) or sources.default_data(
        settings.root, coverage.data_file
    )
    measurement = sources.read_measurement(
        files, settings.root, progress=progress, resolver=coverage.resolver, cache=cache
    )
    evaluation = evaluate(measurement, policy, diff)
    stale = () if data else _stale_siblings(files, coverage.data_file)
    guarded = _no_regressions(prepared, settings, measurement, evaluation, None)
    return Outcome(
        evaluation=evaluation,
        exit_code=guarded.exit_code,
        precision=_precision(settings, coverage),
        notes=(
            *notes(settings, measurement, evaluation, coverage),
            *patch_notes(policy, diff),
            *stale,
            *guarded.notes,
        ),
        root=settings.root,
        baseline=guarded.baseline,
        policy_ref=guarded.policy_ref,
    )


@dataclass(frozen=True)
class _Guarded:
    exit_code: ExitCode
    baseline: BaselineResult | None
    policy_ref: RefResult | None
    notes: tuple[str, ...]


def _no_regressions(
    prepared: regressions.Prepared,
    settings: Config,
    measurement: Measurement,
    evaluation: Evaluation,
    tests_ok: bool | None,
) -> _Guarded:
    """The baseline and the policy at the reference judged, the exit code of it all, and the
    baseline written when asked (never after failed tests)."""
    head, ref = regressions.judge(prepared, settings, measurement, evaluation)
    code = exit_code(
        evaluation,
        tests_ok,
        also=(ref.evaluation,) if ref else (),
        regressed=(head is not None and not head.passed) or (ref is not None and not ref.passed),
    )
    written: list[str] = []
    if prepared.write and tests_ok is not False:
        path = prepared.baseline_path
        written = regressions.update(path, prepared.baseline_source, evaluation)
    elif prepared.write:
        written = [f"baseline: {prepared.baseline_source} not written: the tests failed"]
    return _Guarded(code, head, ref, tuple(written))


def baseline(
    data: Sequence[Path],
    *,
    root: Path | None = None,
    config: Path | None = None,
    path: Path | None = None,
    allow_loosen: bool = False,
    progress: ProgressCallback | None = None,
) -> str:
    """`covgate baseline`: write the baseline, or tighten the one there."""
    settings = load_config(root=root, config_file=config)
    coverage = analysis.coverage_settings(settings.root)
    target, shown = regressions.baseline_path(settings, path)
    files = paths.data_files(data, Path.cwd()) or sources.default_data(
        settings.root, coverage.data_file
    )
    measurement = sources.read_measurement(
        files, settings.root, progress=progress, resolver=coverage.resolver
    )
    evaluation = evaluate(measurement, settings.policy)
    lines = [
        *notes(settings, measurement, evaluation, coverage),
        *regressions.update(target, shown, evaluation, allow_loosen=allow_loosen),
    ]
    return "\n".join(lines) + "\n"


def changed_lines(settings: Config, diff_base: str | None) -> Diff | None:
    """The changed lines since `--diff-base` (else the configured `diff_base`), if any."""
    ref = diff_base if diff_base is not None else settings.diff_base
    if ref is None:
        return None
    if not ref.strip() or ref.startswith("-"):
        raise ConfigError(f"--diff-base {ref!r}: expected a git reference, e.g. origin/main")
    return git.changed_lines(ref, settings.root)


def patch_notes(policy: Policy, diff: Diff | None) -> tuple[str, ...]:
    """Say what the patch figures are about, or that patch thresholds went unchecked."""
    if diff is not None:
        files = len(diff.files)
        return (
            f"diff: {files} {'file' if files == 1 else 'files'} changed since {diff.ref} "
            f"(merge base {diff.base[:12]}): committed, staged, unstaged and untracked",
        )
    limited = [c.name for c in policy.classes if c.thresholds.patch is not None]
    if policy.overall.patch is not None:
        limited.append("overall")
    if not limited:
        return ()
    return (
        f"warning: patch thresholds ({', '.join(limited)}) not checked: no --diff-base given "
        "and no diff_base configured",
    )


def _precision(settings: Config, coverage: analysis.CoverageSettings) -> int:
    """covgate's own `precision`, else coverage.py's."""
    return settings.precision if settings.precision is not None else coverage.precision


def _stale_siblings(paths: Sequence[Path], main: Path) -> tuple[str, ...]:
    """A warning when parallel files older than the main data file were combined with it."""
    if main not in paths:
        return ()
    newest = main.stat().st_mtime
    older = [p.name for p in paths if p != main and p.stat().st_mtime < newest]
    if not older:
        return ()
    return (
        f"warning: combined {len(older)} parallel data files older than {main.name} "
        f"(e.g. {older[0]}): left over from an earlier run? delete them if so",
    )


def notes(
    settings: Config,
    measurement: Measurement,
    evaluation: Evaluation,
    coverage: analysis.CoverageSettings,
) -> tuple[str, ...]:
    """Where the policy and the data came from, for the top of every report; what looks wrong."""
    found = [
        settings.describe_source(),
        f"data: {', '.join(measurement.sources)} ({len(measurement.files)} files"
        f"{', branch coverage' if measurement.branch_measured else ', line coverage only'})",
        *measurement.notes,
    ]
    outside = [f.path for f in measurement.files if paths.is_outside(f.path)]
    if outside:
        found.append(
            f"warning: {len(outside)} of the measured files lie outside the project root "
            f"{settings.root} (e.g. {outside[0]}): is this data of another project or machine? "
            "coverage.py's [paths] setting maps them"
        )
    if not coverage.selects_files:
        found.extend(_measured_tests(measurement))
    for group in evaluation.classes:
        if group.files and group.counts.total == 0:
            found.append(
                f"warning: class '{group.name}' has {len(group.files)} files but nothing to "
                "cover in them (its code moved elsewhere?)"
            )
    return tuple(found)


def _measured_tests(measurement: Measurement) -> list[str]:
    """A warning when test files are measured because coverage.py was not told what to measure:
    they then count in overall (and in any class whose globs they match)."""
    paths = [f.path for f in measurement.files]
    tests = [p for p in paths if is_test_file(p)]
    if not tests:
        return []
    packages = package_roots(paths) or ["your_package"]
    counted = f"{len(tests)} test files are" if len(tests) > 1 else "1 test file is"
    return [
        f"warning: {counted} measured and counted in overall (e.g. {tests[0]}): coverage.py "
        "has no source or include setting; to gate your code alone, set "
        f"[tool.coverage.run] source = {json.dumps(packages)}"
    ]


def explain(names: Sequence[str], *, root: Path | None, config: Path | None) -> str:
    """`covgate explain`: which class claims each path and why. A path that does not exist
    or lies outside the root gets a warning line, and is classified all the same (a file
    not written yet has a class too)."""
    settings = load_config(root=root, config_file=config)
    classifier = Classifier(settings.policy.classes)
    lines = [settings.describe_source()]
    cwd = Path.cwd()
    for raw in names:
        given = paths.user_path(raw, settings.root, cwd)
        path = given.path
        if given.outside:
            lines.append(
                f"warning: {raw} lies outside the project root {settings.root}: "
                "classes match paths inside it"
            )
        elif not given.exists:
            lines.append(f"warning: {raw} does not exist (classified as {path})")
        explanation = explain_path(classifier, path)
        claimed = explanation.claimed_by
        if claimed.class_name is None:
            lines.append(f"{path}: unclassified (counts toward overall only)")
        else:
            lines.append(f"{path}: {claimed.class_name} (by {claimed.pattern!r})")
        for candidate in explanation.candidates:
            if candidate.class_name == claimed.class_name or candidate.matched_by is None:
                continue
            if candidate.excluded_by:
                lines.append(
                    f"    not {candidate.class_name}: {candidate.matched_by!r} matches, "
                    f"but {candidate.excluded_by!r} removes it"
                )
            else:
                lines.append(
                    f"    also matches {candidate.class_name} by {candidate.matched_by!r}, "
                    "but the first matching class wins"
                )
    return "\n".join(lines) + "\n"


def classes(data: Sequence[Path], *, root: Path | None, config: Path | None) -> str:
    """`covgate classes`: each class with its file count; dead and shadowed patterns."""
    settings = load_config(root=root, config_file=config)
    known, origin = _known_files(data, settings.root)
    classifier = Classifier(settings.policy.classes)
    memberships = classifier.classify_all(known)
    lines = [settings.describe_source(), f"files: {origin} ({len(known)} files)"]
    for path_class in settings.policy.classes:
        count = sum(1 for m in memberships if m.class_name == path_class.name)
        limit = path_class.thresholds.min
        target = f"min {format_threshold(limit)} %" if limit is not None else "no min"
        lines.append(f"{path_class.name}: {count} files, {target}")
        lines.extend(f"    {pattern}" for pattern in path_class.paths)
    unclassified = sum(1 for m in memberships if m.class_name is None)
    lines.append(f"unclassified: {unclassified} files (counted in overall only)")
    for use in pattern_usage(classifier, known):
        if use.unused:
            lines.append(f"warning: {use.class_name}: {use.pattern!r} matches no file")
        elif use.shadowed:
            lines.append(
                f"warning: {use.class_name}: {use.pattern!r} is shadowed: every file it "
                "matches is claimed by an earlier class or pattern"
            )
    return "\n".join(lines) + "\n"


def _known_files(data: Sequence[Path], root: Path) -> tuple[list[str], str]:
    """The files to classify: from the data when there is any, else the project's .py files."""
    coverage = analysis.coverage_settings(root)
    resolver = coverage.resolver
    if data:
        files = paths.data_files(data, Path.cwd())
        return sources.file_paths(files, root, resolver), ", ".join(str(p) for p in data)
    try:
        found = sources.default_data(root, coverage.data_file)
    except NothingToJudge:
        return python_files(root), "the project's .py files (no coverage data yet)"
    return sources.file_paths(found, root, resolver), "measured files in the coverage data"


def run(
    extra_args: Sequence[str],
    *,
    root: Path | None = None,
    config: Path | None = None,
    fail_under: Sequence[str] = (),
    diff_base: str | None = None,
    workers: Workers | None = None,
    quiet: int = 0,
    cache: bool = True,
    stdout_to_stderr: bool = False,
    announce: Callable[[str], None] | None = None,
    progress: ProgressCallback | None = None,
    guards: Guards | None = None,
    meanwhile: Callable[[], object] | None = None,
) -> Outcome:
    """`covgate run`: the suite under coverage, then the gate. While the tests run, the
    modules of the analysis (and whatever `meanwhile` prepares) are loaded.

    Everything the run writes stays in its private workspace, and the gate reads the data
    combined there: two runs at once in one project each judge their own tests. The
    project's data file is replaced in one step at the end, for `coverage html` and the like.
    """
    settings = load_config(root=root, config_file=config)
    policy = apply_fail_under(settings.policy, fail_under)
    coverage = analysis.coverage_settings(settings.root)  # a coverage.py config error: now
    # A bad baseline, git reference or diff base: now too, before any test runs.
    prepared = regressions.prepare(settings, guards or Guards())
    diff = changed_lines(settings, diff_base)
    shown_precision = _precision(settings, coverage)
    record = durations.load(settings.root)
    choice = durations.choose(settings.workers if workers is None else workers, record)
    selection = () if _selects_tests(extra_args, settings.root) else settings.tests
    core = cores.choose(
        settings.core, coverage.measuring, settings.branch, cores.Platform.current()
    )
    plan = RunPlan(
        root=settings.root,
        pytest_args=(*selection, *settings.pytest_args, *["-q"] * quiet, *extra_args),
        workers=choice.workers,
        branch=settings.branch,
        stdout_to_stderr=stdout_to_stderr,
        core=core.core,
    )
    if announce:
        announce(f"covgate: running pytest under coverage: {choice.reason}")
    with workspace() as folder:
        result = run_pytest(plan, folder, lambda: _prepare_judging(meanwhile))
        session = results.load(result.results)
        tests = session_summary(result.returncode, session, result.wall)
        tests_ok = result.returncode == 0 and tests.ok
        if session is not None and tests_ok and not _narrows(extra_args):
            durations.save(
                settings.root,
                record,
                results.durations(session),
                durations.RunRecord(choice.workers, result.wall, tests.total),
            )
        measured = cores.measured_name(result.core) if result.core else None
        run_notes = (cores.describe(measured, core),)
        data_files = sorted(result.data_folder.iterdir())
        if not data_files:
            if not tests_ok:
                return Outcome(
                    evaluation=None,
                    exit_code=ExitCode.TESTS_FAILED,
                    precision=shown_precision,
                    tests=tests,
                    notes=(settings.describe_source(), *run_notes),
                    root=settings.root,
                    coverage_core=measured,
                )
            raise NothingToJudge("the test run produced no coverage data")
        private = folder / "combined" / coverage.data_file.name
        private.parent.mkdir()
        analysis.combine_into(data_files, private, settings.root)
        shown = paths.show(coverage.data_file, settings.root)
        try:
            measurement = analysis.analyse(
                private, settings.root, sources=(shown,), progress=progress, cache=cache
            )
        finally:
            publish(private, coverage.data_file)
    evaluation = evaluate(measurement, policy, diff)
    guarded = _no_regressions(prepared, settings, measurement, evaluation, tests_ok)
    return Outcome(
        evaluation=evaluation,
        exit_code=guarded.exit_code,
        precision=shown_precision,
        tests=tests,
        notes=(
            *notes(settings, measurement, evaluation, coverage),
            *patch_notes(policy, diff),
            *run_notes,
            *guarded.notes,
        ),
        root=settings.root,
        baseline=guarded.baseline,
        policy_ref=guarded.policy_ref,
        coverage_core=measured,
    )


def _prepare_judging(meanwhile: Callable[[], object] | None) -> None:
    """What the gate will need after the tests, loaded while they run (on a core the
    tests' start leaves idle) rather than after them."""
    from covgate import cache  # noqa: F401 -- imported for its cost, now

    if meanwhile is not None:
        meanwhile()


def publish(private: Path, target: Path) -> None:
    """Put this run's combined data at `target` in one atomic step (a reader of `target`
    sees the old file or the new one, never a mix, and never another run's half)."""
    # Not named like a parallel data file: a leftover must never be combined into a later run.
    partial = target.with_name(f"{target.name}-covgate-{os.getpid()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(private, partial)
        os.replace(partial, target)
    except OSError as exc:
        raise DataError(f"{target}: cannot write the combined coverage data: {exc}") from None
    finally:
        with contextlib.suppress(OSError):
            partial.unlink()


PYTEST_INTERNAL_ERROR = 3
PYTEST_USAGE_ERROR = 4
PYTEST_NO_TESTS = 5
_COULD_NOT_RUN = {PYTEST_INTERNAL_ERROR: "an internal error", PYTEST_USAGE_ERROR: "a usage error"}


def session_summary(
    returncode: int, session: results.Session | None, wall: float = 0.0
) -> TestSummary:
    """The tests of one session, with `ended_early` set when the session does not count.

    pytest that could not run the suite at all is PytestCouldNotRun (exit 3), a session that
    collected nothing is NothingToJudge (exit 4)."""
    status = session.exitstatus if session is not None else None
    started = session is not None and (session.collected is not None or bool(session.results))
    failure = status if status in _COULD_NOT_RUN else None
    if failure is None and status is None and returncode in _COULD_NOT_RUN and not started:
        failure = returncode
    if failure is not None:
        raise PytestCouldNotRun(
            f"pytest could not run the suite ({_COULD_NOT_RUN[failure]}, pytest's exit code "
            f"{failure}; see its message above): nothing was judged"
        )
    if status == PYTEST_NO_TESTS:
        raise NothingToJudge("pytest collected no tests")
    if session is None:
        return TestSummary(
            0, 0, 0, 0, wall,
            ended_early="the test session ended early, before any test reported "
            f"(pytest's process {_process_end(returncode)})",
        )  # fmt: skip
    if session.complete:
        return results.summary(session)
    done = len(session.results)
    counted = f"{done} of {session.collected}" if session.collected is not None else str(done)
    why = session.stopped or f"pytest's process {_process_end(returncode)} before it finished"
    summary = results.summary(
        session, ended_early=f"the test session ended early after {counted} tests ({why})"
    )
    return summary if session.finished else dataclasses.replace(summary, duration=wall)


def _process_end(returncode: int) -> str:
    if returncode < 0:
        return f"was killed by signal {-returncode}"
    return f"exited with code {returncode}"


# pytest options whose value is the next argument (a value is never a test selection).
_TAKES_VALUE = frozenset((
    "-k", "-m", "-p", "-c", "-o", "-W", "-n", "-r", "--deselect", "--ignore", "--ignore-glob",
    "--rootdir", "--confcutdir", "--basetemp", "--maxfail", "--junitxml", "--junit-xml",
    "--durations", "--tb", "--log-level", "--import-mode", "--override-ini", "--capture",
    "--dist", "--maxprocesses", "--cov", "--cov-report",
))  # fmt: skip
_NARROWING = frozenset((
    "-k", "-m", "-x", "--exitfirst", "--lf", "--last-failed", "--sw", "--stepwise", "--deselect",
))  # fmt: skip


def _positional(args: Sequence[str]) -> list[str]:
    """The arguments that are not options or option values."""
    found = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg.startswith("-"):
            skip = arg in _TAKES_VALUE
        else:
            found.append(arg)
    return found


def _selects_tests(args: Sequence[str], root: Path) -> bool:
    """Whether the pytest arguments name tests (paths or node ids): then the configured
    `tests` are not added, as pytest ignores its testpaths when given paths."""
    for arg in _positional(args):
        path = arg.split("::", 1)[0]
        if "::" in arg or (root / path).exists() or Path(path).exists():
            return True
    return False


def _narrows(args: Sequence[str]) -> bool:
    """Whether the arguments run only part of the suite (its time says nothing of the whole)."""
    return bool(_positional(args)) or any(arg.split("=")[0] in _NARROWING for arg in args)


def combine(
    folders: Sequence[Path],
    *,
    expect: int,
    root: Path | None = None,
    config: Path | None = None,
    fail_under: Sequence[str] = (),
    diff_base: str | None = None,
    progress: ProgressCallback | None = None,
    guards: Guards | None = None,
) -> Outcome:
    """`covgate combine`: verify the shards' artifacts are one exact set, then gate them as
    `run` gates one run."""
    from covgate import combine as shards

    settings = load_config(root=root, config_file=config)
    policy = apply_fail_under(settings.policy, fail_under)
    coverage = analysis.coverage_settings(settings.root)
    prepared = regressions.prepare(settings, guards or Guards())
    diff = changed_lines(settings, diff_base)
    with shards.opened(folders) as found:
        shards.verify(found, expect, _head(settings.root))
        tests_run = shards.results(found)
        shards.combine_data(found, settings.root, coverage.data_file)
    durations.save(settings.root, durations.load(settings.root), shards.durations(tests_run))
    shown = tuple(paths.show(s.shown, settings.root) for s in found)
    measurement = analysis.analyse(
        coverage.data_file, settings.root, sources=shown, progress=progress
    )
    evaluation = evaluate(measurement, policy, diff)
    tests = shards.summary(tests_run, found)
    guarded = _no_regressions(prepared, settings, measurement, evaluation, tests.ok)
    return Outcome(
        evaluation=evaluation,
        exit_code=guarded.exit_code,
        precision=_precision(settings, coverage),
        tests=tests,
        notes=(
            *notes(settings, measurement, evaluation, coverage),
            *patch_notes(policy, diff),
            shards.describe(found),
            *guarded.notes,
        ),
        root=settings.root,
        baseline=guarded.baseline,
        policy_ref=guarded.policy_ref,
    )


def run_shard(
    extra_args: Sequence[str],
    *,
    shard: str,
    root: Path | None = None,
    config: Path | None = None,
    workers: Workers | None = None,
    quiet: int = 0,
    announce: Callable[[str], None] | None = None,
) -> sharding.ShardRun:
    """`covgate run --shard K/N`: collect the whole suite, run this shard's slice under
    coverage, write the shard's folder. No gate: `covgate combine` gates the whole set."""
    from covgate import shard as sharding

    spec = sharding.parse_shard(shard, os.environ)
    settings = load_config(root=root, config_file=config)
    coverage = analysis.project_coverage(settings.root).config  # a config error: now
    record = durations.load(settings.root)
    choice = durations.choose(settings.workers if workers is None else workers, record)
    selection = () if _selects_tests(extra_args, settings.root) else settings.tests
    if announce:
        announce(f"covgate: {spec}: running its slice under coverage: {choice.reason}")
    with workspace() as folder:
        plan = RunPlan(
            root=settings.root,
            pytest_args=(
                *sharding.selection_args(folder, spec, record.tests),
                *selection,
                *settings.pytest_args,
                *["-q"] * quiet,
                *extra_args,
            ),
            workers=choice.workers,
            branch=settings.branch,
        )
        result = run_pytest(plan, folder)
        session = results.load(result.results)
        collection = sharding.read_collection(folder)
        empty_slice = collection is not None and bool(collection.ids) and not collection.selected
        ended_early = None
        if empty_slice and result.returncode == PYTEST_NO_TESTS:
            tests_ok = True  # more shards than tests: this one has nothing to run
        else:  # pytest could not run, collected nothing, or ended early: as `run` says it
            tests = session_summary(result.returncode, session, result.wall)
            tests_ok, ended_early = tests.ok, tests.ended_early
        if collection is None:
            raise NothingToJudge("pytest ended before its collection was done")
        manifest = sharding.manifest(
            spec,
            collection,
            session,
            commit=_head(settings.root),
            config_hash=sharding.config_hash(settings, coverage),
            root=settings.root,
            durations=record.tests,
            wall=result.wall,
        )
        written = sharding.write_folder(
            settings.root, manifest, sorted(result.data_folder.iterdir()), folder
        )
    code = ExitCode.OK if tests_ok else ExitCode.TESTS_FAILED
    return sharding.ShardRun(manifest, written, code, ended_early)


def _head(root: Path) -> str | None:
    """The commit checked out; None outside git (or without git)."""
    from covgate import git

    try:
        return git.head(root)
    except git.GitError:
        return None
