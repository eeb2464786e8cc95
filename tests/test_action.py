"""action.yml: its contract, read with PyYAML, and its steps executed the way the runner does.

The runner simulation follows GitHub's runner (actions/runner): each `run` is written to a
file under RUNNER_TEMP and executed with `bash --noprofile --norc -eo pipefail {file}` in the
step's working directory; `${{ }}` expressions are evaluated only where the runner evaluates
them before the script starts (the step's `env` values and `working-directory`, the action's
output values); each step gets fresh GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_ENV, GITHUB_PATH
and GITHUB_STATE files, read back with the runner's own rules; standard output and standard error
are split into lines as .NET's `ReadLine` splits them (LF, CR or CRLF) and scanned for workflow
commands as the runner scans them (`::cmd::` after leading blanks, the old `##[cmd]` anywhere in
a line, `stop-commands` honoured).
"""

from __future__ import annotations

import json
import os
import re
import selectors
import shlex
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import yaml
from markdown_it import MarkdownIt

from tests.helpers import POLICY, clean_env, measure, small_project, write_files

ROOT = Path(__file__).resolve().parent.parent
ACTION_FILE = ROOT / "action.yml"
INPUTS = (
    "working-directory",
    "config",
    "python",
    "pytest-args",
    "data",
    "fail-under",
    "workers",
    "shard",
    "combine",
    "expect",
    "diff-base",
    "summary",
    "annotations",
    "baseline",
    "policy-ref",
)
OUTPUTS = ("passed", "overall", "failed-classes", "report-json")
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)
INPUT_REF = re.compile(r"inputs\.([A-Za-z_][A-Za-z0-9_-]*)")
STEP_OUTPUT_REF = re.compile(
    r"steps\.([A-Za-z_][A-Za-z0-9_-]*)\.outputs\.([A-Za-z_][A-Za-z0-9_-]*)"
)
TIMEOUT = 300


# ---------------------------------------------------------------------------------------------
# action.yml as data


def load_action() -> dict[str, Any]:
    doc = yaml.safe_load(ACTION_FILE.read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def steps(action: Mapping[str, Any]) -> list[dict[str, Any]]:
    found = action["runs"]["steps"]
    assert isinstance(found, list)
    return found


def strings(node: object, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    """Every string in the document, with the keys (and list indexes) that lead to it."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from strings(value, (*path, str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from strings(value, (*path, str(index)))
    elif isinstance(node, str):
        yield path, node


def test_metadata_and_branding() -> None:
    action = load_action()
    for key in ("name", "description", "author"):
        assert isinstance(action.get(key), str), key
        assert action[key].strip(), key
    assert action["branding"]["icon"]
    assert action["branding"]["color"]
    assert action["runs"]["using"] == "composite"


def test_inputs_are_documented_with_defaults() -> None:
    inputs = load_action()["inputs"]
    assert set(INPUTS) <= set(inputs)
    for name, spec in inputs.items():
        assert spec.get("description"), name
        assert isinstance(spec.get("default", ""), str), f"{name}: defaults must be strings"
    assert inputs["python"]["default"] == "python"
    assert inputs["summary"]["default"] == "true"
    assert inputs["annotations"]["default"] == "true"


def test_every_step_is_a_bash_script_without_expressions() -> None:
    for step in steps(load_action()):
        assert "run" in step, f"{step.get('name')}: only run steps (the simulation runs them all)"
        assert step.get("shell") == "bash", step.get("name")
        assert "${{" not in step["run"], f"{step.get('name')}: an expression inside run:"


def test_inputs_reach_scripts_only_through_env() -> None:
    """Expressions appear only in step env values and working-directory (inputs.*) and in the
    output values (steps.covgate.outputs.*); every input is used."""
    action = load_action()
    used: set[str] = set()
    for path, text in strings(action):
        for match in EXPRESSION.finditer(text):
            expression = match.group(1).strip()
            where = "/".join(path)
            if path[0] == "outputs":
                assert path[2] == "value", where
                assert expression == f"steps.covgate.outputs.{path[1]}", where
                continue
            assert path[:2] == ("runs", "steps"), where
            assert path[3] in ("env", "working-directory"), f"{where}: {expression}"
            ref = INPUT_REF.fullmatch(expression)
            assert ref, f"{where}: {expression} (only plain inputs.NAME)"
            assert ref.group(1) in action["inputs"], f"{where}: unknown input {ref.group(1)}"
            used.add(ref.group(1))
    assert used == set(action["inputs"]), f"unused inputs: {set(action['inputs']) - used}"


def test_outputs_are_wired_to_the_covgate_step() -> None:
    action = load_action()
    ids = [step.get("id") for step in steps(action)]
    assert "covgate" in ids
    assert set(action["outputs"]) == set(OUTPUTS)
    for name in OUTPUTS:
        spec = action["outputs"][name]
        assert spec["description"]
        assert spec["value"] == "${{ steps.covgate.outputs.%s }}" % name  # noqa: UP031


def test_step_scripts_are_valid_bash() -> None:
    for step in steps(load_action()):
        result = subprocess.run(
            ["bash", "-n"], input=step["run"], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, f"{step.get('name')}: {result.stderr}"


# ---------------------------------------------------------------------------------------------
# The runner


@dataclass(frozen=True)
class Line:
    stream: str  # "stdout" or "stderr"
    text: str


@dataclass(frozen=True)
class Command:
    """A workflow command as the runner parses it."""

    name: str
    properties: dict[str, str]
    data: str
    line: Line


@dataclass
class StepRun:
    name: str
    returncode: int
    log: list[Line]
    outputs: dict[str, str]
    summary: str
    env_file: str
    path_file: str


@dataclass
class ActionRun:
    workspace: Path
    steps: list[StepRun] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def returncode(self) -> int:
        """The exit code of the step that ended the action (the last one run)."""
        return self.steps[-1].returncode

    @property
    def log(self) -> list[Line]:
        return [line for step in self.steps for line in step.log]

    @property
    def summary(self) -> str:
        return "".join(step.summary for step in self.steps)

    def text(self) -> str:
        return "\n".join(f"[{line.stream}] {line.text}" for line in self.log)


def evaluate(text: str, contexts: Mapping[str, Any]) -> str:
    """Substitute the `${{ }}` expressions this action may use (see the contract tests)."""

    def value(match: re.Match[str]) -> str:
        expression = match.group(1).strip()
        if ref := INPUT_REF.fullmatch(expression):
            inputs: Mapping[str, str] = contexts["inputs"]
            return inputs[ref.group(1)]
        if ref := STEP_OUTPUT_REF.fullmatch(expression):
            step = contexts["steps"].get(ref.group(1), {})
            outputs: Mapping[str, str] = step.get("outputs", {})
            return outputs.get(ref.group(2), "")
        raise AssertionError(f"the simulation does not evaluate {expression!r}")

    return EXPRESSION.sub(value, text)


NEWLINE = re.compile(rb"\r\n|\r|\n")


def split_lines(buffer: bytes, *, final: bool) -> tuple[list[str], bytes]:
    """Complete lines as .NET's ReadLine sees them (LF, CR, CRLF), and the unfinished rest."""
    lines = []
    start = 0
    for match in NEWLINE.finditer(buffer):
        if match.group() == b"\r" and match.end() == len(buffer) and not final:
            break  # maybe the first half of a CRLF
        lines.append(buffer[start : match.start()].decode("utf-8", "replace"))
        start = match.end()
    rest = buffer[start:]
    if final and rest:
        lines.append(rest.decode("utf-8", "replace"))
        rest = b""
    return lines, rest


def execute(argv: list[str], cwd: Path, env: Mapping[str, str]) -> tuple[int, list[Line]]:
    """Run a process, collecting its standard output and error lines in arrival order."""
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ, "stdout")
    selector.register(process.stderr, selectors.EVENT_READ, "stderr")
    buffers = {"stdout": b"", "stderr": b""}
    log: list[Line] = []
    deadline = time.monotonic() + TIMEOUT
    try:
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                os.killpg(process.pid, signal.SIGKILL)
                raise AssertionError(f"{argv} timed out; so far:\n{log}")
            for key, _ in selector.select(remaining):
                stream: str = key.data
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    selector.unregister(key.fileobj)
                buffers[stream] += chunk
                lines, buffers[stream] = split_lines(buffers[stream], final=not chunk)
                log.extend(Line(stream, text) for text in lines)
    finally:
        selector.close()
        process.stdout.close()
        process.stderr.close()
    return process.wait(), log


def read_file_command(text: str) -> dict[str, str]:
    """GITHUB_OUTPUT as the runner reads it: NAME=VALUE lines and NAME<<DELIMITER blocks."""
    values: dict[str, str] = {}
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line:
            continue
        equals, heredoc = line.find("="), line.find("<<")
        if equals >= 0 and (heredoc < 0 or equals < heredoc):
            name, value = line.split("=", 1)
            assert name, f"invalid line {line!r}"
            values[name] = value
            continue
        assert heredoc >= 0, f"invalid line {line!r}"
        name, delimiter = line.split("<<", 1)
        assert name, f"invalid line {line!r}"
        assert delimiter, f"invalid line {line!r}"
        body: list[str] = []
        while True:
            assert index < len(lines), f"matching delimiter not found: {delimiter!r}"
            line = lines[index]
            index += 1
            if line == delimiter:
                break
            body.append(line)
        values[name] = "\n".join(body)
    return values


def test_the_simulated_runner_reads_outputs_as_the_runner_does() -> None:
    text = "a=1\nb=x=y\n\nc<<EOF\nline 1\nline=2\nEOF\nd<<Z\nZ\ne=a<<b\n"
    assert read_file_command(text) == {
        "a": "1",
        "b": "x=y",
        "c": "line 1\nline=2",
        "d": "",
        "e": "a<<b",
    }
    with pytest.raises(AssertionError, match="delimiter"):
        read_file_command("c<<EOF\nno end\n")


def runner_env(workspace: Path, runner_temp: Path) -> dict[str, str]:
    """The job's environment: the machine's, without covgate's dev environment on PATH."""
    env = clean_env()
    for name in list(env):
        if name.startswith(("COVGATE_", "GITHUB_", "RUNNER_", "PYTEST_")):
            del env[name]
    env.pop("NO_COLOR", None)
    env.pop("VIRTUAL_ENV", None)
    dev_bin = Path(sys.executable).parent
    env["PATH"] = os.pathsep.join(
        entry for entry in env.get("PATH", "").split(os.pathsep) if Path(entry) != dev_bin
    )
    env.update(
        CI="true",
        GITHUB_ACTIONS="true",
        GITHUB_ACTION_PATH=str(ROOT),
        GITHUB_WORKSPACE=str(workspace),
        RUNNER_TEMP=str(runner_temp),
    )
    return env


FILE_COMMANDS = {
    "GITHUB_OUTPUT": "set_output_",
    "GITHUB_STEP_SUMMARY": "step_summary_",
    "GITHUB_ENV": "set_env_",
    "GITHUB_PATH": "add_path_",
    "GITHUB_STATE": "save_state_",
}


def run_action(workspace: Path, runner_temp: Path, inputs: Mapping[str, str]) -> ActionRun:
    """Execute action.yml's steps as the runner does, with the `with:` values `inputs`."""
    action = load_action()
    unknown = set(inputs) - set(action["inputs"])
    assert not unknown, f"not inputs of the action: {unknown}"
    values = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    values.update(inputs)
    contexts: dict[str, Any] = {"inputs": values, "steps": {}}
    commands_dir = runner_temp / "_runner_file_commands"
    commands_dir.mkdir(parents=True, exist_ok=True)
    base = runner_env(workspace, runner_temp)
    result = ActionRun(workspace)
    for step in steps(action):
        suffix = uuid.uuid4()
        files = {name: commands_dir / f"{prefix}{suffix}" for name, prefix in FILE_COMMANDS.items()}
        for path in files.values():
            path.touch()
        env = {**base, **{name: str(path) for name, path in files.items()}}
        for name, value in step.get("env", {}).items():
            env[name] = evaluate(str(value), contexts)
        cwd = workspace / evaluate(str(step.get("working-directory", ".")), contexts)
        script = runner_temp / f"{uuid.uuid4()}.sh"
        script.write_text(step["run"], encoding="utf-8")
        argv = [shutil.which("bash") or "bash", "--noprofile", "--norc", "-eo", "pipefail"]
        returncode, log = execute([*argv, str(script)], cwd, env)
        outputs = read_file_command(files["GITHUB_OUTPUT"].read_text(encoding="utf-8"))
        if "id" in step:
            contexts["steps"][step["id"]] = {"outputs": outputs}
        result.steps.append(
            StepRun(
                name=str(step.get("name", "")),
                returncode=returncode,
                log=log,
                outputs=outputs,
                summary=files["GITHUB_STEP_SUMMARY"].read_text(encoding="utf-8"),
                env_file=files["GITHUB_ENV"].read_text(encoding="utf-8"),
                path_file=files["GITHUB_PATH"].read_text(encoding="utf-8"),
            )
        )
        if returncode != 0:
            break  # the action's later steps have no `if:`, so they are skipped
    result.outputs = {
        name: evaluate(str(spec["value"]), contexts) for name, spec in action["outputs"].items()
    }
    return result


# Workflow commands, parsed by the runner's rules (ActionCommand.TryParseV2, then TryParse).

REGISTERED = frozenset(
    {
        "stop-commands",
        "set-env",
        "set-output",
        "save-state",
        "add-mask",
        "add-path",
        "add-matcher",
        "remove-matcher",
        "debug",
        "notice",
        "warning",
        "error",
        "group",
        "endgroup",
        "echo",
    }
)


def unescape(value: str, mapping: tuple[tuple[str, str], ...]) -> str:
    for escaped, raw in mapping:
        value = value.replace(escaped, raw)
    return value


PROPERTY = (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%"))
DATA = (("%0D", "\r"), ("%0A", "\n"), ("%25", "%"))
LEGACY = (("%3B", ";"), ("%0D", "\r"), ("%0A", "\n"), ("%5D", "]"), ("%25", "%"))


def parse_command(line: Line, registered: set[str]) -> Command | None:
    message = line.text.lstrip()
    if message.startswith("::"):
        end = message.find("::", 2)
        if end >= 0:
            info = message[2:end]
            name, _, props = info.partition(" ")
            if name.lower() in registered:
                properties = {}
                for item in props.strip().split(","):
                    key, _, value = item.partition("=")
                    if key and value:
                        properties[key] = unescape(value, PROPERTY)
                data = unescape(message[end + 2 :], DATA)
                return Command(name.lower(), properties, data, line)
    prefix = line.text.find("##[")
    if prefix < 0:
        return None
    close = line.text.find("]", prefix)
    if close < 0:
        return None
    name, _, props = line.text[prefix + 3 : close].partition(" ")
    if name.lower() not in registered:
        return None
    properties = {}
    for item in props.split(";"):
        key, _, value = item.partition("=")
        if key and value:
            properties[key] = unescape(value, LEGACY)
    return Command(name.lower(), properties, unescape(line.text[close + 1 :], LEGACY), line)


def workflow_commands(log: list[Line]) -> list[Command]:
    """The commands the runner acts on, in order (`stop-commands` and its resume included)."""
    registered = set(REGISTERED)
    stopped: str | None = None
    found = []
    for line in log:
        command = parse_command(line, registered)
        if command is None:
            continue
        if stopped is not None:
            if command.name == stopped:
                registered.discard(stopped)
                stopped = None
                found.append(command)
            continue
        if command.name == "stop-commands":
            stopped = command.data.lower()
            registered.add(stopped)
        found.append(command)
    return found


@pytest.mark.parametrize(
    ("lines", "names"),
    [
        (["::error file=a%2Cb.py,line=3::x"], ["error"]),
        (["   ::warning::indented"], ["warning"]),
        (["text ::error::not at the start", "::nosuch::x", "::error no end"], []),
        (["text ##[error]the old form, anywhere", "##[unknown]x"], ["error"]),
        (["a\r::error::after a CR"], ["error"]),
        (["::stop-commands::tok", "::error::fenced", "##[error]fenced", "::tok::", "::error::"],
         ["stop-commands", "tok", "error"]),
    ],
)  # fmt: skip
def test_the_simulated_runner_finds_commands_as_the_runner_does(
    lines: list[str], names: list[str]
) -> None:
    log: list[Line] = []
    for text in lines:
        split, _ = split_lines(text.encode() + b"\n", final=True)
        log.extend(Line("stdout", line) for line in split)
    assert [c.name for c in workflow_commands(log)] == names


def test_the_simulated_runner_unescapes_properties_and_data() -> None:
    line = Line("stdout", "::error file=%25%0D%0A%3A%2C%253A,title=t::%25%0A%3A")
    (command,) = workflow_commands([line])
    assert command.properties == {"file": "%\r\n:,%3A", "title": "t"}
    assert command.data == "%\n%3A"


def issued(run: ActionRun) -> list[Command]:
    """The commands other than `stop-commands` and its resume token."""
    tokens: set[str] = set()
    found = []
    for command in workflow_commands(run.log):
        if command.name == "stop-commands":
            tokens.add(command.data.lower())
        elif command.name not in tokens:
            found.append(command)
    return found


def repository_file(command: Command, workspace: Path) -> str:
    """The `file` property as the runner resolves it: relative to the repository root."""
    file = command.properties["file"]
    if Path(file).is_absolute():
        return Path(file).relative_to(workspace).as_posix()
    return file


# The job summary


def table_shapes(markdown: str) -> list[list[int]]:
    """For each Markdown table, the cell count of each of its lines (header first)."""

    def cells(line: str) -> int:
        inner = line.strip()
        inner = inner.removeprefix("|")
        inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
        return len(re.split(r"(?<!\\)\|", inner))

    lines = markdown.split("\n")
    tables = []
    for index, line in enumerate(lines):
        if index and re.fullmatch(r"\s*\|?(\s*:?-+:?\s*\|)+\s*:?-*:?\s*\|?\s*", line):
            shape = [cells(lines[index - 1]), cells(line)]
            for row in lines[index + 1 :]:
                if not row.strip():
                    break
                shape.append(cells(row) if row.lstrip().startswith("|") else -1)
            tables.append(shape)
    return tables


def assert_summary_well_formed(summary: str) -> None:
    shapes = table_shapes(summary)
    assert shapes, summary
    for shape in shapes:
        assert len(set(shape)) == 1, f"table shape {shape}:\n{summary}"
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(summary)
    for tag in re.findall(r"<(/?[a-zA-Z][a-zA-Z0-9]*)", html):
        assert tag.lower().lstrip("/") in {
            "h1", "h2", "h3", "p", "ul", "ol", "li", "strong", "em", "code", "table", "thead",
            "tbody", "tr", "th", "td", "details", "summary", "br",
        }, f"unexpected HTML element {tag!r} in the summary:\n{html}"  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Argument passing, with a stand-in interpreter that records what it was given


@pytest.fixture
def recorder(tmp_path: Path) -> Path:
    """An executable that records its argv (NUL-separated), the switches and its folder."""
    log = tmp_path / "recorded"
    log.mkdir()
    script = tmp_path / "bin" / "fake-python"
    script.parent.mkdir()
    script.write_text(
        "#!/bin/bash\n"
        f"log={shlex.quote(str(log))}\n"
        'if [ "$1" = -m ] && [ "$2" = pip ]; then printf "%s\\0" "$@" > "$log/pip"; exit 0; fi\n'
        'printf "%s\\0" "$@" > "$log/argv"\n'
        'printf "%s\\n" "$COVGATE_SUMMARY" "$COVGATE_ANNOTATIONS" "$PWD" > "$log/env"\n'
        "exit 7\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    return script


def recorded(recorder: Path, name: str) -> list[str]:
    """The arguments (`pip`, `argv`) or the environment (`env`) the stand-in was given."""
    text = (recorder.parent.parent / "recorded" / name).read_text(encoding="utf-8")
    return text.split("\n" if name == "env" else "\0")[:-1]


HOSTILE_ARG = "$(touch pwned) `touch pwned` ; touch pwned"


@pytest.mark.parametrize(
    ("inputs", "argv"),
    [
        pytest.param({}, ["run", "--"], id="defaults"),
        pytest.param(
            {
                "pytest-args": f"-k\nauth and not slow\n\n  -x  \n{HOSTILE_ARG}\n'quoted'\n*.py\n",
                "config": "cfg dir/covgate.toml",
                "fail-under": "critical=97\n overall=80 \n",
                "workers": "2",
            },
            [
                "run",
                "--config",
                "cfg dir/covgate.toml",
                "--fail-under",
                "critical=97",
                "--fail-under",
                "overall=80",
                "--workers",
                "2",
                "--",
                "-k",
                "auth and not slow",
                "-x",
                HOSTILE_ARG,
                "'quoted'",
                "*.py",
            ],
            id="run",
        ),
        pytest.param(
            {"data": "coverage.xml\r\n-odd name.json\r\n", "fail-under": "overall=70"},
            ["check", "--fail-under", "overall=70", "--", "coverage.xml", "-odd name.json"],
            id="check",
        ),
        pytest.param(
            {"baseline": "gate/base line.json", "policy-ref": "origin/main", "data": ".coverage"},
            [
                "check",
                "--baseline",
                "gate/base line.json",
                "--policy-ref",
                "origin/main",
                "--",
                ".coverage",
            ],
            id="no regressions",
        ),
        pytest.param(
            {"shard": "2/4", "workers": "2", "pytest-args": "-x"},
            ["run", "--workers", "2", "--shard", "2/4", "--", "-x"],
            id="shard",
        ),
        pytest.param(
            {"combine": "shards\n-odd name\n", "expect": "4", "fail-under": "overall=70"},
            ["combine", "--fail-under", "overall=70", "--expect", "4", "--", "shards", "-odd name"],
            id="combine",
        ),
        pytest.param(
            {"diff-base": f"origin/{HOSTILE_ARG}", "fail-under": "critical.patch=100"},
            [
                "run",
                "--fail-under",
                "critical.patch=100",
                f"--diff-base=origin/{HOSTILE_ARG}",
                "--",
            ],
            id="diff-base",
        ),
        pytest.param(
            {"diff-base": "-x", "data": ".coverage"},
            ["check", "--diff-base=-x", "--", ".coverage"],
            id="diff-base-never-an-option",
        ),
    ],
)
def test_inputs_become_separate_arguments(
    tmp_path: Path, recorder: Path, inputs: dict[str, str], argv: list[str]
) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "a.py").touch()
    run = run_action(workspace, tmp_path / "temp", {**inputs, "python": str(recorder)})
    assert run.returncode == 7, run.text()  # the interpreter's own exit code is the step's
    assert recorded(recorder, "pip")[-1] == str(ROOT)
    assert recorded(recorder, "argv") == ["-m", "covgate", *argv]
    assert not list(workspace.rglob("pwned"))
    assert not issued(run)


def test_data_with_run_only_inputs_warns(tmp_path: Path, recorder: Path) -> None:
    inputs = {"python": str(recorder), "data": ".coverage", "workers": "2", "pytest-args": "-x"}
    run = run_action(tmp_path, tmp_path / "temp", inputs)
    assert recorded(recorder, "argv") == ["-m", "covgate", "check", "--", ".coverage"]
    assert [c.name for c in issued(run)] == ["warning"]


@pytest.mark.parametrize(
    "gating", [{"fail-under": "overall=70"}, {"baseline": "b.json", "policy-ref": "origin/main"}]
)
def test_shard_ignores_gating_inputs_with_a_warning(
    tmp_path: Path, recorder: Path, gating: dict[str, str]
) -> None:
    inputs = {"python": str(recorder), "shard": "auto", **gating}
    run = run_action(tmp_path, tmp_path / "temp", inputs)
    assert recorded(recorder, "argv") == ["-m", "covgate", "run", "--shard", "auto", "--"]
    assert [c.name for c in issued(run)] == ["warning"]


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"combine": "shards", "expect": "3", "data": ".coverage"}, "combine excludes data"),
        ({"combine": "shards", "shard": "1/3", "expect": "3"}, "combine excludes data and shard"),
        ({"combine": "shards"}, "combine needs expect: the number of shards"),
        ({"shard": "1/3", "data": ".coverage"}, "shard excludes data: a shard runs the tests"),
    ],
)
def test_shard_and_combine_conflicts_are_usage_errors(
    tmp_path: Path, recorder: Path, inputs: dict[str, str], message: str
) -> None:
    run = run_action(tmp_path, tmp_path / "temp", {**inputs, "python": str(recorder)})
    assert run.returncode == 3
    assert not (tmp_path / "recorded" / "argv").exists()
    assert any(line.text.startswith(f"covgate action: {message}") for line in run.log)


def test_working_directory_and_a_relative_python(tmp_path: Path, recorder: Path) -> None:
    project = tmp_path / "ws" / "my project"
    (project / "tools").mkdir(parents=True)
    shutil.copy(recorder, project / "tools" / "python")
    inputs = {"working-directory": "my project", "python": "tools/python"}
    run = run_action(tmp_path / "ws", tmp_path / "temp", inputs)
    assert run.returncode == 7, run.text()
    assert recorded(recorder, "env")[-1] == str(project)


@pytest.mark.parametrize(
    ("summary", "annotate", "seen"),
    [("true", "true", ["true", "true"]), ("False", "FALSE", ["false", "false"])],
)
def test_switches_reach_covgate(
    tmp_path: Path, recorder: Path, summary: str, annotate: str, seen: list[str]
) -> None:
    inputs = {"python": str(recorder), "summary": summary, "annotations": annotate}
    run_action(tmp_path, tmp_path / "temp", inputs)
    assert recorded(recorder, "env")[:2] == seen


@pytest.mark.parametrize("switch", ["summary", "annotations"])
def test_a_switch_that_is_not_a_boolean_is_a_usage_error(
    tmp_path: Path, recorder: Path, switch: str
) -> None:
    run = run_action(tmp_path, tmp_path / "temp", {"python": str(recorder), switch: "yes"})
    assert run.returncode == 3
    assert not (tmp_path / "recorded" / "argv").exists()
    assert any(switch in line.text for line in run.log)


# ---------------------------------------------------------------------------------------------
# The real action: pip installs covgate from the repository, then covgate runs for real


@pytest.fixture(scope="module")
def action_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv whose site-packages also sees the dev venv's, so covgate's dependencies (and
    pip: no ensurepip, which takes seconds) are satisfied and the action's pip install only builds
    and installs covgate itself. The dev venv's editable covgate is not visible: a .pth file's
    folder is not a site folder, so its own .pth files are not read."""
    home = tmp_path_factory.mktemp("action-python") / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(home)], check=True, timeout=TIMEOUT
    )
    python = home / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True, timeout=TIMEOUT,
    ).stdout.strip()  # fmt: skip
    dev = sysconfig.get_paths()["purelib"]
    Path(purelib, "covgate-dev-dependencies.pth").write_text(dev + "\n", encoding="utf-8")
    return python


def report_percent(overall: Mapping[str, int]) -> str:
    """The overall percentage as covgate shows it: rounded down to 2 decimals."""
    hundredths = Fraction(100 * 100 * overall["covered"], overall["total"]).__floor__()
    return f"{hundredths // 100}.{hundredths % 100:02d}"


def check_outputs(run: ActionRun, *, passed: bool, failed: list[str]) -> dict[str, Any]:
    outputs = run.outputs
    assert outputs["passed"] == ("true" if passed else "false")
    assert json.loads(outputs["failed-classes"]) == failed
    report_path = Path(outputs["report-json"])
    assert report_path.is_absolute()
    report: dict[str, Any] = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["passed"] is passed
    assert report["exit_code"] == run.returncode
    assert outputs["overall"] == report_percent(report["overall"])
    for step in run.steps:
        assert step.env_file == ""
        assert step.path_file == ""
    return report


def test_action_passes_on_a_passing_project(tmp_path: Path, action_python: Path) -> None:
    workspace = small_project(tmp_path / "ws", POLICY)
    inputs = {
        "python": str(action_python),
        "pytest-args": "-p\nno:cacheprovider\n-k\nnot no_such_test",
        "workers": "0",
    }
    run = run_action(workspace, tmp_path / "temp", inputs)
    assert [s.returncode for s in run.steps] == [0, 0], run.text()
    report = check_outputs(run, passed=True, failed=[])
    assert report["tests"]["passed"] == 3
    assert not issued(run), run.text()
    assert "## covgate: passed" in run.summary
    assert "| critical |" in run.summary
    assert_summary_well_formed(run.summary)
    installed = subprocess.run(
        [action_python, "-c", "import covgate; print(covgate.__file__)"],
        cwd=tmp_path, capture_output=True, text=True, check=True, timeout=TIMEOUT,
    ).stdout  # fmt: skip
    assert Path(installed.strip()).is_relative_to(action_python.parent.parent)


FAILING = POLICY.replace("min = 80", "min = 80\nper_file = 95")


def test_action_fails_with_annotations_on_a_failing_project(
    tmp_path: Path, action_python: Path
) -> None:
    workspace = tmp_path / "ws"
    small_project(workspace / "service", FAILING)
    inputs = {
        "python": str(action_python),
        "working-directory": "service",
        "fail-under": "critical=95",
    }
    run = run_action(workspace, tmp_path / "temp", inputs)
    assert [s.returncode for s in run.steps] == [0, 2], run.text()
    check_outputs(run, passed=False, failed=["critical"])
    assert "## covgate: FAILED" in run.summary
    assert "critical" in run.summary
    assert_summary_well_formed(run.summary)
    errors = issued(run)
    assert errors, run.text()
    assert {c.name for c in errors} == {"error"}, run.text()
    assert {c.line.stream for c in errors} == {"stdout"}
    assert all("critical" in c.properties.get("title", "") for c in errors)
    files = {repository_file(c, workspace) for c in errors}
    assert files == {"service/app/auth/tokens.py"}
    for command in errors:
        assert int(command.properties["line"]) > 0
    # The commands a run prints itself are recognised: the fence really is in place.
    assert any(c.name == "stop-commands" for c in workflow_commands(run.log))


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, timeout=TIMEOUT)


def test_action_annotates_uncovered_changed_lines(tmp_path: Path, action_python: Path) -> None:
    workspace = tmp_path / "ws"
    project = small_project(workspace / "service", POLICY + "patch = 100\n")
    (workspace / ".gitignore").write_text(".coverage\n__pycache__/\n", encoding="utf-8")
    git(workspace, "init", "-q", "-b", "main")
    git(workspace, "add", "-A")
    git(workspace, "-c", "user.email=d@e", "-c", "user.name=D", "commit", "-q", "-m", "base")
    git(workspace, "checkout", "-q", "-b", "feature")
    with (project / "app/auth/tokens.py").open("a", encoding="utf-8") as stream:
        stream.write("\n\ndef revoke(token: str) -> bool:\n    return bool(token)\n")
    with (project / "app/utils/text.py").open("a", encoding="utf-8") as stream:
        stream.write("\n\ndef strip(text: str) -> str:\n    return text.strip()\n")
    inputs = {
        "python": str(action_python),
        "working-directory": "service",
        "diff-base": "main",
        "pytest-args": "-p\nno:cacheprovider",
    }
    run = run_action(workspace, tmp_path / "temp", inputs)
    assert [s.returncode for s in run.steps] == [0, 2], run.text()
    check_outputs(run, passed=False, failed=["critical"])
    shown = [
        (c.name, repository_file(c, workspace), c.properties.get("line"), c.data)
        for c in issued(run)
        if "file" in c.properties
    ]
    assert shown == [
        ("error", "service/app/auth/tokens.py", "18", "changed line 18 not run by the tests"),
        ("warning", "service/app/utils/text.py", "14", "changed line 14 not run by the tests"),
    ], run.text()
    assert "### Patch coverage: lines changed since main" in run.summary
    assert_summary_well_formed(run.summary)


HOSTILE_NAMES = [
    "pct%25%0A%3A%2C%.py",
    "comma,colon:name.py",
    "::warning::command.py",
    "  ::notice::indented.py",
    "##[error]legacy.py",
    "pipe|<b>bold<b>`tick`<img src=x onerror=alert(1)>.py",
    "line\n::error::injected.py",
    "carriage\r##[warning]injected.py",
]

HOSTILE_TEST = """\
import importlib.util
from pathlib import Path

AUTH = Path(__file__).resolve().parent.parent / "app" / "auth"


def test_half_of_every_file() -> None:
    for index, path in enumerate(sorted(AUTH.iterdir())):
        if path.suffix != ".py" or path.name == "__init__.py":
            continue
        spec = importlib.util.spec_from_file_location(f"hostile_{index}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        assert module.half(True) == 1
"""

HALF = """\
def half(flag: bool) -> int:
    if flag:
        return 1
    return 2
"""

HOSTILE_POLICY = """\
[tool.coverage.run]
source = ["app"]
branch = true

[tool.covgate]
workers = 0

[tool.covgate.overall]
min = 0

[[tool.covgate.classes]]
name = "critical"
paths = ["app/auth/**"]
min = 95
per_file = 95
"""


def test_hostile_file_names_inject_nothing(tmp_path: Path, action_python: Path) -> None:
    workspace = tmp_path / "ws"
    write_files(
        workspace,
        {
            "pyproject.toml": HOSTILE_POLICY,
            "app/__init__.py": "",
            "app/auth/__init__.py": "",
            "tests/test_hostile.py": HOSTILE_TEST,
        },
    )
    names = []
    for name in HOSTILE_NAMES:
        try:
            (workspace / "app" / "auth" / name).write_text(HALF, encoding="utf-8")
        except OSError:
            if "\n" in name or "\r" in name:
                continue  # a filesystem that refuses CR or LF in names
            raise
        names.append(name)
    measure(workspace)
    inputs = {"python": str(action_python), "data": ".coverage"}
    run = run_action(workspace, tmp_path / "temp", inputs)
    assert [s.returncode for s in run.steps] == [0, 2], run.text()
    check_outputs(run, passed=False, failed=["critical"])

    # Only covgate's own annotations are commands: one for the class, one per file.
    errors = issued(run)
    assert [c.name for c in errors] == ["error"] * (1 + len(names)), run.text()
    assert {c.line.stream for c in errors} == {"stdout"}
    expected = {f"app/auth/{name}" for name in names}
    per_file = [c for c in errors if "per-file" in c.properties.get("title", "")]
    assert {repository_file(c, workspace) for c in per_file} == expected
    assert {repository_file(c, workspace) for c in errors} <= expected

    assert_summary_well_formed(run.summary)
    assert "<b>" not in run.summary


def test_action_with_a_baseline_and_the_policy_at_main(tmp_path: Path, action_python: Path) -> None:
    workspace = small_project(tmp_path / "ws", POLICY)
    measure(workspace)
    subprocess.run(
        [sys.executable, "-m", "covgate", "baseline"],
        cwd=workspace, env=clean_env(), check=True, capture_output=True, timeout=TIMEOUT,
    )  # fmt: skip
    written = workspace / "covgate-baseline.json"
    # A baseline one uncovered line stricter for tokens.py than the data.
    baseline = json.loads(written.read_text(encoding="utf-8"))
    assert baseline["files"]["app/auth/tokens.py"] == 2
    written.write_text(
        written.read_text().replace('"app/auth/tokens.py": 2', '"app/auth/tokens.py": 1')
    )
    (workspace / ".gitignore").write_text(".coverage\n")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"],
                 ["-c", "user.name=Dev", "-c", "user.email=dev@example.com", "commit", "-q",
                  "-m", "base"]):  # fmt: skip
        subprocess.run(["git", *args], cwd=workspace, check=True, capture_output=True)
    inputs = {
        "python": str(action_python),
        "data": ".coverage",
        "baseline": "covgate-baseline.json",
        "policy-ref": "main",
    }
    run = run_action(workspace, tmp_path / "temp", inputs)
    assert [s.returncode for s in run.steps] == [0, 2], run.text()
    report = check_outputs(run, passed=False, failed=[])
    assert report["baseline"]["passed"] is False
    # main's configuration names no baseline (the input does): its policy alone passes.
    assert (report["policy_ref"]["passed"], report["policy_ref"]["weakened"]) == (True, [])
    errors = issued(run)
    grown = [
        c
        for c in errors
        if c.properties.get("title") == "covgate: more uncovered than the baseline"
    ]
    assert [(repository_file(c, workspace), c.data) for c in grown] == [
        ("app/auth/tokens.py", "app/auth/tokens.py: 2 uncovered lines and branches, baseline 1")
    ]
    assert "### No regressions" in run.summary
    assert_summary_well_formed(run.summary)
