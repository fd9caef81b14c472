"""The cluster side of a session, over the site's one login connection.

Every command here is one ``ssh`` over the login alias with ``Master.REUSE`` and
``BatchMode``: with a live ControlMaster none of them authenticates. Remote command
lines are built with ``shell_join`` from validated words only.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sshsetup.errors import SshSetupError
from sshsetup.slurm import STANDARD_TIME, session
from sshsetup.slurm.templating import template_root
from sshsetup.ssh.client import Completed, Master, Ssh, shell_join

if TYPE_CHECKING:
    from sshsetup.paths import Paths

HELPER_DIR = ".sshsetup"  # under the login node's $HOME
# jutil changes the calling shell's environment, so it runs in a login shell (where the site's profile
# defines it); its own output is discarded, the variable is printed after a marker (a profile may print too)
BUDGET_MARK = "sshsetup-budget:"
JUTIL = f'jutil env activate -p "$1" >/dev/null 2>&1 </dev/null; printf "{BUDGET_MARK}%s\\n" "${{BUDGET_ACCOUNTS-}}"'
TIMEOUT = 60.0


def helper_text() -> str:
    return (template_root() / "session" / "helper.py").read_text(encoding="utf-8")


def helper_name(text: str) -> str:
    return f"code-helper-{hashlib.sha256(text.encode()).hexdigest()[:12]}.py"


def helper_sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class RemoteError(SshSetupError):
    """A command on the login node failed (ssh or Slurm said why)."""


@dataclass(frozen=True)
class Cluster:
    ssh: Ssh
    alias: str
    user: str  # the remote user (ssh -G's "user"), for squeue -u

    def run(self, words: Sequence[str], *, input: str | None = None, timeout: float = TIMEOUT) -> Completed:
        argv = self.ssh.argv(self.alias, STANDARD_TIME + shell_join(words), master=Master.REUSE, connect_timeout=15)
        return self.ssh.run(argv, timeout=timeout, input=input)

    def checked(self, words: Sequence[str], what: str, *, input: str | None = None) -> str:
        done = self.run(words, input=input)
        if not done.ok:
            detail = "; ".join(done.stderr_lines[-3:]) or ("timed out" if done.timed_out else f"exit {done.returncode}")
            raise RemoteError(f"{what} failed on {self.alias}: {detail}", hint=f"try it by hand: ssh {self.alias} {shell_join(words)}")
        return done.stdout

    def jobs(self, *, job: int | None = None, all_states: bool = False) -> list[session.Job]:
        words = ["squeue", "-h", "-u", self.user, "-o", session.SQUEUE_FORMAT]
        if all_states:
            words[2:2] = ["-t", "all"]
        if job is not None:
            words += ["-j", str(int(job))]
        done = self.run(words)
        if not done.ok and job is not None and "Invalid job id" in done.stderr:
            return []
        if not done.ok:
            raise RemoteError(f"squeue failed on {self.alias}: {'; '.join(done.stderr_lines[-3:])}",
                              hint=f"check the login with: sshsetup status; ssh {self.alias} squeue --me")
        return session.parse_squeue(done.stdout)

    def job(self, job_id: int) -> session.Job | None:
        rows = [j for j in self.jobs(job=job_id, all_states=True) if j.id == job_id]
        return rows[0] if rows else None

    def now_iso(self) -> str:
        """The login node's clock in Slurm's submit-time format (to find a job by submit time)."""
        return self.checked(["date", "+%Y-%m-%dT%H:%M:%S"], "date").strip()

    def sbatch(self, words: Sequence[str], script: str) -> int:
        out = self.checked(words, "sbatch", input=script)
        job = session.parse_job_id(out)
        if job is None:
            raise RemoteError(f"sbatch on {self.alias} printed no job id: {out.strip()[:200]!r}", hint="check: squeue --me")
        return job

    def cancel(self, job_ids: Sequence[int]) -> None:
        if job_ids:
            self.checked(["scancel", *(str(int(j)) for j in job_ids)], "scancel")

    def budgets(self, project: str) -> list[str]:
        """``$BUDGET_ACCOUNTS`` after ``jutil env activate -p PROJECT`` in a login shell (where the site's
        profile defines ``jutil``); each one a valid Slurm account, else refused with what was printed."""
        from sshsetup import validate
        from sshsetup.sanitize import shown

        done = self.run(["bash", "-lc", JUTIL, "sh", validate.account(project)])
        if not done.ok:
            return []
        lines = [ln for ln in done.stdout.splitlines() if ln.startswith(BUDGET_MARK)]
        words = re.split(r"[\s,]+", lines[-1][len(BUDGET_MARK) :].strip()) if lines else []
        out: list[str] = []
        for word in filter(None, words):
            try:
                validate.account(word)
            except SshSetupError:
                raise RemoteError(f"jutil on {self.alias} gave a budget that is not a Slurm account: '{shown(word[:80])}'",
                                  hint="pass the budget yourself: --account NAME") from None
            if word not in out:
                out.append(word)
        return out

    def install_helper(self, text: str) -> str:
        """Put the helper into ``~/.sshsetup`` (by hash name) unless it is there intact; its remote path."""
        name = helper_name(text)
        rel = f"{HELPER_DIR}/{name}"
        check = self.run(["sha256sum", rel])
        if check.ok and check.stdout.split()[:1] == [helper_sha256(text)]:
            return rel
        tmp = f"{rel}.tmp"
        script = (f"umask 077 && mkdir -p {HELPER_DIR} && cat > {tmp} && chmod 0700 {tmp} && mv -f {tmp} {rel}"
                  f" && sha256sum {rel}")
        out = self.checked(["sh", "-c", script], "installing the helper", input=text)
        if out.split()[:1] != [helper_sha256(text)]:
            raise RemoteError(f"the helper on {self.alias} has the wrong hash after installing it", hint=f"check ~/{rel} there")
        return rel


def remote_user(ssh: Ssh, alias: str) -> str:
    from sshsetup import validate

    return validate.user((ssh.dump(alias).get("user") or [""])[0], what="ssh -G user")


# --------------------------------------------------------------------------- what sshsetup left on the login node

MANIFEST_KEY = "login_nodes"  # the site ids whose login node got the helper (sshsetup remove cleans them)
_HEX12 = "[0-9a-f]" * 12
# Only sshsetup's own names: the versioned helpers (and a temp file of a killed install), and serve's
# per-job directories whose relay is not running; then the directories, if that left them empty.
CLEAN_SCRIPT = f"""\
cd || exit 1
[ -L {HELPER_DIR} ] && {{ echo kept; echo '(a symbolic link)'; exit 0; }}
[ -d {HELPER_DIR} ] || {{ echo absent; exit 0; }}
for f in {HELPER_DIR}/code-helper-*; do
  case "$f" in
    {HELPER_DIR}/code-helper-{_HEX12}.py|{HELPER_DIR}/code-helper-{_HEX12}.py.tmp) [ -f "$f" ] && rm -f "$f";;
  esac
done
for d in {HELPER_DIR}/serve/[0-9]*; do
  [ -d "$d" ] && [ ! -L "$d" ] || continue
  if [ -f "$d/relay.pid" ] && kill -0 "$(cat "$d/relay.pid")" 2>/dev/null; then continue; fi
  rm -f "$d/token" "$d/node.sock" "$d/login.sock" "$d/server.log" "$d/relay.log" "$d/relay.pid"
  rmdir "$d" 2>/dev/null
done
rmdir {HELPER_DIR}/serve 2>/dev/null
rmdir {HELPER_DIR} 2>/dev/null
if [ -e {HELPER_DIR} ]; then echo kept; ls -A {HELPER_DIR}; else echo removed; fi
"""
# what a person types when no login is open (the same names, in one line)
BY_HAND = (f"rm -f ~/{HELPER_DIR}/code-helper-*.py; rm -rf ~/{HELPER_DIR}/serve; rmdir ~/{HELPER_DIR}")
# over the live master only: were it gone, the fallback connection could not authenticate at all
NO_AUTH = {"PubkeyAuthentication": "no", "PasswordAuthentication": "no", "KbdInteractiveAuthentication": "no",
           "GSSAPIAuthentication": "no", "HostbasedAuthentication": "no"}


def remember_login_node(paths: Paths, site_id: str) -> None:
    """Record in sshsetup's manifest that this site's login node has the helper (once)."""
    from sshsetup import files, state

    doc = state.load(paths.manifest)
    known = doc.get(MANIFEST_KEY)
    if isinstance(known, list) and site_id in known:
        return
    doc[MANIFEST_KEY] = [*(known if isinstance(known, list) else []), site_id]
    files.apply(files.plan([state.change(paths.manifest, doc)]), dry_run=False)


def login_nodes(manifest: Mapping[str, object]) -> list[str]:
    known = manifest.get(MANIFEST_KEY)
    return [s for s in known if isinstance(s, str)] if isinstance(known, list) else []


@dataclass(frozen=True)
class Cleaned:
    outcome: str  # removed | absent | kept | failed
    left: tuple[str, ...] = ()  # what stays in ~/.sshsetup (sanitised names), or why it failed


def clean_login_node(ssh: Ssh, alias: str) -> Cleaned:
    """Delete sshsetup's files in ``~/.sshsetup`` over the alias's live master (never a new authentication)."""
    from sshsetup.sanitize import shown

    argv = ssh.argv(alias, shell_join(["sh", "-c", CLEAN_SCRIPT]), master=Master.REUSE, connect_timeout=10, options=NO_AUTH)
    done = ssh.run(argv, timeout=TIMEOUT)
    lines = [shown(ln.strip())[:200] for ln in done.stdout.splitlines() if ln.strip()]
    if not done.ok or not lines or lines[0] not in ("removed", "absent", "kept"):
        why = "; ".join(shown(x) for x in done.stderr_lines[-2:]) or ("timed out" if done.timed_out else f"exit {done.returncode}")
        return Cleaned("failed", (why,))
    return Cleaned(lines[0], tuple(lines[1:21]))
