"""The testbed fixtures themselves, proven with the real tools (testbed.md 1.x, 2.x)."""

from __future__ import annotations

import os
import pwd
import shlex
import socket
import stat
import time

import pytest

from tests.testbed.agent import SshAgent
from tests.testbed.fixtures import SlurmFactory, SshdFactory, TarpitFactory
from tests.testbed.slurm import Partition, Slurm
from tests.testbed.sshd import SshClient, Sshd, read_banner
from tests.testbed.tarpit import Tarpit
from tests.testbed.users import TestUser, alive, descendants, make_key, pids_of_uid, run_as
from tests.timing import budget

# --------------------------------------------------------------------------- user


def test_user_has_passwd_home_and_clean_ssh_dir(test_user: TestUser) -> None:
    pw = pwd.getpwnam(test_user.name)
    assert pw.pw_dir == str(test_user.home)
    assert pw.pw_uid == test_user.uid
    st = os.stat(test_user.home)
    assert stat.S_IMODE(st.st_mode) == 0o755 and st.st_uid == test_user.uid
    st = os.stat(test_user.ssh_dir)
    assert stat.S_IMODE(st.st_mode) == 0o700 and st.st_uid == test_user.uid
    assert os.listdir(test_user.ssh_dir) == []
    for parent in test_user.home.parents:  # every ancestor traversable by the user
        assert os.stat(parent).st_mode & 0o001, parent

    r = run_as(test_user, ["sh", "-c", 'id -un; echo "$HOME"; pwd; echo ~'], check=True)
    assert r.stdout.split() == [test_user.name, str(test_user.home), str(test_user.home), str(test_user.home)]
    # the ssh client takes ~ from passwd: it must resolve into the temp home
    r = run_as(test_user, ["ssh", "-T", "-G", "example.invalid"], check=True)
    assert f"userknownhostsfile {test_user.home}/.ssh/known_hosts" in r.stdout


def test_user_home_is_fresh_per_test_part1(test_user: TestUser) -> None:
    test_user.write("leftover.txt", "x")
    run_as(test_user, ["sh", "-c", "sleep 300 </dev/null >/dev/null 2>&1 &"], check=True)
    assert (test_user.home / "leftover.txt").exists()
    assert pids_of_uid(test_user.uid)


def test_user_home_is_fresh_per_test_part2(test_user: TestUser) -> None:
    assert not (test_user.home / "leftover.txt").exists()
    assert pids_of_uid(test_user.uid) == []  # leftover processes were killed


def test_run_as_env_and_input(test_user: TestUser) -> None:
    r = run_as(test_user, ["sh", "-c", 'cat; echo "[$FOO]"; echo "[${XDG_CONFIG_HOME:-unset}]"'], env={"FOO": "a b"}, input="in\n")
    assert r.returncode == 0
    assert r.stdout == "in\n[a b]\n[unset]\n"


# --------------------------------------------------------------------------- sshd


def test_sshd_listens_on_both_loopbacks(sshd: Sshd) -> None:
    for host in ("127.0.0.1", "::1"):
        assert read_banner(host, sshd.port).startswith(b"SSH-2.0-OpenSSH")
    assert sshd.host_key_line.startswith(f"[127.0.0.1]:{sshd.port} ssh-ed25519 AAAA")
    assert sshd.known_hosts_lines()[1].startswith(f"[::1]:{sshd.port} ssh-ed25519 ")
    log = sshd.log_text()
    assert f"Server listening on 127.0.0.1 port {sshd.port}." in log
    assert f"Server listening on ::1 port {sshd.port}." in log


def test_ssh_alias_true_with_tilde_config(ssh_client: SshClient, test_user: TestUser) -> None:
    r = ssh_client.run("id -un; echo $SSH_CONNECTION")
    assert r.returncode == 0, r.stderr
    who, conn = r.stdout.splitlines()
    assert who == test_user.name
    assert conn.split()[0] == "127.0.0.1" and conn.split()[3] == str(ssh_client.sshd.port)
    assert ssh_client.run("true").returncode == 0
    ssh_client.sshd.wait_for_log(rf"Accepted publickey for {test_user.name} from 127\.0\.0\.1")


def test_ssh_with_absolute_paths_and_F(test_user: TestUser, sshd: Sshd) -> None:
    key = make_key(test_user, "id_abs")
    sshd.authorize(test_user, key.public_line)
    # written as root (as sshsetup run in-process with HOME=test_user.home would), then handed over
    abs_dir = test_user.home / "abs"
    abs_dir.mkdir(mode=0o700)
    kh = abs_dir / "known_hosts"
    kh.write_text(sshd.known_hosts_text())
    cfg = abs_dir / "ssh_config"
    cfg.write_text(
        sshd.host_block("abs-testbed", test_user, identity_file=key.private)
        + f"    UserKnownHostsFile {kh}\n    GlobalKnownHostsFile /dev/null\n"
    )
    cfg.chmod(0o600)
    test_user.chown_tree()
    assert cfg.stat().st_uid == test_user.uid
    r = run_as(test_user, ["ssh", "-F", str(cfg), "abs-testbed", "true"])
    assert r.returncode == 0, r.stderr


def test_sshd_strictmodes_with_keys_in_home(test_user: TestUser, sshd_factory: SshdFactory) -> None:
    """Variant for permission diagnostics (testbed.md 1.1/1.9): keys in ~/.ssh, StrictModes yes."""
    s = sshd_factory(authorized_keys_file=".ssh/authorized_keys", extra_config=["StrictModes yes"])
    assert "StrictModes yes" in s.config_text() and "StrictModes no" not in s.config_text()
    client = SshClient.setup(test_user, s, authorize=False)
    test_user.write(".ssh/authorized_keys", client.key.public_line + "\n")
    assert client.run("true").returncode == 0
    test_user.ssh_dir.chmod(0o777)
    since = s.log_offset()
    assert client.run("true").returncode == 255
    s.wait_for_log(rf"Authentication refused: bad ownership or modes for directory {test_user.ssh_dir}", since=since)


@pytest.mark.parametrize(
    ("from_", "options", "source"),
    [
        ("127.0.0.2/32", ["-o", "BindAddress=127.0.0.2"], "127.0.0.2"),
        ("127.0.0.2/32", ["-o", "BindAddress=127.0.0.3"], None),
        ("127.0.0.0/8", ["-o", "HostName=::1"], None),  # IPv4-only range, IPv6 client
        ("127.0.0.0/8,::1/128", ["-o", "HostName=::1"], "::1"),
        ("10.0.0.0/8,127.0.0.1", [], "127.0.0.1"),
        ("127.0.0.1/8", [], None),  # host bits set: OpenSSH never matches it
        ("!127.0.0.1,*", [], None),  # negation wins
    ],
)
def test_from_restriction_matrix(
    test_user: TestUser, sshd: Sshd, from_: str, options: list[str], source: str | None
) -> None:
    """source None: refused; else: accepted and sshd saw that source address."""
    client = SshClient.setup(test_user, sshd, from_=from_)
    since = sshd.log_offset()
    r = client.run("echo $SSH_CONNECTION", options=options)
    if source is not None:
        assert r.returncode == 0, r.stderr
        assert r.stdout.split()[0] == source
    else:
        assert r.returncode == 255
        assert "Permission denied (publickey)" in r.stderr
        m = sshd.wait_for_log(r"correct key but not from a permitted host \(host=(\S+), ip=(\S+), required=(\S+)\)", since=since)
        assert m.group(3) == from_
        assert m.group(2) == ("::1" if "HostName=::1" in options else options[1].split("=")[1] if options else "127.0.0.1")


def test_authorize_joins_from_with_existing_options(test_user: TestUser, sshd: Sshd) -> None:
    client = SshClient.setup(test_user, sshd, authorize=False)
    path = sshd.authorize(test_user, "restrict " + client.key.public_line, from_="127.0.0.0/8")
    assert path.read_text() == f'from="127.0.0.0/8",restrict {client.key.public_line}\n'
    r = client.run("echo ok")
    assert (r.returncode, r.stdout) == (0, "ok\n"), r.stderr


def test_sshd_2fa_partial_success(test_user: TestUser, sshd_factory: SshdFactory) -> None:
    s = sshd_factory(extra_config=["AuthenticationMethods publickey,keyboard-interactive", "KbdInteractiveAuthentication yes"])
    client = SshClient.setup(test_user, s)
    r = client.run("true", options=["-v"])
    assert r.returncode == 255
    assert 'Authenticated using "publickey" with partial success.' in r.stderr
    s.wait_for_log(r"Partial publickey for " + test_user.name)


def test_sshd_restart_keeps_port_and_changes_config(test_user: TestUser, sshd: Sshd) -> None:
    client = SshClient.setup(test_user, sshd)
    port = sshd.port
    sshd.restart(setenv={"SSHSETUP_TB": "hello world"})
    assert sshd.port == port
    r = client.run('echo "$SSHSETUP_TB"')
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "hello world"


def test_sshd_stop_ends_controlpersist_sessions(test_user: TestUser, sshd: Sshd) -> None:
    client = SshClient.setup(test_user, sshd, extra=["ControlMaster auto", "ControlPath ~/.ssh/cm-%C", "ControlPersist 60"])
    assert client.run("true").returncode == 0
    check = client.ssh("-O", "check", client.alias)
    assert check.returncode == 0 and "Master running" in check.stderr
    assert client.run("true").returncode == 0  # through the master
    assert sshd.proc is not None
    kids = descendants(sshd.proc.pid)
    assert kids, "a ControlPersist session should keep an sshd child alive"
    sshd.stop()
    assert not any(alive(p) for p in kids)
    deadline = time.monotonic() + 5  # the client's master sees the connection close and exits
    while pids_of_uid(test_user.uid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pids_of_uid(test_user.uid) == []


def test_passphrase_key_through_agent(test_user: TestUser, sshd: Sshd, ssh_agent: SshAgent) -> None:
    client = SshClient.setup(test_user, sshd, passphrase="correct horse")
    # it really has a passphrase, and BatchMode without an agent cannot use it
    r = run_as(test_user, ["ssh-keygen", "-y", "-P", "", "-f", str(client.key.private)])
    assert r.returncode != 0 and "incorrect passphrase" in r.stderr
    assert client.run("true").returncode == 255
    assert ssh_agent.list_keys() == []
    added = ssh_agent.add(client.key.private, "correct horse")
    assert "Identity added" in added.stderr
    assert len(ssh_agent.list_keys()) == 1
    r = client.run("true", env=ssh_agent.env)
    assert r.returncode == 0, r.stderr
    assert "correct horse" not in sshd.log_text()


# --------------------------------------------------------------------------- Slurm


def test_slurm_is_up_like_juwels_booster(slurm: Slurm) -> None:
    r = slurm.run(["sinfo", "-h", "-o", "%P %l %G"], check=True)
    assert r.stdout.split("\n")[:2] == ["booster* 1-00:00:00 gpu:4", "develbooster 2:00:00 gpu:4"]
    assert slurm.node_state() == "idle"


def test_sbatch_through_ssh_runs_job(slurm: Slurm, slurm_client: SshClient, test_user: TestUser) -> None:
    remote = shlex.join(
        ["sbatch", "--parsable", "-A", "myproject", "-p", "develbooster", "--gres=gpu:4", "-t", "10",
         "-o", "%x-%j.out", "-J", "demo", "--wrap", "echo gpus=$CUDA_VISIBLE_DEVICES acct=$SLURM_JOB_ACCOUNT"]
    )
    r = slurm_client.run(f"cd && {remote}")
    assert r.returncode == 0, r.stderr
    job = int(r.stdout.strip())
    q = slurm.run(["squeue", "-h", "-t", "all", "-j", str(job), "-o", "%u %a %P"], check=True)
    assert q.stdout.split() == [test_user.name, "myproject", "develbooster"]
    assert slurm.wait_job_state(job, "COMPLETED", timeout=30) == "COMPLETED"
    out = test_user.home / f"demo-{job}.out"
    assert out.read_text().strip() == "gpus=0,1,2,3 acct=myproject"
    assert out.stat().st_uid == test_user.uid


def test_sbatch_without_account_is_refused(slurm_client: SshClient) -> None:
    r = slurm_client.run(shlex.join(["sbatch", "--wrap", "true"]))
    assert r.returncode == 1
    assert "sbatch: error: Please specify a budget with --account=<budget>" in r.stderr
    assert "Batch job submission failed: Invalid account or account/partition combination specified" in r.stderr
    r = slurm_client.run(shlex.join(["sbatch", "-A", "nope", "--wrap", "true"]))
    assert r.returncode == 1
    assert "Budget 'nope' is not valid" in r.stderr


def test_partition_time_limit_enforced(slurm: Slurm) -> None:
    r = slurm.run(["sbatch", "-A", "myproject", "-p", "develbooster", "-t", "03:00:00", "--wrap", "true"])
    assert r.returncode == 1
    assert "Requested time limit is invalid" in r.stderr


def test_slurm_factory_other_partitions(slurm_factory: SlurmFactory) -> None:
    other = slurm_factory(partitions=[Partition("dc-gpu", "24:00:00", default=True)], accounts=["jscbudget"], gpus=2)
    r = other.run(["sinfo", "-h", "-o", "%P %G"], check=True)
    assert r.stdout.split() == ["dc-gpu*", "gpu:2"]
    job = other.sbatch("--wrap", "true", "-o", "/dev/null", account="jscbudget")
    assert other.wait_job_state(job, "COMPLETED", timeout=30) == "COMPLETED"
    assert slurm_factory(partitions=[Partition("dc-gpu", "24:00:00", default=True)], accounts=["jscbudget"], gpus=2) is other


# --------------------------------------------------------------------------- bad endpoints


def test_tarpit_sends_no_banner(tarpit: Tarpit) -> None:
    t0 = time.monotonic()
    assert read_banner("127.0.0.1", tarpit.port, timeout=1.0) == b""
    assert 0.9 < time.monotonic() - t0 < budget(1.0, 2.0)
    assert tarpit.connections == 1


def test_ssh_to_tarpit_times_out(test_user: TestUser, tarpit: Tarpit) -> None:
    r = run_as(test_user, ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=1", "-p", str(tarpit.port), "127.0.0.1", "true"])
    assert r.returncode == 255
    assert "Connection timed out during banner exchange" in r.stderr


def test_tarpit_factory_and_refused_port(tarpit_factory: TarpitFactory, refused_port: int) -> None:
    a, b = tarpit_factory(), tarpit_factory()
    assert a.port != b.port
    with socket.create_connection(a.address, timeout=1), socket.create_connection(b.address, timeout=1):
        pass
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", refused_port), timeout=1)
