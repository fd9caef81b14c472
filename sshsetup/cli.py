"""The click adapter: parse options, call one function in ``sshsetup.commands``.

``main(argv) -> int`` is the only place that turns errors into exit codes.
Heavy modules (cryptography, jinja2, platformdirs) are imported inside commands.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sshsetup import __version__
from sshsetup.errors import EXIT_FAIL, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, SshSetupError

if TYPE_CHECKING:
    from sshsetup.paths import Paths

SITES_FILE = click.option(
    "--sites-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A TOML file with extra sites (default: <config dir>/sites.toml).",
)
DRY_RUN = click.option("--dry-run", is_flag=True, help="Show a diff of every file it would touch; write nothing.")
YES = click.option("--yes", "-y", is_flag=True, help="Write without asking.")


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stderr.isatty()


def _paths() -> Paths:
    from sshsetup.paths import Paths

    return Paths.from_env()


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="sshsetup")
def cli() -> None:
    """SSH and VS Code Remote-SSH setup and diagnosis for the JSC supercomputers."""


@cli.command()
@click.option("--site", "sites", multiple=True, metavar="ID", help="A site id (repeatable; default: juwels-booster, jusuf).")
@click.option("--user", metavar="NAME", help="Your JSC user name (from JuDoor).")
@click.option("--key", type=click.Path(dir_okay=False, path_type=Path), help="Reuse this existing private key.")
@click.option("--passphrase-file", metavar="FILE", help="Read the new key's passphrase from FILE ('-': stdin).")
@SITES_FILE
@click.option("--compute-nodes/--no-compute-nodes", default=None, help="Add ProxyJump entries for compute nodes.")
@click.option("--client", type=click.Choice(["auto", "openssh", "windows"]), default="auto", show_default=True,
              help="The ssh client the config is for (windows: Win32-OpenSSH, no ControlMaster).")
@click.option("--insecure-empty-passphrase", is_flag=True, help="Allow a key without passphrase (never for JSC sites).")
@DRY_RUN
@YES
def init(**kw: object) -> int:
    """Create a key, the ~/.ssh/config entries and print the JuDoor key line."""
    from sshsetup.commands import init_cli

    return init_cli.run(_paths(), kw, interactive=_interactive())


@cli.command()
@DRY_RUN
@YES
def remove(dry_run: bool, yes: bool) -> int:
    """Undo everything sshsetup wrote (keys are listed, never deleted)."""
    from sshsetup.commands import init_cli

    return init_cli.run_remove(_paths(), dry_run=dry_run, yes=yes, interactive=_interactive())


@cli.command()
@SITES_FILE
@click.option("--json", "as_json", is_flag=True, help="Print the catalogue as JSON (with sources).")
def sites(sites_file: Path | None, as_json: bool) -> int:
    """List the site catalogue."""
    from sshsetup.commands.sites import render_json, render_text
    from sshsetup.sites import load_catalogue

    cat = load_catalogue(sites_file, _paths().sites_file)
    click.echo(render_json(cat) if as_json else render_text(cat), nl=as_json)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        rv = cli.main(args=args, prog_name="sshsetup", standalone_mode=False)
    except SshSetupError as exc:
        click.echo(f"error: {exc.message}", err=True)
        if exc.hint:
            click.echo(f"hint: {exc.hint}", err=True)
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted; nothing was changed.", err=True)
        return EXIT_FAIL
    except click.ClickException as exc:
        exc.show()
        return EXIT_USAGE if isinstance(exc, click.UsageError) else EXIT_FAIL
    except KeyboardInterrupt:
        click.echo("Interrupted (^C)", err=True)
        return EXIT_INTERRUPTED
    except Exception:  # noqa: BLE001 - the last resort: never a traceback for the user
        from sshsetup.crashlog import report_crash

        report_crash()
        return 3
    return rv if isinstance(rv, int) else EXIT_OK


def console_main() -> None:
    raise SystemExit(main())
