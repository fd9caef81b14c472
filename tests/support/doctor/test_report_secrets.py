"""The planted-secret matrix: each kind of secret, in each place it can reach a report, in no encoding.

A real ``sshsetup doctor --report`` as the throwaway user against the loopback sshd. The user's
own ``Host *`` carries the issue's shapes: a ProxyCommand (a working one, through bash's
/dev/tcp) with URL credentials and a token in its environment, ``SetEnv`` with AWS and GitHub
secrets, ``SendEnv`` of a secret environment variable, a LocalCommand with credentials; the
managed block carries more in comments (URL credentials, Bearer and Basic headers, a secret
NAME=value, public addresses in hidden forms). Each reaches the report's ``ssh -G`` section,
the ``-v`` transcript or the block copy, where its masked trace is asserted (so the matrix
really exercises that place), and the secret itself must not appear plain, JSON-escaped,
URL-encoded or base64-encoded anywhere in the report.
"""

from __future__ import annotations

import base64
import json
import secrets
import urllib.parse
from dataclasses import dataclass

import pytest

from sshsetup.commands.doctor import DoctorOptions
from tests.support.doctor.test_staged_failures import Setup, doctor_as
from tests.testbed.sshd import Sshd
from tests.testbed.users import TestUser

TAG = secrets.token_hex(4)


@dataclass(frozen=True)
class Planted:
    kind: str
    place: str  # "ssh -G", "-v transcript", "config" (the managed block) or "env"
    secret: str
    trace: str  # what the report shows in its place instead


def _s(name: str) -> str:
    return f"{name}-{TAG}/x+y"  # "/" and "+" differ in URL and base64 encodings


URL_PASS, PROXY_TOKEN, AWS, GH = _s("UrlPass"), _s("ProxyTok"), _s("AwsKey"), "ghp_" + TAG * 5
SESSION, LOCAL_PASS, BLOCK_PASS, BEARER = _s("EnvSecret"), _s("LocalPass"), _s("BlockPass"), "eyJhbGciOi" + TAG + ".e30.sig"
BASIC_PASS, AUTH_VALUE = _s("BasicPass"), _s("AuthVal")
BASIC = base64.b64encode(f"erin:{BASIC_PASS}".encode()).decode()

MATRIX = (
    Planted("url credentials", "ssh -G", URL_PASS, "proxycommand bash <arguments removed>"),
    Planted("token in a proxy's environment", "ssh -G", PROXY_TOKEN, "proxycommand bash <arguments removed>"),
    Planted("url credentials", "-v transcript", URL_PASS, "Executing proxy command: bash <arguments removed>"),
    Planted("SetEnv value", "ssh -G", AWS, "setenv AWS_SECRET_ACCESS_KEY=<secret>"),
    Planted("SetEnv token", "ssh -G", GH, "setenv GITHUB_TOKEN=<secret>"),
    Planted("SetEnv value", "-v transcript", AWS, "setting env AWS_SECRET_ACCESS_KEY = <secret>"),
    Planted("SetEnv token", "-v transcript", GH, "setting env GITHUB_TOKEN = <secret>"),
    Planted("SendEnv of a secret variable", "env", SESSION, "setting env MY_SESSION = <secret>"),
    Planted("LocalCommand credentials", "ssh -G", LOCAL_PASS, "localcommand true <arguments removed>"),
    Planted("url credentials", "config", BLOCK_PASS, "# proxy https://<secret>@proxy.corp.example:3128"),
    Planted("Bearer token", "config", BEARER, "# Authorization: Bearer <secret>"),
    Planted("Basic credentials", "config", BASIC, "# Authorization: Basic <secret>"),
    Planted("NAME=value with AUTH", "config", AUTH_VALUE, "# MY_AUTH=<secret>"),
    Planted("IPv4-mapped address", "config", "93.199.55.163", "<IPv4-mapped 93.199.0.0/16>"),
    Planted("6to4 address", "config", "2002:5dc7:37a3", "<6to4 93.199.0.0/16>"),
    Planted("Teredo address", "config", "a238:c85c", "<Teredo 93.199.0.0/16>"),
    Planted("zero-padded address", "config", "093.199.055.163", "# padded 93.199.0.0/16"),
)
PROXY = "bash -c 'exec 3<>/dev/tcp/%h/%p; cat <&3 & exec cat >&3'"
USER_PART = (
    "\nHost *\n"
    f"    ProxyCommand env HTTPS_PROXY=http://alice:{urllib.parse.quote(URL_PASS, safe='').replace('%', '%%')}@proxy.corp.example:3128"
    f" API_TOKEN={PROXY_TOKEN} {PROXY}\n"
    f"    SetEnv AWS_SECRET_ACCESS_KEY={AWS} GITHUB_TOKEN={GH}\n"
    "    SendEnv MY_SESSION\n"
    "    PermitLocalCommand yes\n"
    f"    LocalCommand true https://carol:{LOCAL_PASS}@hooks.example.org/\n"
)
BLOCK_COMMENTS = (
    f"# proxy https://dave:{BLOCK_PASS}@proxy.corp.example:3128\n"
    f"# Authorization: Bearer {BEARER}\n"
    f"# Authorization: Basic {BASIC}\n"
    f"# MY_AUTH={AUTH_VALUE}\n"
    "# from ::ffff:93.199.55.163 and 2002:5dc7:37a3::1 and 2001:0:4136:e378:8000:63bf:a238:c85c\n"
    "# padded 093.199.055.163\n"
)


def encodings(secret: str) -> dict[str, str]:
    return {
        "plain": secret,
        "JSON-escaped": json.dumps(secret)[1:-1],
        "URL-encoded": urllib.parse.quote(secret, safe=""),
        "URL-encoded (+)": urllib.parse.quote_plus(secret),
        "URL-encoded, %-escaped for ssh": urllib.parse.quote(secret, safe="").replace("%", "%%"),
        "base64": base64.b64encode(secret.encode()).decode().rstrip("="),
    }


@pytest.mark.sshd
def test_no_planted_secret_reaches_the_report(test_user: TestUser, sshd: Sshd) -> None:
    s = Setup(test_user, sshd)
    key = s.key()
    s.init(key, ["127.0.0.0/8", "::1/128"], extra=USER_PART)
    cfg = test_user.ssh_dir / "config"
    test_user.write(".ssh/config", cfg.read_text().replace("# END sshsetup", BLOCK_COMMENTS + "# END sshsetup"))
    out_file = test_user.home / "ticket.json"
    opts = DoctorOptions(sites=("tb",), sites_file=s.sites, probe_timeout=3, report_file=out_file, yes=True)
    res = doctor_as(test_user, opts, env={"MY_SESSION": SESSION})
    text = out_file.read_text()
    doc = json.loads(text)
    places = {"ssh -G": "\n".join(doc["ssh_g"]["tb"]), "-v transcript": doc["transcripts"]["tb"], "config": doc["managed_block"]}
    places["env"] = places["-v transcript"]
    assert "login accepted" in json.dumps(doc["checks"]), res  # the proxy works: the session (and its env) was set up
    missing = [(p.kind, p.place, p.trace) for p in MATRIX if p.trace not in places[p.place]]
    assert missing == []
    leaked = [(p.kind, p.place, how) for p in MATRIX for how, form in encodings(p.secret).items()
              if form in text or form in res["err"] or form in res["out"]]
    assert leaked == []
