"""The report formats. Each renders an `Outcome` to a string: no I/O, no decisions."""

from __future__ import annotations

import importlib
from typing import Protocol

from covgate.model import Outcome


class Renderer(Protocol):
    def __call__(
        self, outcome: Outcome, *, color: bool = ..., width: int | None = ..., verbosity: int = ...
    ) -> str: ...


# Imported on first use, so that `covgate --help` never loads rich.
FORMATS: dict[str, str] = {
    "terminal": "covgate.report.terminal",
    "json": "covgate.report.json",
    "markdown": "covgate.report.markdown",
    "github": "covgate.report.github",
}


def renderer(name: str) -> Renderer:
    module = importlib.import_module(FORMATS[name])
    render: Renderer = module.render
    return render
