"""``sshsetup.ssh.hostkey`` on saved transcripts: a learned key, a changed key and its exact fix."""

from __future__ import annotations

from sshsetup.ssh import hostkey
from tests.support.test_sshlog import DATA


def test_the_changed_key_of_a_saved_transcript_and_its_fix() -> None:
    changed = hostkey.changed_host_key((DATA / "hostkey-changed.log").read_text())  # OpenSSH 9.2 quotes with "
    assert changed == hostkey.ChangedKey("[127.0.0.1]:2222", "ED25519", "SHA256:kfWi61HdMXzor2jb9R9vBmmbK+2Nj9dPlSb/TKLrnKc",
                                         "/tmp/tb/c/known_hosts_changed")
    assert changed.remove_command() == "ssh-keygen -R '[127.0.0.1]:2222' -f /tmp/tb/c/known_hosts_changed"
    assert changed.fix(None) == (
        "compare ED25519 SHA256:kfWi61HdMXzor2jb9R9vBmmbK+2Nj9dPlSb/TKLrnKc (what [127.0.0.1]:2222 presents now) with the "
        "fingerprint the site's support gives you; only if it matches, remove the old entry: "
        "ssh-keygen -R '[127.0.0.1]:2222' -f /tmp/tb/c/known_hosts_changed, then run sshsetup doctor again; "
        "if it differs, do not log in and tell the support")


def test_without_the_remove_line_the_default_file_is_meant() -> None:
    text = ("The fingerprint for the ECDSA key sent by the remote host is\nSHA256:abc+/=.\n"
            "Host key for host.example has changed and you have requested strict checking.\n")
    changed = hostkey.changed_host_key(text)
    assert changed == hostkey.ChangedKey("host.example", "ECDSA", "SHA256:abc+/=", None)
    assert changed.remove_command() == "ssh-keygen -R host.example"


def test_nothing_learned_or_changed_in_an_accepted_login() -> None:
    text = (DATA / "accepted.log").read_text()
    assert hostkey.changed_host_key(text) is None
    assert hostkey.new_host_key(text) is None


def test_new_key_notes_name_where_to_compare() -> None:
    found = ("h.example", "ED25519", "SHA256:x")
    assert hostkey.new_key_notes("a", found, "https://docs.example.org/") == [
        "new host key of a: ED25519 SHA256:x (now in known_hosts as h.example)",
        "compare it with the one the site publishes (look in the system's documentation, https://docs.example.org/, or ask its "
        "support); if it differs, do not log in: remove it (ssh-keygen -R 'h.example') and tell the support."]
    assert hostkey.host_key_lines("a", found, None)[0] == "  new host key of a: ED25519 SHA256:x (now in known_hosts as h.example)"
