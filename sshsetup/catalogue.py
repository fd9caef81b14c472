"""The site catalogue: packaged JSC systems plus the user's own sites.

Data, not code: ``data/sites.toml`` holds each fact with its source and
confidence. A user or support team adds sites in ``<config dir>/sites.toml`` or
a file given with ``--sites-file``; there a plain value is a fact with source
"user sites file".
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sshsetup import validate
from sshsetup.errors import BadInput

DEFAULT_SITES = ("juwels-booster", "jusuf")
CONFIDENCES = ("high", "medium", "low", "unknown")
_FAMILIES = ("inet", "inet6", "any")
TIME_PATTERN = re.compile(r"(?:(\d+)-)?(\d{1,2}):(\d{2}):(\d{2})")

# field -> (type check, default) for the optional facts
_STR_FACTS = (
    "name", "alias", "hostname", "address_family", "arch", "max_walltime", "devel_max_walltime",
    "judoor_url", "docs_url", "compute_node_pattern", "compute_node_example", "systemname",
    "project_root", "two_factor", "user", "login_for", "module_stage", "venv_dir",
)
_LIST_FACTS = ("login_nodes", "gpu_partitions", "devel_partitions", "modules", "storage_vars")
_INT_FACTS = ("port", "gpus_per_node")
_BOOL_FACTS = ("jsc", "whole_nodes", "compute_offline", "jutil")
MODULE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+/-]{0,127}")  # e.g. Stages/2025, GCC, CUDA/12
STORAGE_VAR = re.compile(r"[A-Z][A-Z0-9_]{0,31}")  # e.g. PROJECT: $PROJECT and $PROJECT_<account>
_KNOWN = set(_STR_FACTS) | set(_LIST_FACTS) | set(_INT_FACTS) | set(_BOOL_FACTS)


@dataclass(frozen=True)
class Fact:
    value: Any
    source: str
    confidence: str


@dataclass(frozen=True)
class Partition:
    name: str
    kind: str  # "gpu" or "devel"
    max_time_minutes: int | None
    gpus_per_node: int | None


@dataclass(frozen=True)
class Site:
    id: str
    facts: Mapping[str, Fact] = field(repr=False)
    origin: str = "catalogue"

    def get(self, key: str, default: Any = None) -> Any:
        fact = self.facts.get(key)
        if fact is None or fact.value in ("", None):
            return default
        return fact.value

    @property
    def name(self) -> str:
        return str(self.get("name", self.id))

    @property
    def alias(self) -> str:
        return str(self.get("alias", self.id))

    @property
    def hostname(self) -> str:
        return str(self.get("hostname"))

    @property
    def port(self) -> int:
        return int(self.get("port", 22))

    @property
    def address_family(self) -> str:
        return str(self.get("address_family", "any"))

    @property
    def is_jsc(self) -> bool:
        return bool(self.get("jsc", False))

    @property
    def gpus_per_node(self) -> int | None:
        v = self.get("gpus_per_node")
        return None if v is None else int(v)

    @property
    def compute_node_pattern(self) -> str | None:
        v = self.get("compute_node_pattern")
        return None if v is None else str(v)

    @property
    def module_stage(self) -> str | None:
        """The module that opens a software stage (JSC: ``Stages/<year>``), loaded first; None if unknown."""
        v = self.get("module_stage")
        return None if v is None else str(v)

    @property
    def modules(self) -> tuple[str, ...]:
        """The modules a PyTorch job loads after the stage (JSC: compiler, MPI, Python, PyTorch)."""
        return tuple(self.get("modules", ()))

    @property
    def storage_vars(self) -> tuple[str, ...]:
        """Variables naming file systems that compute nodes see (``$PROJECT``, ``$PROJECT_<account>``, ...)."""
        return tuple(self.get("storage_vars", ()))

    @property
    def venv_dir(self) -> str | None:
        """Where a user's venv goes by default; ``{account}`` is the Slurm account."""
        v = self.get("venv_dir")
        return None if v is None else str(v)

    def fact_is(self, key: str, value: bool) -> bool:
        """True if the catalogue knows ``key`` (confidence not 'unknown') and it is ``value``."""
        fact = self.facts.get(key)
        return fact is not None and fact.confidence != "unknown" and fact.value is value

    def partitions(self) -> dict[str, Partition]:
        out: dict[str, Partition] = {}
        for kind, names_key, time_key in (("gpu", "gpu_partitions", "max_walltime"), ("devel", "devel_partitions", "devel_max_walltime")):
            limit = self.get(time_key)
            for name in self.get(names_key, []):
                out[name] = Partition(name, kind, parse_time(limit) if limit else None, self.gpus_per_node)
        return out

    def unknown_facts(self) -> list[str]:
        return sorted(k for k, f in self.facts.items() if f.confidence == "unknown")


def parse_time(value: str) -> int:
    """Slurm time ``[D-]HH:MM:SS`` or minutes -> minutes (rounded up)."""
    if value.isdigit():
        return int(value)
    m = TIME_PATTERN.fullmatch(value)
    if not m:
        raise BadInput(f"time {value!r} is not a valid Slurm time", hint="use HH:MM:SS, D-HH:MM:SS or minutes")
    days, h, mi, s = (int(g) if g else 0 for g in m.groups())
    return days * 1440 + h * 60 + mi + (1 if s else 0)


def _duration(value: str) -> int:
    from sshsetup.ssh.master import parse_duration

    return parse_duration(value, what="login_for")


def _line_of(text: str, site: str, key: str | None) -> int:
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if re.match(rf"\s*\[sites\.\"?{re.escape(site)}\"?\]", ln)), None)
    if start is None:
        return 1
    if key is None:
        return start + 1
    for i in range(start + 1, len(lines)):
        if lines[i].lstrip().startswith("["):
            break
        if re.match(rf"\s*{re.escape(key)}\s*=", lines[i]):
            return i + 1
    return start + 1


def _fact(raw: Any, origin: str) -> Fact:
    if isinstance(raw, dict) and "value" in raw:
        return Fact(raw["value"], str(raw.get("source", origin)), str(raw.get("confidence", "unknown")))
    return Fact(raw, origin, "high" if origin != "catalogue" else "unknown")


class _FieldError(BadInput):
    def __init__(self, key: str | None, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.key = key


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for x in value for s in _strings(x)]
    if isinstance(value, dict):
        return [s for k, x in value.items() for s in (*_strings(k), *_strings(x))]
    return []


def _check_controls(key: str, raw: Any) -> None:
    """Every string of a sites file (keys, values, sources) is one line of printable text."""
    for s in _strings({key: raw}):
        found = validate.control_char(s)
        if found is not None:
            raise _FieldError(key, f"{key} contains the control character {found}",
                              "a sites file value must be a single line of printable text; remove the character")


def _check_types(facts: dict[str, Fact]) -> None:
    for key, fact in facts.items():
        v = fact.value
        if key not in _KNOWN:
            raise _FieldError(key, f"unknown key {key!r}", "known keys: " + ", ".join(sorted(_KNOWN)))
        if fact.confidence not in CONFIDENCES:
            raise _FieldError(key, f"{key}: confidence {fact.confidence!r} is not one of {', '.join(CONFIDENCES)}",
                              'e.g. { value = "...", source = "...", confidence = "medium" }')
        if key in _STR_FACTS and not isinstance(v, str):
            raise _FieldError(key, f"{key} must be a string, not {type(v).__name__}", f'write it in quotes: {key} = "..."')
        if key in _LIST_FACTS and not (isinstance(v, list) and all(isinstance(x, str) for x in v)):
            raise _FieldError(key, f"{key} must be a list of strings", f'write it as: {key} = ["a", "b"]')
        if key in _INT_FACTS and (isinstance(v, bool) or not isinstance(v, int)):
            raise _FieldError(key, f"{key} must be an integer, not {type(v).__name__}", f"write it without quotes: {key} = 2222")
        if key in _BOOL_FACTS and not isinstance(v, bool):
            raise _FieldError(key, f"{key} must be true or false", f"write it as: {key} = true")


def _check_values(facts: dict[str, Fact]) -> None:
    checks: dict[str, Callable[[Any], object]] = {
        "hostname": validate.hostname,
        "alias": validate.alias,
        "user": lambda v: validate.user(v, what="user"),
        "port": validate.port,
        "compute_node_pattern": lambda v: v and validate.host_pattern(v),
        "max_walltime": lambda v: v and parse_time(v),
        "login_for": lambda v: v and _duration(v),
        "devel_max_walltime": lambda v: v and parse_time(v),
        "login_nodes": lambda v: [validate.hostname(n, what="login node") for n in v],
        "gpu_partitions": lambda v: [validate.partition(n, what="gpu_partitions entry") for n in v],
        "devel_partitions": lambda v: [validate.partition(n, what="devel_partitions entry") for n in v],
        "module_stage": lambda v: v and _pattern(MODULE_NAME, v, "module_stage", "e.g. module_stage = \"Stages/2025\""),
        "modules": lambda v: [_pattern(MODULE_NAME, n, "modules entry", 'e.g. modules = ["GCC", "PyTorch"]') for n in v],
        "storage_vars": lambda v: [_pattern(STORAGE_VAR, n, "storage_vars entry", 'a variable name without $, e.g. storage_vars = ["PROJECT"]') for n in v],
    }
    for key, fn in checks.items():
        if key in facts:
            try:
                fn(facts[key].value)
            except BadInput as exc:
                raise _FieldError(key, exc.message, exc.hint) from None
    if "address_family" in facts and facts["address_family"].value not in _FAMILIES:
        raise _FieldError("address_family", f"address_family must be one of {', '.join(_FAMILIES)}", 'e.g. address_family = "inet"')


def _pattern(pattern: re.Pattern[str], value: str, what: str, hint: str) -> str:
    if not pattern.fullmatch(value):
        raise BadInput(f"{what} {validate.shown(value)} is not valid", hint=hint)
    return value


def _check(facts: dict[str, Fact]) -> None:
    _check_types(facts)
    if "hostname" not in facts or not facts["hostname"].value:
        raise _FieldError(None, "missing required key 'hostname'", 'add: hostname = "login.example.org"')
    _check_values(facts)


def parse_sites(text: str, origin: str, where: str) -> dict[str, Site]:
    """Parse one sites TOML document; every error names the file and line."""
    import sys

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"{where}: {exc}", hint="fix the TOML syntax (see https://toml.io)") from None
    sites_tbl = doc.get("sites")
    if not isinstance(sites_tbl, dict) or not sites_tbl:
        raise BadInput(f"{where}: no [sites.<id>] table found", hint='start with: [sites.mysite]\nhostname = "login.example.org"')
    out: dict[str, Site] = {}
    for sid, raw in sites_tbl.items():
        if not isinstance(raw, dict):
            raise BadInput(f"{where}:{_line_of(text, sid, None)}: sites.{sid} must be a table", hint=f'start it with [sites.{sid}]')
        try:
            validate.site_id(sid)
            for k, v in raw.items():
                _check_controls(k, v)
            facts = {k: _fact(v, origin) for k, v in raw.items()}
            _check(facts)
        except BadInput as exc:
            key = exc.key if isinstance(exc, _FieldError) else None
            raise BadInput(f"{where}:{_line_of(text, sid, key)}: [sites.{sid}] {exc.message}", hint=exc.hint) from None
        out[sid] = Site(sid, facts, origin)
    return out


@functools.lru_cache(maxsize=1)
def packaged_text() -> str:
    """The packaged catalogue (read once per process)."""
    from importlib import resources

    return resources.files("sshsetup").joinpath("data/sites.toml").read_text(encoding="utf-8")


def load_catalogue(sites_file: Path | None, default_user_file: Path | None) -> dict[str, Site]:
    """The packaged catalogue, then the user's file (whose sites add to or replace ours)."""
    sites = parse_sites(packaged_text(), "catalogue", "sshsetup/data/sites.toml")
    path = sites_file or (default_user_file if default_user_file and default_user_file.is_file() else None)
    user_text = ""
    if path is not None:
        try:
            user_text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise BadInput(f"sites file {path} does not exist", hint="check the path given with --sites-file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise BadInput(f"cannot read sites file {path}: {exc}", hint="it must be a UTF-8 TOML file") from None
        sites.update(parse_sites(user_text, f"user sites file {path}", str(path)))
    aliases: dict[str, str] = {}
    for s in sites.values():
        if s.alias in aliases:
            raise BadInput(
                f"sites {aliases[s.alias]!r} and {s.id!r} both use the alias {s.alias!r}",
                hint="give one of them another alias = \"...\" in the sites file",
            )
        aliases[s.alias] = s.id
    _check_patterns(sites, path, user_text)
    return sites


def _check_patterns(sites: Mapping[str, Site], path: Path | None, user_text: str) -> None:
    """No compute-node pattern may match an alias: ssh would send it through a ProxyJump (its own: a loop)."""
    import fnmatch

    for s in sites.values():
        pattern = s.compute_node_pattern
        if not pattern:
            continue
        for other in sites.values():
            if fnmatch.fnmatchcase(other.alias.lower(), pattern.lower()):
                where = f"{path}:{_line_of(user_text, s.id, 'compute_node_pattern')}: " if s.origin != "catalogue" else ""
                raise BadInput(
                    f"{where}[sites.{s.id}] compute_node_pattern {pattern} matches the alias {other.alias} of site {other.id!r}",
                    hint="ssh would reach that alias through a ProxyJump (through itself: a loop); "
                         "give a pattern that matches compute nodes only, e.g. jwb*i.juwels",
                )


def select(catalogue: Mapping[str, Site], ids: tuple[str, ...] | list[str]) -> list[Site]:
    out = []
    for sid in ids:
        if sid not in catalogue:
            raise BadInput(f"unknown site {sid!r}", hint="known sites: " + ", ".join(sorted(catalogue)))
        if catalogue[sid] not in out:
            out.append(catalogue[sid])
    return out
