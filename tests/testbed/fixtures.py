"""pytest fixtures for the real components (sshd, Slurm, servers); see tests/testbed/."""

from __future__ import annotations
