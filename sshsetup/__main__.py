from __future__ import annotations

from sshsetup.cli import main

raise SystemExit(main())
