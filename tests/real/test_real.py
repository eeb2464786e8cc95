"""covgate on real projects it did not write: `covgate run` against a plain
`coverage run --branch -m pytest` of the same suite, count for count, file by file.

The projects come from PyPI as pinned sdists (see fetch.py); without them and without PyPI
these tests are skipped, saying so.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import clean_env
from tests.real import fetch
from tests.real.fetch import PROJECTS, Project

pytestmark = pytest.mark.slow

COUNTS = ("statements", "missing_statements", "branches", "missing_branches", "partial_branches")
OUTCOMES = ("passed", "failed", "errors", "skipped", "xfailed", "xpassed")


@pytest.fixture(scope="session")
def venv() -> Path:
    if not fetch.ready():
        try:
            return fetch.fetch()
        except (subprocess.CalledProcessError, OSError, RuntimeError) as exc:
            pytest.skip(
                f"real projects: the cache {fetch.cache_folder()} is incomplete and fetching "
                f"failed ({exc}): is PyPI reachable? run `python tests/real/fetch.py` to retry"
            )
    venv = fetch.venv_folder()
    fetch.install_covgate(venv)
    return venv


def environment(project: Project) -> dict[str, str]:
    env = clean_env()
    for name in ("PYTHONPATH", "PYTEST_ADDOPTS", "PYTEST_PLUGINS", "COVGATE_REAL_CACHE"):
        env.pop(name, None)
    if project.pythonpath:
        env["PYTHONPATH"] = project.pythonpath
    return env


def plain_run(python: Path, root: Path, env: dict[str, str]) -> tuple[dict[str, Any], str]:
    """`coverage run --branch -m pytest` and `coverage json`: the files and pytest's output."""
    done = subprocess.run(
        [str(python), "-m", "coverage", "run", "--branch", "-m", "pytest"],
        cwd=root, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    subprocess.run(
        [str(python), "-m", "coverage", "json", "-q", "-o", "plain.json"],
        cwd=root, env=env, check=True,
    )  # fmt: skip
    document = json.loads((root / "plain.json").read_text())
    files = {
        Path(name).as_posix(): {
            "statements": data["summary"]["num_statements"],
            "missing_statements": data["summary"]["missing_lines"],
            "branches": data["summary"]["num_branches"],
            "missing_branches": data["summary"]["missing_branches"],
            "partial_branches": data["summary"]["num_partial_branches"],
            "missing_lines": sorted(data["missing_lines"]),
        }
        for name, data in document["files"].items()
    }
    return files, done.stdout


def pytest_counts(output: str) -> dict[str, int]:
    """The counts of pytest's closing line ('198 passed, 2 skipped, 1 warning in 4.99s')."""
    closing = [line for line in output.splitlines() if re.search(r"\d+ (passed|failed)", line)]
    assert closing, output[-2000:]
    found = dict.fromkeys(OUTCOMES, 0)
    for count, word in re.findall(r"(\d+) (\w+)", closing[-1]):
        key = "errors" if word in ("error", "errors") else word
        if key in found:
            found[key] = int(count)
    return found


def covgate_run(
    python: Path, root: Path, env: dict[str, str], workers: int
) -> tuple[dict[str, Any], subprocess.CompletedProcess[str]]:
    done = subprocess.run(
        [str(python), "-m", "covgate", "run", "-n", str(workers), "--report", "json:covgate.json"],
        cwd=root, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode in (0, 2), done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads((root / "covgate.json").read_text()), done


def per_file(report: dict[str, Any]) -> dict[str, Any]:
    return {
        f["path"]: {**{key: f[key] for key in COUNTS}, "missing_lines": f["missing_lines"]}
        for f in report["files"]
    }


@pytest.mark.parametrize("project", PROJECTS, ids=[p.name for p in PROJECTS])
def test_covgate_run_counts_as_coverage_py_does(
    venv: Path, project: Project, tmp_path: Path
) -> None:
    root = tmp_path / project.folder
    shutil.copytree(fetch.project_folder(project), root)
    python = fetch.venv_python(venv)
    env = environment(project)

    plain_files, plain_output = plain_run(python, root, env)
    (root / ".coverage").unlink()
    report, done = covgate_run(python, root, env, project.workers)

    assert per_file(report) == plain_files
    assert {key: report["tests"][key] for key in OUTCOMES} == pytest_counts(plain_output)
    assert done.stderr == "" or "Traceback" not in done.stderr
    # The gate after the run wrote the analysis cache; a check of the data it left hits it.
    assert sorted((root / ".covgate" / "analysis").glob("*.json"))
    warm = subprocess.run(
        [str(python), "-m", "covgate", "check", "--report", "json:warm.json"],
        cwd=root, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert warm.returncode in (0, 2), warm.stdout[-3000:] + warm.stderr[-3000:]
    assert per_file(json.loads((root / "warm.json").read_text())) == plain_files
    overall = report["overall"]
    print(
        f"{project.name} {project.version}: {overall['files']} files, "
        f"{overall['statements']} statements, {overall['branches']} branches, "
        f"{report['tests']['total']} tests, workers {project.workers}"
        f"{', filterwarnings = error' if project.strict_warnings else ''}: equal"
    )


def test_the_cache_folder_can_be_moved(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("COVGATE_REAL_CACHE", str(tmp_path))
    assert fetch.cache_folder() == tmp_path
    assert not fetch.ready()
    assert fetch.venv_folder().parent == tmp_path
    monkeypatch.delenv("COVGATE_REAL_CACHE")
    assert fetch.cache_folder() == Path(fetch.__file__).resolve().parent / ".cache"
    assert os.path.basename(fetch.venv_folder()).startswith("venv-")
