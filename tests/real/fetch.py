"""Real projects covgate did not write: their sdists from PyPI, and a Python environment to
run their own test suites in, as a user would have it.

    python tests/real/fetch.py          # download and prepare everything (idempotent)

Everything goes to the cache folder (`tests/real/.cache`, git-ignored; `COVGATE_REAL_CACHE`
names another):
- `sdists/`: the pinned source distributions, as `pip download --no-binary :all:` fetches them;
- `projects/NAME-VERSION/`: each unpacked, never modified (tests copy it before running);
- `venv-HASH/`: a virtual environment with covgate's runtime dependencies (read from
  pyproject.toml, nothing else of covgate's) and the projects' own test dependencies. HASH
  covers the Python version and the requirement list, so a changed dependency builds anew.
  `install_covgate` copies this checkout's `covgate` package into its site-packages before
  each use, as an installation puts it there (coverage.py leaves site-packages unmeasured; a
  link or a .pth to the checkout would make covgate's own modules part of the measurement).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent


@dataclass(frozen=True)
class Project:
    name: str
    version: str
    folder: str
    """The folder the sdist unpacks to."""
    pythonpath: str = ""
    """Where the package is imported from, relative to the project (a src layout: 'src')."""
    requires: tuple[str, ...] = ()
    """What its own test suite needs besides pytest."""
    workers: int = 0
    """covgate's -n for this project: one of them runs under pytest-xdist."""
    strict_warnings: bool = False
    """Its pytest configuration turns warnings into errors (`filterwarnings = error`)."""


PROJECTS = (
    # src layout, `filterwarnings = ["error"]`, its own coverage.py source setting.
    Project("markupsafe", "3.0.2", "markupsafe-3.0.2", pythonpath="src", strict_warnings=True),
    # one module and its test module side by side, no coverage.py configuration at all.
    Project("six", "1.17.0", "six-1.17.0", workers=2),
    # tests inside the package, coverage.py configured in setup.cfg (source and omit).
    Project("toolz", "1.0.0", "toolz-1.0.0"),
)


def cache_folder() -> Path:
    return Path(os.environ.get("COVGATE_REAL_CACHE") or HERE / ".cache")


def project_folder(project: Project, cache: Path | None = None) -> Path:
    return (cache or cache_folder()) / "projects" / project.folder


def requirements() -> list[str]:
    """covgate's runtime dependencies, then every project's test dependencies."""
    document = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    found = list(document["project"]["dependencies"])
    for project in PROJECTS:
        found.extend(r for r in project.requires if r not in found)
    return found


def venv_folder(cache: Path | None = None) -> Path:
    key = "\n".join([sys.version, *requirements()])
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return (cache or cache_folder()) / f"venv-{digest}"


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def fetch_project(project: Project, cache: Path) -> Path:
    target = project_folder(project, cache)
    if target.is_dir():
        return target
    sdists = cache / "sdists"
    sdists.mkdir(parents=True, exist_ok=True)
    archive = _sdist(project, sdists)
    if archive is None:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             "--no-binary", ":all:", "--dest", str(sdists), f"{project.name}=={project.version}"],
            check=True,
        )  # fmt: skip
        archive = _sdist(project, sdists)
        if archive is None:
            raise RuntimeError(f"pip downloaded no sdist of {project.name} {project.version}")
    unpacked = cache / "projects" / f".{project.folder}.partial"
    shutil.rmtree(unpacked, ignore_errors=True)
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):  # Python 3.10.12+, 3.11.4+
            tar.extractall(unpacked, filter="data")
        else:  # a pinned sdist from PyPI
            tar.extractall(unpacked)
    os.replace(unpacked / project.folder, target)
    shutil.rmtree(unpacked, ignore_errors=True)
    return target


def _sdist(project: Project, folder: Path) -> Path | None:
    names = {project.name, project.name.replace("-", "_"), project.name.replace("_", "-")}
    for name in names:
        for candidate in folder.glob(f"{name}-{project.version}.tar.gz"):
            return candidate
    for candidate in folder.glob(f"*-{project.version}.tar.gz"):
        if candidate.name.lower().startswith(project.name.lower().replace("-", "_")):
            return candidate
    return None


def make_venv(cache: Path) -> Path:
    venv = venv_folder(cache)
    if venv_python(venv).exists() and (venv / "covgate-ready").exists():
        return venv
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv_python(venv))
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", *requirements()],
        check=True,
    )
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    (venv / "covgate-ready").write_text(purelib + "\n", encoding="utf-8")
    return venv


def install_covgate(venv: Path) -> None:
    """This checkout's covgate package, copied into the environment's site-packages."""
    purelib = Path((venv / "covgate-ready").read_text(encoding="utf-8").strip())
    target = purelib / "covgate"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(REPO / "covgate", target, ignore=shutil.ignore_patterns("__pycache__"))


def fetch(cache: Path | None = None) -> Path:
    """Everything the real-project tests need; returns the virtual environment."""
    cache = cache or cache_folder()
    for project in PROJECTS:
        fetch_project(project, cache)
    venv = make_venv(cache)
    install_covgate(venv)
    return venv


def ready(cache: Path | None = None) -> bool:
    """Whether the cache already holds every project and the environment."""
    cache = cache or cache_folder()
    venv = venv_folder(cache)
    projects = all(project_folder(p, cache).is_dir() for p in PROJECTS)
    return projects and (venv / "covgate-ready").exists()


if __name__ == "__main__":
    print(fetch())
