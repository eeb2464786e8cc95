"""covgate.paths: every way a path becomes a project path, as tables."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from covgate import paths
from covgate.errors import ConfigError
from covgate.paths import Resolver, UserPath

FILES = ("app/auth/tokens.py", "app/main.py", "src/pkg/mod.py")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A project root (`real/proj`) with a few files, and a symlink (`link`) to it."""
    root = tmp_path / "real" / "proj"
    for name in FILES:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x = 1\n", encoding="utf-8")
    (tmp_path / "link").symlink_to(root, target_is_directory=True)
    (tmp_path / "elsewhere").mkdir()
    return tmp_path


RELATIVE = [
    # (name as the data or report holds it, base folder, expected project path)
    pytest.param("app/main.py", None, "app/main.py", id="relative"),
    pytest.param("./app/../app/main.py", None, "app/main.py", id="dots"),
    pytest.param("app\\auth\\tokens.py", None, "app/auth/tokens.py", id="backslashes"),
    pytest.param("{root}/app/main.py", None, "app/main.py", id="absolute"),
    pytest.param("{link}/app/main.py", None, "app/main.py", id="through-a-symlinked-root"),
    pytest.param("{link}/app/new.py", None, "app/new.py", id="symlinked-root-file-not-on-disk"),
    pytest.param("{tmp}/elsewhere/x.py", None, "{tmp}/elsewhere/x.py", id="outside"),
    pytest.param("../outside.py", None, "{tmp}/real/outside.py", id="relative-outside"),
    pytest.param("pkg/mod.py", "src", "src/pkg/mod.py", id="relative-base"),
    pytest.param("pkg/mod.py", "{root}/src", "src/pkg/mod.py", id="absolute-base"),
    pytest.param("pkg/mod.py", "{link}/src/", "src/pkg/mod.py", id="symlinked-base"),
    pytest.param("{root}/app/main.py", "src", "app/main.py", id="absolute-name-ignores-base"),
    pytest.param("C:\\proj\\app\\auth\\tokens.py", None, "app/auth/tokens.py", id="windows"),
    pytest.param("c:/ci/proj/app/main.py", None, "app/main.py", id="windows-slashes"),
    pytest.param("D:\\a\\b\\nowhere.py", None, "D:/a/b/nowhere.py", id="windows-not-found"),
    pytest.param("\\\\server\\share\\app\\main.py", None, "app/main.py", id="windows-unc"),
    pytest.param("pkg\\mod.py", "C:\\ci\\src", "src/pkg/mod.py", id="windows-base"),
]


def _fill(text: str | None, tree: Path) -> str | None:
    if text is None:
        return None
    root = tree / "real" / "proj"
    return text.format(root=root, link=tree / "link", tmp=tree).replace(os.sep, "/")


@pytest.mark.skipif(os.name == "nt", reason="Windows names are native there")
@pytest.mark.parametrize(("name", "base", "expected"), RELATIVE)
def test_relative(tree: Path, name: str, base: str | None, expected: str) -> None:
    resolver = Resolver(tree / "real" / "proj")

    assert resolver.relative(_fill(name, tree) or "", _fill(base, tree)) == _fill(expected, tree)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("C:\\build\\proj\\src\\pkg\\mod.py", "src/pkg/mod.py", id="windows"),
        pytest.param("/ci/checkout/app/main.py", "app/main.py", id="posix"),
        pytest.param("/ci/checkout/app/gone.py", "/ci/checkout/app/gone.py", id="mapped-missing"),
        pytest.param("/other/app/main.py", "/other/app/main.py", id="no-rule"),
    ],
)
def test_paths_setting_maps_report_names(tree: Path, name: str, expected: str) -> None:
    root = tree / "real" / "proj"
    aliases = (("src", "C:\\build\\proj\\src"), (".", "/ci/checkout"))
    resolver = Resolver(root, aliases)

    assert resolver.relative(name) == expected


def test_a_malformed_paths_rule_is_a_config_error(tree: Path) -> None:
    resolver = Resolver(tree / "real" / "proj", (("src", "/ci/*"),))

    with pytest.raises(ConfigError, match=r"\[paths\] '/ci/\*' -> 'src'"):
        resolver.relative("/ci/x/src/a.py")


@pytest.mark.parametrize(
    ("bases", "expected"),
    [
        pytest.param([], "pkg/mod.py", id="no-source"),
        pytest.param(["/ci/elsewhere", "src"], "src/pkg/mod.py", id="second-exists"),
        pytest.param(["lib", "/ci/elsewhere"], "lib/pkg/mod.py", id="none-exists-first"),
    ],
)
def test_locate_takes_the_first_source_where_the_file_exists(
    tree: Path, bases: list[str], expected: str
) -> None:
    assert Resolver(tree / "real" / "proj").locate("pkg/mod.py", bases) == expected


@pytest.mark.parametrize(
    ("path", "outside"),
    [
        ("app/main.py", False),
        ("/abs/app.py", True),
        ("C:/proj/app.py", True),
        ("c:\\proj\\app.py", True),
        ("//server/share/a.py", True),
        ("C:relative.py", False),
        ("app:x.py", False),
    ],
)
def test_is_outside(path: str, outside: bool) -> None:
    assert paths.is_outside(path) is outside


def test_data_files_are_taken_from_the_working_folder_and_collapsed(tree: Path) -> None:
    root = tree / "real" / "proj"
    given = [
        Path("proj/app/main.py"),
        Path("proj/app/../app/main.py"),
        Path("../link/app/main.py"),
        root / "app" / "main.py",
        Path("proj/app/auth/tokens.py"),
        Path("proj/missing.json"),
        Path("proj/missing.json"),
    ]

    found = paths.data_files(given, tree / "real")

    assert found == [root / "app" / "main.py", root / "app/auth/tokens.py", root / "missing.json"]


@pytest.mark.parametrize(
    ("raw", "cwd", "expected"),
    [
        pytest.param("app/main.py", "real/proj", UserPath("app/main.py", True, False), id="here"),
        pytest.param("main.py", "real/proj/app", UserPath("app/main.py", True, False), id="below"),
        pytest.param("proj/app/x.py", "real", UserPath("app/x.py", False, False), id="new-file"),
        pytest.param("app/main.py", "link", UserPath("app/main.py", True, False), id="symlink"),
        pytest.param(
            "../elsewhere", "real/proj/..", UserPath("{tmp}/elsewhere", True, True), id="outside"
        ),
    ],
)
def test_user_path(tree: Path, raw: str, cwd: str, expected: UserPath) -> None:
    got = paths.user_path(raw, tree / "real" / "proj", tree / cwd)

    assert got == UserPath(_fill(expected.path, tree) or "", expected.exists, expected.outside)


def test_show(tree: Path) -> None:
    root = tree / "real" / "proj"

    assert paths.show(root / "app" / "main.py", root) == "app/main.py"
    assert paths.show(tree / "link" / ".coverage", root) == ".coverage"
    assert paths.show(tree / "elsewhere" / "x", root) == str(tree / "elsewhere" / "x")
