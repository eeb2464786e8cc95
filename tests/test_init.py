from __future__ import annotations

from pathlib import Path

import pytest

from covgate.cli import main
from covgate.config import load_config
from covgate.errors import ExitCode
from covgate.init import without_covgate_tables
from tests.helpers import write_files

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
