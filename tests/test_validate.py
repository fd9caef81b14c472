from __future__ import annotations

import pytest

from sshsetup import validate
from sshsetup.errors import BadInput
from sshsetup.slurm.jobscript import check_account

ACCOUNT_HINT = "give your compute project (budget) as shown in JuDoor: letters, digits, '_' and '-', e.g. training2500"


@pytest.mark.parametrize("value", ["training2500", "my_proj", "cjsc-1", "A" * 64])
def test_account_accepts(value: str) -> None:
    assert validate.account(value) == value
    assert check_account(value) == value  # jobscript and the VS Code tasks use the same rule


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("my_proj;rm", "my_proj;rm"),
        ("projét", "projét"),  # non-ASCII letters: $PROJECT_<account> is an ASCII shell name
        ("проект", "проект"),
        ("a.b", "a.b"),
        ("", "''"),
        ("a b", "'a b'"),
        ("a\n", "'a\\n'"),
        ("A" * 65, "A" * 65),
    ],
)
def test_account_refuses(value: str, shown: str) -> None:
    with pytest.raises(BadInput) as exc:
        validate.account(value)
    assert (exc.value.message, exc.value.hint) == (f"--account {shown} is not a valid Slurm account", ACCOUNT_HINT)


def test_account_names_the_option() -> None:
    with pytest.raises(BadInput, match=r"^account x\.y is not a valid Slurm account$"):
        validate.account("x.y", what="account")
