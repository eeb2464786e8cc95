"""Installing covgate, with its real dependencies, into a fresh environment leaves a strict
project's own pytest as it was, and `covgate run` passes there.

This installs from the package index (pip's cache makes repeats faster); when nothing can be
installed the test is skipped, saying why.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from covgate.errors import ExitCode
from tests.helpers import clean_env, write_files

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 600

STRICT_PROJECT = {
    "pyproject.toml": """\
        [tool.pytest.ini_options]
        testpaths = ["tests"]
        filterwarnings = ["error"]
        addopts = ["-p", "no:cacheprovider"]

        [tool.coverage.run]
        source = ["shop"]
        branch = true

        [tool.covgate]
        workers = 0

        [tool.covgate.overall]
        min = 80
        """,
    "shop/__init__.py": "",
    "shop/prices.py": """\
        def total(prices: list[int], discount: int = 0) -> int:
            amount = sum(prices)
            if discount:
                amount -= amount * discount // 100
            return amount
        """,
    "tests/test_prices.py": """\
        import pytest

        from shop.prices import total


        def test_total() -> None:
            assert total([1, 2, 3]) == 6


        def test_discount() -> None:
            assert total([100], discount=10) == 90


        @pytest.mark.xfail(reason="negative prices are not refused yet", strict=True)
        def test_negative() -> None:
            with pytest.raises(ValueError):
                total([-1])
        """,
}


def pip(python: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """This environment's pip, installing into `python`'s environment."""
    return subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-compile",
         "--disable-pip-version-check", *args],
        capture_output=True, text=True, check=False, timeout=TIMEOUT, env=clean_env(),
    )  # fmt: skip


def plain_pytest(python: Path, project: Path) -> str:
    """pytest's output without its timings: what must not change when covgate is installed."""
    result = subprocess.run(
        [str(python), "-m", "pytest"],
        cwd=project, capture_output=True, text=True, check=False, timeout=TIMEOUT,
        env=clean_env(),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return re.sub(r" in [0-9.]+s", " in Ns", result.stdout + result.stderr)


def test_installed_covgate_leaves_a_strict_project_s_pytest_alone(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=TIMEOUT)  # fmt: skip
    python = venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    project = tmp_path / "project"
    write_files(project, STRICT_PROJECT)

    # setuptools builds covgate in this environment (no isolated build environment: faster);
    # it brings no pytest plugin.
    first = pip(python, "pytest", "setuptools>=77")
    if first.returncode != 0:
        pytest.skip(f"cannot install packages here (no package index?): {first.stderr[-300:]}")
    without = plain_pytest(python, project)
    assert "2 passed, 1 xfailed in Ns" in without

    installed = pip(python, "--no-build-isolation", str(ROOT))
    assert installed.returncode == 0, installed.stderr
    with_covgate = plain_pytest(python, project)
    # The same session: the same counts, no new warning; only the plugin list says xdist.
    assert "warning" not in with_covgate.lower()
    assert _without_plugins_line(with_covgate) == _without_plugins_line(without)
    found = subprocess.run(
        [str(python), "-c", "import importlib.util as u; print(u.find_spec('pytest_asyncio'))"],
        capture_output=True, text=True, check=True, timeout=TIMEOUT,
    )  # fmt: skip
    assert found.stdout.strip() == "None"  # not a dependency of covgate

    covgate = venv / ("Scripts/covgate.exe" if sys.platform == "win32" else "bin/covgate")
    result = subprocess.run(
        [str(covgate), "run"], cwd=project, capture_output=True, text=True, check=False,
        timeout=TIMEOUT, env=clean_env(),
    )  # fmt: skip
    assert result.returncode == ExitCode.OK, result.stdout + result.stderr
    assert "tests: 2 passed, 0 failed, 0 errors, 0 skipped, 1 xfailed in " in result.stdout
    assert result.stdout.splitlines()[-1] == "covgate: passed, every threshold met"


def _without_plugins_line(output: str) -> str:
    return "\n".join(line for line in output.splitlines() if not line.startswith("plugins:"))
