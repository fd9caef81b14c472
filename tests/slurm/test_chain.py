from __future__ import annotations

import pytest

from sshsetup.errors import BadInput
from sshsetup.slurm.chain import ChainPlan, check_chain, default_dir, fmt_seconds, parse_duration, under_home


def refusal(**kw: object) -> tuple[str, str | None]:
    with pytest.raises(BadInput) as info:
        check_chain(**kw)  # type: ignore[arg-type]
    return info.value.message, info.value.hint


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("90", 90), ("30m", 1800), ("2h", 7200), ("01:30:05", 5405)])
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration("--checkpoint-every", text) == seconds


@pytest.mark.parametrize("text", ["", "1d", "1:2", "-5m", "1h30m", "00:61:00"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(BadInput) as info:
        parse_duration("--signal-lead", text)
    assert info.value.message == f"--signal-lead {text!r} is not a duration"


def test_fmt_seconds() -> None:
    assert [fmt_seconds(s) for s in (0, 45, 1830, 7200, 86400)] == ["0s", "45s", "30m30s", "2h", "24h"]


def test_plan_defaults() -> None:
    plan = check_chain(3, 1440, ckpt_dir="$SCRATCH/ckpt", jsc_site=True)
    assert plan == ChainPlan(3, 86400, 1800, 300, "$SCRATCH/ckpt", False)
    assert (plan.array, plan.signal) == ("0-2%1", "B:USR1@300")


def test_interval_plus_lead_longer_than_link_refused_with_numbers() -> None:
    assert refusal(links=3, link_minutes=2, every="2m", lead="1m", ckpt_dir="/tmp/c", jsc_site=False) == (
        "--checkpoint-every 2m plus --signal-lead 1m is 3m, longer than the link's 2m: "
        "a link would end before its first checkpoint",
        "use --checkpoint-every 1m or less, or a longer --time",
    )


def test_short_lead_refused() -> None:
    assert refusal(links=3, link_minutes=60, lead="30s", ckpt_dir="/tmp/c", jsc_site=False)[0] == (
        "--signal-lead 30s is shorter than the minimum of 1m"
    )


@pytest.mark.parametrize("path", ["~/ckpt", "$HOME/ckpt", "/p/home/jusers/x/ckpt"])
def test_home_refused_on_jsc(path: str) -> None:
    message, _ = refusal(links=2, link_minutes=60, ckpt_dir=path, jsc_site=True, home="/p/home/jusers/x")
    assert message == f"--checkpoint-dir {path} is under $HOME, whose quota is small on JSC systems"
    expected = path.replace("~", "$HOME", 1)  # "~" does not expand inside the script's double quotes
    assert check_chain(2, 60, ckpt_dir=path, jsc_site=False, home="/p/home/jusers/x").ckpt_dir == expected


def test_under_home_not_fooled_by_prefix() -> None:
    assert not under_home("/p/home/jusers/xy/ckpt", "/p/home/jusers/x/")


def test_cap_needs_yes() -> None:
    assert refusal(links=20, link_minutes=1440, ckpt_dir="/s", jsc_site=False) == (
        "--chain 20 x 24h is 480h, beyond the cap of 336h",
        "check the numbers, then re-run with --yes to write it anyway",
    )
    assert check_chain(20, 1440, ckpt_dir="/s", jsc_site=False, yes=True).links == 20


def test_one_link_is_not_a_chain() -> None:
    assert refusal(links=1, link_minutes=60, ckpt_dir="/s", jsc_site=False)[0] == "--chain 1: a chain needs at least 2 links"


@pytest.mark.parametrize("path", ['$(touch x)', "a b", 'c"d', "`id`", "$", "a\\b", "${X:-y}", ""])
def test_checkpoint_dir_must_be_inert_in_double_quotes(path: str) -> None:
    message, hint = refusal(links=2, link_minutes=60, ckpt_dir=path, jsc_site=False)
    assert message == f"--checkpoint-dir {path!r} is not a path sshsetup can put in a job script"
    assert hint == "use a path of letters, digits and ./_-, with $VARIABLES allowed, e.g. --checkpoint-dir '$SCRATCH/ckpt'"


def test_default_dir() -> None:
    assert default_dir("train", "training2500", True) == "$SCRATCH_training2500/train-ckpt"
    assert default_dir("train", "my-proj", True) == "$SCRATCH/train-ckpt"  # not a shell variable name
    assert default_dir("train", "x", False) == "$SLURM_SUBMIT_DIR/train-ckpt"
