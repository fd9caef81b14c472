"""A command's ``Result`` printed by the one renderer (``sshsetup.render.show``), with what it printed.

For tests that call a command's ``run`` (or a function that builds its ``Result``) without the CLI:
``shown(result)`` is what a user would see, exit code, stdout and stderr, as separate strings.
"""

from __future__ import annotations

import contextlib
import io
from typing import NamedTuple

from sshsetup import render
from sshsetup.result import Result


class Printed(NamedTuple):
    rc: int
    out: str
    err: str


def rendered(result: Result, *, as_json: bool = False) -> Printed:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = render.show(result, as_json=as_json)
    return Printed(rc, out.getvalue(), err.getvalue())
