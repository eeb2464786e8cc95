from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pytest

from covgate.cli import main
from covgate.config import load_config
from covgate.errors import ExitCode
from covgate.init import Proposal, lowered, pytest_testpaths, without_covgate_tables
from tests.helpers import measure, small_project, write_files

LAYOUT = {
    "src/shop/__init__.py": "",
    "src/shop/billing/invoices.py": "x = 1\n",
    "src/shop/auth.py": "x = 1\n",
    "src/shop/domain/orders.py": "x = 1\n",
    "src/shop/helpers/text.py": "x = 1\n",
    "src/shop/api.py": "x = 1\n",
    "tests/test_shop.py": "def test_x():\n    pass\n",
    "tests/auth/test_auth.py": "",
}


def test_init_proposes_classes_from_the_layout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(tmp_path, LAYOUT)
    assert main(["init", "-C", str(tmp_path)]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "covgate.toml" in out
    config = load_config(root=tmp_path)
    classes = {c.name: c for c in config.policy.classes}
    assert classes["critical"].paths == ("**/auth.py", "**/billing/**")
    assert classes["business"].paths == ("**/domain/**",)
    assert classes["utils"].paths == ("**/helpers/**",)
    assert classes["critical"].thresholds.min == 95
    assert classes["utils"].thresholds.min == 85
    assert config.policy.overall.min == 90
    assert config.tests == ("tests",)
    assert "critical: min 95 %, 2 files" in out


def test_init_never_overwrites_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(tmp_path, LAYOUT)
    (tmp_path / "covgate.toml").write_text("[overall]\nmin = 12\n")
    assert main(["init", "-C", str(tmp_path)]) == ExitCode.USAGE
    assert "already exists; use --force" in capsys.readouterr().err
    assert load_config(root=tmp_path).policy.overall.min == 12
    assert main(["init", "-C", str(tmp_path), "--force"]) == ExitCode.OK
    assert load_config(root=tmp_path).policy.overall.min == 90


def test_init_writes_into_pyproject_and_keeps_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(tmp_path, LAYOUT)
    original = '[project]\nname = "shop"\n\n[tool.ruff]\nline-length = 99\n'
    (tmp_path / "pyproject.toml").write_text(original)
    assert main(["init", "-C", str(tmp_path)]) == ExitCode.OK
    text = (tmp_path / "pyproject.toml").read_text()
    assert text.startswith(original.rstrip("\n"))
    assert load_config(root=tmp_path).source == tmp_path.resolve() / "pyproject.toml"
    assert main(["init", "-C", str(tmp_path)]) == ExitCode.USAGE
    assert "already has a [tool.covgate] table" in capsys.readouterr().err
    assert main(["init", "-C", str(tmp_path), "--force"]) == ExitCode.OK
    again = (tmp_path / "pyproject.toml").read_text()
    assert again.count("[tool.covgate]") == 1
    assert again.count('name = "critical"') == 1
    assert "[tool.ruff]" in again


def test_init_on_a_flat_project_gates_overall_only(tmp_path: Path) -> None:
    write_files(tmp_path, {"app.py": "x = 1\n"})
    assert main(["init", "-C", str(tmp_path)]) == ExitCode.OK
    config = load_config(root=tmp_path)
    assert config.policy.classes == ()
    assert not config.policy.is_default


def test_removing_covgate_tables() -> None:
    text = (
        '[project]\nname = "x"\n[tool.covgate]\nbranch = true\n[tool.covgate.overall]\nmin = 1\n'
        '[[tool.covgate.classes]]\nname = "a"\n[tool.other]\nk = 1\n'
    )
    assert without_covgate_tables(text) == '[project]\nname = "x"\n[tool.other]\nk = 1\n'


def test_init_refuses_what_it_cannot_replace_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(tmp_path, LAYOUT)
    dotted = '[project]\nname = "x"\n\n[tool]\ncovgate.workers = 0\n'
    (tmp_path / "pyproject.toml").write_text(dotted)
    assert main(["init", "-C", str(tmp_path), "--force"]) == ExitCode.USAGE
    assert "could not be replaced in place" in capsys.readouterr().err
    assert (tmp_path / "pyproject.toml").read_text() == dotted
    (tmp_path / "pyproject.toml").write_bytes(b"[project]\nname = '\xff'\n")
    assert main(["init", "-C", str(tmp_path)]) == ExitCode.USAGE
    assert "cannot be read" in capsys.readouterr().err


def test_init_keeps_pytests_own_testpaths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(tmp_path, LAYOUT)
    own = '[tool.pytest.ini_options]\ntestpaths = ["src", "tests"]\naddopts = "--doctest-modules"\n'
    (tmp_path / "pyproject.toml").write_text(own)
    assert main(["init", "-C", str(tmp_path)]) == ExitCode.OK
    text = (tmp_path / "pyproject.toml").read_text()
    assert text.startswith(own)
    assert "\ntests = " not in text
    assert load_config(root=tmp_path).tests == ()  # covgate run leaves the choice to pytest
    assert "  tests: pytest's own testpaths (src, tests), kept\n" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({}, None),
        ({"pytest.ini": "[pytest]\ntestpaths = a b\n"}, ("a", "b")),
        (
            {
                "pytest.ini": "[pytest]\n",
                "pyproject.toml": "[tool.pytest.ini_options]\ntestpaths = ['x']\n",
            },
            None,
        ),
        ({".pytest.ini": "[pytest]\ntestpaths = c\n"}, ("c",)),
        ({"pytest.toml": "[pytest]\ntestpaths = ['t']\n"}, ("t",)),
        ({"pyproject.toml": "[tool.pytest.ini_options]\ntestpaths = 'testing'\n"}, ("testing",)),
        ({"pyproject.toml": "[tool.pytest]\ntestpaths = ['src', 'tests']\n"}, ("src", "tests")),
        (
            {"pyproject.toml": "[project]\nname = 'x'\n", "tox.ini": "[pytest]\ntestpaths = t\n"},
            ("t",),
        ),
        (
            {"tox.ini": "[tox]\n", "setup.cfg": "[tool:pytest]\ntestpaths =\n  one\n  two\n"},
            ("one", "two"),
        ),
        ({"setup.cfg": "[metadata]\nname = x\n"}, None),
    ],
)
def test_pytest_testpaths_where_pytest_reads_them(
    tmp_path: Path, files: dict[str, str], expected: tuple[str, ...] | None
) -> None:
    write_files(tmp_path, files)
    assert pytest_testpaths(tmp_path) == expected


def test_init_proposes_coverage_source_in_pyproject(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(tmp_path, {**LAYOUT, "docs/conf.py": "x = 1\n", "app/__init__.py": ""})
    (tmp_path / "pyproject.toml").write_text("[tool.coverage.run]\nbranch = true\n")
    assert main(["init", "-C", str(tmp_path)]) == ExitCode.OK
    text = (tmp_path / "pyproject.toml").read_text()
    assert text.startswith('[tool.coverage.run]\nsource = ["app", "src/shop"]\nbranch = true\n')
    out = capsys.readouterr().out
    assert '  coverage.py: wrote [tool.coverage.run] source = ["app", "src/shop"]' in out
    # A second init (forced) finds the source set and leaves coverage.py's settings alone.
    assert main(["init", "-C", str(tmp_path), "--force"]) == ExitCode.OK
    assert (tmp_path / "pyproject.toml").read_text() == text
    assert "coverage.py" not in capsys.readouterr().out


def test_init_adds_a_coverage_table_when_there_is_none(tmp_path: Path) -> None:
    write_files(tmp_path, LAYOUT)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "shop"\n')
    assert main(["init", "-C", str(tmp_path)]) == ExitCode.OK
    text = (tmp_path / "pyproject.toml").read_text()
    assert text.endswith('\n\n[tool.coverage.run]\nsource = ["src/shop"]\n')


def test_init_never_touches_another_coverage_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(tmp_path, LAYOUT)
    (tmp_path / ".coveragerc").write_text("[run]\nbranch = True\n")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "shop"\n')
    assert main(["init", "-C", str(tmp_path)]) == ExitCode.OK
    assert (tmp_path / ".coveragerc").read_text() == "[run]\nbranch = True\n"
    assert "tool.coverage" not in (tmp_path / "pyproject.toml").read_text()
    out = capsys.readouterr().out
    assert (
        "  coverage.py measures every file, tests included: consider [tool.coverage.run] "
        'source = ["src/shop"] (or source in [run] of your coverage.py configuration file)\n'
    ) in out


def test_init_starts_at_todays_figures_and_the_gate_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = small_project(tmp_path)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('source = ["app"]\n', ""))
    measure(root)  # tests measured too: today's figures leave them out
    assert main(["init", "-C", str(root)]) == ExitCode.OK
    out = capsys.readouterr().out
    assert out.splitlines() == [
        f"wrote the covgate configuration to {root.resolve() / 'pyproject.toml'}",
        "  minimums at the lower of the default and today's figure in .coverage",
        "  critical: min 90 % (today 90.00 %), 2 files (**/auth/**)",
        "  utils: min 83 % (today 83.33 %), 2 files (**/utils/**)",
        "  overall: min 84 % (today 84.21 %)",
        '  coverage.py: wrote [tool.coverage.run] source = ["app"], so that tests are not measured',
    ]
    text = pyproject.read_text()
    assert (
        "[tool.covgate.overall]\n"
        "min = 84  # today's figure (84.21 %), below the default 90: raise it as coverage grows\n"
    ) in text
    assert 'name = "critical"\npaths = ["**/auth/**"]\nmin = 90  # today\'s figure' in text
    measure(root)
    assert main(["check", "-C", str(root)]) == ExitCode.OK


def test_lowered_minimums() -> None:
    default = Proposal("critical", ("**/auth/**",), 95, 2)
    assert lowered(default) == default
    assert lowered(replace(default, today=Fraction(9499, 10000))).minimum == 94
    assert lowered(replace(default, today=Fraction(96, 100))).minimum == 95
    assert lowered(replace(default, today=Fraction(0))).minimum == 0
