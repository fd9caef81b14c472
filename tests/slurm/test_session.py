"""The pure pieces of a session job: names, sbatch words, squeue parsing, states, lines shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from sshsetup.errors import BadInput, Refused
from sshsetup.slurm import session, session_alias
from sshsetup.slurm.session import Job, Phase, Profile

PROFILE = Profile("juwels-booster", "booster", 4, "01:00:00")
ROW = "|".join


def job(**kw: object) -> Job:
    base: dict[str, object] = dict(id=7, name=PROFILE.job_name, state="PENDING", reason="Priority", elapsed=0, left=3600,
                                   limit=3600, nodes=1, nodelist="", partition="booster", submitted="2026-12-03T10:00:00",
                                   comment="")
    base.update(kw)
    return Job(**base)  # type: ignore[arg-type]


def test_profile_name() -> None:
    assert PROFILE.key == "juwels-booster-booster-g4"
    assert PROFILE.job_name == "sshsetup-code-juwels-booster-booster-g4"
    with pytest.raises(BadInput, match="job name"):
        _ = Profile("x y", "booster", 1, "01:00:00").job_name


def test_sbatch_words() -> None:
    assert session.sbatch_words(PROFILE, "myproject") == [
        "sbatch", "--parsable", "--job-name=sshsetup-code-juwels-booster-booster-g4", "--account=myproject",
        "--partition=booster", "--nodes=1", "--ntasks=1", "--time=01:00:00", "--output=/dev/null", "--gres=gpu:4"]
    words = session.sbatch_words(PROFILE, "myproject", begin="now+1hour", dependency=12)
    assert words[-2:] == ["--begin=now+1hour", "--dependency=afterany:12"]
    with pytest.raises(BadInput, match="--begin"):
        session.sbatch_words(PROFILE, "myproject", begin="now; rm -rf ~")
    with pytest.raises(BadInput):
        session.sbatch_words(PROFILE, "my project")


def test_holder_script() -> None:
    text = session.holder_script(PROFILE, 1800)
    assert text.startswith("#!/bin/bash\n# sshsetup code: the session job of profile juwels-booster-booster-g4.\n")
    assert "idle=1800\ntick=30\n" in text
    assert 'Comment="sshsetup: cancelled after 30 min without a client ($(date +%H:%M))"' in text
    assert "idle=15\ntick=3\n" in session.holder_script(PROFILE, 15)
    assert "idle=0\ntick=30\n" in session.holder_script(PROFILE, 0)


def test_parse_squeue() -> None:
    text = "\n".join([
        ROW(["12", "sshsetup-code-x", "RUNNING", "None", "1:02:03", "57:57", "2:00:00", "1", "jwb0129", "booster",
             "2026-12-03T10:00:00", "(null)"]),
        ROW(["13", "sshsetup-code-x", "PENDING", "Priority", "0:00", "1-00:00:00", "1-00:00:00", "1", "", "booster",
             "2026-12-03T10:01:00", "a|comment"]),
        "squeue: error: something",
    ])
    a, b = session.parse_squeue(text)
    assert (a.id, a.state, a.elapsed, a.left, a.limit, a.node, a.comment) == (12, "RUNNING", 3723, 3477, 7200, "jwb0129", "")
    assert (b.id, b.reason, b.left, b.node, b.comment) == (13, "Priority", 86400, None, "a|comment")
    assert session.slurm_seconds("UNLIMITED") is None and session.slurm_seconds("5:07") == 307


@pytest.mark.parametrize(("stdout", "expected"), [("123\n", 123), ("123;juwels\n", 123), ("", None), ("oops\n", None)])
def test_parse_job_id(stdout: str, expected: int | None) -> None:
    assert session.parse_job_id(stdout) == expected


@pytest.mark.parametrize(("line", "port"), [("listeningOn=4242", 4242), ("x listeningOn==4242== y", 4242), ("nothing", None)])
def test_listening_port(line: str, port: int | None) -> None:
    assert session.listening_port(line) == port


@pytest.mark.parametrize(("text", "seconds"), [("30m", 1800), ("1h", 3600), ("90s", 90), ("45", 2700), ("0", 0), ("1h30m", 5400)])
def test_parse_idle(text: str, seconds: int) -> None:
    assert session.parse_idle(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "5s", "-1"])
def test_parse_idle_refuses(text: str) -> None:
    with pytest.raises(BadInput, match="--idle"):
        session.parse_idle(text)


def test_leads() -> None:
    assert session.parse_leads(None) == (900, 300)
    assert session.parse_leads("45,90") == (90, 45)
    assert session.parse_leads("x") == (900, 300)


def test_state_machine() -> None:
    assert session.phase(None) is Phase.GONE
    assert session.phase(job()) is Phase.WAITING
    assert session.phase(job(state="CONFIGURING", nodelist="n1")) is Phase.WAITING
    assert session.phase(job(state="RUNNING", nodelist="n1")) is Phase.READY
    assert session.phase(job(state="RUNNING", nodelist="n[1-2]", nodes=2)) is Phase.WAITING  # never a multi-node session
    assert session.phase(job(state="CANCELLED")) is Phase.GONE


def test_pick_prefers_running_then_oldest() -> None:
    jobs = [job(id=9), job(id=8), job(id=10, state="RUNNING", nodelist="n1"), job(id=5, state="COMPLETED"), job(id=3, name="other")]
    assert session.pick(jobs, PROFILE.job_name).id == 10  # type: ignore[union-attr]
    assert session.pick(jobs[:2], PROFILE.job_name).id == 8  # type: ignore[union-attr]
    assert session.pick(jobs[3:], PROFILE.job_name) is None


def test_submitted_since() -> None:
    jobs = [job(id=1, submitted="2026-12-03T09:59:59"), job(id=2), job(id=3), job(id=4, name="other")]
    assert [j.id for j in session.submitted_since(jobs, PROFILE.job_name, [2], "2026-12-03T10:00:00")] == [3]


def test_pending_line() -> None:
    assert session.pending_line(job(), 65.4) == "job 7 PENDING (Priority), waiting 1:05"
    assert session.pending_line(job(reason="None"), 3725) == "job 7 PENDING, waiting 1:02:05"


def test_walltime_warnings() -> None:
    assert session.due_warnings(1000, (900, 300), []) == []
    assert session.due_warnings(880, (900, 300), []) == [900]
    assert session.due_warnings(880, (900, 300), [900]) == []
    assert session.due_warnings(200, (900, 300), []) == [300]  # started late: only the nearer one
    assert session.walltime_warning(7, 880, 900) == "warning: job 7 reaches its walltime in 15 min: save your work"
    assert session.walltime_warning(7, 200, 900) == "warning: job 7 reaches its walltime in 3:20 (min:s): save your work"


def test_list_rows_and_table() -> None:
    rows = session.list_rows([job(id=3, state="RUNNING", nodelist="jwb0129", elapsed=5400, left=1800,
                                  comment="sshsetup: idle since 2026-12-03T10:20:00"),
                              job(id=4, name="unrelated"), job(id=5, comment="sshsetup: cancelled after 30 min without a client (10:30)",
                                                               state="CANCELLED")], "2026-12-03T10:32:05")
    assert [r["job"] for r in rows] == [3, 5]
    assert (rows[0]["node_hours"], rows[0]["idle"], rows[1]["idle"]) == (1.5, 725, None)
    assert session.list_table(rows) == (
        "JOB  NAME                                     STATE      NODE     LEFT     IDLE   NODE-HOURS  NOTE\n"
        "3    sshsetup-code-juwels-booster-booster-g4  RUNNING    jwb0129  30:00    12:05  1.50        sshsetup: idle since 2026-12-03T10:20:00\n"
        "5    sshsetup-code-juwels-booster-booster-g4  CANCELLED  -        1:00:00  -      0.00        "
        "sshsetup: cancelled after 30 min without a client (10:30)\n")


def test_holder_marks_idle_and_in_use() -> None:
    text = session.holder_script(PROFILE, 60)
    assert 'Comment="sshsetup: idle since $(date -d "@$last" +%Y-%m-%dT%H:%M:%S)"' in text
    assert 'Comment="sshsetup: in use"' in text
    assert "grep -Eq '^[0-9]+\\.[0-9]+$'" in text


# --------------------------------------------------------------------------- the managed entry

DUMP = {"hostname": ["juwels-booster.fz-juelich.de"], "port": ["22"], "user": ["alice1"],
        "identityfile": ["/home/a/.ssh/id_ed25519_jsc"], "identitiesonly": ["yes"], "controlpath": ["/home/a/.ssh/cm/abc%"]}
BLOCK = ("# BEGIN sshsetup (managed)\n# sshsetup-options: {}\nHost jsc-booster\n    HostName x\n\n"
         "# end of sshsetup's hosts: the lines below apply to every host again\nHost *\n# END sshsetup\nUser me\n")
RESTORE = "# end of sshsetup's hosts: the lines below apply to every host again\nHost *\n# END sshsetup\n"
OLD_BLOCK = "# BEGIN sshsetup (managed)\n# sshsetup-options: {}\nHost jsc-booster\n    HostName x\n# END sshsetup\nHost *\n    User me\n"


def test_alias_and_remote_command() -> None:
    assert session_alias.alias_for("jsc-booster", PROFILE.key, "juwels-booster") == "jsc-booster-code-booster-g4"
    cmd = session_alias.remote_command(".sshsetup/code-helper-abc.py", "f" * 64, PROFILE.job_name, (900, 300))
    assert cmd == (f"cd && echo {'f' * 64}' '' '.sshsetup/code-helper-abc.py | sha256sum -c --status && exec python3 "
                   ".sshsetup/code-helper-abc.py attach sshsetup-code-juwels-booster-booster-g4 900,300"
                   " || echo 'sshsetup: the helper on this login node is missing or changed: run sshsetup code again' >&2")
    with pytest.raises(ValueError):
        session_alias.remote_command("x;rm", "f", "n", ())


def test_entry_is_added_once_inside_the_block() -> None:
    lines = session_alias.entry_lines("jsc-booster-code-booster-g4", DUMP, "run it", PROFILE.key)
    assert lines == [
        "# sshsetup code: session profile juwels-booster-booster-g4", "Host jsc-booster-code-booster-g4",
        "    HostName juwels-booster.fz-juelich.de", "    Port 22", "    User alice1", "    IdentityFile /home/a/.ssh/id_ed25519_jsc",
        "    IdentitiesOnly yes", "    ControlMaster auto", "    ControlPath /home/a/.ssh/cm/abc%%", "    ControlPersist 10m",
        "    ServerAliveInterval 60", "    RequestTTY no", "    RemoteCommand run it"]
    once = session_alias.upsert_entry(BLOCK, lines, Path("config"))
    assert once == BLOCK.replace(RESTORE, "\n".join(lines) + "\n\n" + RESTORE)
    changed = [*lines[:-1], "    RemoteCommand run it again"]
    twice = session_alias.upsert_entry(once, changed, Path("config"))
    assert twice == BLOCK.replace(RESTORE, "\n".join(changed) + "\n\n" + RESTORE)
    assert session_alias.upsert_entry(twice, changed, Path("config")) == twice
    old = session_alias.upsert_entry(OLD_BLOCK, lines, Path("config"))  # a block of an earlier version: before its END
    assert old == OLD_BLOCK.replace("# END sshsetup\n", "\n" + "\n".join(lines) + "\n# END sshsetup\n")
    with pytest.raises(Refused, match="no sshsetup block"):
        session_alias.upsert_entry("Host x\n", lines, Path("config"))


def test_node_host_and_key_line_warning() -> None:
    assert session_alias.node_host("jwb*i.juwels", "jwb0129") == "jwb0129i.juwels"
    assert session_alias.node_host("tbnode*i.testbed", "tbnode01") == "tbnode01i.testbed"
    assert session_alias.node_host(None, "jrc0001") == "jrc0001"
    assert session_alias.key_line_warning("juwels-booster", None) is None
    assert session_alias.key_line_warning("juwels-booster", ["93.199.0.0/16", "10.0.0.0/8"]) is None
    assert session_alias.key_line_warning("juwels-booster", ["93.199.0.0/16"]) == (
        "warning: the key line recorded for juwels-booster lacks 10.0.0.0/8, so the node hop of ProxyJump will be refused;"
        " fix: sshsetup key-line --site juwels-booster --from 93.199.0.0/16 --from 10.0.0.0/8, then upload that line in JuDoor")
