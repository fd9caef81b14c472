"""Jinja2 templates: one strict environment, loaded from one place.

Templates live in the top-level ``templates/`` of the checkout; the wheel carries
them as ``sshsetup/templates`` (hatchling ``force-include``). An editable install
has no packaged copy, so ``template_root`` falls back to the checkout.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sshsetup.errors import SshSetupError

if TYPE_CHECKING:
    import jinja2


def template_root() -> Path:
    """The directory holding the templates: packaged first, else the checkout's."""
    packaged = resources.files("sshsetup") / "templates"
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[2] / "templates"
    if checkout.is_dir():
        return checkout
    raise SshSetupError("sshsetup's templates are missing", hint="reinstall sshsetup: pipx reinstall sshsetup")


@functools.cache
def _env(root: str) -> jinja2.Environment:
    import jinja2  # lazily: only commands that render pay for the import

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(root),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        finalize=_one_line,
    )


def _one_line(value: Any) -> Any:
    """Every value a template prints is one line without control characters, whoever passed it:
    a newline in a value could start a shell command in a job script (defence in depth; the
    values are validated before, and ``$`` in paths is meant to expand inside double quotes)."""
    if isinstance(value, str) and any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in value):
        raise SshSetupError(f"refusing to write {value!r} into a job script: it is not one line",
                            hint="give values without newlines or control characters")
    return value


def make_env() -> jinja2.Environment:
    """The strict environment: undefined names raise, the final newline is kept, no escaping.

    ``trim_blocks``/``lstrip_blocks``: a line holding only a ``{% ... %}`` tag leaves no trace.
    """
    return _env(str(template_root()))


def render(name: str, **ctx: Any) -> str:
    """Render template ``name`` (e.g. ``jobs/python.sbatch.j2``) with ``ctx``."""
    import jinja2

    try:
        return make_env().get_template(name).render(**ctx)
    except jinja2.TemplateNotFound:
        raise SshSetupError(f"template {name} is missing", hint="reinstall sshsetup: pipx reinstall sshsetup") from None
