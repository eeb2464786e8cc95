"""The command line: parse, call the stages, write the reports, return the exit code."""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import signal
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from covgate import __version__
from covgate.errors import CovgateError, ExitCode

if TYPE_CHECKING:
    from covgate.config import Workers
    from covgate.model import Outcome
    from covgate.regressions import Guards

F = TypeVar("F", bound=Callable[..., Any])
Progress = Callable[[int, int], None] | None
Echo = Callable[[str], None]


@dataclass(frozen=True)
class ReportTarget:
    format: str
    path: Path | None


@dataclass(frozen=True)
class Options:
    """The options of the commands that gate (`run`, `check`)."""

    root: Path | None
    config: Path | None
    fail_under: tuple[str, ...]
    diff_base: str | None
    reports: tuple[ReportTarget, ...]
    color: bool
    verbosity: int

    @property
    def machine_stdout(self) -> bool:
        """A machine-readable report owns standard output: everything else goes to stderr."""
        return any(t.path is None and t.format in ("json", "markdown") for t in self.reports)


def parse_report(value: str) -> ReportTarget:
    from covgate.report import FORMATS

    name, sep, path = value.partition(":")
    if name not in FORMATS:
        known = ", ".join(FORMATS)
        raise click.BadParameter(
            f"unknown format {name!r} (formats: {known})", param_hint="--report"
        )
    if sep and not path:
        raise click.BadParameter(f"{value!r}: the path after ':' is empty", param_hint="--report")
    return ReportTarget(name, Path(path) if sep else None)


def use_color(no_color: bool, stream: Any) -> bool:
    """--no-color, then NO_COLOR, then FORCE_COLOR, then whether the stream is a terminal."""
    if no_color or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def project_options(command: F) -> F:
    """-C/--root and --config: where the project and its configuration are."""
    command = click.option(
        "--config", type=click.Path(path_type=Path), help="covgate.toml or pyproject.toml."
    )(command)
    return click.option("-C", "--root", type=click.Path(path_type=Path), help="The project root.")(
        command
    )


def common_options(command: F) -> F:
    """The options of the commands that gate: the project, thresholds, reports, output."""
    decorators = [
        click.option(
            "--fail-under",
            multiple=True,
            metavar="CLASS[.METRIC]=PCT",
            help="Override a class's minimum (overall=PCT too), or another threshold of it: "
            "critical.patch=100 (min, lines, branches, per_file, patch). Repeatable.",
        ),
        click.option(
            "--diff-base",
            metavar="REF",
            help="Also gate the lines changed since the merge base of REF and HEAD "
            "(committed, staged, unstaged, untracked): the patch thresholds.",
        ),
        click.option(
            "--report",
            "reports",
            multiple=True,
            metavar="FORMAT[:PATH]",
            help="terminal, json, markdown, github (to PATH, or to standard output). Repeatable.",
        ),
        click.option("--no-color", is_flag=True, help="Never colour the output."),
        click.option("-q", "--quiet", count=True, help="Less output."),
        click.option("-v", "--verbose", count=True, help="More output (every file)."),
    ]
    for decorator in reversed(decorators):
        command = decorator(command)
    return project_options(command)


def regression_options(command: F) -> F:
    """--baseline, --write-baseline, --policy-ref: the gate never goes below what was."""
    decorators = [
        click.option("--baseline", "baseline_file", type=click.Path(path_type=Path),
                     help="Fail on a fall below this baseline (default: the config's)."),
        click.option("--write-baseline", is_flag=True,
                     help="Write or tighten the baseline after gating."),
        click.option("--policy-ref", metavar="REF",
                     help="Also gate by the policy at this git reference, e.g. origin/main."),
    ]  # fmt: skip
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


def make_guards(baseline_file: Path | None, write_baseline: bool, policy_ref: str | None) -> Guards:
    from covgate.regressions import Guards

    return Guards(baseline=baseline_file, write_baseline=write_baseline, policy_ref=policy_ref)


def cache_option(command: F) -> F:
    """--no-cache: analyse every source file afresh, neither reading nor writing .covgate/."""
    return click.option(
        "--no-cache",
        is_flag=True,
        help="Analyse every source afresh (no .covgate/analysis cache).",
    )(command)


def make_options(
    *,
    root: Path | None,
    config: Path | None,
    fail_under: tuple[str, ...],
    diff_base: str | None,
    reports: tuple[str, ...],
    no_color: bool,
    quiet: int,
    verbose: int,
) -> Options:
    targets = tuple(parse_report(r) for r in reports)
    to_stdout = [t.format for t in targets if t.path is None and t.format != "github"]
    if len(to_stdout) > 1:
        raise click.BadParameter(
            f"{' and '.join(to_stdout)} would both go to standard output: give all but one "
            "a path (FORMAT:PATH)",
            param_hint="--report",
        )
    if not to_stdout:  # report files add to the terminal report, they never replace it
        targets = (ReportTarget("terminal", None), *targets)
    return Options(
        root=root,
        config=config,
        fail_under=fail_under,
        diff_base=diff_base,
        reports=targets,
        color=use_color(no_color, sys.stdout),
        verbosity=verbose - quiet,
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="covgate")
def cli() -> None:
    """covgate: a coverage gate with its own threshold for each class of code."""


class WorkersType(click.ParamType):  # type: ignore[type-arg,unused-ignore]
    name = "workers"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value == "auto" or isinstance(value, int):
            return value
        if str(value).isdigit():
            return int(value)
        self.fail(f'{value!r}: expected "auto" or a whole number >= 0', param, ctx)
        return None  # not reached: fail() raises


@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
@click.option("-n", "--workers", type=WorkersType(), help='xdist workers: a number, 0, or "auto".')
@click.option(
    "--shard",
    metavar="K/N|auto",
    help="Run slice K of N (CI jobs), write covgate-shard-K-of-N/, do not gate.",
)
@regression_options
@cache_option
@common_options
def run(
    pytest_args: tuple[str, ...],
    workers: Workers | None,
    *,
    shard: str | None,
    baseline_file: Path | None,
    write_baseline: bool,
    policy_ref: str | None,
    no_cache: bool,
    **options: Any,
) -> int:
    """Run the test suite under coverage, then gate it.

    Arguments after -- go to pytest: covgate run -- -k auth -x
    """
    from covgate import commands

    if shard is not None:
        given = {"baseline": baseline_file, "write_baseline": write_baseline,
                 "policy_ref": policy_ref}  # fmt: skip
        return run_shard(pytest_args, workers, shard, {**options, **given})
    opts = make_options(**options)
    guards = make_guards(baseline_file, write_baseline, policy_ref)

    def work(progress: Progress, echo: Echo) -> Outcome:
        return commands.run(
            pytest_args,
            root=opts.root,
            config=opts.config,
            fail_under=opts.fail_under,
            diff_base=opts.diff_base,
            workers=workers,
            quiet=max(-opts.verbosity, 0),
            cache=not no_cache,
            stdout_to_stderr=opts.machine_stdout,
            announce=echo if opts.verbosity >= 0 else None,
            progress=progress,
            guards=guards,
            meanwhile=lambda: load_renderers(opts),
        )

    return gate(opts, work)


def run_shard(
    pytest_args: tuple[str, ...], workers: Workers | None, shard: str, options: dict[str, Any]
) -> int:
    """`run --shard`: no gate, so no thresholds and no reports; the exit code is the tests'."""
    from covgate import commands

    gating = ("fail_under", "reports", "baseline", "write_baseline", "policy_ref", "diff_base")
    given = [name for name in gating if options.get(name)]
    if given:
        flags = " and ".join("--" + name.replace("_", "-").removesuffix("s") for name in given)
        raise click.UsageError(f"--shard does not gate: give {flags} to covgate combine")
    fence: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
    if os.environ.get("GITHUB_ACTIONS") == "true":
        from covgate import actions

        fence = actions.fenced(click.echo)  # pytest's output and test names are untrusted
    with fence:
        done = commands.run_shard(
            pytest_args,
            shard=shard,
            root=options["root"],
            config=options["config"],
            workers=workers,
            quiet=max(options["quiet"] - options["verbose"], 0),
            announce=click.echo,
        )
        for line in done.lines():
            click.echo(line)
    return done.exit_code


@cli.command()
@click.argument("data", nargs=-1, type=click.Path(path_type=Path))
@regression_options
@cache_option
@common_options
def check(
    data: tuple[Path, ...],
    baseline_file: Path | None,
    write_baseline: bool,
    policy_ref: str | None,
    *,
    no_cache: bool,
    **options: Any,
) -> int:
    """Gate existing coverage data without running tests.

    DATA: .coverage files (combined), coverage.json, Cobertura XML or LCOV. Without DATA,
    the data file the project's coverage.py configuration names, with its parallel files.
    """
    from covgate import commands

    opts = make_options(**options)
    guards = make_guards(baseline_file, write_baseline, policy_ref)

    def work(progress: Progress, echo: Echo) -> Outcome:
        return commands.check(
            data,
            root=opts.root,
            config=opts.config,
            fail_under=opts.fail_under,
            diff_base=opts.diff_base,
            cache=not no_cache,
            progress=progress,
            guards=guards,
        )

    return gate(opts, work)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--expect", type=click.IntRange(min=1), required=True, metavar="N", help="The number of shards."
)
@regression_options
@common_options
def combine(
    paths: tuple[Path, ...],
    expect: int,
    baseline_file: Path | None,
    write_baseline: bool,
    policy_ref: str | None,
    **options: Any,
) -> int:
    """Verify and combine the folders of N CI shards (covgate run --shard), then gate once.

    PATHS: covgate-shard-K-of-N folders, folders holding them, or zip archives of them.
    """
    from covgate import commands

    opts = make_options(**options)
    guards = make_guards(baseline_file, write_baseline, policy_ref)

    def work(progress: Progress, echo: Echo) -> Outcome:
        return commands.combine(
            paths,
            expect=expect,
            root=opts.root,
            config=opts.config,
            fail_under=opts.fail_under,
            diff_base=opts.diff_base,
            progress=progress,
            guards=guards,
        )

    return gate(opts, work)


def gate(opts: Options, work: Callable[[Progress, Echo], Outcome]) -> int:
    """Do the work, write the reports; in GitHub Actions also the summary, outputs and
    annotations (even when the gate fails), with untrusted output fenced off."""
    from covgate import actions

    stream = sys.stderr if opts.machine_stdout else sys.stdout

    def echo(line: str) -> None:
        if stream is sys.stdout:
            emit(line)
        else:
            click.echo(line, file=stream)

    env = os.environ
    if not actions.active(env, [t.format for t in opts.reports]):
        with progress_bar(opts) as progress:
            outcome = work(progress, echo)
        write_reports(outcome, opts)
        return outcome.exit_code
    context = actions.GitHubContext.from_env(env)
    with actions.fenced(echo):  # an error is published by main(), after the fence
        with progress_bar(opts) as progress:
            outcome = work(progress, echo)
        write_reports(outcome, opts)
    json_path = next((t.path for t in opts.reports if t.format == "json" and t.path), None)
    actions.publish(outcome, context, json_path, echo)
    return outcome.exit_code


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@project_options
def explain(paths: tuple[str, ...], root: Path | None, config: Path | None) -> int:
    """Which class claims each PATH, by which pattern."""
    from covgate import commands

    emit(commands.explain(paths, root=root, config=config), nl=False)
    return ExitCode.OK


@cli.command()
@click.argument("data", nargs=-1, type=click.Path(path_type=Path))
@project_options
def classes(data: tuple[Path, ...], root: Path | None, config: Path | None) -> int:
    """The classes, their files, and patterns that match nothing or are shadowed."""
    from covgate import commands

    emit(commands.classes(data, root=root, config=config), nl=False)
    return ExitCode.OK


@cli.command("baseline")
@click.argument("data", nargs=-1, type=click.Path(path_type=Path))
@click.option("--update", is_flag=True, help="The same as without it: tighten what is there.")
@click.option("--allow-loosen", is_flag=True, help="Also write the figures that loosen.")
@click.option(
    "--baseline",
    "baseline_file",
    type=click.Path(path_type=Path),
    help="The file to write (default: the config's, or covgate-baseline.json).",
)
@project_options
def baseline_command(
    data: tuple[Path, ...],
    *,
    update: bool,
    allow_loosen: bool,
    baseline_file: Path | None,
    root: Path | None,
    config: Path | None,
) -> int:
    """Write the baseline, or tighten the one there (it never loosens without --allow-loosen).

    DATA as for covgate check.
    """
    from covgate import commands

    text = commands.baseline(
        data, root=root, config=config, path=baseline_file, allow_loosen=allow_loosen
    )
    click.echo(text, nl=False)
    return ExitCode.OK


@cli.command("init")
@click.option("-C", "--root", type=click.Path(path_type=Path), help="The project root.")
@click.option("--force", is_flag=True, help="Replace an existing covgate configuration.")
def init_command(root: Path | None, force: bool) -> int:
    """Write a starting configuration, with classes proposed from the project's layout.

    Into pyproject.toml when the project has one, else covgate.toml.
    """
    from covgate.init import init, summary

    result = init(root or Path.cwd(), force=force)
    for line in summary(result):
        emit(line)
    return ExitCode.OK


def load_renderers(opts: Options) -> None:
    """Import the report formats `opts` asks for (rich among them), ahead of their use."""
    from covgate.report import renderer

    for target in opts.reports:
        renderer(target.format)


def write_reports(outcome: Outcome, opts: Options) -> None:
    """The report files first (each whole or not at all), then the report on standard output."""
    from covgate.report import renderer

    for target in opts.reports:
        if target.path is not None:
            text = renderer(target.format)(
                outcome, color=False, width=None, verbosity=opts.verbosity
            )
            try:
                write_atomically(target.path, text)
            except OSError as exc:
                reason = exc.strerror or str(exc)
                raise CovgateError(
                    f"--report {target.format}:{target.path}: cannot write it: {reason}"
                ) from None
    for target in opts.reports:
        if target.path is None and target.format != "github":  # GitHub mode: see gate()
            color = opts.color and target.format == "terminal"
            width = shutil.get_terminal_size().columns if color else None
            text = renderer(target.format)(
                outcome, color=color, width=width, verbosity=opts.verbosity
            )
            emit(text, nl=False, color=color)


def write_atomically(path: Path, text: str) -> None:
    """Write `path` whole or not at all: a temporary file in the same folder, then a rename.
    The file gets the permissions a new file gets (the umask's), not the temporary file's."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(temporary, 0o666 & ~mask)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def emit(text: str, *, nl: bool = True, color: bool | None = None) -> None:
    """Write to standard output; a failed write (a full disk, a closed pipe) is one line on
    standard error and exit 3, never a traceback."""
    try:
        click.echo(text, nl=nl, color=color)
    except OSError as exc:
        _discard_stdout()
        reason = exc.strerror or str(exc)
        raise CovgateError(f"cannot write to standard output: {reason}") from None


def _discard_stdout() -> None:
    """Send what is left in stdout's buffer to the null device, so that the interpreter's
    last flush cannot fail again."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)


@contextmanager
def progress_bar(opts: Options) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on standard error while files are analysed, on a terminal only."""
    if opts.verbosity < 0 or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress, TaskID

    bar = Progress(transient=True, console=Console(stderr=True))
    tasks: list[TaskID] = []

    def update(done: int, total: int) -> None:
        if not tasks:  # shown from the first report on: its thread starts after the workers
            bar.start()
            tasks.append(bar.add_task("analysing", total=total))
        bar.update(tasks[0], completed=done, total=total)

    try:
        yield update
    finally:
        bar.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Run covgate; return its exit code. Every exception ends here and gets its code."""
    with interrupts_as_keyboard_interrupt():
        code, error = _main(argv)
    if error is not None:
        click.echo(f"covgate: {error}", err=True)
        if os.environ.get("GITHUB_ACTIONS") == "true":
            from covgate import actions

            context = actions.GitHubContext.from_env(os.environ)
            actions.publish_error(error.removeprefix("error: "), context)
    return code


def entry() -> int:
    """The `covgate` command: main(), then an exit that skips the interpreter's last collection
    of every object (covgate's own process runs no one else's code, and every file it writes
    is closed by then: the system frees the memory at once)."""
    code = main()
    gc.freeze()
    return code


def _main(argv: Sequence[str] | None) -> tuple[int, str | None]:
    """The exit code, and the one-line error to show (None when there is none)."""
    from covgate.report.text import printable

    try:
        result = cli.main(args=list(argv) if argv is not None else None, prog_name="covgate",
                          standalone_mode=False)  # fmt: skip
    except CovgateError as exc:
        return int(exc.exit_code), f"error: {printable(str(exc))}"
    except click.exceptions.Exit as exc:
        return int(exc.exit_code), None
    except click.ClickException as exc:
        hint = " (see covgate --help)" if isinstance(exc, click.UsageError) else ""
        return int(ExitCode.USAGE), f"error: {printable(exc.format_message())}{hint}"
    except (KeyboardInterrupt, click.exceptions.Abort):
        return int(ExitCode.INTERRUPTED), "interrupted"
    except Exception:  # noqa: BLE001 - a crash must get its own exit code, never 1
        traceback.print_exc()
        return int(ExitCode.INTERNAL), "internal error (this is a bug in covgate; please report it)"
    return (int(result) if isinstance(result, int) else int(ExitCode.OK)), None


@contextmanager
def interrupts_as_keyboard_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP stop covgate like Ctrl-C does: exit 130, workers terminated."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    wanted = [getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]
    try:
        previous = {sig: signal.signal(sig, interrupt) for sig in wanted}
    except ValueError:  # not the main thread: leave the signals alone
        previous = {}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
