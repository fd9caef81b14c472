"""The click adapter: parse options, call one function in ``sshsetup.commands``.

``main(argv) -> int`` is the only place that turns errors into exit codes.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from sshsetup import __version__
from sshsetup.errors import EXIT_FAIL, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, SshSetupError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sshsetup")
def cli() -> None:
    """SSH and VS Code Remote-SSH setup and diagnosis for the JSC supercomputers."""


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
    if isinstance(rv, int):
        return rv
    return EXIT_OK


def console_main() -> None:
    raise SystemExit(main())
