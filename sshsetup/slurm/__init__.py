"""Slurm: job scripts and templating, session jobs, chains, live limits, submitting.

Every Slurm command sshsetup runs on a login node reads times in Slurm's standard form
(``YYYY-MM-DDTHH:MM:SS``), whatever ``SLURM_TIME_FORMAT`` the user's shell start-up files set:
``STANDARD_TIME`` goes in front of each remote command line that prints or compares times.
"""
from __future__ import annotations

STANDARD_TIME = "export SLURM_TIME_FORMAT=standard; "
