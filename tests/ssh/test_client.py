from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from sshsetup.paths import Paths
from sshsetup.ssh.client import Master, Ssh, shell_join


def test_argv_default_is_batch_reuse_and_ends_with_destination(tmp_path: Path) -> None:
    cfg = tmp_path / "config"
    cfg.write_text("Host x\n")
    assert Ssh(cfg).argv("jsc-x", "true") == [
        "ssh", "-F", str(cfg), "-T", "-o", "BatchMode=yes", "-o", "ControlMaster=no", "--", "jsc-x", "true"]


def test_missing_config_means_no_config_not_the_default(tmp_path: Path) -> None:
    assert Ssh(tmp_path / "absent").config_args() == ["-F", "none"]
    assert Ssh(None).config_args() == []


def test_probe_options_in_order() -> None:
    argv = Ssh().argv("h", None, verbose=1, connect_timeout=9.7, master=Master.NONE,
                      options={"StrictHostKeyChecking": "accept-new"})
    assert argv == ["ssh", "-T", "-v", "-o", "BatchMode=yes", "-o", "ConnectTimeout=9", "-o", "ControlMaster=no",
                    "-o", "ControlPath=none", "-o", "StrictHostKeyChecking=accept-new", "--", "h"]


@pytest.mark.parametrize("dest", ["-oProxyCommand=x", "", "a b", "a\nb", "x;y"])
def test_refuses_what_is_not_a_destination(dest: str) -> None:
    with pytest.raises(ValueError, match="not an ssh destination"):
        Ssh().argv(dest)


@pytest.mark.parametrize(("key", "value"), [("Bad-Name", "1"), ("LogLevel", "a\nb"), ("LogLevel", ""), ("User", " x")])
def test_refuses_bad_options(key: str, value: str) -> None:
    with pytest.raises(ValueError):
        Ssh().argv("h", options={key: value})


def test_control_and_dump_argv() -> None:
    assert Ssh().control_argv("h", "check") == ["ssh", "-O", "check", "--", "h"]
    assert Ssh().dump_argv("h") == ["ssh", "-T", "-G", "--", "h"]
    assert Ssh().control_argv("h", "exit", options={"ControlPath": "/tmp/d/cm-1"}) == [
        "ssh", "-o", "ControlPath=/tmp/d/cm-1", "-O", "exit", "--", "h"]
    with pytest.raises(ValueError, match="not a one-line ssh option value"):
        Ssh().control_argv("h", "exit", options={"ControlPath": "/x\nProxyCommand y"})
    with pytest.raises(ValueError, match="unknown control operation"):
        Ssh().control_argv("h", "forward")


def test_shell_join_keeps_words() -> None:
    assert shell_join(["squeue", "-p", "it's; rm -rf ~"]) == "squeue -p 'it'\"'\"'s; rm -rf ~'"


def test_dump_reads_the_real_ssh_config(tmp_path: Path) -> None:
    cfg = tmp_path / "config"
    cfg.write_text("Host jsc-x\n    HostName login.example.org\n    IdentityFile /k/a\n    IdentityFile /k/b\n")
    got = Ssh(cfg).dump("jsc-x")
    assert got["hostname"] == ["login.example.org"]
    assert got["identityfile"] == ["/k/a", "/k/b"]


def test_dump_error_keeps_every_line_of_ssh(tmp_path: Path) -> None:
    cfg = tmp_path / "config"
    cfg.write_text("Host x\n    UseKeychain yes\n")
    with pytest.raises(RuntimeError) as info:
        Ssh(cfg).dump("x")
    assert f"{cfg}: line 2: Bad configuration option: usekeychain" in str(info.value)
    assert "terminating, 1 bad configuration options" in str(info.value)


def test_run_has_one_deadline(tmp_path: Path) -> None:
    done = Ssh().run(["sleep", "5"], timeout=0.2)
    assert done.timed_out and not done.ok and done.returncode == 255
    missing = Ssh().run([str(tmp_path / "no-such-ssh")], timeout=1)
    assert missing.returncode == 127 and missing.stderr.startswith("cannot run")


def test_for_paths_follows_the_default_config_rule(tmp_path: Path) -> None:
    p = Paths(home=tmp_path / "h", pw_home=tmp_path / "pw", config_dir=tmp_path / "c", state_dir=tmp_path / "s")
    assert Ssh.for_paths(p).config == p.ssh_config
    same = Paths(home=tmp_path, pw_home=tmp_path, config_dir=tmp_path / "c", state_dir=tmp_path / "s")
    assert Ssh.for_paths(same).config is None


def test_log_file_goes_before_the_options(tmp_path: Path) -> None:
    argv = Ssh().argv("h", "hostname", batch=False, verbose=1, master=Master.OPEN, options={"ControlPersist": "28800"},
                      log_file=tmp_path / "login.log")
    assert argv == ["ssh", "-T", "-v", "-E", str(tmp_path / "login.log"), "-o", "ControlMaster=auto",
                    "-o", "ControlPersist=28800", "--", "h", "hostname"]


def test_control_never_connects(tmp_path: Path) -> None:
    cfg = tmp_path / "config"
    short = Path(tempfile.mkdtemp(prefix="cm", dir="/tmp"))  # a socket path must stay under 108 bytes (xdist's tmp_path is longer)
    cfg.write_text(f"Host h\n    HostName 127.0.0.1\n    Port 9\n    ControlPath {short}/cm-%C\n")
    done = Ssh(cfg).control("h", "check")
    short.rmdir()
    assert done.returncode == 255 and "Control socket connect" in done.stderr and "No such file" in done.stderr


def test_run_on_terminal_captures_stdout_and_has_one_deadline() -> None:
    done = Ssh().run_on_terminal(["sh", "-c", "echo node1"], timeout=5)
    assert (done.ok, done.stdout) == (True, "node1\n")
    slow = Ssh().run_on_terminal(["sleep", "5"], timeout=0.2)
    assert slow.timed_out and slow.returncode == 255
    assert Ssh().run_on_terminal(["/no/such/ssh"], timeout=1).returncode == 127
