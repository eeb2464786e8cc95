"""coverage.py data files: combine parallel files, then analyse every measured file once.

The counts are coverage.py's own (`Analysis.numbers`), after the project's coverage.py
configuration: include/omit, exclusions, `[paths]` remapping. Parsing the sources dominates
the cost: covgate.cache keeps each source's static analysis across runs, and a large
measurement is analysed in worker processes. Each worker builds its own
`coverage.Coverage` after the fork: coverage.py erases a data file that a forked process
reaches through an inherited object.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import shutil
import signal
import sqlite3
import sys
import tempfile
import threading
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING

from covgate.cores import Project
from covgate.errors import ConfigError, CovgateError, DataError, NothingToJudge
from covgate.model import FileCoverage, Measurement
from covgate.paths import Resolver, working_directory

if TYPE_CHECKING:
    from typing import TypeAlias

    from coverage import Coverage

    if sys.platform == "win32":  # spawn only, and pipes of another kind
        from multiprocessing.connection import PipeConnection as Connection
        from multiprocessing.context import SpawnContext as Context
    else:
        from multiprocessing.connection import Connection
        from multiprocessing.context import ForkContext, ForkServerContext, SpawnContext

        Context: TypeAlias = ForkContext | ForkServerContext | SpawnContext

    from covgate.cache import AnalysisCache

SQLITE_HEADER = b"SQLite format 3\x00"
ProgressCallback = Callable[[int, int], None]

DEFAULT_PRECISION = 2
# Below this many files a single process is faster than starting workers.
PARALLEL_MIN_FILES = 40
CHUNK = 16


def available_cpus() -> int:
    """The CPUs this process may run on (pinning and container limits included)."""
    if hasattr(os, "sched_getaffinity"):
        return max(len(os.sched_getaffinity(0)), 1)
    return os.cpu_count() or 1


def is_coverage_data(path: Path) -> bool:
    try:
        with path.open("rb") as stream:
            return stream.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except OSError:
        return False


def project_coverage(root: Path, data_file: Path | None = None) -> Coverage:
    """A `coverage.Coverage` with the project's own configuration (read in the root, as
    coverage.py does); a configuration mistake is a one-line ConfigError."""
    from coverage import Coverage
    from coverage.exceptions import CoverageException

    try:
        with working_directory(root):
            return Coverage(data_file=str(data_file) if data_file else None, config_file=True)
    except CoverageException as exc:
        raise ConfigError(f"coverage.py configuration in {root}: {exc}") from None
    except (TypeError, AttributeError, ValueError) as exc:  # a TOML table of the wrong shape
        raise ConfigError(
            f"coverage.py configuration in {root}: cannot be read ({type(exc).__name__}: {exc})"
        ) from None


@dataclass(frozen=True)
class CoverageSettings:
    """What covgate takes from the project's coverage.py configuration, read once."""

    data_file: Path
    """The data file it names (default .coverage), absolute."""
    precision: int
    """Its report precision when set above 0, else covgate's default of 2."""
    resolver: Resolver
    """Maps measured files to project paths, through its `[paths]` setting."""
    measuring: Project = field(default_factory=Project)
    """What the choice of coverage core depends on."""
    selects_files: bool = True
    """Whether it names what to measure or report (source, source_pkgs, source_dirs, include)."""


def coverage_settings(root: Path) -> CoverageSettings:
    config = project_coverage(root).config
    aliases = tuple((paths[0], *paths[1:]) for paths in config.paths.values() if paths)
    env_core = os.environ.get("COVERAGE_CORE") or None
    selects = (config.source, config.source_pkgs, config.source_dirs, config.run_include,
               config.report_include)  # fmt: skip
    return CoverageSettings(
        data_file=(root / config.data_file).resolve(),
        precision=config.precision if config.precision > 0 else DEFAULT_PRECISION,
        resolver=Resolver(root, aliases, config.relative_files),
        measuring=Project(
            env_core=env_core,
            config_core=None if env_core else config.core,
            timid=config.timid,
            plugins=tuple(config.plugins),
            dynamic_context=config.dynamic_context,
            concurrency=tuple(config.concurrency),
        ),
        selects_files=any(selects),
    )


def parallel_siblings(data_file: Path) -> list[Path]:
    """The `.coverage.*` files beside `data_file` that are coverage.py data."""
    if not data_file.parent.is_dir():
        return []
    prefix = data_file.name + "."
    return sorted(
        p
        for p in data_file.parent.iterdir()
        if p.name.startswith(prefix) and p.is_file() and is_coverage_data(p)
    )


def check_readable(path: Path) -> None:
    """Fail with a one-line error unless `path` is coverage.py data. The file is opened
    read-only by SQLite (never written, no journal or lock acted on)."""
    uri = path.resolve().as_uri() + "?mode=ro&immutable=1"
    try:
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as connection:
            tables = {row[0] for row in connection.execute("select name from sqlite_master")}
    except sqlite3.Error as exc:
        raise DataError(f"{path}: not a readable coverage.py data file ({exc})") from None
    if "coverage_schema" not in tables:
        raise DataError(
            f"{path}: an SQLite database, but not coverage.py data (no coverage_schema table)"
        )


def _check_copy(copy: Path, original: Path) -> None:
    from coverage import CoverageData
    from coverage.exceptions import CoverageException

    try:
        data = CoverageData(basename=str(copy))
        data.read()
        data.measured_files()
        data.close()
    except (CoverageException, sqlite3.Error) as exc:
        message = str(exc).replace(str(copy), str(original))
        raise DataError(f"{original}: not a readable coverage.py data file ({message})") from None


@contextlib.contextmanager
def combined(paths: Sequence[Path], root: Path) -> Iterator[Path]:
    """One data file holding `paths`, private to covgate: a copy of the file when there is
    one, else their combination. coverage.py only ever opens the copies: the user's files
    are read once, byte for byte, and never changed or deleted."""
    for path in paths:
        check_readable(path)
    folder = Path(tempfile.mkdtemp(prefix="covgate-"))
    try:
        copies = []
        for index, path in enumerate(paths):
            copy = folder / str(index) / path.name
            copy.parent.mkdir()
            try:
                shutil.copyfile(path, copy)
            except OSError as exc:
                raise DataError(f"{path}: cannot be read: {exc.strerror}") from None
            _check_copy(copy, path)
            copies.append(copy)
        if len(copies) == 1:
            yield copies[0]
            return
        target = folder / ".coverage"
        _combine(copies, target, root)
        yield target
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _combine(paths: Sequence[Path], target: Path, root: Path) -> None:
    from coverage.exceptions import CoverageException

    cov = project_coverage(root, target)
    try:
        with working_directory(root):
            cov.set_option("run:parallel", False)
            cov.combine([str(p) for p in paths], strict=True, keep=True)
            cov.save()
    except (CoverageException, sqlite3.Error) as exc:
        shown = ", ".join(p.name for p in paths)
        raise DataError(f"cannot combine the coverage data files {shown}: {exc}") from None


def combine_into(paths: Sequence[Path], target: Path, root: Path) -> None:
    """Combine `paths` into `target`, replacing what was there (the project's data file after
    `covgate run`, so that `coverage html` works afterwards)."""
    # Not named like a parallel data file: a leftover must never be combined into a later run.
    partial = target.with_name(target.name + "-covgate.tmp")
    try:
        _combine(paths, partial, root)
        os.replace(partial, target)
    except OSError as exc:
        raise DataError(f"{target}: cannot write the combined coverage data: {exc}") from None
    finally:
        with contextlib.suppress(OSError):
            partial.unlink()


def analyse(
    data_file: Path,
    root: Path,
    *,
    sources: tuple[str, ...] = (),
    jobs: int | None = None,
    progress: ProgressCallback | None = None,
    cache: bool = True,
) -> Measurement:
    """Analyse every reported file of `data_file` once, in parallel when it pays; the source
    analysis comes from the project's analysis cache unless `cache` is false."""
    cov = _load(str(data_file), str(root))
    morfs, branch = _reported_files(cov, root)
    if not morfs:
        raise NothingToJudge(f"{', '.join(sources) or data_file}: no measured file to report on")
    from covgate import cache as analysis_cache

    opened = analysis_cache.open_cache(root, cov) if cache else analysis_cache.Opened(None)
    jobs = jobs if jobs is not None else available_cpus()
    tasks = [
        (str(data_file), str(root), chunk, opened.cache) for chunk in _chunks(morfs, root, jobs)
    ]
    results: list[FileCoverage] = []
    _WORKER.clear()
    if jobs <= 1 or len(morfs) < PARALLEL_MIN_FILES:
        # This process analyses with the Coverage it has loaded. (A forked worker loads its
        # own: coverage.py's data object treats use after a fork as a new data file.)
        _WORKER[(str(data_file), str(root))] = cov
        try:
            for task in tasks:
                results.extend(_analyse_chunk(task))
                if progress:
                    progress(len(results), len(morfs))
        finally:
            _WORKER.clear()
    else:
        results = _in_workers(tasks, min(jobs, len(tasks)), progress, len(morfs))
    results.sort(key=lambda f: f.path)
    if opened.cache is not None:
        keep = (analysis_cache.entry_name(analysis_cache.relative(m, root)) for m in morfs)
        analysis_cache.prune(opened.cache, keep)
    notes = (opened.note,) if opened.note else ()
    return Measurement(files=tuple(results), branch_measured=branch, sources=sources, notes=notes)


def _chunks(morfs: Sequence[str], root: Path, jobs: int) -> Iterator[list[str]]:
    """The files in tasks for `jobs` workers: the largest files first, in tasks of up to CHUNK
    files that shrink towards the end, so that the workers finish together."""

    def size(morf: str) -> int:
        try:
            return os.stat(os.path.join(root, morf)).st_size
        except OSError:
            return 0

    ordered = sorted(morfs, key=size, reverse=True)
    start = 0
    while start < len(ordered):
        step = max(1, min(CHUNK, (len(ordered) - start) // (4 * max(jobs, 1))))
        yield ordered[start : start + step]
        start += step


# The workers are processes of our own, one pipe each, rather than a multiprocessing.Pool or
# a concurrent.futures.ProcessPoolExecutor. A Pool waits forever for the task of a worker that
# was killed (by the out-of-memory killer, kill -9): it starts a replacement, and the lost task
# never returns. A ProcessPoolExecutor notices (BrokenProcessPool), but up to Python 3.14 its
# error does not say which worker died or how, and up to 3.13 it has no way to stop the workers
# still running (shutdown only cancels what has not started). Both also run threads in this
# process while they start workers. Here the main process runs no thread: it waits on each
# busy worker's pipe and process at once, so that a worker that ends without answering is seen
# at once, with its exit status.


# Each worker holds the task it works on and the next one, so that it never waits for this
# process between two tasks.
IN_FLIGHT = 2


@dataclass
class _Worker:
    process: BaseProcess
    connection: Connection
    tasks: deque[int] = field(default_factory=deque)
    """The indexes of the tasks it was given and has not answered, in order."""


def _in_workers(
    tasks: Sequence[Task], count: int, progress: ProgressCallback | None, total: int
) -> list[FileCoverage]:
    """The files of `tasks` analysed by `count` worker processes. The results are taken in
    task order, so an error raised by a worker is the first in that order, as in a serial run.
    A normal end lets the workers finish and exit; an error, an interrupt or a worker that
    dies terminates them all."""
    context = _context()
    workers: list[_Worker] = []
    try:
        with _signals_held(context):
            for _ in range(count):
                ours, theirs = context.Pipe()
                process = context.Process(target=_serve, args=(theirs,), daemon=True)
                process.start()
                theirs.close()  # the worker's end lives in the worker only: its death is an EOF
                workers.append(_Worker(process, ours))
        # After the workers start: a progress display may start a thread (no fork beside it).
        if progress:
            progress(0, total)
        outcomes: dict[int, _Outcome] = {}
        given = 0
        for _ in range(IN_FLIGHT):
            for worker in workers:
                given = _give(worker, tasks, given)
        results: list[FileCoverage] = []
        for taken in range(len(tasks)):
            while taken not in outcomes:
                busy = [w for w in workers if w.tasks]
                waited = [w.connection for w in busy] + [w.process.sentinel for w in busy]
                ready = set(wait(waited))
                for worker in busy:
                    if worker.connection in ready or worker.process.sentinel in ready:
                        outcomes[worker.tasks.popleft()] = _receive(worker)
                        given = _give(worker, tasks, given)
            outcome = outcomes.pop(taken)
            if isinstance(outcome, _Failure):
                raise outcome.error from outcome.cause()
            results.extend(outcome)
            if progress:
                progress(len(results), total)
        for worker in workers:
            with contextlib.suppress(OSError):  # one that died after its last task
                worker.connection.send(None)
    except BaseException:
        for worker in workers:
            worker.process.terminate()
        raise
    finally:
        for worker in workers:
            worker.process.join()
            worker.connection.close()
    return results


def _give(worker: _Worker, tasks: Sequence[Task], given: int) -> int:
    """Send `worker` the next task if one is left; the count of tasks given after it."""
    if given == len(tasks):
        return given
    try:
        worker.connection.send(tasks[given])
    except OSError:  # its end is closed: it died
        raise _died(worker.process) from None
    worker.tasks.append(given)
    return given + 1


def _receive(worker: _Worker) -> _Outcome:
    """What `worker` answers to its task; a DataError when it ended without answering."""
    try:
        if worker.connection.poll():
            outcome: _Outcome = worker.connection.recv()
            return outcome
    except (EOFError, OSError):  # ended, perhaps in the middle of its answer
        pass
    raise _died(worker.process)


def _died(process: BaseProcess) -> DataError:
    """The one-line error for a worker that ended before it finished its task."""
    process.join(timeout=5)  # its pipe closes as it ends, a moment before its exit status
    code = process.exitcode
    if code is None:
        how = "stopped answering"
    elif code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = "unknown"
        if name == "SIGKILL":
            name += ", perhaps by the out-of-memory killer"
        how = f"was killed by signal {-code} ({name}) before it finished"
    else:
        how = f"exited with status {code} before it finished"
    return DataError(
        f"an analysis worker (process {process.pid}) {how}; nothing was judged: run covgate again"
    )


@dataclass(frozen=True)
class _Failure:
    """An exception raised in a worker, and its traceback there."""

    error: BaseException
    remote_traceback: str

    def cause(self) -> BaseException | None:
        """What a traceback shows the error came from: the worker's own traceback (a one-line
        CovgateError shows none)."""
        if isinstance(self.error, CovgateError):
            return None
        return _WorkerTraceback(self.remote_traceback)


class _WorkerTraceback(Exception):
    def __str__(self) -> str:
        return f"in the analysis worker:\n{self.args[0]}"


_Outcome = list[FileCoverage] | _Failure


def _serve(connection: Connection) -> None:
    """A worker's life: analyse each task received, answer with its files or its error,
    and end at None (or when the main process has gone)."""
    _worker_signals()
    while True:
        try:
            task = connection.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        answer: _Outcome
        try:
            answer = _analyse_chunk(task)
        except Exception as exc:  # noqa: BLE001 - sent back, raised in the main process
            answer = _Failure(exc, traceback.format_exc())
        try:
            connection.send(answer)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:  # an odd exception
            text = answer.remote_traceback if isinstance(answer, _Failure) else ""
            connection.send(_Failure(RuntimeError(f"cannot send the result: {exc}"), text))


def _context() -> Context:
    """fork where it is safe (no other thread runs), else the platform's safe method."""
    if sys.platform == "win32":
        return multiprocessing.get_context("spawn")
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context("spawn")


_HELD = frozenset(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


@contextlib.contextmanager
def _signals_held(context: Context) -> Iterator[None]:
    """While workers are forked, Ctrl-C, SIGTERM and SIGHUP wait. A forked worker has
    covgate's own handlers until `_worker_signals` replaces them; a signal then would print
    a traceback from the worker. It comes after, with the worker's default handling, and in
    the main process as soon as the workers have started."""
    if sys.platform == "win32" or context.get_start_method() != "fork":
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _worker_signals() -> None:
    """Workers start with default signal handling, never covgate's own handlers (inherited
    through fork, they printed a traceback when the workers were terminated). Ctrl-C reaches
    the whole process group: workers ignore it, and the main process stops them, so that
    Ctrl-C is an interrupt (exit 130), never a worker killed by SIGINT."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None and signal.getsignal(number) is not signal.SIG_IGN:
            signal.signal(number, signal.SIG_DFL)
    if sys.platform != "win32":  # held while it was forked (`_signals_held`)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _HELD)


def _load(data_file: str, root: str) -> Coverage:
    from coverage.exceptions import CoverageException

    cov = project_coverage(Path(root), Path(data_file))
    try:
        with working_directory(Path(root)):
            cov.load()
            cov._prepare_data_for_reporting()
    except (CoverageException, sqlite3.Error) as exc:
        raise DataError(f"{data_file}: cannot be read: {exc}") from None
    return cov


def reported_paths(data_file: Path, root: Path) -> list[str]:
    """The project-relative paths of the files coverage.py would report on."""
    resolver = Resolver(root)
    cov = _load(str(data_file), str(root))
    return [resolver.relative(f) for f in _reported_files(cov, root)[0]]


def _reported_files(cov: Coverage, root: Path) -> tuple[list[str], bool]:
    """The measured files of `cov`'s data that coverage.py's own report would include,
    sorted."""
    from coverage.files import GlobMatcher, prep_patterns

    data = cov.get_data()
    files = sorted(data.measured_files())
    config = cov.config
    with working_directory(root):
        if config.report_include:
            include = GlobMatcher(prep_patterns(config.report_include), "report_include")
            files = [f for f in files if include.match(f)]
        if config.report_omit:
            omit = GlobMatcher(prep_patterns(config.report_omit), "report_omit")
            files = [f for f in files if not omit.match(f)]
    return files, data.has_arcs()


# Per process: its own Coverage object, built after the fork on the first task (an error
# there travels back with the task, as any other).
_WORKER: dict[tuple[str, str], Coverage] = {}


Task = tuple[str, str, Sequence[str], "AnalysisCache | None"]


def _analyse_chunk(task: Task) -> list[FileCoverage]:
    from coverage.exceptions import CoverageException, NotPython

    from covgate import cache as analysis_cache

    data_file, root, morfs, cache = task
    if (data_file, root) not in _WORKER:
        _WORKER.clear()
        _WORKER[(data_file, root)] = _load(data_file, root)
    cov = _WORKER[(data_file, root)]
    resolver = Resolver(Path(root))
    found: list[FileCoverage] = []
    with working_directory(Path(root)), analysis_cache.connected(cov.get_data()):
        for morf in morfs:
            try:
                analysis = analysis_cache.analyse(cov, morf, cache)
            except NotPython:
                if morf.endswith((".py", ".pyw")) and not cov.config.ignore_errors:
                    raise DataError(
                        f"{resolver.relative(morf)}: measured, but not Python that parses"
                    ) from None
                continue
            except (SyntaxError, UnicodeError) as exc:  # undecodable: no text, no encoding
                if cov.config.ignore_errors:
                    continue
                raise DataError(
                    f"{resolver.relative(morf)}: measured, but cannot be read as Python source "
                    f"({exc})"
                ) from None
            except (CoverageException, OSError) as exc:
                if cov.config.ignore_errors:
                    continue
                raise DataError(f"{resolver.relative(morf)}: {exc}") from None
            found.append(
                FileCoverage.measured(
                    resolver.relative(analysis.filename),
                    statements=analysis.statements,
                    missing=analysis.missing,
                    branch_exits=analysis.branch_exits,
                    missing_arcs=analysis.missing_arcs,
                )
            )
    return found
