"""Small real projects, measured by real pytest and coverage.py, for tests/test_sources.py.

Every function here writes files or starts `sys.executable` in a subprocess; nothing is mocked.
The subprocesses get an environment without COVERAGE_* (and pytest-cov's COV_CORE_*) variables,
so that covgate's own suite running under coverage does not leak into the projects it builds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from covgate.model import Counts, FileCoverage

# --- the branchy project ----------------------------------------------------------------------

PYPROJECT = """\
[tool.coverage.run]
source = ["app"]

[tool.coverage.report]
omit = ["app/legacy.py"]
exclude_also = ["if DEBUG:", "def __repr__"]
"""

APP: dict[str, str] = {
    "app/__init__.py": "",
    "app/legacy.py": """\
        def old_total(values):
            total = 0
            for value in values:
                total += value
            return total
        """,
    "app/auth/__init__.py": "",
    "app/auth/tokens.py": """\
        import hashlib
        import hmac

        SECRET = b"not-a-real-secret"
        DEBUG = False


        def sign(payload):
            digest = hmac.new(SECRET, payload.encode(), hashlib.sha256).hexdigest()
            return f"{payload}.{digest}"


        def issue(user, now, ttl=60):
            return sign(f"{user}:{now + ttl}")


        def verify(token, now):
            payload, _, digest = token.rpartition(".")
            if not payload:
                return None
            expected = hmac.new(SECRET, payload.encode(), hashlib.sha256).hexdigest()
            if not hmac.compare_digest(digest, expected):
                return None
            user, _, expires = payload.partition(":")
            if DEBUG:
                print("verifying", user)
                print("expires", expires)
            if int(expires) < now:
                return None
            return user


        def revoke_all(tokens):
            count = 0
            for token in tokens:
                if token:
                    count += 1
            return count
        """,
    "app/services/__init__.py": "",
    "app/services/orders.py": """\
        from app.utils.text import slugify


        class Order:
            def __init__(self, title, items):
                self.title = title
                self.items = list(items)

            def __repr__(self):
                return f"Order({self.title!r}, {self.items!r})"

            def total(self, discount=0):
                amount = 0
                for price, quantity in self.items:
                    amount += price * quantity
                if discount:
                    amount -= amount * discount // 100
                return amount

            def reference(self):
                if not self.items:
                    return "empty"
                return slugify(self.title)

            def largest(self):
                best = None
                while self.items:
                    best = max(price for price, _ in self.items)
                    break
                return best

            def refund(self, amount):
                if amount > self.total():
                    raise ValueError("refund larger than the order")
                return -amount
        """,
    "app/utils/__init__.py": "",
    "app/utils/text.py": """\
        def slugify(text):
            words = []
            for word in text.lower().split():
                cleaned = "".join(c for c in word if c.isalnum())
                if cleaned:
                    words.append(cleaned)
                else:
                    continue
            return "-".join(words)


        def truncate(text, width):
            if len(text) <= width:
                return text
            return text[: width - 1] + "..."
        """,
    "app/utils/unused.py": """\
        def never_imported(value):
            if value:
                return 1
            return 2
        """,
}

TESTS: dict[str, str] = {
    "tests/test_auth.py": """\
        from app import legacy
        from app.auth import tokens


        def test_round_trip():
            token = tokens.issue("ada", now=100)
            assert tokens.verify(token, now=120) == "ada"


        def test_expired_and_forged():
            assert tokens.verify(tokens.issue("ada", now=0, ttl=1), now=50) is None
            assert tokens.verify("ada:99.forged", now=0) is None


        def test_legacy():
            assert legacy.old_total([1, 2]) == 3
        """,
    "tests/test_services.py": """\
        from app.services.orders import Order
        from app.utils.text import slugify


        def test_total_with_discount():
            assert Order("x", [(100, 2)]).total(discount=10) == 180


        def test_reference():
            assert Order("Big Order!", [(1, 1)]).reference() == "big-order"
            assert Order("none", []).reference() == "empty"


        def test_largest():
            assert Order("x", [(3, 1), (5, 1)]).largest() == 5


        def test_slugify_skips_punctuation():
            assert slugify("a ! b") == "a-b"
        """,
}

# The partial branch: `if discount:` is only ever true, so its jump to `return` is never taken.
PARTIAL_LINE = ("app/services/orders.py", 16)
# Excluded by `exclude_also`: the `if DEBUG:` block and the `__repr__` method.
EXCLUDED_LINES = {"app/auth/tokens.py": (25, 26, 27), "app/services/orders.py": (9, 10)}
OMITTED = "app/legacy.py"
NEVER_IMPORTED = "app/utils/unused.py"


# --- running things ---------------------------------------------------------------------------


def clean_env() -> dict[str, str]:
    """The current environment without anything that would measure or reconfigure the child."""
    drop = ("COVERAGE_", "COV_CORE_", "PYTEST_")
    return {key: value for key, value in os.environ.items() if not key.startswith(drop)}


def run_python(args: Sequence[str], cwd: Path) -> str:
    """Run `python ARGS` in `cwd`; fail with the child's output when it fails."""
    result = subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"python {' '.join(args)} exited {result.returncode} in {cwd}\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result.stdout


def coverage(cwd: Path, *args: str) -> str:
    return run_python(["-m", "coverage", *args], cwd)


def measure(root: Path, *pytest_args: str, parallel: bool = False) -> None:
    """`coverage run --branch -m pytest -q` in `root` (with `--parallel-mode` if asked)."""
    mode = ["--parallel-mode"] if parallel else []
    pytest = ["-m", "pytest", "-q", "-p", "no:cacheprovider", *pytest_args]
    coverage(root, "run", "--branch", *mode, *pytest)


def measure_in_two_runs(root: Path) -> tuple[Path, Path]:
    """Two `--parallel-mode` runs: the auth tests, then the others. Their data files, in order."""
    measure(root, "tests/test_auth.py", parallel=True)
    (first,) = root.glob(".coverage.*")
    measure(root, "tests/test_services.py", parallel=True)
    (second,) = set(root.glob(".coverage.*")) - {first}
    return first, second


def write_files(root: Path, files: Mapping[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def write_project(root: Path, pyproject: str = PYPROJECT) -> Path:
    """The branchy project (package `app` with auth/, services/, utils/) and its tests."""
    write_files(root, {"pyproject.toml": pyproject, **APP, **TESTS})
    return root


@dataclass(frozen=True)
class Reports:
    """One measurement in every format covgate reads, all in the project root."""

    root: Path
    data: Path
    json: Path
    xml: Path
    lcov: Path

    def report(self, kind: str) -> Path:
        """The file of one kind: 'data', 'json', 'xml' or 'lcov'."""
        kinds = {"data": self.data, "json": self.json, "xml": self.xml, "lcov": self.lcov}
        return kinds[kind]

    def coverage_json(self) -> dict[str, Any]:
        return read_json(self.json)


def read_json(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def write_reports(root: Path) -> Reports:
    """coverage.py's JSON, Cobertura XML and LCOV reports of `root/.coverage`."""
    reports = Reports(
        root=root,
        data=root / ".coverage",
        json=root / "coverage.json",
        xml=root / "coverage.xml",
        lcov=root / "coverage.lcov",
    )
    coverage(root, "json", "-q", "-o", str(reports.json))
    coverage(root, "xml", "-q", "-o", str(reports.xml))
    coverage(root, "lcov", "-q", "-o", str(reports.lcov))
    return reports


def expected_files(document: dict[str, Any]) -> dict[str, FileCoverage]:
    """coverage.py's own per-file numbers and line sets, from its JSON report, as covgate's
    values (built field by field, not through covgate's own derivation)."""
    expected = {}
    for name, entry in document["files"].items():
        summary = entry["summary"]
        missing = tuple(entry["missing_lines"])
        arcs = sorted((source, target) for source, target in entry["missing_branches"])
        every = [*entry["executed_branches"], *entry["missing_branches"]]
        partial = sorted({source for source, _ in arcs} - set(missing))
        expected[name] = FileCoverage(
            path=name,
            counts=Counts(
                statements=summary["num_statements"],
                missing_statements=summary["missing_lines"],
                branches=summary["num_branches"],
                missing_branches=summary["missing_branches"],
                partial_branches=summary["num_partial_branches"],
            ),
            missing_lines=missing,
            partial_lines=tuple(partial),
            statements=tuple(sorted([*entry["executed_lines"], *missing])),
            branch_exits=tuple(sorted(Counter(source for source, _ in every).items())),
            missing_exits=tuple(sorted(Counter(source for source, _ in arcs).items())),
            missing_arcs=tuple((source, target) for source, target in arcs),
        )
    return expected


def expected_totals(document: dict[str, Any]) -> Counts:
    totals = document["totals"]
    return Counts(
        statements=totals["num_statements"],
        missing_statements=totals["missing_lines"],
        branches=totals["num_branches"],
        missing_branches=totals["missing_branches"],
        partial_branches=totals["num_partial_branches"],
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    """The name and bytes of every file directly in `folder`."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


# --- a large project (for the worker-process path) --------------------------------------------

MODULE = """\
def classify_{n}(values, limit={n}):
    small, large = [], []
    for value in values:
        if value < limit:
            small.append(value)
        elif value == limit:
            continue
        else:
            large.append(value)
    if not small:
        return None
    return len(small), len(large)


def unused_{n}(flag):
    if flag:
        return "yes"
    return "no"
"""


def write_large_project(root: Path, modules: int) -> Path:
    """`modules` small modules under `big/`, each half-covered by one generated test."""
    files = {"pyproject.toml": '[tool.coverage.run]\nsource = ["big"]\n', "big/__init__.py": ""}
    calls = []
    for n in range(modules):
        files[f"big/mod_{n:03d}.py"] = MODULE.format(n=n)
        values = "[0, 1000]" if n % 2 else "[1000]"
        calls.append(f"    big.mod_{n:03d}.classify_{n}({values})")
    imports = "\n".join(f"import big.mod_{n:03d}" for n in range(modules))
    files["tests/test_big.py"] = f"{imports}\n\n\ndef test_all():\n" + "\n".join(calls) + "\n"
    write_files(root, files)
    return root
