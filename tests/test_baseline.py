"""covgate.baseline: the file format, the comparison and the ratchet, with values."""

from __future__ import annotations

import os
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pytest

from covgate import baseline
from covgate.errors import DataError, ExitCode
from covgate.evaluate import evaluate
from covgate.model import (
    Baseline,
    Counts,
    Figure,
    FileCoverage,
    Measurement,
    Outcome,
    RefResult,
    Thresholds,
)
from covgate.report import json as json_report
from covgate.report import renderer
from tests import canned

GOLD = Path(__file__).parent / "gold"


def canned_baseline() -> Baseline:
    return baseline.build(canned.outcome().evaluation)  # type: ignore[arg-type]


def test_build_and_render_the_canned_evaluation() -> None:
    # Sorted keys, one class or file per line; classes without files (legacy) are left out.
    assert baseline.render(canned_baseline()) == (GOLD / "baseline.json").read_text()


def test_render_is_stable_and_parses_back() -> None:
    text = baseline.render(canned_baseline())
    assert baseline.render(baseline.parse(text, "b.json")) == text
    assert baseline.parse(text, "b.json") == canned_baseline()


def test_render_an_empty_baseline() -> None:
    empty = Baseline(Figure(0, 0), {}, {})
    text = baseline.render(empty)
    assert text == (
        '{\n  "version": 1,\n  "branch": true,\n  "overall": {"covered": 0, "total": 0},\n'
        '  "classes": {},\n  "files": {}\n}\n'
    )
    assert baseline.parse(text, "b.json") == empty


def test_names_are_json_escaped() -> None:
    odd = Baseline(Figure(1, 2), {'a "b"': Figure(1, 2)}, {"x/\u00e9\n.py": 1})
    text = baseline.render(odd)
    assert '"a \\"b\\""' in text
    assert baseline.parse(text, "b.json") == odd


HEAD = '{"version": 1, "branch": true, '


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "not valid JSON"),
        ("[]", "the document: expected an object"),
        ('{"version": 2, "overall": {}, "classes": {}, "files": {}}', "version: expected 1"),
        ('{"version": 1, "classes": {}, "files": {}}', "branch: expected true or false"),
        ('{"version": 1, "branch": 1, "classes": {}, "files": {}}',
         "branch: expected true or false, got 1"),
        ('{"version": 1, "branch": false, "classes": {}, "files": {}}',
         "overall: expected an object"),
        (HEAD + '"overall": {"covered": 1}, "classes": {}, "files": {}}',
         "overall: expected an object"),
        (HEAD + '"overall": {"covered": 3, "total": 2}, "classes": {}, "files": {}}',
         "overall: expected covered at most total"),
        (HEAD + '"overall": {"covered": 1, "total": 2}, "classes": [], "files": {}}',
         "classes: expected an object"),
        (HEAD + '"overall": {"covered": 1, "total": 2}, "classes": {}, '
         '"files": {"a.py": -1}}', "files.a.py: expected a whole number of 0 or more, got -1"),
        (HEAD + '"overall": {"covered": 1, "total": 2}, "classes": {}, '
         '"files": {"a.py": true}}', "files.a.py: expected a whole number"),
        (HEAD + '"overall": {"covered": 1, "total": 2}, "classes": {"c": '
         '{"covered": 1.5, "total": 2}}, "files": {}}', "classes.c.covered: expected a whole"),
        ('{"version": 1, "extra": 1}',
         "extra: expected only version, branch, overall, classes and files"),
    ],
)  # fmt: skip
def test_a_wrongly_shaped_baseline_is_one_line_naming_the_file(text: str, words: str) -> None:
    with pytest.raises(DataError) as info:
        baseline.parse(text, "covgate-baseline.json")
    message = str(info.value)
    assert message.startswith("covgate-baseline.json: not a covgate baseline: ")
    assert words in message
    assert "\n" not in message
    assert info.value.exit_code == ExitCode.USAGE


def test_read_missing_and_unreadable(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"^b\.json: no such baseline file"):
        baseline.read(tmp_path / "b.json", "b.json")
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe")
    with pytest.raises(DataError, match=r"^bin\.json: cannot read the baseline: not UTF-8"):
        baseline.read(tmp_path / "bin.json", "bin.json")


def test_write_is_whole_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "b.json"
    baseline.write(target, "one\n", "b.json")
    baseline.write(target, "two\n", "b.json")
    assert target.read_text() == "two\n"
    assert os.listdir(target.parent) == ["b.json"]


def test_write_into_a_file_in_the_way_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "sub").write_text("a file")
    with pytest.raises(DataError, match=r"^sub/b\.json: cannot write the baseline"):
        baseline.write(tmp_path / "sub" / "b.json", "x", "sub/b.json")


# --- comparing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "base", "tolerance", "holds"),
    [
        ((95, 100), (95, 100), 0, True),
        ((94, 100), (95, 100), 0, False),
        ((190, 200), (95, 100), 0, True),  # the same percentage of a bigger total
        ((1899, 2000), (95, 100), 0, False),  # 94.95 % < 95 %
        ((94, 100), (95, 100), 1, True),  # one point of tolerance
        ((9399, 10000), (95, 100), 1, False),
        ((0, 0), (95, 100), 0, True),  # nothing to cover: 100 %
        ((0, 1), (0, 0), 0, False),
        ((1, 3), (2, 6), 0, True),
    ],
)
def test_holds_is_exact(
    current: tuple[int, int], base: tuple[int, int], tolerance: int, holds: bool
) -> None:
    assert baseline.holds(Figure(*current), Figure(*base), Fraction(tolerance)) is holds


def measurement(*files: FileCoverage) -> Measurement:
    return Measurement(files, branch_measured=True)


def test_compare_names_every_drop_and_growth() -> None:
    base = canned_baseline()
    files = list(canned.FILES)
    # tokens.py loses one covered statement; posts.py gains one: business holds its files' sum
    # but critical drops; passwords.py is deleted, a new file appears.
    files[0] = replace(files[0], counts=Counts(40, 4, 10, 1, 1))
    files[1] = FileCoverage("app/auth/new.py", Counts(2, 0, 0, 0, 0))
    evaluation = evaluate(measurement(*files), canned.POLICY)
    result = baseline.compare(evaluation, base, Fraction(0), "covgate-baseline.json")
    assert not result.passed
    assert [(g.name, g.passed) for g in result.groups] == [
        ("critical", False),
        ("business", True),
        ("utils", True),
        ("overall", False),
    ]
    assert [(g.file.path, g.baseline, g.file.counts.missing) for g in result.grown] == [
        ("app/auth/tokens.py", 4, 5)
    ]
    assert result.new_files == ("app/auth/new.py",)
    assert result.deleted_files == ("app/auth/passwords.py",)
    assert result.unknown_classes == ()
    renamed = replace(base, classes={**base.classes, "old": Figure(1, 1)})
    assert baseline.compare(evaluation, renamed, Fraction(0), "b").unknown_classes == ("old",)
    assert [baseline.drop_message(d, result.tolerance, 2) for d in result.dropped] == [
        # 77/83 against 114/119: 80 of 83 reach 95.798 %; 174/189 against 211/225: 178.
        "critical 92.77 % is below its baseline 95.79 %: cover 3 more lines or branches",
        "overall 92.06 % is below its baseline 93.77 %: cover 4 more lines or branches",
    ]
    assert baseline.growth_message(result.grown[0]) == (
        "app/auth/tokens.py: 5 uncovered lines and branches, baseline 4"
    )


def test_a_grown_file_fails_while_its_class_holds() -> None:
    files = list(canned.FILES)
    # critical: tokens.py one more miss, charge.py one fewer: the class sum is unchanged.
    files[0] = replace(files[0], counts=Counts(40, 4, 10, 1, 1))
    files[2] = replace(files[2], counts=Counts(25, 0, 6, 0, 0))
    evaluation = evaluate(measurement(*files), canned.POLICY)
    result = baseline.compare(evaluation, canned_baseline(), Fraction(0), "b.json")
    assert all(g.passed for g in result.groups)
    assert [g.file.path for g in result.grown] == ["app/auth/tokens.py"]
    assert not result.passed


def test_tolerance_lets_a_small_drop_pass() -> None:
    files = list(canned.FILES)
    files[0] = replace(files[0], counts=Counts(40, 3, 10, 2, 1))
    files[2] = replace(files[2], counts=Counts(25, 0, 6, 0, 0))  # tokens +1, charge -1
    files[4] = replace(files[4], counts=Counts(12, 1, 4, 0, 0))  # utils: 15/16 < 16/16
    evaluation = evaluate(measurement(*files), canned.POLICY)
    strict = baseline.compare(evaluation, canned_baseline(), Fraction(0), "b.json")
    assert [d.name for d in strict.dropped] == ["utils", "overall"]
    lenient = baseline.compare(evaluation, canned_baseline(), Fraction(7), "b.json")
    assert [d.name for d in lenient.dropped] == []
    assert baseline.drop_message(strict.dropped[0], Fraction("5.5"), 2) == (
        "utils 93.75 % is below its baseline 100.00 % (tolerance 5.5 points): "
        "cover 1 more line or branch"
    )


# --- tightening -------------------------------------------------------------------------------


def test_tighten_without_an_old_baseline_writes_the_new_one() -> None:
    new = canned_baseline()
    update = baseline.tighten(None, new)
    assert update.baseline == new
    assert update.tightened == update.loosened == update.dropped == ()


def test_tighten_keeps_what_would_loosen_and_lists_it() -> None:
    old = Baseline(
        Figure(90, 100),
        {"critical": Figure(95, 100), "utils": Figure(8, 10), "gone": Figure(1, 1)},
        {"a.py": 3, "b.py": 1, "c.py": 2, "deleted.py": 0},
    )
    new = Baseline(
        Figure(92, 100),
        {"critical": Figure(94, 100), "utils": Figure(9, 10), "fresh": Figure(1, 2)},
        {"a.py": 1, "b.py": 4, "c.py": 2, "new.py": 7},
    )
    update = baseline.tighten(old, new)
    assert update.baseline == Baseline(
        Figure(92, 100),
        {"critical": Figure(95, 100), "fresh": Figure(1, 2), "utils": Figure(9, 10)},
        {"a.py": 1, "b.py": 1, "c.py": 2, "new.py": 7},
    )
    assert update.tightened == (
        "overall 90.00 % (90/100) -> 92.00 % (92/100)",
        "utils 80.00 % (8/10) -> 90.00 % (9/10)",
        "a.py 3 -> 1 uncovered",
    )
    assert update.loosened == (
        "critical 95.00 % (95/100) -> 94.00 % (94/100)",
        "b.py 1 -> 4 uncovered",
    )
    assert update.added == ("fresh", "new.py")
    assert update.dropped == ("class gone", "deleted.py")

    loosened = baseline.tighten(old, new, allow_loosen=True)
    assert loosened.baseline.classes["critical"] == Figure(94, 100)
    assert loosened.baseline.files["b.py"] == 4
    assert loosened.loosened == update.loosened


def test_tighten_takes_new_counts_of_the_same_percentage() -> None:
    old = Baseline(Figure(1, 2), {}, {})
    update = baseline.tighten(old, Baseline(Figure(2, 4), {}, {}))
    assert update.baseline.overall == Figure(2, 4)
    assert update.tightened == update.loosened == ()


# --- the report sections ----------------------------------------------------------------------


def regressed_outcome() -> Outcome:
    """The canned outcome with a fall below its baseline and a failed policy at main."""
    files = list(canned.FILES)
    files[0] = replace(files[0], counts=Counts(40, 4, 10, 1, 1), missing_lines=(12, 13, 14, 40))
    files[1] = FileCoverage("app/auth/new|file.py", Counts(2, 0, 0, 0, 0))
    data = measurement(*files)
    evaluation = evaluate(data, canned.POLICY)
    strict = replace(canned.POLICY, overall=Thresholds(min=Fraction(99)))
    at_main = evaluate(data, strict)
    old = replace(canned_baseline(), files={**canned_baseline().files, "app/main.py": 1})
    renamed = replace(canned_baseline(), classes={**canned_baseline().classes, "web": Figure(1, 2)})
    return Outcome(
        evaluation=evaluation,
        exit_code=2,
        notes=("configuration: [tool.covgate] in pyproject.toml",),
        baseline=baseline.compare(evaluation, renamed, Fraction(0), "base.json"),
        policy_ref=RefResult(
            ref="origin/main",
            commit="0123456789abcdef0123456789abcdef01234567",
            source="[tool.covgate] in pyproject.toml at origin/main",
            evaluation=at_main,
            baseline=baseline.compare(at_main, old, Fraction(1), "base.json at origin/main"),
            weakened=("[run] omit adds '*/auth/*' (not at origin/main)",),
        ),
    )


@pytest.mark.parametrize(
    ("name", "gold"),
    [("terminal", "regressions.txt"), ("markdown", "regressions.md"),
     ("github", "regressions-github.txt")],
)  # fmt: skip
def test_report_sections_golden(name: str, gold: str) -> None:
    from tests.helpers import golden

    text = renderer(name)(regressed_outcome(), color=False, width=None)
    golden(gold, text)


def test_json_fields_of_both_results() -> None:
    doc = json_report.document(regressed_outcome())
    assert doc["schema_version"] == 1
    assert doc["baseline"]["passed"] is False
    assert [g["name"] for g in doc["baseline"]["groups"] if not g["passed"]] == [
        "critical",
        "overall",
    ]
    assert doc["baseline"]["grown_files"][0]["path"] == "app/auth/tokens.py"
    assert doc["baseline"]["new_files"] == ["app/auth/new|file.py"]
    ref = doc["policy_ref"]
    assert (ref["ref"], ref["passed"], ref["default_policy"]) == ("origin/main", False, False)
    assert ref["overall"]["threshold"] == 99.0
    assert ref["baseline"]["tolerance"] == 1.0
    assert ref["weakened"] == ["[run] omit adds '*/auth/*' (not at origin/main)"]


def test_figures_with_and_without_branches_are_not_comparable() -> None:
    lines_only = replace(canned_baseline(), branch=False)
    evaluation = canned.outcome().evaluation
    assert evaluation is not None
    with pytest.raises(DataError) as info:
        baseline.compare(evaluation, lines_only, Fraction(0), "b.json")
    assert str(info.value) == (
        "b.json: written from data with line coverage only, but this data has branch "
        "coverage: the figures are not comparable (measure as the baseline was, or rewrite it "
        "with covgate baseline --allow-loosen)"
    )
    assert info.value.exit_code == ExitCode.USAGE
    rewritten = baseline.tighten(lines_only, canned_baseline(), allow_loosen=True)
    assert rewritten.baseline == canned_baseline()
