"""Hypothesis strategies for the ssh config proofs: random existing configs, random init options.

Every generated config comes with a small model (``ConfigSpec.setters``): the lines *before the
first Host/Match* (main file and the included file) that set HostName/User/Port/IdentityFile.
That is the only place a value can shadow the managed block (ssh takes the first value it finds,
and the block goes before the first Host/Match), so the model is an independent oracle for
"init must say which line shadows which alias".
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field

from hypothesis import strategies as st

INCLUDE = "{INCLUDE}"  # placeholder for the absolute path of the generated include file
CATALOGUE_IDS = ("juwels-booster", "jusuf", "juwels-cluster", "jureca-dc", "jupiter", "judac")
SHADOW_KEYS = ("hostname", "user", "port", "identityfile")
KEY_SPELLING = {"hostname": "HostName", "user": "User", "port": "Port", "identityfile": "IdentityFile"}

# ---------------------------------------------------------------- options

users = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,15}", fullmatch=True)
_label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)


def _not_ipv4_spelling(name: str) -> bool:
    import socket

    try:
        socket.inet_aton(name)  # "0", "1.2.3": ssh reads these as IPv4 addresses; validate refuses them
    except OSError:
        return True
    return False


_tld = st.from_regex(r"[a-z][a-z0-9-]{0,6}[a-z0-9]", fullmatch=True)
dns_names = st.tuples(st.lists(_label, max_size=3), _tld).map(lambda t: ".".join([*t[0], t[1]])).filter(_not_ipv4_spelling)
mixed_case_names = st.tuples(dns_names, st.randoms(use_true_random=False)).map(
    lambda t: "".join(c.upper() if t[1].random() < 0.3 else c for c in t[0])
)
ipv4 = st.ip_addresses(v=4).map(str)
ipv6 = st.ip_addresses(v=6).map(str)
hostnames = st.one_of(dns_names, dns_names, mixed_case_names, ipv4, ipv6)


@dataclass(frozen=True)
class SiteSpec:
    """A site in the generated --sites-file."""

    id: str
    alias: str | None
    hostname: str
    port: int | None
    pattern: str | None  # compute_node_pattern
    user: str | None = None

    @property
    def effective_alias(self) -> str:
        return self.alias or self.id

    def toml(self) -> str:
        out = [f'[sites.{self.id}]', f'name = "Generated {self.id}"', f'hostname = "{self.hostname}"']
        if self.alias:
            out.append(f'alias = "{self.alias}"')
        if self.port is not None:
            out.append(f"port = {self.port}")
        if self.pattern:
            out.append(f'compute_node_pattern = "{self.pattern}"')
        if self.user:
            out.append(f'user = "{self.user}"')
        return "\n".join(out) + "\n"


@st.composite
def site_specs(draw: st.DrawFn, n: int) -> SiteSpec:
    sid = f"u{n}" + draw(st.from_regex(r"[a-z0-9_-]{0,6}", fullmatch=True))
    alias = draw(st.none() | st.from_regex(r"[A-Za-z0-9_.-]{0,10}", fullmatch=True).map(lambda s, n=n: f"ua{n}{s}"))
    port = draw(st.none() | st.just(22) | st.integers(1, 65535))
    pattern = draw(st.none() | st.sampled_from(["*", "*i", "?*x"]).map(lambda s, n=n: f"cn{n}{s}.gen"))
    return SiteSpec(sid, alias, draw(hostnames), port, pattern)


@dataclass(frozen=True)
class InitSpec:
    user: str
    site_ids: tuple[str, ...]  # what --site gets (possibly empty: the defaults)
    file_sites: tuple[SiteSpec, ...]  # the --sites-file (possibly empty: no file)
    compute_nodes: bool | None
    client: str  # auto | openssh | windows

    @property
    def windows(self) -> bool:
        return self.client == "windows"

    def args(self, key: str, sites_file: str | None) -> list[str]:
        a = ["init", "--yes", "--user", self.user, "--key", key, "--client", self.client]
        for s in self.site_ids:
            a += ["--site", s]
        if sites_file:
            a += ["--sites-file", sites_file]
        if self.compute_nodes is not None:
            a.append("--compute-nodes" if self.compute_nodes else "--no-compute-nodes")
        return a

    def sites_toml(self) -> str | None:
        return "\n".join(s.toml() for s in self.file_sites) if self.file_sites else None


@st.composite
def init_specs(draw: st.DrawFn) -> InitSpec:
    file_sites = tuple(draw(site_specs(n)) for n in range(draw(st.integers(0, 3))))
    cat = draw(st.lists(st.sampled_from(CATALOGUE_IDS), unique=True, max_size=4))
    mine = draw(st.lists(st.sampled_from([s.id for s in file_sites]), unique=True)) if file_sites else []
    ids = draw(st.permutations(cat + mine)) if cat or mine else []
    return InitSpec(
        user=draw(users),
        site_ids=tuple(ids),
        file_sites=file_sites,
        compute_nodes=draw(st.sampled_from([None, True, False])),
        client=draw(st.sampled_from(["auto", "openssh", "windows"])),
    )


# ---------------------------------------------------------------- configs


@dataclass(frozen=True)
class Setter:
    """A line before the managed block that sets a shadowable keyword."""

    where: str  # "main" or "inc"
    line: int  # 1-based
    key: str  # lower case
    value: str  # as ssh -G prints it
    patterns: tuple[str, ...] | None  # None: applies to every host (global option / Match all)

    def applies(self, alias: str) -> bool:
        if self.patterns is None:
            return True
        hit = False
        for p in self.patterns:
            if fnmatch.fnmatchcase(alias, p.lstrip("!")):
                if p.startswith("!"):
                    return False
                hit = True
        return hit


@dataclass(frozen=True)
class ConfigSpec:
    exists: bool
    lines: tuple[str, ...]  # main file, without line endings; INCLUDE is replaced by the include path
    eols: tuple[str, ...]  # one per line; the last may be ""
    include: tuple[str, ...] | None  # the included file's lines (LF, final newline)
    setters: tuple[Setter, ...] = field(default=())  # in ssh's reading order
    n_global: int = 0  # lines before the first Host/Match line

    def render(self, include_path: str) -> bytes:
        if not self.exists:
            return b""
        text = "".join(ln.replace(INCLUDE, include_path) + e for ln, e in zip(self.lines, self.eols, strict=True))
        return text.encode("utf-8")

    def include_bytes(self) -> bytes:
        return "".join(ln + "\n" for ln in self.include or ()).encode("utf-8")

    def first_setter(self, alias: str, key: str) -> Setter | None:
        return next((s for s in self.setters if s.key == key and s.applies(alias)), None)


_ws = st.sampled_from(["", "", "", " ", "  ", "\t", " \t"])
_sep = st.sampled_from([" ", " ", "\t", "=", " = ", " =", "= ", "\t=\t", "  "])
_comments = st.sampled_from(
    ["#", "# my settings", "#Host not-a-host", "# uses sshsetup? no", "## Match all", "# Hostname x", "#\tIdentityFile x"]
)


def _spell(key: str, draw: st.DrawFn) -> str:
    return draw(st.sampled_from([key, key.lower(), key.upper()]))


def _quoted(value: str, draw: st.DrawFn) -> str:
    if " " in value or draw(st.booleans()):
        return f'"{value}"'
    return value


def _harmless_option(draw: st.DrawFn) -> tuple[str, str]:
    """(keyword, value text) for an option that never touches the four verified keywords."""
    return draw(
        st.sampled_from(
            [
                ("ServerAliveInterval", "30"),
                ("ConnectTimeout", "10"),
                ("Compression", "yes"),
                ("ForwardAgent", "no"),
                ("LogLevel", "ERROR"),
                ("StrictHostKeyChecking", "accept-new"),
                ("UserKnownHostsFile", '"/nonexistent/known hosts"'),
                ("SendEnv", "LANG LC_*"),
                ("IdentitiesOnly", "yes"),
                ("AddKeysToAgent", "yes"),
                ("HashKnownHosts", "no"),
                ("SetEnv", 'FOO="bar baz"'),
                ("ControlPersist", "no"),
                ("AddressFamily", "any"),
            ]
        )
    )


def _shadow_value(key: str, draw: st.DrawFn, spec: InitSpec) -> tuple[str, str]:
    """(value as written, value as ssh -G prints it) for one of the four keywords."""
    if key == "user":
        v = draw(st.sampled_from([spec.user, "someoneelse", "root"]))
        return _quoted(v, draw), v
    if key == "port":
        v = draw(st.sampled_from(["22", "2222", "443"]))
        return v, v
    if key == "hostname":
        v = draw(st.sampled_from(["gateway.example.org", "10.1.2.3"]))
        return _quoted(v, draw), v
    v = draw(st.sampled_from(["~/.ssh/other", "/nonexistent/my key"]))
    return _quoted(v, draw), v


def _option_line(draw: st.DrawFn, spec: InitSpec, shadow_ok: bool) -> tuple[str, tuple[str, str] | None]:
    """One option line, and (key, printed value) if it sets one of the verified keywords."""
    ws = draw(_ws)
    if shadow_ok and draw(st.integers(0, 3)) == 0:
        key = draw(st.sampled_from(SHADOW_KEYS))
        written, printed = _shadow_value(key, draw, spec)
        return f"{ws}{_spell(KEY_SPELLING[key], draw)}{draw(_sep)}{written}", (key, printed)
    k, v = _harmless_option(draw)
    return f"{ws}{_spell(k, draw)}{draw(_sep)}{v}", None


def _aliases(spec: InitSpec) -> list[str]:
    out = [s.effective_alias for s in spec.file_sites]
    out += ["jsc-booster", "jsc-jusuf", "jsc-juwels", "jsc-jureca", "jsc-jupiter", "jsc-judac"]
    return out


@st.composite
def include_files(draw: st.DrawFn, spec: InitSpec) -> tuple[list[str], list[tuple[int, str, str, tuple[str, ...] | None]]]:
    """An included file: lines, and its (line, key, value, patterns) setters in order."""
    lines: list[str] = []
    sets: list[tuple[int, str, str, tuple[str, ...] | None]] = []
    patterns: tuple[str, ...] | None = None
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(["comment", "blank", "option", "option", "host", "match"]))
        if kind == "comment":
            lines.append(draw(_comments))
        elif kind == "blank":
            lines.append("")
        elif kind == "host":
            pats = draw(
                st.sampled_from(
                    [("*",), ("jsc-*",), ("nomatch.example",), ("*", "!jsc-booster"), ("ua*",), ("u*", "!ua*")]
                    + [(a,) for a in _aliases(spec)[:3]]
                )
            )
            patterns = pats
            lines.append(f"Host {' '.join(pats)}")
        elif kind == "match":
            patterns = None
            lines.append(draw(st.sampled_from(["Match all", "match all"])))
        else:
            text, sets_ = _option_line(draw, spec, shadow_ok=True)
            lines.append(text)
            if sets_:
                sets.append((len(lines), sets_[0], sets_[1], patterns))
    return lines, sets


@st.composite
def configs(draw: st.DrawFn, spec: InitSpec) -> ConfigSpec:
    """A user's ~/.ssh/config (or none), with its include file and its shadowing model."""
    if draw(st.integers(0, 9)) == 0:
        return ConfigSpec(False, (), (), None)
    lines: list[str] = []
    setters: list[Setter] = []
    include: list[str] | None = None
    inc_sets: list[tuple[int, str, str, tuple[str, ...] | None]] = []
    if draw(st.booleans()):
        include, inc_sets = draw(include_files(spec))
    # 1. global part: comments, blanks, options, at most one Include of the generated file
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["comment", "blank", "option", "option", "include"]))
        if kind == "comment":
            lines.append(draw(_ws) + draw(_comments))
        elif kind == "blank":
            lines.append(draw(st.sampled_from(["", "", " ", "\t"])))
        elif kind == "include" and include is not None:
            lines.append(f"{draw(_ws)}{_spell('Include', draw)}{draw(_sep)}{_quoted(INCLUDE, draw)}")
            setters += [Setter("inc", n, k, v, p) for n, k, v, p in inc_sets]
        else:
            text, sets = _option_line(draw, spec, shadow_ok=True)
            lines.append(text)
            if sets:
                setters.append(Setter("main", len(lines), sets[0], sets[1], None))
    n_global = len(lines)
    # 2. sections: Host/Match with options (after the managed block: they cannot shadow it)
    for _ in range(draw(st.integers(0, 5))):
        for _ in range(draw(st.integers(0, 2))):
            lines.append(draw(_ws) + draw(_comments))
        header = draw(
            st.sampled_from(
                ["Host *", "Host github.com", "Host *.corp !x.corp", "Host jsc-*", "Host ua* u*", "Match all",
                 "Match host *.corp", "Match originalhost gw", "Host *", "Host=gw", "HOST gw gw2", 'Host "q q"']
            )
        )
        if header.startswith("Host "):
            header = f"{draw(_ws)}{_spell('Host', draw)}{draw(_sep)}{header[5:]}"
        lines.append(header)
        for _ in range(draw(st.integers(0, 4))):
            if include is not None and draw(st.integers(0, 7)) == 0:
                lines.append(f"  Include {_quoted(INCLUDE, draw)}")
            else:
                lines.append(_option_line(draw, spec, shadow_ok=True)[0])
        if draw(st.integers(0, 3)) == 0:
            lines.append("")
    style = draw(st.sampled_from(["lf", "lf", "crlf", "mixed"]))
    eols = [draw(st.sampled_from(["\n", "\r\n"])) if style == "mixed" else ("\r\n" if style == "crlf" else "\n") for _ in lines]
    if eols and draw(st.integers(0, 3)) == 0:
        eols[-1] = ""  # no final newline
    return ConfigSpec(True, tuple(lines), tuple(eols), tuple(include) if include is not None else None, tuple(setters), n_global)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[InitSpec, ConfigSpec]:
    spec = draw(init_specs())
    return spec, draw(configs(spec))


# ---------------------------------------------------------------- pure texts

_text_lines = st.sampled_from(
    [
        "", " ", "\t", "# c", "#", "User x", "user=x", "Host a", "host=b", "  Match all", "HostName h", "Include /x",
        "Hostname=y", "\tIdentityFile \"a b\"", "Match host x exec \"true\"", "#BEGIN sshsetup (no space: not a marker)", "# sshsetup BEGIN",
        "x # BEGIN sshsetup", "Hosts x", "Matchy z", "  # indented comment", "Host\tc",
    ]
)


@st.composite
def raw_texts(draw: st.DrawFn) -> str:
    """Arbitrary config-ish text (no sshsetup markers) with any mix of line endings."""
    parts = draw(st.lists(st.tuples(_text_lines, st.sampled_from(["\n", "\r\n", "\n", "\r\n"])), max_size=12))
    text = "".join(a + b for a, b in parts)
    if text and draw(st.booleans()):
        text = text.rstrip("\r\n")
    return text


def env_examples(default: int) -> int:
    return int(os.environ.get("SSHSETUP_HYPOTHESIS_EXAMPLES", default))
