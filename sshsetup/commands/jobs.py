"""``sshsetup jobs [--site ID] [CHAIN] [--stop]``: the chains ``jobscript --submit --chain`` started.

Over the live login only (``slurm.submit.require_live``). Per chain one remote command reads
the chain's shared output file (the links' ``sshsetup chain:`` lines), the checkpoint times
and the links' states (``squeue``, then ``sacct`` for jobs squeue forgot; without accounting
sacct prints nothing and squeue alone answers). ``--stop CHAIN``
cancels the links still queued and sends SIGUSR1 to the running one, which checkpoints and
exits like at the end of its time.

The chains are recorded per site in ``<state dir>/chains.json`` when they are submitted.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sshsetup import remembered
from sshsetup.catalogue import load_catalogue
from sshsetup.errors import EXIT_OK, BadInput
from sshsetup.result import Result
from sshsetup.sanitize import shown
from sshsetup.slurm import chainlog
from sshsetup.slurm.chain import check_dir, fmt_seconds

if TYPE_CHECKING:
    from sshsetup.catalogue import Site
    from sshsetup.paths import Paths
    from sshsetup.ssh.client import Ssh

MARK = "@@sshsetup@@"
_ID = re.compile(r"\A\d{1,12}\Z")


@dataclass(frozen=True)
class JobsOptions:
    site: str | None = None
    chain: str | None = None
    stop: bool = False
    sites_file: Path | None = None


# --------------------------------------------------------------------------- records


def records_path(paths: Paths) -> Path:
    return paths.state_dir / "chains.json"


def record(paths: Paths, site: Site, *, chain_id: int, links: int, link_seconds: int, array: bool, stdout: str,
           ckpt_dir: str, now: float) -> None:
    from sshsetup import files, state

    doc: dict[str, Any] = state.load(records_path(paths))
    doc.pop("damaged", None)
    doc.setdefault("sites", {}).setdefault(site.id, {})[str(chain_id)] = {
        "links": links, "link_seconds": link_seconds, "array": array, "stdout": stdout, "ckpt_dir": ckpt_dir,
        "submitted": round(now, 3),
    }
    files.apply(files.plan([state.change(records_path(paths), doc, label="sshsetup chain records")]), dry_run=False)


def _recorded(paths: Paths, site: Site) -> dict[str, dict[str, Any]]:
    from sshsetup import state

    chains = state.load(records_path(paths)).get("sites", {}).get(site.id, {})
    return {k: v for k, v in chains.items() if _ID.match(k) and isinstance(v, dict)} if isinstance(chains, dict) else {}


# --------------------------------------------------------------------------- the cluster


def _look(ssh: Ssh, site: Site, chain_id: str, rec: dict[str, Any]) -> tuple[str, list[float], dict[str, str]]:
    """The output file, the checkpoint times and {job id: state}: one remote command."""
    from sshsetup.ssh.client import Master, shell_join

    ckpt = check_dir(str(rec["ckpt_dir"]))  # the recorded text again through the one rule: inert in double quotes
    first = f"cat {shell_join([str(rec['stdout'])])} 2>/dev/null; echo {MARK}; " \
            f"find \"{ckpt}\" -maxdepth 1 -type f ! -name DONE ! -name '*.tmp' -printf '%T@\\n' 2>/dev/null"
    done = ssh.run(ssh.argv(site.alias, first, master=Master.REUSE, connect_timeout=10), timeout=30)
    out, _, times = done.stdout.partition(MARK)
    log = chainlog.parse(out)
    ids = sorted({chain_id, *(link.job for link in log.links if link.job), *log.queued})
    command = (f"squeue -h -t all -r -j {','.join(ids)} -o '%i|%T' 2>/dev/null; echo {MARK}; "
               f"sacct -n -P -X -j {','.join(ids)} -o JobID,State 2>/dev/null")
    st = ssh.run(ssh.argv(site.alias, command, master=Master.REUSE, connect_timeout=10), timeout=30)
    return out, [float(t) for t in times.split() if re.fullmatch(r"\d+(\.\d+)?", t)], _states(st.stdout)


def _states(text: str) -> dict[str, str]:
    """{job id: state} from squeue's lines, then MARK, then sacct's (``ID|STATE``; sacct may add ``by UID``).

    A job's own record wins over a range of array tasks (sacct keeps the pending range as it was
    when the rest was cancelled, ``12_[1-2%1]``, though task 1 ran since); squeue's (live) wins over sacct's.
    """
    own: dict[str, str] = {}
    ranges: dict[str, str] = {}
    for line in text.replace(MARK, "\n").splitlines():
        job, _, state = line.strip().partition("|")
        if not job or not state.split():
            continue
        for one in _expand(job):
            (own if one == job else ranges).setdefault(one, state.split()[0])
    return {**ranges, **own}


def _expand(job: str) -> list[str]:
    """``12_[1-2%1]`` (pending array tasks Slurm keeps as one record) -> ``12_1``, ``12_2``."""
    m = re.fullmatch(r"(\d+)_\[([\d,-]+)(?:%\d+)?\]", job)
    if m is None:
        return [job]
    out: list[str] = []
    for part in m.group(2).split(","):
        lo, _, hi = part.partition("-")
        if lo.isdigit() and (hi.isdigit() or not hi) and int(hi or lo) - int(lo) < 10000:
            out += [f"{m.group(1)}_{i}" for i in range(int(lo), int(hi or lo) + 1)]
    return out


def _report(site: Site, chain_id: str, rec: dict[str, Any], out: str, times: list[float], states: dict[str, str],
            now: float) -> tuple[list[str], dict[str, Any]]:
    log = chainlog.parse(out)
    array = bool(rec.get("array"))
    total = int(rec["links"])
    lost = chainlog.lost_work(log, times)
    kind = f"array of {total} links" if array else f"{total} links by afterany"
    status = "finished (DONE)" if log.done else ("running" if any(x.how == "running" for x in log.links) else "waiting")
    lines = [f"chain {chain_id} on {site.alias} ({kind}, {fmt_seconds(int(rec['link_seconds']))} each): {status}"]
    rows: list[dict[str, Any]] = []
    for n in range(total):
        started = n < len(log.links)
        link = log.links[n] if started else chainlog.Link(n)
        queued = log.queued[n - 1] if 0 < n <= len(log.queued) else ""
        job = f"{chain_id}_{n}" if array else (link.job or queued or (chain_id if n == 0 else ""))
        # the tasks of an array not yet started share one record under the array's own id
        state = states.get(job) or (states.get(chain_id) if array and not started else None) \
            or ("?" if started else ("CANCELLED" if log.done else "PENDING"))
        ran = (link.end or now) - link.start if link.start is not None else None
        row = {"link": n, "job": job, "state": state, "how": link.how if started else "not started",
               "ran_seconds": ran, "lost_seconds": lost[n] if n < len(lost) else None}
        rows.append(row)
        lost_text = "" if row["lost_seconds"] is None else f", lost {row['lost_seconds']:.0f}s since its last checkpoint"
        ran_text = "" if ran is None else f", ran {fmt_seconds(int(ran))}"
        lines.append(f"  link {n}: job {shown(job) or '-'} {shown(state)} ({row['how']}{ran_text}{lost_text})")
    last = max(times, default=None)
    age = f"{fmt_seconds(int(now - last))} ago" if last is not None else "none yet"
    finish = chainlog.finish_by(log, int(rec["link_seconds"]), now)
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(finish)) if finish is not None else "?"
    lines.append(f"  last checkpoint: {age}; {'finished' if log.done else 'finishes by'} {when}"
                 + ("" if log.done else " at the latest (every link left at its full time)"))
    return lines, {"chain": chain_id, "site": site.id, "status": status, "links": rows, "last_checkpoint": last,
                   "finish_by": finish}


def _stop(ssh: Ssh, site: Site, chain_id: str, rec: dict[str, Any], out: str) -> str:
    from sshsetup.ssh.client import Master

    log = chainlog.parse(out)
    if rec.get("array"):
        pending = [f"scancel --state=PENDING {chain_id}"]
    else:
        pending = [f"scancel --state=PENDING {j}" for j in log.queued]
    running = [link.job for link in log.links if link.how == "running" and link.job]
    command = "; ".join([*pending, *(f"scancel --batch --signal=USR1 {j}" for j in running)]) or "true"
    done = ssh.run(ssh.argv(site.alias, command, master=Master.REUSE, connect_timeout=10), timeout=30)
    if not done.ok:
        return f"scancel on {site.alias} said: {shown(' / '.join(done.stderr_lines[-2:]))}"
    sig = f"; link job {', '.join(running)} got SIGUSR1: it checkpoints and exits" if running else ""
    return f"chain {chain_id}: cancelled the links still queued{sig}"


def run(paths: Paths, options: JobsOptions) -> Result:
    from sshsetup.slurm import submit
    from sshsetup.ssh.client import Ssh

    if options.chain is not None and not _ID.match(options.chain):
        raise BadInput(f"chain {shown(options.chain)} is not a job id", hint="give the chain's first job id, as sshsetup jobs lists it")
    if options.stop and options.chain is None:
        raise BadInput("--stop needs the CHAIN to stop", hint="sshsetup jobs --stop CHAIN (the ids: sshsetup jobs)")
    rem = remembered.load(paths)
    catalogue = load_catalogue(remembered.sites_file(rem, options.sites_file), paths.sites_file)
    sites = remembered.choose_sites(catalogue, (options.site,) if options.site else (), rem)
    ssh = Ssh.for_paths(paths)
    lines: list[str] = []
    docs: list[dict[str, Any]] = []
    summary: list[str] = []
    now = time.time()
    for site in sites:
        chains = _recorded(paths, site)
        if options.chain is not None:
            chains = {k: v for k, v in chains.items() if k == options.chain}
        if not chains:
            continue
        submit.require_live(paths, ssh, site)
        for chain_id, rec in sorted(chains.items(), key=lambda kv: int(kv[0])):
            out, times, states = _look(ssh, site, chain_id, rec)
            if options.stop:
                summary.append(_stop(ssh, site, chain_id, rec, out))
            text, doc = _report(site, chain_id, rec, out, times, states, now)
            lines += text
            docs.append(doc)
    if options.chain is not None and not docs:
        raise BadInput(f"sshsetup knows no chain {options.chain}", hint="sshsetup jobs lists the chains jobscript --submit --chain started")
    if not docs:
        summary.append("no chains: jobscript --submit --chain N starts one")
    output = "".join(line + "\n" for line in lines)
    return Result("jobs", EXIT_OK, output=output, summary=tuple(summary), data={"chains": docs})
