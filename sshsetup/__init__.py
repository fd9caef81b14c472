"""sshsetup: SSH and VS Code Remote-SSH setup and diagnosis for the JSC supercomputers."""

from __future__ import annotations

__version__ = "0.1.0"  # kept in sync with pyproject.toml (tests/test_packaging.py checks it)
