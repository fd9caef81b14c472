"""Every command module in ``sshsetup/commands`` has ``run(paths, options, ...) -> Result``: results are data,
``sshsetup.render.show`` prints them (issue 10). Checked on the real modules, found on disk, not from a list."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import sshsetup.commands
from sshsetup.result import Result

MODULES = sorted(m.name for m in pkgutil.iter_modules(sshsetup.commands.__path__) if not m.name.startswith("_"))


def test_the_commands_are_found_on_disk() -> None:
    assert {"doctor", "explain", "triage", "init", "wait"} <= set(MODULES)
    assert sorted(p.stem for p in Path(sshsetup.commands.__file__).parent.glob("[!_]*.py")) == MODULES


def test_every_command_run_is_annotated_to_return_result() -> None:
    wrong = {}
    for name in MODULES:
        module = importlib.import_module(f"sshsetup.commands.{name}")
        run = getattr(module, "run", None)
        if not inspect.isfunction(run):
            wrong[name] = "no run function"
            continue
        annotation = inspect.signature(run).return_annotation
        returned = eval(annotation, vars(module)) if isinstance(annotation, str) else annotation  # noqa: S307 - our own source
        if returned is not Result:
            wrong[name] = f"run returns {annotation!r}"
        params = list(inspect.signature(run).parameters.values())
        if [p.name for p in params[:2]] != ["paths", "options"] or any(p.kind is p.POSITIONAL_OR_KEYWORD for p in params[2:]):
            wrong[name] = "run(paths, options, *, ...) expected"
    assert wrong == {}
