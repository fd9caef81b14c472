"""The error types that reach the user, and their exit codes.

Every message is one line; ``hint`` names the next step. ``cli.main`` is the
only place that turns these into output and exit codes.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAIL = 1  # sshsetup refused or failed
EXIT_USAGE = 2  # bad usage or bad input
EXIT_INTERRUPTED = 130


class SshSetupError(Exception):
    """sshsetup refused or failed (exit 1)."""

    exit_code = EXIT_FAIL

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class BadInput(SshSetupError):
    """The user's input (an option, a site file, a CIDR, ...) is invalid (exit 2)."""

    exit_code = EXIT_USAGE


class Refused(SshSetupError):
    """sshsetup will not touch a file (malformed markers, unreadable bytes, ...) (exit 1)."""
