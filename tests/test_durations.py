from __future__ import annotations

from pathlib import Path

import pytest

from covgate import durations
from covgate.durations import Record, RunRecord, choose


def record(serial: float | None, tests: float, parallel: tuple[int, float] | None = None) -> Record:
    runs = []
    if serial is not None:
        runs.append(RunRecord(0, serial, 100))
    if parallel is not None:
        runs.append(RunRecord(parallel[0], parallel[1], 100))
    return Record(tests={"t": tests} if tests else {}, runs=tuple(runs))


@pytest.mark.parametrize(
    ("setting", "rec", "cpus", "workers", "words"),
    [
        (3, Record(), 2, 3, "as set"),
        (0, record(100, 99), 16, 0, "serial (as set)"),
        # Two cores: the controller and two workers cannot share them; never slower than serial.
        ("auto", record(600, 590), 2, 0, "2 CPUs"),
        ("auto", Record(), 1, 0, "1 CPUs"),
        # Nothing recorded yet: serial.
        ("auto", Record(), 8, 0, "no recorded serial run"),
        # A short suite: startup and collection in every worker would eat the gain.
        ("auto", record(4, 2), 8, 0, "would take about"),
        # A long suite on 8 cores: 7 workers predicted well under 75 % of serial.
        ("auto", record(120, 115), 8, 7, "predicted"),
        # A measured run wins over any prediction, both ways.
        ("auto", record(120, 115, (7, 150)), 8, 0, "measured"),
        ("auto", record(120, 115, (7, 30)), 8, 7, "measured"),
    ],
)
def test_choose_workers(
    setting: int | str, rec: Record, cpus: int, workers: int, words: str
) -> None:
    choice = choose(setting, rec, cpus)  # type: ignore[arg-type]
    assert choice.workers == workers
    assert words in choice.reason


def test_record_round_trip(tmp_path: Path) -> None:
    assert durations.load(tmp_path) == Record()
    durations.save(tmp_path, Record(), {"a::t": 1.5}, RunRecord(0, 3.0, 1))
    loaded = durations.load(tmp_path)
    assert loaded.tests == {"a::t": 1.5}
    assert loaded.runs == (RunRecord(0, 3.0, 1),)
    assert (tmp_path / ".covgate" / ".gitignore").read_text().endswith("*\n")
    for i in range(10):
        durations.save(tmp_path, durations.load(tmp_path), {"b::t": 2.0}, RunRecord(0, i, 2))
    again = durations.load(tmp_path)
    assert len(again.runs) == durations.RUNS_KEPT
    assert again.tests == {"a::t": 1.5, "b::t": 2.0}


def test_a_damaged_record_is_ignored(tmp_path: Path) -> None:
    (tmp_path / ".covgate").mkdir()
    (tmp_path / ".covgate" / "durations.json").write_text("{not json")
    assert durations.load(tmp_path) == Record()
