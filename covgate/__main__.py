from __future__ import annotations

from covgate.cli import main

raise SystemExit(main())
