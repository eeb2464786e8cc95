from __future__ import annotations

import json
import re
from fractions import Fraction
from pathlib import Path

import pytest

from covgate.cli import main
from covgate.errors import ExitCode
from covgate.evaluate import evaluate, exit_code
from covgate.model import Counts, FileCoverage, Measurement, Outcome, PathClass, Policy, Thresholds
from covgate.report import github, markdown
from tests import canned
from tests.helpers import measure, small_project

HOSTILE = [
    "plain.py",
    "100%.py",
    "a,b.py",
    "a:b.py",
    "::error::x.py",
    "##[error]x.py",
    "line\nbreak.py",
    "cr\rreturn.py",
    "%0A.py",
    "%25.py",
    "pipe|<b>bold<b>`tick`.py",
]


def unescape_property(value: str) -> str:
    """What the GitHub runner does to a property value (the order matters: %25 last)."""
    for escaped, raw in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        value = value.replace(escaped, raw)
    return value


def unescape_data(value: str) -> str:
    for escaped, raw in (("%0D", "\r"), ("%0A", "\n"), ("%25", "%")):
        value = value.replace(escaped, raw)
    return value


def parse_command(line: str) -> tuple[str, dict[str, str], str]:
    """Parse a workflow command the way the runner does."""
    assert line.startswith("::")
    head, _, data = line[2:].partition("::")
    name, _, props = head.partition(" ")
    properties = {}
    for item in props.split(","):
        if item:
            key, _, value = item.partition("=")
            properties[key] = unescape_property(value)
    return name, properties, unescape_data(data)


@pytest.mark.parametrize("name", HOSTILE)
def test_property_and_data_round_trip(name: str) -> None:
    line = github.command("error", f"message about {name}", file=name, title=f"t:{name},x")
    assert "\n" not in line
    assert "\r" not in line
    command, properties, data = parse_command(line)
    assert command == "error"
    assert properties == {"file": name, "title": f"t:{name},x"}
    assert data == f"message about {name}"


def hostile_outcome(count: int, per_file: bool = False) -> Outcome:
    files = tuple(
        FileCoverage(f"app/auth/{i}-{name}", Counts(10, 5, 0, 0), missing_lines=(3, 4, 5, 6, 7))
        for i, name in enumerate(HOSTILE[:count])
    )
    classes = tuple(
        PathClass(f"c{i}", (f"**/{i}-*",), Thresholds(min=Fraction(90))) for i in range(count)
    )
    if per_file:
        classes = (PathClass("auth", ("**/auth/**",), Thresholds(per_file=Fraction(90))),)
    policy = Policy(Thresholds(min=Fraction(0)), classes)
    evaluation = evaluate(Measurement(files, True), policy)
    return Outcome(evaluation, exit_code(evaluation))


def test_annotations_name_the_file_and_first_missing_line() -> None:
    outcome = hostile_outcome(len(HOSTILE))
    lines = github.error_annotations(outcome, prefix="svc/")
    assert len(lines) == github.PER_LEVEL
    parsed = [parse_command(line) for line in lines]
    for (name, properties, data), file_name in zip(parsed[:-1], HOSTILE, strict=False):
        assert name == "error"
        assert properties["file"].startswith("svc/app/auth/")
        assert properties["file"].endswith(file_name)
        assert properties["line"] == "3"
        assert "< 90 %: cover 4 more lines or branches" in data
    assert parsed[-1][2] == "and 2 more missed thresholds: see the job summary"


def test_per_file_floor_annotations() -> None:
    lines = github.error_annotations(hostile_outcome(3, per_file=True))
    files = [parse_command(line)[1]["file"] for line in lines]
    assert sorted(files) == sorted(f"app/auth/{i}-{n}" for i, n in enumerate(HOSTILE[:3]))
    assert all("per-file floor" in parse_command(line)[1]["title"] for line in lines)


@pytest.mark.parametrize("count", [0, 1, 10])
def test_no_more_than_ten_and_no_note_when_not_needed(count: int) -> None:
    lines = github.error_annotations(hostile_outcome(count))
    assert len(lines) == min(count, github.PER_LEVEL)
    assert not any("more missed" in line for line in lines)


def test_outputs_and_random_delimiters() -> None:
    values = github.outputs(canned.outcome(), "/tmp/report.json")
    assert values == {
        "passed": "false",
        "overall": "93.77",
        "failed-classes": '["critical"]',
        "report-json": "/tmp/report.json",
    }
    text = github.format_outputs({"one": "x", "many": "a\nb\nEOF"})
    first, second, *_ = text.splitlines()
    assert first == "one=x"
    mark = second.removeprefix("many<<")
    assert mark.startswith("covgate_")
    assert len(mark) > 20
    assert text.endswith(f"\n{mark}\n")
    marks = iter(["EOF", "EOF", "SAFE"])
    text = github.format_outputs({"v": "a\nEOF"}, delimiter=lambda: next(marks))
    assert text == "v<<SAFE\na\nEOF\nSAFE\n"  # a delimiter found in the value is never used


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("a|b", "a\\|b"),
        ("<script>", "&lt;script&gt;"),
        ("`x`", "&#96;x&#96;"),
        ("two\nlines", "two lines"),
        ("- item", "\\- item"),
        ("1. item", "1\\. item"),
        ("__init__", "\\_\\_init\\_\\_"),
        ("[link](x)", "\\[link\\](x)"),
    ],
)
def test_markdown_escape(raw: str, escaped: str) -> None:
    assert markdown.escape(raw) == escaped


def test_markdown_table_keeps_its_shape_with_hostile_names() -> None:
    text = markdown.render(hostile_outcome(len(HOSTILE)))
    rows = [line for line in text.splitlines() if line.startswith("|")]
    header = rows[0]
    widths = {len(re.findall(r"(?<!\\)\|", row)) for row in rows}
    assert widths == {len(re.findall(r"(?<!\\)\|", header))}
    assert "<b>" not in text
    assert "`" not in text


def test_markdown_is_capped() -> None:
    many = tuple(
        FileCoverage(f"app/{'x' * 200}{i}.py", Counts(1, 1, 0, 0), missing_lines=(1,))
        for i in range(20000)
    )
    evaluation = evaluate(Measurement(many, True), Policy(Thresholds(min=Fraction(90)), ()))
    outcome = Outcome(evaluation, exit_code(evaluation))
    full = "\n".join(markdown.lines(outcome))
    capped = markdown.cap(markdown.lines(outcome), 4096)
    assert len(capped.encode()) <= 4096
    assert "truncated" in capped
    assert len(full.encode()) > 4096
    assert len(markdown.render(outcome).encode()) <= markdown.LIMIT


def test_github_mode_writes_everything_even_when_the_gate_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = small_project(tmp_path / "project", "[tool.covgate.overall]\nmin = 99\n[tool.covgate]\n")
    measure(root)
    summary, output = tmp_path / "summary.md", tmp_path / "output"
    monkeypatch.chdir(root)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path))
    monkeypatch.setenv("RUNNER_TEMP", str(tmp_path))
    monkeypatch.delenv("COVGATE_SUMMARY", raising=False)
    monkeypatch.delenv("COVGATE_ANNOTATIONS", raising=False)
    code = main(["check"])
    out = capsys.readouterr().out
    assert code == ExitCode.THRESHOLD_MISSED
    lines = out.splitlines()
    stop = lines[0]
    assert stop.startswith("::stop-commands::")
    resume = f"::{stop.removeprefix('::stop-commands::')}::"
    after = lines[lines.index(resume) + 1 :]
    errors = [parse_command(line) for line in after]
    assert errors
    assert [e[0] for e in errors] == ["error"] * len(errors)
    assert all(e[1]["file"].startswith("project/app/") for e in errors)
    assert "| **overall** |" in summary.read_text()
    values = dict(line.split("=", 1) for line in output.read_text().splitlines())
    assert values["passed"] == "false"
    assert (
        values["failed-classes"] == json.dumps(["overall"]) or "overall" in values["failed-classes"]
    )
    assert json.loads(Path(values["report-json"]).read_text())["exit_code"] == 2


def test_github_switches_and_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    summary, output = tmp_path / "summary.md", tmp_path / "output"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    monkeypatch.setenv("COVGATE_ANNOTATIONS", "false")
    code = main(["check"])  # no data at all: exit 4, outputs still set
    out, err = capsys.readouterr()
    assert code == ExitCode.NOTHING_TO_JUDGE
    assert "no coverage data" in err
    assert "::error" not in out
    assert "passed=false" in output.read_text()
    monkeypatch.setenv("COVGATE_ANNOTATIONS", "true")
    main(["check"])
    out, _ = capsys.readouterr()
    assert any(
        line.startswith("::error title=covgate::no coverage data") for line in out.splitlines()
    )
