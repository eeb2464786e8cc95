"""The one table of exit codes, and the exceptions that carry them."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """covgate's exit codes (the README documents the same table)."""

    OK = 0
    TESTS_FAILED = 1
    THRESHOLD_MISSED = 2
    USAGE = 3
    NOTHING_TO_JUDGE = 4
    INTERNAL = 5
    INTERRUPTED = 130


class CovgateError(Exception):
    """An expected failure: printed as one line, without a traceback."""

    exit_code: ExitCode = ExitCode.USAGE


class ConfigError(CovgateError):
    """The configuration or the command line is wrong."""

    exit_code = ExitCode.USAGE


class DataError(CovgateError):
    """A named input is missing, unreadable, corrupt or of an unknown format."""

    exit_code = ExitCode.USAGE


class NothingToJudge(CovgateError):
    """There is nothing to gate: no data, no measured file, a class without files."""

    exit_code = ExitCode.NOTHING_TO_JUDGE
