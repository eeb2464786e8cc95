"""Stops the test process tree of `covgate run` when covgate itself dies.

Started by covgate as `python -I -S _watchdog.py PID` (no site: nothing measures or configures
this process), with a pipe on its standard input whose only writer is covgate. It waits for
that pipe to close: covgate writes "done" before it closes it after a normal end; a close
without it means covgate died (kill -9, the OOM killer, a CI timeout), and the watchdog then
kills the process group (on Windows: the process tree) that PID leads.
"""

import contextlib
import os
import signal
import subprocess
import sys


def kill_tree(pid: int) -> None:
    if sys.platform == "win32":
        subprocess.run(["taskkill", "/F", "/T", "/PID", str(pid)], capture_output=True, check=False)
    else:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)


def main() -> int:
    pid = int(sys.argv[1])
    # Ctrl-C in covgate's terminal reaches covgate, which stops the tests itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    message = sys.stdin.buffer.read()
    if message != b"done":
        kill_tree(pid)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
