from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pytest

from covgate.config import DEFAULT_CLASSES, apply_fail_under, config_from_text, load_config
from covgate.errors import ConfigError


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_no_config_means_the_default_policy(tmp_path: Path) -> None:
    config = load_config(root=tmp_path)
    assert config.source is None
    assert config.policy.is_default
    assert [c.name for c in config.policy.classes] == ["critical", "business", "utils"]
    assert config.policy.overall.min == 90
    assert "default policy" in config.describe_source()


def test_pyproject_without_classes_keeps_the_default_classes(tmp_path: Path) -> None:
    write(
        tmp_path,
        "pyproject.toml",
        "[tool.covgate]\nprecision = 1\n[tool.covgate.overall]\nmin = 80\n",
    )
    config = load_config(root=tmp_path)
    assert config.policy.classes == DEFAULT_CLASSES
    assert config.policy.overall.min == 80
    assert config.precision == 1


def test_full_pyproject(tmp_path: Path) -> None:
    write(
        tmp_path,
        "pyproject.toml",
        """
[tool.covgate]
tests = ["tests/unit"]
pytest_args = ["-x"]
workers = 2
branch = false

[[tool.covgate.classes]]
name = "critical"
paths = ["**/auth/**", "!**/migrations/**"]
min = 94.9
lines = 95
per_file = 80
max_missing = 10

[[tool.covgate.classes]]
name = "rest"
paths = ["**"]
allow_empty = true
""",
    )
    config = load_config(root=tmp_path)
    first, rest = config.policy.classes
    assert first.paths == ("**/auth/**", "!**/migrations/**")
    assert first.thresholds.min == Fraction("94.9")  # exactly what was written
    assert first.thresholds.max_missing == 10
    assert rest.allow_empty
    assert (config.tests, config.pytest_args, config.workers, config.branch) == (
        ("tests/unit",),
        ("-x",),
        2,
        False,
    )
    assert not config.policy.is_default


def test_covgate_toml_wins_over_pyproject(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", "[tool.covgate.overall]\nmin = 10\n")
    write(tmp_path, "covgate.toml", "[overall]\nmin = 20\n")
    assert load_config(root=tmp_path).policy.overall.min == 20


def test_config_is_found_in_a_parent_folder_and_sets_the_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "covgate.toml", "[overall]\nmin = 20\n")
    inner = tmp_path / "src" / "pkg"
    inner.mkdir(parents=True)
    monkeypatch.chdir(inner)
    config = load_config()
    assert config.root == tmp_path.resolve()
    assert config.policy.overall.min == 20


def test_explicit_config_file(tmp_path: Path) -> None:
    path = write(tmp_path, "gate.toml", "[overall]\nmin = 33\n")
    config = load_config(config_file=path)
    assert config.root == tmp_path.resolve()
    assert config.policy.overall.min == 33


CLASS = '[[tool.covgate.classes]]\nname = "critical"\npaths = ["**/auth/**"]\n'

# Each bad configuration, the words its one-line error must hold.
BAD = [
    ("[tool.covgate]\nworkres = 2\n", ["tool.covgate.workres", "did you mean 'workers'"]),
    (CLASS + "mn = 95\n", ["classes[0] (critical).mn", "did you mean 'min'"]),
    ("[tool.covgate.overall]\nmin = 101\n", ["overall.min", "0 to 100", "101"]),
    ("[tool.covgate.overall]\nmin = -1\n", ["overall.min", "0 to 100"]),
    ("[tool.covgate.overall]\nmin = '95'\n", ["overall.min", "a string"]),
    ("[tool.covgate.overall]\nmin = true\n", ["overall.min", "a boolean"]),
    ("[tool.covgate.overall]\nmin = nan\n", ["overall.min", "0 to 100"]),
    (CLASS + "max_missing = 1.5\n", ["max_missing", "whole number"]),
    ('[tool.covgate]\nworkers = "many"\n', ["workers", '"auto"']),
    ("[tool.covgate]\nbranch = 1\n", ["branch", "true or false"]),
    ("[tool.covgate]\ntests = 'tests'\n", ["tests", "list of strings"]),
    ("[tool.covgate]\nprecision = 9\n", ["precision", "0 to 6"]),
    ('[[tool.covgate.classes]]\nname = ""\npaths = ["a"]\n', ["name", "non-empty"]),
    ('[[tool.covgate.classes]]\npaths = ["a"]\n', ["classes[0].name", "non-empty"]),
    (CLASS + CLASS, ["classes[1] (critical).name", "duplicate class name 'critical'"]),
    ('[[tool.covgate.classes]]\nname = "overall"\npaths = ["a"]\n', ["reserved"]),
    ('[[tool.covgate.classes]]\nname = "x"\npaths = []\n', ["paths", "non-empty list"]),
    (
        '[[tool.covgate.classes]]\nname = "x"\npaths = ["/abs/**"]\n',
        ["malformed glob", "'/abs/**'"],
    ),
    (
        '[[tool.covgate.classes]]\nname = "x"\npaths = ["a/[b"]\n',
        ["malformed glob", "never closed"],
    ),
    ('[[tool.covgate.classes]]\nname = "x"\npaths = ["a**"]\n', ["malformed glob", "whole path"]),
    ('[tool.covgate]\nclasses = "x"\n', ["classes", "array of tables"]),
    ("[tool.covgate]\noverall = 90\n", ["overall", "expected a table"]),
    ("[tool.covgate\nmin = 1\n", ["pyproject.toml", "not valid TOML"]),
    ("[tool.covgate]\nbranch = false\n" + CLASS + "branches = 90\n", ["critical set a branches"]),
    ('[[tool.covgate.classes]]\nname = "a "\npaths = ["a"]\n', ["no leading or trailing"]),
    (CLASS + "patch = 101\n", ["classes[0] (critical).patch", "from 0 to 100, got 101"]),
    ("[tool.covgate.overall]\npatch = true\n", ["overall.patch", "got a boolean"]),
    ("[tool.covgate.overall]\npach = 80\n", ["overall.pach", "did you mean 'patch'"]),
    ("[tool.covgate]\ndiff_base = 1\n", ["tool.covgate.diff_base", "git reference"]),
    ('[tool.covgate]\ndiff_base = "--output=x"\n', ["diff_base", "git reference"]),
    ('[tool.covgate]\ndiff_base = " "\n', ["diff_base", "git reference"]),
    ('[tool.covgate]\ndif_base = "main"\n', ["dif_base", "did you mean 'diff_base'"]),
]


@pytest.mark.parametrize(("text", "words"), BAD)
def test_bad_configuration_is_one_clear_line(tmp_path: Path, text: str, words: list[str]) -> None:
    write(tmp_path, "pyproject.toml", text)
    with pytest.raises(ConfigError) as caught:
        load_config(root=tmp_path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("pyproject.toml")
    for word in words:
        assert word in message


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_config(config_file=tmp_path / "nope.toml")


def test_pyproject_named_without_a_covgate_table(tmp_path: Path) -> None:
    path = write(tmp_path, "pyproject.toml", "[project]\nname = 'x'\n")
    with pytest.raises(ConfigError, match=r"no \[tool.covgate\] table"):
        load_config(config_file=path)
    assert load_config(root=tmp_path).policy.is_default


def test_root_must_be_a_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a folder"):
        load_config(root=tmp_path / "missing")


def test_fail_under_overrides_min(tmp_path: Path) -> None:
    policy = load_config(root=tmp_path).policy
    changed = apply_fail_under(policy, ["critical=99.5", "overall=50"])
    assert changed.classes[0].thresholds.min == Fraction("99.5")
    assert changed.classes[1].thresholds.min == 95
    assert changed.overall.min == 50


def test_patch_threshold_and_diff_base(tmp_path: Path) -> None:
    write(
        tmp_path,
        "pyproject.toml",
        '[tool.covgate]\ndiff_base = "origin/main"\n[tool.covgate.overall]\nmin = 80\n'
        "patch = 90\n" + CLASS + "patch = 99.5\n",
    )
    settings = load_config(root=tmp_path)
    assert settings.diff_base == "origin/main"
    assert settings.policy.overall.patch == 90
    assert settings.policy.classes[0].thresholds.patch == Fraction("99.5")
    assert load_config(root=tmp_path / "..").diff_base is None


def test_fail_under_sets_any_percentage_threshold(tmp_path: Path) -> None:
    policy = load_config(root=tmp_path).policy
    changed = apply_fail_under(
        policy, ["critical.patch=100", "overall.patch=80", "utils.lines=70", "business.min=96"]
    )
    assert changed.classes[0].thresholds == replace(
        policy.classes[0].thresholds, patch=Fraction(100)
    )
    assert changed.overall == replace(policy.overall, patch=Fraction(80))
    assert changed.classes[2].thresholds.lines == 70
    assert changed.classes[1].thresholds.min == 96


def test_fail_under_class_named_with_a_dot(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", CLASS.replace('"critical"', '"api.v2"'))
    policy = load_config(root=tmp_path).policy
    assert apply_fail_under(policy, ["api.v2=50"]).classes[0].thresholds.min == 50
    assert apply_fail_under(policy, ["api.v2.patch=50"]).classes[0].thresholds.patch == 50


@pytest.mark.parametrize(
    ("option", "words"),
    [
        ("critical.pach=90", ["unknown threshold 'pach'", "did you mean 'patch'"]),
        ("critical.max_missing=3", ["unknown threshold 'max_missing'", "min, lines"]),
        ("critcal.patch=90", ["no class named 'critcal'", "did you mean 'critical'"]),
        ("critcal=90", ["no class named 'critcal'", "did you mean 'critical'"]),
        ("critical=abc", ["'abc' is not a number"]),
        ("critical=1/3", ["'1/3' is not a number"]),
        ("critical=1e2", ["'1e2' is not a number"]),
        ("critical=101", ["not a number from 0 to 100"]),
        ("critical", ["expected CLASS=PCT"]),
        ("=90", ["expected CLASS=PCT"]),
    ],
)
def test_bad_fail_under(tmp_path: Path, option: str, words: list[str]) -> None:
    policy = load_config(root=tmp_path).policy
    with pytest.raises(ConfigError) as caught:
        apply_fail_under(policy, [option])
    for word in words:
        assert word in str(caught.value)


def test_baseline_and_policy_ref_keys(tmp_path: Path) -> None:
    write(
        tmp_path,
        "covgate.toml",
        'baseline = "gate/base.json"\nbaseline_tolerance = 0.5\npolicy_ref = "origin/main"\n',
    )
    config = load_config(root=tmp_path)
    assert config.baseline == "gate/base.json"
    assert config.baseline_path() == tmp_path.resolve() / "gate" / "base.json"
    assert config.baseline_tolerance == Fraction(1, 2)
    assert config.policy_ref == "origin/main"
    empty = tmp_path / "empty"
    empty.mkdir()
    plain = load_config(root=empty)
    assert (plain.baseline, plain.baseline_tolerance, plain.policy_ref) == (None, Fraction(0), None)
    assert plain.baseline_path() == empty.resolve() / "covgate-baseline.json"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("baseline = 1", "baseline: expected a file path"),
        ('baseline = ""', "baseline: expected a file path"),
        ("baseline_tolerance = 101", "baseline_tolerance: expected a number from 0 to 100"),
        ('baseline_tolerance = "1"', "baseline_tolerance: expected a number from 0 to 100"),
        ('policy_ref = "--output=x"', "policy_ref: expected a git reference"),
        ("policy_ref = []", "policy_ref: expected a git reference"),
        ('basline = "x"', "did you mean 'baseline'?"),
    ],
)
def test_bad_baseline_keys(tmp_path: Path, text: str, words: str) -> None:
    write(tmp_path, "covgate.toml", text + "\n")
    with pytest.raises(ConfigError) as info:
        load_config(root=tmp_path)
    assert str(info.value).startswith("covgate.toml: ")
    assert words in str(info.value)


def test_config_from_text_validates_as_a_file_does(tmp_path: Path) -> None:
    text = "[tool.covgate.overall]\nmin = 70\n"
    config = config_from_text(text, tmp_path / "pyproject.toml", tmp_path, "pyproject.toml at main")
    assert config is not None
    assert config.policy.overall.min == 70
    assert config.source == tmp_path / "pyproject.toml"
    assert config_from_text("[tool.other]\n", tmp_path / "pyproject.toml", tmp_path, "x") is None
    with pytest.raises(ConfigError) as info:
        config_from_text("mn = 1\n", tmp_path / "covgate.toml", tmp_path, "covgate.toml at main")
    assert str(info.value).startswith("covgate.toml at main: covgate.toml: mn: unknown key")
    with pytest.raises(ConfigError, match=r"^x at main: covgate\.toml: not valid TOML"):
        config_from_text("[", tmp_path / "covgate.toml", tmp_path, "x at main")
