from __future__ import annotations

from sshsetup.entry import console_main

console_main()
