from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from covgate.errors import DataError
from covgate.junit import node_name, read_durations, read_summary
from tests.helpers import clean_env, write_files


@pytest.mark.parametrize(
    ("classname", "name", "node"),
    [
        ("tests.test_x", "test_a", "tests/test_x.py::test_a"),
        (
            "tests.api.test_posts.TestCreate",
            "test_ok",
            "tests/api/test_posts.py::TestCreate::test_ok",
        ),
        ("test_top", "test_b[1-2]", "test_top.py::test_b[1-2]"),
        ("", "test_c", "test_c"),
        (None, None, "?"),
    ],
)
def test_node_name(classname: str | None, name: str | None, node: str) -> None:
    assert node_name(classname, name) == node


def test_summary_of_a_real_junit_report(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "tests/test_mixed.py": """\
                import time

                import pytest


                def test_ok() -> None:
                    time.sleep(0.05)


                def test_fails() -> None:
                    assert 1 == 2, "one is not two\\nsecond line"


                @pytest.mark.skip(reason="not today")
                def test_skipped() -> None:
                    pass


                @pytest.fixture
                def broken() -> None:
                    raise RuntimeError("fixture broke")


                def test_errors(broken: None) -> None:
                    pass


                class TestGroup:
                    def test_in_class(self) -> None:
                        pass
                """,
        },
    )
    junit = tmp_path / "junit.xml"
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}"],
        cwd=tmp_path, env=clean_env(), capture_output=True, check=False,
    )  # fmt: skip
    summary = read_summary(junit)
    assert (summary.passed, summary.failed, summary.errors, summary.skipped) == (2, 1, 1, 1)
    assert summary.total == 5
    assert not summary.ok
    failures = {f.name: f for f in summary.failures}
    assert failures["tests/test_mixed.py::test_fails"].kind == "failure"
    assert failures["tests/test_mixed.py::test_fails"].message.startswith("AssertionError: one is")
    assert "\n" not in failures["tests/test_mixed.py::test_fails"].message
    assert failures["tests/test_mixed.py::test_errors"].kind == "error"
    assert summary.slowest[0].name == "tests/test_mixed.py::test_ok"
    assert summary.duration > 0
    durations = read_durations(junit)
    assert "tests/test_mixed.py::TestGroup::test_in_class" in durations


def test_unreadable_junit_is_a_data_error(tmp_path: Path) -> None:
    (tmp_path / "junit.xml").write_text("<testsuites><testsuite>")
    with pytest.raises(DataError, match="cannot read the JUnit XML"):
        read_summary(tmp_path / "junit.xml")
