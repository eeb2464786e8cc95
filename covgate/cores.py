"""Which coverage.py core measures `covgate run`: the fastest that measures what the policy
needs, unless the user chose one.

sys.monitoring (Python 3.12+, PEP 669) measures line coverage at a fraction of the C tracer's
cost; branch coverage under it needs Python 3.14. coverage.py's own default is the C tracer
before 3.14, so covgate picks sys.monitoring itself where it can, and names the core that
really measured in its report.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

CORES = ("sysmon", "ctrace", "pytrace")
AUTO = "auto"
CORE_SETTINGS = (AUTO, *CORES)
"""The values of covgate's own `core` key."""

# coverage.py's tracer classes, as `Coverage.sys_info()` names them.
TRACERS = {"SysMonitor": "sysmon", "CTracer": "ctrace", "PyTracer": "pytrace"}
# Concurrency libraries that coverage.py cannot measure with sys.monitoring.
NO_SYSMON_CONCURRENCY = ("greenlet", "eventlet", "gevent")


@dataclass(frozen=True)
class Project:
    """What the choice depends on in the project's coverage.py settings and environment."""

    env_core: str | None = None
    """COVERAGE_CORE in the environment."""
    config_core: str | None = None
    """`[run] core` in the coverage.py configuration."""
    timid: bool = False
    plugins: tuple[str, ...] = ()
    dynamic_context: str | None = None
    concurrency: tuple[str, ...] = ()


@dataclass(frozen=True)
class Platform:
    sysmon: bool
    """sys.monitoring exists (CPython 3.12+)."""
    sysmon_branches: bool
    """coverage.py can measure branches with it (Python 3.14+)."""
    version: str

    @classmethod
    def current(cls) -> Platform:
        from coverage import env

        behaviour = env.PYBEHAVIOR
        return cls(
            sysmon=bool(getattr(behaviour, "pep669", False)),
            sysmon_branches=bool(getattr(behaviour, "branch_right_left", False)),
            version=".".join(str(n) for n in sys.version_info[:3]),
        )


@dataclass(frozen=True)
class Choice:
    core: str | None
    """The core covgate sets for every process of the run; None: the user's (or
    coverage.py's) own choice stands."""
    reason: str


def choose(setting: str, project: Project, branch: bool, platform: Platform) -> Choice:
    """The core for a run. The user's choice wins: COVERAGE_CORE, then covgate's `core`, then
    coverage.py's `[run] core` or `timid`; else sys.monitoring where it measures the policy
    and coverage.py supports the other settings with it, the C tracer otherwise."""
    if project.env_core:
        return Choice(None, f"COVERAGE_CORE={project.env_core} (as set)")
    if setting != AUTO:
        return Choice(setting, "covgate's core setting")
    if project.config_core:
        return Choice(None, "[run] core in the coverage.py configuration")
    if project.timid:
        return Choice(None, "[run] timid in the coverage.py configuration")
    obstacle = _sysmon_obstacle(project, branch, platform)
    if obstacle:
        return Choice("ctrace", f"auto: {obstacle}")
    what = "branch" if branch else "line"
    return Choice("sysmon", f"auto: {what} coverage on Python {platform.version}")


def _sysmon_obstacle(project: Project, branch: bool, platform: Platform) -> str | None:
    if not platform.sysmon:
        return f"sys.monitoring needs Python 3.12 (this is {platform.version})"
    if branch and not platform.sysmon_branches:
        return f"branch coverage with sys.monitoring needs Python 3.14 (this is {platform.version})"
    if project.plugins:
        return "coverage.py plugins may trace files, which sys.monitoring does not support"
    if project.dynamic_context:
        return "dynamic contexts are not supported with sys.monitoring"
    blocked = [c for c in project.concurrency if c in NO_SYSMON_CONCURRENCY]
    if blocked:
        return f"concurrency = {blocked[0]} is not supported with sys.monitoring"
    return None


def measured_name(tracer: str) -> str:
    """The core's short name from coverage.py's tracer class name (unknown names as given)."""
    return TRACERS.get(tracer, tracer)


def describe(measured: str | None, choice: Choice) -> str:
    """The note naming the core that measured, and why it was that one."""
    if measured is None:
        return f"coverage core: unknown ({choice.reason})"
    if choice.core is not None and measured != choice.core:
        return f"coverage core: {measured} (covgate asked for {choice.core}: {choice.reason})"
    return f"coverage core: {measured} ({choice.reason})"
