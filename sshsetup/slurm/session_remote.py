"""The cluster side of a session, over the site's one login connection.

Every command here is one ``ssh`` over the login alias with ``Master.REUSE`` and
``BatchMode``: with a live ControlMaster none of them authenticates. Remote command
lines are built with ``shell_join`` from validated words only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from sshsetup.errors import SshSetupError
from sshsetup.slurm import session
from sshsetup.slurm.templating import template_root
from sshsetup.ssh.client import Completed, Master, Ssh, shell_join

HELPER_DIR = ".sshsetup"  # under the login node's $HOME
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
        argv = self.ssh.argv(self.alias, shell_join(words), master=Master.REUSE, connect_timeout=15)
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
