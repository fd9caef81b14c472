"""Remote checks without a connection: what they do with the probe's result (the real runs are in
test_staged_failures: healthy, noisy .bashrc, 2FA without a master)."""

from __future__ import annotations

from sshsetup.support.doctor import checks_remote
from sshsetup.support.doctor.checks_auth import AuthProbe
from sshsetup.support.doctor.model import DoctorContext, Target
from sshsetup.support.doctor.model import Status as S
from tests.support.doctor.test_checks_local import ctx

TB = Target("tb", "127.0.0.1", 22, site_id="tb")


def _with_probe(stdout: str, rc: int = 0, master: bool = False) -> DoctorContext:
    c = ctx(TB)
    c.shared.put("auth.transcript", "tb", AuthProbe("tb", ("ssh",), rc, stdout, "", "accepted" if rc == 0 else "unknown", master))
    return c


def test_shell_output() -> None:
    r = checks_remote.check_shell_output(_with_probe("Welcome!\nLoaded modules\n"), TB)
    assert (r.status, r.summary) == (S.FAIL, "'ssh tb true' prints 24 bytes ('Welcome!'): this breaks VS Code Remote-SSH")
    assert r.hint is not None and "if [[ $- == *i* ]]" in r.hint
    assert checks_remote.check_shell_output(_with_probe(""), TB).status is S.OK
    assert checks_remote.check_shell_output(_with_probe("", rc=255), TB).status is S.SKIP


def test_without_master_nothing_runs_remotely() -> None:
    c = _with_probe("", master=False)
    for fn in (checks_remote.check_quota, checks_remote.check_permissions, checks_remote.check_glibc, checks_remote.check_vscode_server):
        r = fn(c, TB)
        assert (r.status, r.summary) == (S.SKIP, checks_remote.NOT_CONNECTED)


def test_all_need_the_probe() -> None:
    assert {c.needs for c in checks_remote.CHECKS} == {("auth.probe",)}
    assert all(c.per_host and c.id.startswith("remote.") for c in checks_remote.CHECKS)
