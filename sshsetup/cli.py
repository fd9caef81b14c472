"""The click adapter: parse options, call one function in ``sshsetup.commands``.

``main(argv) -> int`` is the only place that turns errors into exit codes.
Heavy modules (cryptography, jinja2, platformdirs) are imported inside commands.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sshsetup import __version__
from sshsetup.errors import EXIT_FAIL, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, SshSetupError

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

    from sshsetup.initplan import Prompter
    from sshsetup.paths import Paths
    from sshsetup.remembered import Remembered

SITES_FILE = click.option(
    "--sites-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A TOML file with extra sites (default: <config dir>/sites.toml).",
)
DRY_RUN = click.option("--dry-run", is_flag=True, help="Show a diff of every file it would touch; write nothing.")
YES = click.option("--yes", "-y", is_flag=True, help="Write without asking.")
FROM = click.option("--from", "from_ranges", multiple=True, metavar="CIDR",
                    help="A range you log in from (repeatable); skips the address detection.")
RANGE = click.option("--range", "range_policy", type=click.Choice(["exact", "24", "16", "provider"]), default="16",
                     show_default=True, help="How wide a range to allow around your detected address.")


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stderr.isatty()


def _paths() -> Paths:
    from sshsetup.ownership import require_own_home
    from sshsetup.paths import Paths

    paths = Paths.from_env()
    require_own_home(paths)  # never root-owned files in a user's home (sudo -E)
    return paths


def _confirm() -> Callable[[str], bool] | None:
    """A yes/no question on the terminal; None when nobody can answer (a command then needs --yes)."""
    if not _interactive():
        return None
    return lambda msg: bool(click.confirm(msg, default=True, err=True))


def _prompter() -> Prompter | None:
    """``init``'s questions on the terminal; None when nobody can answer."""
    if not _interactive():
        return None
    from sshsetup.initplan import Prompter
    from sshsetup.ssh.passphrase import read_hidden

    return Prompter(
        confirm=lambda msg: bool(click.confirm(msg, default=True, err=True)),
        text=lambda msg: str(click.prompt(msg, err=True)),
        secret=lambda msg: read_hidden(msg, confirm=False),  # initplan asks twice and counts the tries
        say=lambda msg: click.echo(msg, err=True),
        enter=lambda msg: None if click.prompt(msg, default="", show_default=False, err=True) else None,
    )


def _site_aliases(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """``--alias SITE=NAME`` as (site, name) pairs; the values themselves are checked by init."""
    pairs = []
    for value in values:
        site, sep, name = value.partition("=")
        if not sep or not site or not name:
            raise click.BadParameter(f"{value!r} is not SITE=NAME (e.g. --alias juwels-booster=booster)")
        pairs.append((site, name))
    return tuple(pairs)


# ---- shell completion (click's: eval "$(_SSHSETUP_COMPLETE=bash_source sshsetup)"); never raises, never slow


def _remembered_catalogue() -> tuple[Remembered, list[str], dict[str, str]]:
    """(remembered options, the catalogue's site ids, alias by site id) for completion; empty when unreadable."""
    from sshsetup import remembered
    from sshsetup.catalogue import load_catalogue

    paths = _paths()
    try:
        rem = remembered.load(paths)
    except Exception:  # noqa: BLE001 - a damaged block completes nothing from it
        rem = remembered.Remembered()
    try:
        catalogue = load_catalogue(rem.sites_file, paths.sites_file)
    except Exception:  # noqa: BLE001 - a broken sites file: no candidates
        return rem, [], {}
    aliases = dict(rem.aliases)
    return rem, sorted(catalogue), {sid: aliases.get(sid, site.alias) for sid, site in catalogue.items()}


def _complete_site_ids(_ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    from click.shell_completion import CompletionItem

    _, ids, alias = _remembered_catalogue()
    return [CompletionItem(i, help=alias.get(i)) for i in ids if i.startswith(incomplete)]


def _complete_set_up_sites(_ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """The sites init set up (what --drop-site can drop)."""
    from click.shell_completion import CompletionItem

    rem, _, alias = _remembered_catalogue()
    ids = rem.sites
    return [CompletionItem(i, help=alias.get(i)) for i in ids if i.startswith(incomplete)]


def _complete_aliases(_ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """The ssh aliases of the sites init set up."""
    from click.shell_completion import CompletionItem

    rem, _, alias = _remembered_catalogue()
    ids = rem.sites
    return [CompletionItem(alias[i], help=i) for i in ids if i in alias and alias[i].startswith(incomplete)]


def _complete_site_alias_pair(_ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """``--alias SITE=NAME``: the site part, with '='."""
    from click.shell_completion import CompletionItem

    _, ids, _alias = _remembered_catalogue()
    return [CompletionItem(f"{i}=", type="nospace") for i in ids if f"{i}=".startswith(incomplete)]


def _complete_check_ids(_ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    from click.shell_completion import CompletionItem

    from sshsetup.support.doctor import CHECKS, REMOTE_CHECKS

    return [CompletionItem(c.id) for c in (*CHECKS, *REMOTE_CHECKS) if c.id.startswith(incomplete)]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="sshsetup")
def cli() -> None:
    """SSH and VS Code Remote-SSH setup and diagnosis for the JSC supercomputers."""


@cli.command()
@click.option("--site", "sites", multiple=True, metavar="ID", shell_complete=_complete_site_ids,
              help="Add a site (repeatable; kept with those set up before; first time default: juwels-booster, jusuf).")
@click.option("--drop-site", "drop_sites", multiple=True, metavar="ID", shell_complete=_complete_set_up_sites, help="Leave out a site set up before (repeatable).")
@click.option("--user", metavar="NAME", help="Your JSC user name (from JuDoor).")
@click.option("--key", type=click.Path(dir_okay=False, path_type=Path), help="Reuse this existing private key.")
@click.option("--passphrase-file", metavar="FILE", help="Read the new key's passphrase from FILE ('-': stdin).")
@SITES_FILE
@click.option("--compute-nodes/--no-compute-nodes", default=None, help="Add ProxyJump entries for compute nodes.")
@click.option("--client", type=click.Choice(["auto", "openssh", "windows", "macos"]), default="auto", show_default=True,
              help="The ssh client the config is for (windows: Win32-OpenSSH, no ControlMaster; macos: Keychain).")
@click.option("--insecure-empty-passphrase", is_flag=True, help="Allow a key without passphrase (never for JSC sites).")
@FROM
@RANGE
@click.option("--vscode/--no-vscode", default=True, help="Write VS Code's Remote-SSH settings when VS Code is found.")
@click.option("--project-dir", metavar="DIR", help="Absolute project directory on the cluster: the VS Code server goes to DIR/USER.")
@click.option("--account", metavar="NAME", help="Project whose $PROJECT_<NAME> holds the VS Code server (one ssh call per host).")
@click.option("--alias", "aliases", multiple=True, metavar="SITE=NAME", callback=_site_aliases, shell_complete=_complete_site_alias_pair,
              help="Use your own alias NAME (e.g. your hand-written 'Host booster') for SITE's managed entry (repeatable).")
@click.option("--no-guide", is_flag=True,
              help="Stop after the key line (default on a terminal: copy it, open JuDoor, wait for Enter, then sshsetup wait).")
@DRY_RUN
@YES
def init(sites: tuple[str, ...], drop_sites: tuple[str, ...], user: str | None, key: Path | None, passphrase_file: str | None, sites_file: Path | None,
         compute_nodes: bool | None, client: str, insecure_empty_passphrase: bool, from_ranges: tuple[str, ...],
         range_policy: str, vscode: bool, project_dir: str | None, account: str | None,
         aliases: tuple[tuple[str, str], ...], no_guide: bool, dry_run: bool, yes: bool) -> int:
    """Create a key, the ~/.ssh/config entries and print the JuDoor key line."""
    from sshsetup import render
    from sshsetup.commands import init as command

    ask = _prompter()
    options = command.InitOptions(
        sites=sites, user=user, key=key, passphrase_file=passphrase_file, sites_file=sites_file, compute_nodes=compute_nodes,
        client=client, dry_run=dry_run, yes=yes, insecure_empty_passphrase=insecure_empty_passphrase,
        from_ranges=from_ranges, policy=range_policy, vscode=vscode, project_dir=project_dir, account=account,
        aliases=aliases, drop_sites=drop_sites, guide=ask is not None and not no_guide and not dry_run,
    )
    result = command.run(_paths(), options, ask=ask)
    rc = render.show(result)
    if rc == EXIT_OK and options.guide and ask is not None and result.changed:
        try:
            rc = command.guide(_paths(), ask)
        except (click.exceptions.Abort, KeyboardInterrupt) as exc:  # the files are written: not "nothing was changed"
            click.echo(err=True)
            if isinstance(exc, click.exceptions.Abort) and not isinstance(exc.__cause__ or exc.__context__, KeyboardInterrupt):
                click.echo("Stopped before the check (end of input): the setup is written; "
                           "check the login later with: sshsetup wait", err=True)
                return EXIT_OK
            click.echo("Interrupted (^C): the setup is written; check the login later with: sshsetup wait", err=True)
            return EXIT_INTERRUPTED
    return rc


@cli.command("key-line")
@click.option("--site", "sites", multiple=True, metavar="ID", shell_complete=_complete_site_ids, help="The site(s) the line is for (default: those init set up).")
@SITES_FILE
@click.option("--key", type=click.Path(dir_okay=False, path_type=Path), help="The private key (default: the one init configured).")
@FROM
@RANGE
@click.option("--internal/--no-internal", default=None,
              help="Add 10.0.0.0/8 for ProxyJump to compute nodes (default: on with --compute-nodes).")
@click.option("--name", metavar="NAME", help="Save these ranges as NAME (home, office, vpn): every later line includes them.")
@click.option("--json", "as_json", is_flag=True, help="Print the line and its ranges as JSON.")
def key_line(sites: tuple[str, ...], sites_file: Path | None, key: Path | None, from_ranges: tuple[str, ...],
             range_policy: str, internal: bool | None, name: str | None, as_json: bool) -> int:
    """Print the from="..." key line to paste into JuDoor."""
    from sshsetup import render
    from sshsetup.commands import key_line as command

    options = command.KeyLineOptions(sites=sites, sites_file=sites_file, key=key, from_ranges=from_ranges,
                                     range_policy=range_policy, internal=internal, name=name, as_json=as_json)
    return render.show(command.run(_paths(), options), as_json=as_json)


@cli.command()
@DRY_RUN
@YES
def remove(dry_run: bool, yes: bool) -> int:
    """Undo everything sshsetup wrote (keys are listed, never deleted)."""
    from sshsetup import render
    from sshsetup.commands import remove as command

    options = command.RemoveOptions(dry_run=dry_run, yes=yes)
    return render.show(command.run(_paths(), options, confirm=_confirm()))


@cli.command()
@SITES_FILE
@click.option("--json", "as_json", is_flag=True, help="Print the catalogue as JSON (with sources).")
def sites(sites_file: Path | None, as_json: bool) -> int:
    """List the site catalogue."""
    from sshsetup import render
    from sshsetup.commands import sites as command

    options = command.SitesOptions(sites_file=sites_file, as_json=as_json)
    return render.show(command.run(_paths(), options), as_json=as_json)


@cli.command()
@click.option("--workspace", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True,
              help="The folder you open in VS Code (tasks go to .vscode/tasks.json).")
@click.option("--site", "site_id", metavar="ID", shell_complete=_complete_site_ids, help="The site the tasks submit to (default: the first one init set up).")
@SITES_FILE
@click.option("--account", metavar="NAME", help="Default Slurm account (budget) for the tasks.")
@click.option("--partition", metavar="NAME", help="Default partition for the tasks.")
@click.option("--alias", metavar="ALIAS", shell_complete=_complete_aliases, help="The ssh alias for the local-workspace tasks (default: the site's).")
@click.option("--where", type=click.Choice(["local", "remote", "both"]),
              help="Tasks to run from this laptop (local), on the login node (remote), or both "
                   "(default: remote on a login node reached over ssh, local without ssh, else both).")
@DRY_RUN
@YES
def vscode(workspace: Path, site_id: str | None, sites_file: Path | None, account: str | None, partition: str | None,
           alias: str | None, where: str | None, dry_run: bool, yes: bool) -> int:
    """Create or merge VS Code tasks that submit, watch and cancel Slurm jobs."""
    from sshsetup import render
    from sshsetup.commands import vscode as command

    options = command.VscodeOptions(workspace=workspace, site=site_id, sites_file=sites_file, account=account,
                                    partition=partition, alias=alias, where=where, dry_run=dry_run, yes=yes)
    return render.show(command.run(_paths(), options, confirm=_confirm()))


@cli.command()
@click.option("--site", "site_id", metavar="ID", shell_complete=_complete_site_ids,
              help="The site the job runs on (default: the one init set up).")
@SITES_FILE
@click.option("--account", metavar="NAME", help="The Slurm account (budget) that pays (needed with --site).")
@click.option("--partition", metavar="NAME", help="Partition (default: the site's first GPU partition).")
@click.option("--nodes", type=int, metavar="N", help="Number of nodes.")
@click.option("--gpus-per-node", type=int, metavar="G", help="GPUs per node.")
@click.option("--cpus-per-task", type=int, metavar="C", help="CPUs per task (default: 8 per GPU).")
@click.option("--time", "time_", metavar="T", help="Wall time, e.g. 01:00:00 (with --chain: each link's).")
@click.option("--kind", type=click.Choice(["python", "torchrun"]), default="python", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the script to FILE.")
@click.option("--chain", type=int, metavar="N", help="A chain of N links that resume from checkpoints (past the time limit).")
@click.option("--checkpoint-dir", metavar="DIR", help="Where the chain's checkpoints go (default: $SCRATCH_<account>/<job>-ckpt).")
@click.option("--checkpoint-every", metavar="DURATION", help="How often the training checkpoints, e.g. 30m (default 30m).")
@click.option("--signal-lead", metavar="DURATION", help="SIGUSR1 this long before a link ends (default 5m, at least 1m).")
@click.option("--afterany", is_flag=True, help="Chain by afterany dependencies instead of a job array (%1).")
@click.option("--example", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Write the example DDP training program to FILE (and run it from the script).")
@click.option("--submit", is_flag=True, help="Submit the script over the live login (sshsetup login first).")
@click.option("--follow", is_flag=True, help="With --submit: show the queue state, then the output, to the job's end.")
@click.option("--venv", metavar="PATH", help="Your own venv (its directory) to activate, e.g. '$PROJECT_<account>/$USER/venv'.")
@DRY_RUN
@YES
def jobscript(site_id: str | None, sites_file: Path | None, account: str | None, partition: str | None, nodes: int | None,
              gpus_per_node: int | None, cpus_per_task: int | None, time_: str | None, kind: str,
              output: Path | None, chain: int | None, checkpoint_dir: str | None, checkpoint_every: str | None,
              signal_lead: str | None, afterany: bool, example: Path | None, submit: bool, follow: bool,
              venv: str | None, dry_run: bool, yes: bool) -> int:
    """Write a checked Slurm job script (single-GPU Python or multi-node torchrun), or a chain of them."""
    from sshsetup import render
    from sshsetup.commands import jobscript as command

    options = command.JobscriptOptions(site=site_id, sites_file=sites_file, account=account, partition=partition,
                                       nodes=nodes, gpus_per_node=gpus_per_node, cpus_per_task=cpus_per_task,
                                       time=time_, kind=kind, output=output, dry_run=dry_run, yes=yes, chain=chain,
                                       checkpoint_dir=checkpoint_dir, checkpoint_every=checkpoint_every,
                                       signal_lead=signal_lead, afterany=afterany, example=example,
                                       submit=submit, follow=follow, venv=venv)
    return render.show(command.run(_paths(), options, confirm=_confirm()))


@cli.command()
@click.argument("ids", nargs=-1, metavar="[CHECK-ID]...", shell_complete=_complete_check_ids)
@click.option("--site", "sites", multiple=True, metavar="ID", shell_complete=_complete_site_ids, help="Limit to these sites (default: those init set up).")
@SITES_FILE
@click.option("--list", "list_only", is_flag=True, help="List the check ids and exit.")
@click.option("--json", "json_out", is_flag=True, help="Print a versioned JSON envelope.")
@click.option("--timeout", type=click.FloatRange(0.1, 120), default=5.0, show_default=True, metavar="SECONDS",
              help="Timeout of one network probe.")
@click.option("--remote", is_flag=True, help="Also check the login node over the one connection (quota, glibc, .bashrc...).")
@click.option("--report", "report_file", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Write a redacted report for a support ticket (shown first).")
@click.option("--from-report", "from_report", type=click.Path(dir_okay=False, exists=True, path_type=Path), metavar="FILE",
              help="Re-render and re-analyse a report offline (for support staff).")
@click.option("-v", "--verbose", is_flag=True, help="Show details under each check.")
@YES
def doctor(ids: tuple[str, ...], sites: tuple[str, ...], sites_file: Path | None, list_only: bool, json_out: bool,
           timeout: float, remote: bool, report_file: Path | None, from_report: Path | None, verbose: bool, yes: bool) -> int:
    """Find out why a connection fails, and how to fix it."""
    from sshsetup import render
    from sshsetup.commands import doctor as command

    options = command.DoctorOptions(ids=ids, sites=sites, sites_file=sites_file, list_only=list_only, json_out=json_out,
                                    probe_timeout=timeout, remote=remote, report_file=report_file, from_report=from_report,
                                    verbose=verbose, yes=yes)
    return render.show(command.run(_paths(), options, confirm=_confirm()), as_json=options.prints_json)


@cli.command()
@click.option("--site", "sites", multiple=True, metavar="ID", shell_complete=_complete_site_ids, help="The site(s) to check (default: those init set up).")
@SITES_FILE
@click.option("--max-wait", type=click.FloatRange(0, 120), default=15.0, show_default=True, metavar="MINUTES",
              help="Spread the probes over this many minutes.")
@click.option("--probes", type=click.IntRange(1, 10), default=6, show_default=True, help="How many probes at most.")
def wait(sites: tuple[str, ...], sites_file: Path | None, max_wait: float, probes: int) -> int:
    """Check, with a few slow probes, that the uploaded key works."""
    from sshsetup import render
    from sshsetup.commands import wait as command

    options = command.WaitOptions(sites=sites, sites_file=sites_file, max_wait=max_wait, probes=probes)
    return render.show(command.run(_paths(), options))


@cli.command()
@click.argument("source", default="-", metavar="[FILE|-]")
@click.option("--json", "json_out", is_flag=True, help="Print a versioned JSON envelope.")
def explain(source: str, json_out: bool) -> int:
    """Classify an ssh -vvv transcript or a VS Code Remote-SSH log."""
    from sshsetup import render
    from sshsetup.commands import explain as command

    options = command.ExplainOptions(source=source, json_out=json_out)
    return render.show(command.run(_paths(), options), as_json=json_out)


@cli.command()
@click.argument("sources", nargs=-1, required=True, metavar="DIR|FILE...")
@click.option("--json", "json_out", is_flag=True, help="Print a versioned JSON envelope.")
@click.option("--reply", "reply_file", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Write the draft answer (Markdown) for the one ticket given to FILE (a new file).")
def triage(sources: tuple[str, ...], json_out: bool, reply_file: Path | None) -> int:
    """Group many doctor reports and pasted logs by cause (for support staff)."""
    from sshsetup import render
    from sshsetup.commands import triage as command

    options = command.TriageOptions(sources=sources, json_out=json_out, reply_file=reply_file)
    return render.show(command.run(_paths(), options), as_json=json_out)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        rv = cli.main(args=args, prog_name="sshsetup", standalone_mode=False)
    except SshSetupError as exc:
        click.echo(f"error: {exc.message}", err=True)
        if exc.hint:
            click.echo(f"hint: {exc.hint}", err=True)
        return exc.exit_code
    except click.exceptions.Abort as exc:
        if isinstance(exc.__cause__ or exc.__context__, KeyboardInterrupt):  # Ctrl-C at a prompt (click's or ours)
            if exc.__cause__ is None:  # a click prompt: the cursor is still behind the question
                click.echo(err=True)
            click.echo("Interrupted (^C); nothing was changed.", err=True)
            return EXIT_INTERRUPTED
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



# --------------------------------------------------------------------------- login, status, logout (issue 13)


@cli.command()
@click.option("--site", "sites", multiple=True, metavar="ID", shell_complete=_complete_site_ids,
              help="A site id (repeatable; default: those init set up).")
@click.option("--for", "for_", metavar="DURATION", help="Keep the login this long, e.g. 8h, 90m (default: the site's, 8h for JSC).")
@click.option("--timeout", type=click.FloatRange(5, 900), default=120.0, show_default=True, metavar="SECONDS",
              help="Give up on a site when its prompts are not answered within this time.")
@SITES_FILE
def login(sites: tuple[str, ...], for_: str | None, timeout: float, sites_file: Path | None) -> int:
    """Log in once (passphrase, TOTP code) and keep the connection for every later command."""
    from sshsetup.commands import login as login_cmd
    from sshsetup.render import show

    options = login_cmd.LoginOptions(sites=sites, for_=for_, timeout=timeout, sites_file=sites_file)
    return show(login_cmd.run(_paths(), options, interactive=_interactive()))


@cli.command()
@click.option("--site", "sites", multiple=True, metavar="ID", shell_complete=_complete_site_ids,
              help="A site id (repeatable; default: those init set up).")
@SITES_FILE
@click.option("--json", "as_json", is_flag=True, help="Print a versioned JSON envelope.")
def status(sites: tuple[str, ...], sites_file: Path | None, as_json: bool) -> int:
    """Show, per site, whether a login is open, where, and until when."""
    from sshsetup.commands import status as status_cmd
    from sshsetup.render import show

    options = status_cmd.StatusOptions(sites=sites, as_json=as_json, sites_file=sites_file)
    return show(status_cmd.run(_paths(), options), as_json=as_json)


@cli.command()
@click.option("--site", "sites", multiple=True, metavar="ID", shell_complete=_complete_site_ids,
              help="A site id (repeatable; default: those init set up).")
@SITES_FILE
def logout(sites: tuple[str, ...], sites_file: Path | None) -> int:
    """Close the logins that sshsetup login opened (ssh -O exit)."""
    from sshsetup.commands import logout as logout_cmd
    from sshsetup.render import show

    return show(logout_cmd.run(_paths(), logout_cmd.LogoutOptions(sites=sites, sites_file=sites_file)))


# --------------------------------------------------------------------------- jobs (issue 15)


@cli.command()
@click.argument("chain", required=False, metavar="[CHAIN]")
@click.option("--site", "site_id", metavar="ID", help="The site (default: those init set up).")
@SITES_FILE
@click.option("--stop", is_flag=True, help="Cancel the chain's queued links; the running one checkpoints and exits.")
def jobs(chain: str | None, site_id: str | None, sites_file: Path | None, stop: bool) -> int:
    """Show the chains jobscript --submit --chain started: links, states, checkpoints, finish."""
    from sshsetup.commands import jobs as jobs_cmd
    from sshsetup.render import show

    return show(jobs_cmd.run(_paths(), jobs_cmd.JobsOptions(site=site_id, chain=chain, stop=stop, sites_file=sites_file)))


# --------------------------------------------------------------------------- code, serve (issue 14)


@cli.command()
@click.argument("path", required=False)
@click.option("--site", metavar="ID", help="The site (default: the one init set up).")
@click.option("--account", metavar="NAME", help="The budget the session job is charged to (sbatch --account).")
@click.option("--partition", metavar="P", help="The partition (default: the site's first GPU partition).")
@click.option("--gpus", type=int, metavar="N", help="GPUs on the node (default: all of a node).")
@click.option("--time", "time_", metavar="T", help="Walltime, e.g. 01:00:00 (default 1 h).")
@click.option("--idle", default="30m", show_default=True, metavar="DURATION",
              help="Cancel the job after this long without a client (0: never).")
@click.option("--persist", is_flag=True, help="Keep the job after this command ends (until --idle or the walltime).")
@click.option("--transport", type=click.Choice(["srun", "proxyjump"]), help="How VS Code reaches the node (default: srun).")
@click.option("--no-open", is_flag=True, help="Print the code command instead of running it.")
@click.option("--begin", metavar="TIME", help="Start the job no earlier than this (sbatch --begin), e.g. 16:00.")
@click.option("--next", "next_", is_flag=True, help="Queue a successor of the running session job (afterany).")
@click.option("--list", "list_", is_flag=True, help="List the session jobs: node, state, time left, node-hours.")
@click.option("--stop", "stop", is_flag=False, flag_value="all", default=None, metavar="[JOB]",
              help="Cancel the session jobs, or only JOB.")
@SITES_FILE
@click.option("--json", "as_json", is_flag=True, help="Print a versioned JSON envelope.")
def code(path: str | None, site: str | None, account: str | None, partition: str | None, gpus: int | None,
         time_: str | None, idle: str, persist: bool, transport: str | None, no_open: bool, begin: str | None,
         next_: bool, list_: bool, stop: str | None, sites_file: Path | None, as_json: bool) -> int:
    """VS Code on a compute node: allocate, wait, open, and end the job with the session."""

    def _job_id(text: str) -> int:
        if not text.isdigit():
            raise click.BadParameter(f"{text!r} is not a job id", param_hint="--stop")
        return int(text)

    from sshsetup.commands import code as code_cmd
    from sshsetup.render import show

    options = code_cmd.CodeOptions(path=path, site=site, account=account, partition=partition, gpus=gpus, time=time_,
                                   idle=idle, persist=persist, transport=transport, no_open=no_open, begin=begin,
                                   next_=next_, list_=list_, stop=stop is not None,
                                   stop_job=None if stop in (None, "all") else _job_id(stop), sites_file=sites_file)
    return show(code_cmd.run(_paths(), options, interactive=_interactive()), as_json=as_json)


@cli.command()
@click.argument("what", required=False, type=click.Choice(["jupyter", "tensorboard", "port"]))
@click.argument("number", required=False, type=int)
@click.option("--site", metavar="ID", help="The site (default: the one init set up).")
@click.option("--job", type=int, metavar="J", help="Run in this session job (default: the profile's, or a new one).")
@click.option("--account", metavar="NAME", help="The budget for a new session job (sbatch --account).")
@click.option("--partition", metavar="P", help="The partition of a new session job.")
@click.option("--gpus", type=int, metavar="N", help="GPUs of a new session job.")
@click.option("--time", "time_", metavar="T", help="Walltime of a new session job, e.g. 01:00:00.")
@click.option("--idle", default="30m", show_default=True, metavar="DURATION", help="A new job ends after this long without a client.")
@click.option("--persist", is_flag=True, help="Keep the job after the server stops.")
@click.option("--list", "list_", is_flag=True, help="List the servers and their local ports.")
@click.option("--stop", is_flag=True, help="Close the forward and end the server (all, or --job J).")
@SITES_FILE
@click.option("--json", "as_json", is_flag=True, help="Print a versioned JSON envelope.")
def serve(what: str | None, number: int | None, site: str | None, job: int | None, account: str | None, partition: str | None, gpus: int | None,
          time_: str | None, idle: str, persist: bool, list_: bool, stop: bool, sites_file: Path | None, as_json: bool) -> int:
    """Jupyter in a step of a session job (or a port of the node), forwarded over the existing login."""
    from sshsetup.commands import serve as serve_cmd
    from sshsetup.render import show

    options = serve_cmd.ServeOptions(what=what, port=number, site=site, job=job, account=account, partition=partition, gpus=gpus,
                                     time=time_, idle=idle, persist=persist, list_=list_, stop=stop, sites_file=sites_file)
    return show(serve_cmd.run(_paths(), options, interactive=_interactive()), as_json=as_json)
