"""GitHub Actions mode: the job summary, the step outputs, the annotations.

This is the edge that touches the runner's files; what goes into them comes from the pure
renderers in `covgate.report.github` and `covgate.report.markdown`. covgate never writes
GITHUB_ENV or GITHUB_PATH.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import click

from covgate.model import Outcome
from covgate.report import github, markdown
from covgate.report import json as json_report

Echo = Callable[[str], None]


@dataclass(frozen=True)
class GitHubContext:
    summary: Path | None
    output: Path | None
    workspace: Path | None
    temp: Path
    write_summary: bool = True
    write_annotations: bool = True

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> GitHubContext:
        def path(name: str) -> Path | None:
            value = env.get(name, "")
            return Path(value) if value else None

        return cls(
            summary=path("GITHUB_STEP_SUMMARY"),
            output=path("GITHUB_OUTPUT"),
            workspace=path("GITHUB_WORKSPACE"),
            temp=path("RUNNER_TEMP") or Path(tempfile.gettempdir()),
            write_summary=env.get("COVGATE_SUMMARY", "true").lower() not in ("false", "0", "no"),
            write_annotations=env.get("COVGATE_ANNOTATIONS", "true").lower()
            not in ("false", "0", "no"),
        )

    def prefix(self, root: Path | None) -> str:
        """The project's folder inside the repository, for annotation file names."""
        if root is None or self.workspace is None:
            return ""
        try:
            relative = root.resolve().relative_to(self.workspace.resolve()).as_posix()
        except ValueError:
            return ""
        return "" if relative == "." else relative + "/"


def active(env: Mapping[str, str], formats: list[str]) -> bool:
    return env.get("GITHUB_ACTIONS") == "true" or "github" in formats


@contextlib.contextmanager
def fenced(echo: Echo) -> Iterator[None]:
    """Stop workflow-command processing while untrusted text (pytest's output, file names)
    reaches the log; resume it afterwards, even on error."""
    token = github.new_token()
    echo(f"::stop-commands::{token}")
    try:
        yield
    finally:
        echo(f"::{token}::")


def publish(outcome: Outcome, context: GitHubContext, report_json: Path | None, echo: Echo) -> None:
    """Write the outputs, the summary and the annotations, whatever the verdict. A file that
    cannot be written is reported, and the others are still written."""
    if report_json is None:
        # A name of its own, so that a second covgate step keeps the first one's report.
        with contextlib.suppress(OSError):
            context.temp.mkdir(parents=True, exist_ok=True)
        try:
            handle, name = tempfile.mkstemp(prefix="covgate-report-", suffix=".json",
                                            dir=context.temp)  # fmt: skip
            os.close(handle)
        except OSError as exc:
            _warn(f"cannot write the JSON report in {context.temp}: {exc.strerror}")
        else:
            report_json = Path(name)
            _write(report_json, json_report.render(outcome), append=False)
    if context.output is not None:
        shown = str(report_json.resolve()) if report_json else ""
        _write(context.output, github.format_outputs(github.outputs(outcome, shown)), append=True)
    if context.write_summary and context.summary is not None:
        _write(context.summary, markdown.render(outcome) + "\n", append=True)
    if context.write_annotations:
        for line in github.all_annotations(outcome, context.prefix(outcome.root)):
            echo(line)


def publish_error(message: str, context: GitHubContext) -> None:
    """An error that stopped the gate (a crash included) still sets the outputs and shows as
    an annotation."""
    if context.output is not None:
        values = {"passed": "false", "overall": "", "failed-classes": "[]", "report-json": ""}
        _write(context.output, github.format_outputs(values), append=True)
    if context.write_annotations:
        click.echo(github.command("error", message, title="covgate"))


def _write(path: Path, text: str, *, append: bool) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a" if append else "w", encoding="utf-8") as stream:
            stream.write(text)
    except OSError as exc:
        _warn(f"cannot write {path}: {exc.strerror}")


def _warn(message: str) -> None:
    click.echo(f"covgate: warning: {message}", err=True)
