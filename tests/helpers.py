"""Small real projects for end-to-end tests: written to a folder, measured by coverage.py."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest

AUTH = """\
def check(token: str) -> str:
    if not token:
        return "empty"
    if token.startswith("x"):
        return "bad"
    return "ok"


def rotate(keys: list[str]) -> list[str]:
    out = []
    for key in keys:
        if key:
            out.append(key[::-1])
    return out
"""

UTILS = """\
def slug(text: str) -> str:
    return text.lower().replace(" ", "-")


def clamp(value: int, low: int, high: int) -> int:
    if value < low:
        return low
    if value > high:
        return high
    return value
"""

MAIN = """\
def main(flag: bool) -> int:
    if flag:
        return 1
    return 2
"""

TESTS = """\
from app.auth.tokens import check, rotate
from app.main import main
from app.utils.text import clamp, slug


def test_auth() -> None:
    assert check("") == "empty"
    assert check("abc") == "ok"
    assert rotate(["ab", ""]) == ["ba"]


def test_utils() -> None:
    assert slug("A b") == "a-b"
    assert clamp(5, 0, 10) == 5
    assert clamp(-1, 0, 10) == 0


def test_main() -> None:
    assert main(True) == 1
"""

# A serial policy with one class: small_project passes it (and misses critical=100).
POLICY = """
[tool.covgate]
tests = ["tests"]
workers = 0

[tool.covgate.overall]
min = 50

[[tool.covgate.classes]]
name = "critical"
paths = ["**/auth/**"]
min = 80
"""

COVERAGE_CONFIG = """\
[tool.coverage.run]
source = ["app"]
branch = true
"""


def write_files(root: Path, files: Mapping[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def small_project(root: Path, covgate: str = "", *, relative_files: bool = False) -> Path:
    """A package with auth, utils and unclassified code, partly covered by its tests.

    With `relative_files`, the data records paths relative to the root, so a copy of the
    measured folder can be checked elsewhere.
    """
    coverage = COVERAGE_CONFIG + ("relative_files = true\n" if relative_files else "")
    write_files(
        root,
        {
            "app/__init__.py": "",
            "app/auth/__init__.py": "",
            "app/auth/tokens.py": AUTH,
            "app/utils/__init__.py": "",
            "app/utils/text.py": UTILS,
            "app/main.py": MAIN,
            "tests/test_app.py": TESTS,
            "pyproject.toml": coverage + covgate,
        },
    )
    return root


def clean_env() -> dict[str, str]:
    """The environment without anything that would steer coverage.py or covgate (or tell a
    child pytest that it is an xdist worker, when this suite runs with -n)."""
    steering = ("COVERAGE_", "COV_CORE", "PYTEST_XDIST_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(steering)}
    env.pop("GITHUB_ACTIONS", None)
    env["NO_COLOR"] = "1"
    return env


def measure(root: Path, *args: str) -> None:
    """Run the project's tests under coverage.py: `.coverage` lands in `root`."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "coverage",
            "run",
            *args,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        cwd=root,
        env=clean_env(),
        check=True,
        capture_output=True,
    )


def coverage_report(root: Path, kind: str, *args: str) -> None:
    """`coverage json|xml|lcov` of the project's data."""
    subprocess.run(
        [sys.executable, "-m", "coverage", kind, "-q", *args],
        cwd=root,
        env=clean_env(),
        check=True,
        capture_output=True,
    )


# Test files named as some projects name them: the module does not start with "test".
OUTCOMES = {
    "tests/auth_test.py": """\
        import pytest

        from app.auth.tokens import check


        @pytest.mark.xfail(reason="known bug")
        def test_known_bug() -> None:
            assert check("x") == "ok"


        @pytest.mark.xfail(reason="fixed already?")
        def test_fixed() -> None:
            assert check("") == "empty"


        @pytest.mark.skip(reason="later")
        def test_later() -> None:
            pass


        class TestTokens:
            @pytest.mark.parametrize("token", ["a::b", "c d"])
            def test_ok(self, token: str) -> None:
                assert check(token) == "ok"
        """,
}
PYTEST_FILES = '\n[tool.pytest.ini_options]\npython_files = ["test_*.py", "*_test.py"]\n'
NODE_IDS = {
    "tests/auth_test.py::test_known_bug",
    "tests/auth_test.py::test_fixed",
    "tests/auth_test.py::test_later",
    "tests/auth_test.py::TestTokens::test_ok[a::b]",
    "tests/auth_test.py::TestTokens::test_ok[c d]",
    "tests/test_app.py::test_auth",
    "tests/test_app.py::test_utils",
    "tests/test_app.py::test_main",
}


def reported_tests(root: Path) -> dict[str, object]:
    """The `tests` object of the project's report.json, without its timings."""
    tests = json.loads((root / "report.json").read_text())["tests"]
    assert isinstance(tests, dict)
    return {k: v for k, v in tests.items() if k not in ("duration", "slowest")}


# What small_project's tests and OUTCOMES report, as pytest counts them.
EXPECTED_TESTS: dict[str, object] = {
    "passed": 5,
    "failed": 0,
    "errors": 0,
    "skipped": 1,
    "xfailed": 1,
    "xpassed": 1,
    "total": 8,
    "collected": 8,
    "ended_early": None,
    "failures": [],
}


# Variables that would change covgate's output (colour, GitHub mode) or coverage.py's data file.
OUTPUT_ENV = ("NO_COLOR", "FORCE_COLOR", "GITHUB_ACTIONS", "COVERAGE_FILE", "COVERAGE_RCFILE")


def plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests' own environment never colours covgate's output or moves its data."""
    for name in OUTPUT_ENV:
        monkeypatch.delenv(name, raising=False)


def copy_project(
    measured: Path, target: Path, monkeypatch: pytest.MonkeyPatch, *, cwd: Path | None = None
) -> Path:
    """A copy of a measured project at `target`; the working folder is `cwd` (else the copy)."""
    shutil.copytree(measured, target)
    monkeypatch.chdir(cwd or target)
    plain_environment(monkeypatch)
    return target


def covgate_main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """covgate's exit code, standard output and standard error, run in this process."""
    from covgate.cli import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


GOLD = Path(__file__).parent / "gold"


def golden(name: str, text: str) -> None:
    """Compare with tests/gold/NAME; COVGATE_UPDATE_GOLD=1 rewrites the file instead."""
    path = GOLD / name
    if os.environ.get("COVGATE_UPDATE_GOLD"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")
