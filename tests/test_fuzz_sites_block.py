"""Fuzz test of the sites-file loader and the managed-block writer (issue 12).

Hypothesis writes a sites file (real TOML, every string escaped as TOML requires) with arbitrary
strings, numbers and tables in every field (keys, values, list items, ``source`` and
``confidence``), mixed with plausible values so that many examples get past the loader. Then:

* either ``load_catalogue`` or the block writer (``ssh.entries.site_entries`` +
  ``ssh.block.upsert``) refuses with an ``SshSetupError``;
* or the written block, read back by the real ``ssh -G``, gives for every managed alias exactly
  the HostName, Port and User meant and no ProxyJump (a compute-node pattern that matched an alias
  once made ``ssh ALIAS`` jump through itself: now refused); a host matching a compute-node pattern
  gets its ProxyJump; hosts no managed pattern matches (``github.com``, ...) get nothing from the
  block (a pattern ``*`` or ``?`` once made every host jump: now refused); and the
  block holds no ``Host``/``Match`` line other than the managed ones (and its closing, option-less
  ``Host *``, ``block.RESTORE``), and no line ssh could read as anything but a comment, a ``Host``
  line or one managed ``Keyword value``.

Examples: ``SSHSETUP_HYPOTHESIS_EXAMPLES`` (default 100: about 5-8 s, a quarter of them written and run
through ssh -G; 300 take about 20 s); the nightly size is
``SSHSETUP_HYPOTHESIS_EXAMPLES=5000``.
"""

from __future__ import annotations

import fnmatch
import re
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from sshsetup.catalogue import DEFAULT_SITES, load_catalogue, select
from sshsetup.errors import SshSetupError
from sshsetup.ssh import block
from sshsetup.ssh.client import Ssh
from sshsetup.ssh.entries import EntryOptions, site_entries
from tests import strategies as S

FUZZ = settings(
    max_examples=S.env_examples(100),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
USER = "smith1"
STRANGERS = ("github.com", "example.org", "localhost", "10.1.2.3")  # hosts the block must not touch
_SECTION = re.compile(r"^\s*(host|match)(\s*=\s*|\s+|$)", re.IGNORECASE)
_OPTION = re.compile(r"^    ([A-Za-z]+) (\S+|\"[^\"]*\")$")
MANAGED_KEYWORDS = {
    "HostName", "Port", "User", "IdentityFile", "IdentitiesOnly", "AddKeysToAgent", "AddressFamily",
    "ServerAliveInterval", "ServerAliveCountMax", "ControlMaster", "ControlPath", "ControlPersist",
    "ProxyJump", "StrictHostKeyChecking",
}

# ---------------------------------------------------------------- TOML text


def toml_str(s: str) -> str:
    """A TOML basic string: escapes for quote, backslash and every control character."""
    out = []
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return toml_str(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{toml_str(k)} = {toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(v)


def sites_toml(sid: str, fields: dict[str, Any]) -> str:
    lines = [f"[sites.{toml_str(sid)}]"]
    lines += [f"{toml_str(k)} = {toml_value(v)}" for k, v in fields.items()]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- strategies

anything = st.text(max_size=40)
small = st.text(alphabet="abcXY-._*?#\"' \t\n\r\\%$;|&`=", max_size=8)  # dense in the characters that matter
near_alias = st.from_regex(r"[a-cA-C0-9][a-c0-9_.-]{0,4}", fullmatch=True)
near_pattern = st.from_regex(r"[a-c0-9*?]{0,2}[*?][a-c0-9*?_.-]{0,4}", fullmatch=True)
near_host = st.one_of(S.dns_names, S.ipv4, S.ipv6)
near_user = S.users


def _evil(good: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Strings near a good value: arbitrary, dense in meta characters, or a good value with an injection."""
    injected = st.tuples(good, st.sampled_from(["\n    ProxyCommand x", " #x", '"', "\u2028Host *", "\u0085", " ", "*", "=x"]))
    return st.one_of(anything, small, injected.map("".join), injected.map(lambda t: t[1] + t[0]))


# field -> (plausible values, hostile values)
FIELDS: dict[str, tuple[st.SearchStrategy[Any], st.SearchStrategy[Any]]] = {
    "name": (st.text(min_size=1, max_size=20), _evil(st.text(min_size=1, max_size=8))),
    "alias": (near_alias, _evil(near_alias)),
    "hostname": (near_host, _evil(near_host)),
    "user": (near_user, _evil(near_user)),
    "port": (st.integers(1, 65535), st.one_of(st.integers(-5, 70000), anything, st.booleans())),
    "address_family": (st.sampled_from(["inet", "inet6", "any"]), anything),
    "compute_node_pattern": (near_pattern, _evil(near_pattern)),
    "compute_node_example": (anything, anything),
    "login_nodes": (st.lists(near_host, max_size=3), st.lists(_evil(near_host), min_size=1, max_size=2)),
    "gpu_partitions": (st.lists(st.from_regex(r"[a-z]{1,6}", fullmatch=True), max_size=3), st.lists(small, min_size=1, max_size=2)),
    "devel_partitions": (st.just(["develgpus"]), st.lists(anything, min_size=1, max_size=2)),
    "gpus_per_node": (st.integers(1, 8), st.one_of(st.integers(-2, 0), anything)),
    "max_walltime": (st.just("24:00:00"), anything),
    "devel_max_walltime": (st.just("02:00:00"), anything),
    "jsc": (st.booleans(), anything),
    **{k: (st.text(max_size=20), _evil(st.text(max_size=8))) for k in
       ("arch", "judoor_url", "docs_url", "systemname", "project_root", "two_factor")},
}


@st.composite
def fact(draw: st.DrawFn, key: str, hostile: bool) -> Any:
    value = draw(FIELDS[key][1 if hostile else 0])
    if draw(st.booleans()):
        return value
    table: dict[str, Any] = {"value": value}
    if draw(st.booleans()):
        table["source"] = draw(_evil(st.just("a source")) if hostile and draw(st.booleans()) else st.text(max_size=10))
    if draw(st.booleans()):
        table["confidence"] = draw(st.sampled_from(["high", "medium", "low", "unknown"]))
    return table


@st.composite
def sites_files(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """One site; 0 to 2 of its fields hostile (0 in about a third of the examples)."""
    good_id = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,6}", fullmatch=True)
    sid = draw(_evil(good_id) if draw(st.integers(0, 9)) == 5 else good_id)
    keys = draw(st.lists(st.sampled_from(sorted(FIELDS)), unique=True, max_size=8))
    keys = ["hostname", *[k for k in keys if k != "hostname"]]
    if "compute_node_pattern" not in keys and draw(st.booleans()):
        keys.append("compute_node_pattern")
    hostile = set() if draw(st.integers(0, 3)) == 2 else set(draw(st.lists(st.sampled_from(keys), unique=True, max_size=2)))
    fields = {k: draw(fact(k, k in hostile)) for k in keys}
    if draw(st.integers(0, 9)) == 5:
        fields[draw(st.one_of(anything, small))] = draw(st.one_of(anything, st.integers()))  # an unknown key
    return sid, fields


# ---------------------------------------------------------------- the property


def _concrete(pattern: str) -> str:
    """A host name that the ssh pattern matches."""
    return pattern.replace("*", "x").replace("?", "y")


def _check_block_lines(text: str, entries: list[block.HostEntry]) -> None:
    lines = text.splitlines()
    assert lines[0].startswith(block.BEGIN) and lines[-1] == block.END, lines
    sections = [ln for ln in lines if _SECTION.match(ln)]
    # the block ends with an option-less "Host *" (block.RESTORE): the user's lines after it apply to every host again
    assert sections == [*(f"Host {e.pattern}" for e in entries), block.RESTORE], sections
    after_restore = lines[lines.index(block.RESTORE) + 1 : -1]
    assert all(not ln.strip() or ln.startswith("#") for ln in after_restore), after_restore
    for ln in lines[1:-1]:
        if not ln or ln.startswith("# ") or ln.startswith("Host "):
            continue
        m = _OPTION.match(ln)
        assert m is not None and m.group(1) in MANAGED_KEYWORDS, f"unexpected line in the block: {ln!r}"


@FUZZ
@given(sites_files())
def test_a_sites_file_is_refused_or_gives_exactly_the_managed_entries(spec: tuple[str, dict[str, Any]]) -> None:
    sid, fields = spec
    text = sites_toml(sid, fields)
    note(text)
    with tempfile.TemporaryDirectory() as tmp:
        sites_file = Path(tmp) / "sites.toml"
        sites_file.write_text(text, encoding="utf-8")
        try:
            catalogue = load_catalogue(sites_file, None)
            chosen = select(catalogue, (*DEFAULT_SITES, sid)) if sid in catalogue else None
        except SshSetupError:
            event("refused by the loader")
            return
        assert chosen is not None, "the loader accepted a file without its site"
        opts = EntryOptions(user=USER, identity_file=f"{tmp}/id_ed25519", windows_client=False,
                            control_dir=f"{tmp}/cm", compute_nodes=True, address_family={})
        config = Path(tmp) / "config"
        try:
            entries = site_entries(chosen, opts)
            written = block.upsert("", entries, {"sites": [s.id for s in chosen]}, "\n", config)
        except SshSetupError:
            event("refused by the block writer")
            return
        event("written")
        note(written)
        _check_block_lines(written, entries)
        config.write_text(written, encoding="utf-8")
        ssh = Ssh(config)
        for s in chosen:
            got = ssh.dump(s.alias)
            assert got["hostname"] == [s.hostname.lower()], (s.alias, got["hostname"])
            assert (got["port"], got["user"]) == ([str(s.port)], [USER]), s.alias
            assert "proxyjump" not in got, f"{s.alias} would jump through {got.get('proxyjump')}"
        for s in chosen:
            pattern = s.compute_node_pattern
            if pattern and _concrete(pattern).lower() not in {c.alias.lower() for c in chosen}:
                got = ssh.dump(_concrete(pattern))
                assert got.get("proxyjump") == [s.alias], (pattern, got.get("proxyjump"))
        patterns = [e.pattern.lower() for e in entries]
        for stranger in STRANGERS:
            if any(fnmatch.fnmatchcase(stranger, p) for p in patterns):
                continue  # e.g. a site's own "*.example.org": the block is meant to reach it
            got = ssh.dump(stranger)
            assert got["user"] != [USER] and "proxyjump" not in got, f"the block reaches {stranger}"
