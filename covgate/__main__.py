from __future__ import annotations

from covgate.cli import entry

raise SystemExit(entry())
