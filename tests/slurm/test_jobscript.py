from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sshsetup.catalogue import load_catalogue, parse_sites
from sshsetup.errors import BadInput
from sshsetup.slurm.jobscript import MARKER, canonical_time, is_ours, make_spec, render_jobscript, with_chain
from tests.helpers import make_jobscript


@pytest.fixture(scope="module")
def cat():
    return load_catalogue(None, None)


USER_SITES = """\
[sites.mini]
hostname = "login.example.org"
[sites.parts]
hostname = "login.example.org"
gpu_partitions = ["gpu"]
"""


@pytest.fixture(scope="module")
def user_sites():
    return parse_sites(USER_SITES, "user sites file x", "x")


GOLDEN = Path(__file__).parent / "golden"
COMPUTE_SITES = ("juwels-booster", "jureca-dc", "juwels-cluster", "jusuf", "jupiter")
SCRIPTS: dict[str, tuple[str, dict[str, Any]]] = {
    # golden file: (site, make_spec keywords); every compute site, both kinds, and the options that change the text
    **{f"{site}-python.sbatch": (site, {}) for site in COMPUTE_SITES},
    **{f"{site}-torchrun.sbatch": (site, {"kind": "torchrun", "nodes": 2}) for site in COMPUTE_SITES},
    "juwels-booster-torchrun-devel.sbatch": ("juwels-booster", {"account": "training2500", "partition": "develbooster", "nodes": 2,
                                                                "gpus_per_node": 3, "time": "30", "kind": "torchrun"}),
    "juwels-booster-python-venv.sbatch": ("juwels-booster", {"venv": "$SCRATCH_myproject/envs/torch"}),
    "juwels-booster-python-4-gpus.sbatch": ("juwels-booster", {"gpus_per_node": 4}),
    "user-site-python.sbatch": ("mini", {"partition": "gpu", "gpus_per_node": 1}),
    "user-site-python-venv.sbatch": ("mini", {"partition": "gpu", "venv": "/opt/envs/torch"}),
}


def golden(name: str, text: str) -> None:
    """The text, byte for byte. To change one: delete it, run the test once (it writes the file and fails), review ``git diff``."""
    path = GOLDEN / name
    if not path.exists():
        path.write_text(text)
        pytest.fail(f"wrote {path}: review it")
    assert text == path.read_text()


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_scripts_match_their_golden_files(cat, user_sites, name: str) -> None:
    site_id, kw = SCRIPTS[name]
    site = user_sites[site_id] if site_id in user_sites else cat[site_id]
    kw = {"account": "myproject", **kw}
    text = render_jobscript(make_spec(site, **kw))
    golden(name, text)
    assert is_ours(text)


def test_the_python_kind_asks_for_one_gpu_and_says_the_node_is_billed_whole(cat):
    spec = make_spec(cat["juwels-booster"], "myproject")
    assert (spec.gpus_per_node, spec.cpus_per_task) == (1, 8)
    assert spec.notes == ("JUWELS Booster does not share nodes: the job is billed for the whole node (4 GPUs) and uses 1; "
                          "to use all 4: --kind torchrun (one process per GPU), or --gpus-per-node 4",)
    assert make_spec(cat["juwels-booster"], "myproject", gpus_per_node=4).notes == ()
    # where the catalogue does not know whether nodes are shared, it says nothing
    assert make_spec(cat["juwels-cluster"], "myproject").notes == ()
    assert make_spec(cat["juwels-booster"], "a", kind="torchrun").gpus_per_node == 4


def test_the_software_section_comes_from_the_catalogue(cat):
    text = make_jobscript(cat["juwels-booster"], "myproject")
    assert ("module load Stages/2025 || { echo \"sshsetup: 'module load Stages/2025' failed: pick a stage from "
            "'module avail Stages'\" >&2; exit 1; }\n") in text
    assert "\nmodule load GCC OpenMPI Python PyTorch || " in text
    assert '\nif [ -f "$PROJECT_myproject/$USER/venv/bin/activate" ]; then\n    source "$PROJECT_myproject/$USER/venv/bin/activate"\nfi\n' in text
    assert "# ---- Software. Compute nodes have no internet: nothing can be installed in the job\n# (no pip install)" in text
    # an account that is not one shell word: $PROJECT (the active project) instead of $PROJECT_<account>
    assert '"$PROJECT/$USER/venv/bin/activate"' in make_jobscript(cat["juwels-booster"], "my-proj")


@pytest.mark.parametrize(
    ("value", "message", "hint"),
    [
        pytest.param("$HOME/venv", "--venv $HOME/venv is not an absolute path or one under $PROJECT, $SCRATCH, $FASTDATA",
                     "give the venv's directory (the one holding bin/activate), e.g. --venv '$PROJECT_<account>/$USER/venv'", id="home"),
        pytest.param("venv", "--venv venv is not an absolute path or one under $PROJECT, $SCRATCH, $FASTDATA",
                     "give the venv's directory (the one holding bin/activate), e.g. --venv '$PROJECT_<account>/$USER/venv'", id="relative"),
        pytest.param("$PROJECTX/venv", "--venv $PROJECTX/venv is not an absolute path or one under $PROJECT, $SCRATCH, $FASTDATA",
                     "give the venv's directory (the one holding bin/activate), e.g. --venv '$PROJECT_<account>/$USER/venv'", id="other-variable"),
        pytest.param("$PROJECT/$USERNAME", "--venv $PROJECT/$USERNAME is not an absolute path or one under $PROJECT, $SCRATCH, $FASTDATA",
                     "give the venv's directory (the one holding bin/activate), e.g. --venv '$PROJECT_<account>/$USER/venv'", id="user-prefix"),
        pytest.param("/p/$(id)", "--venv /p/$(id) is not an absolute path or one under $PROJECT, $SCRATCH, $FASTDATA",
                     "give the venv's directory (the one holding bin/activate), e.g. --venv '$PROJECT_<account>/$USER/venv'", id="substitution"),
        pytest.param('/p/a"b', "--venv '/p/a\"b' is not an absolute path or one under $PROJECT, $SCRATCH, $FASTDATA",
                     "give the venv's directory (the one holding bin/activate), e.g. --venv '$PROJECT_<account>/$USER/venv'", id="quote"),
        pytest.param("/p/a\nsrun x", "--venv '/p/a\\nsrun x' is not one line of text",
                     "give the venv's directory, e.g. --venv '$PROJECT_<account>/$USER/venv'", id="newline"),
        pytest.param("/p/a\x1b[2J", "--venv '/p/a\\x1b[2J' is not one line of text",
                     "give the venv's directory, e.g. --venv '$PROJECT_<account>/$USER/venv'", id="escape"),
        pytest.param("$PROJECT_a/venv/bin/activate", "--venv $PROJECT_a/venv/bin/activate is the activate script, not the venv",
                     "give its directory: --venv '$PROJECT_a/venv'", id="activate-script"),
    ],
)
def test_venv_refused(cat, value: str, message: str, hint: str) -> None:
    with pytest.raises(BadInput) as exc:
        make_spec(cat["juwels-booster"], "a", venv=value)
    assert (exc.value.message, exc.value.hint, exc.value.exit_code) == (message, hint, 2)


@pytest.mark.parametrize("value", ["/p/project1/a/me/venv", "$PROJECT/venv", "$PROJECT_a/$USER/venv", "${SCRATCH_a}/${USER}/env",
                                   "$FASTDATA_a/v", "/opt/env/"])
def test_venv_accepted(cat, value: str) -> None:
    sw = make_spec(cat["juwels-booster"], "a", venv=value).software
    assert sw is not None and sw.venv == value.rstrip("/") and sw.venv_given


def test_venv_on_a_site_without_storage_variables_is_absolute(user_sites) -> None:
    with pytest.raises(BadInput) as exc:
        make_spec(user_sites["mini"], "a", partition="gpu", venv="$PROJECT/v")
    assert (exc.value.message, exc.value.hint) == ("--venv $PROJECT/v is not an absolute path",
                                                   "give the venv's directory (the one holding bin/activate), e.g. --venv /path/to/venv")


def test_devel_default_time_is_the_shorter_of_1h_and_the_limit(cat, user_sites):
    assert make_spec(cat["juwels-booster"], "a", "develbooster").time == "01:00:00"
    site = parse_sites('[sites.x]\nhostname = "h.org"\ngpus_per_node = 4\ngpu_partitions = ["g"]\n'
                       'devel_partitions = ["d"]\ndevel_max_walltime = "00:20:00"\n', "u", "u")["x"]
    assert make_spec(site, "a", "d").time == "00:20:00"


def test_site_defaults_first_gpu_partition_and_its_gpus(cat):
    spec = make_spec(cat["jusuf"], "a")
    assert (spec.partition, spec.gpus_per_node, spec.cpus_per_task, spec.ib_suffix) == ("gpus", 1, 8, "i")
    jureca = make_spec(cat["jureca-dc"], "a", kind="torchrun", nodes=4, cpus_per_task=128)
    assert (jureca.partition, jureca.nodes, jureca.cpus_per_task) == ("dc-gpu", 4, 128)


def test_no_ib_suffix_where_the_catalogue_does_not_know_it(cat):
    # JUPITER's internal node names are unknown (no public source names them): plain first node
    text = make_jobscript(cat["jupiter"], "a", kind="torchrun", nodes=2)
    assert 'MASTER_ADDR="$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)"\n' in text
    assert "InfiniBand" not in text


def test_unknown_limit_is_allowed_and_noted(cat):
    # JUPITER booster: max_walltime unknown -> no invented limit
    spec = make_spec(cat["jupiter"], "a", time="3-00:00:00")
    assert spec.time == "3-00:00:00"
    assert spec.notes == ("the catalogue does not know the time limit of booster; the cluster will decide (scontrol show partition booster)",)
    text = make_jobscript(cat["jupiter"], "a", time="3-00:00:00")
    assert "#SBATCH --output=%x-%j.out\n# note: the catalogue does not know the time limit of booster;" in text


def test_user_site_without_facts(user_sites):
    spec = make_spec(user_sites["mini"], "a", partition="gpu", gpus_per_node=8)
    assert spec.notes == (
        "the catalogue does not know the partitions of mini; the cluster will check --partition gpu",
        "the catalogue does not know the GPUs per node of mini; the cluster will check --gpus-per-node 8",
    )
    assert "source /path/to/your/venv/bin/activate" in make_jobscript(user_sites["mini"], "a", "gpu", gpus_per_node=1)


@pytest.mark.parametrize(
    ("value", "text", "minutes"),
    [
        ("90", "01:30:00", 90),
        ("1:00:00", "01:00:00", 60),
        ("00:00:30", "00:00:30", 1),
        ("25:00:00", "1-01:00:00", 1500),
        ("2-03:04:05", "2-03:04:05", 3065),
    ],
)
def test_canonical_time(value, text, minutes):
    assert canonical_time(value) == (text, minutes)


BOOSTER_ALLOWED = "allowed: booster, develbooster"


@pytest.mark.parametrize(
    ("site", "kwargs", "message", "hint"),
    [
        pytest.param("juwels-booster", {"gpus_per_node": 5}, "--gpus-per-node 5 is more than the 4 GPUs of a JUWELS Booster node; allowed: 1 to 4",
                     "use --gpus-per-node 4 (or fewer), and more --nodes with --kind torchrun", id="5-gpus-on-4-gpu-node"),
        pytest.param("jusuf", {"gpus_per_node": 2}, "--gpus-per-node 2 is more than the 1 GPU of a JUSUF node; allowed: 1 to 1",
                     "use --gpus-per-node 1 (or fewer), and more --nodes with --kind torchrun", id="2-gpus-on-jusuf"),
        pytest.param("juwels-booster", {"gpus_per_node": 0}, "--gpus-per-node 0 is not possible; allowed: 1 to 4",
                     "these are GPU job scripts: give at least 1 GPU", id="zero-gpus"),
        pytest.param("juwels-booster", {"partition": "develbooster", "time": "02:00:01"},
                     "--time 02:00:01 is longer than the 02:00:00 limit of develbooster; allowed: up to 02:00:00",
                     "use --time 02:00:00 or less (limit from the catalogue, low confidence; the live value: scontrol show partition develbooster)",
                     id="devel-longer-than-limit"),
        pytest.param("juwels-booster", {"time": "1-00:01:00"}, "--time 1-00:01:00 is longer than the 1-00:00:00 limit of booster; allowed: up to 1-00:00:00",
                     "use --time 1-00:00:00 or less (limit from the catalogue, medium confidence; the live value: scontrol show partition booster)",
                     id="booster-longer-than-24h"),
        pytest.param("juwels-booster", {"partition": "batch"}, f"partition 'batch' is not a GPU partition of JUWELS Booster; {BOOSTER_ALLOWED}",
                     "use --partition booster, or add batch to gpu_partitions of [sites.juwels-booster] in your sites file", id="unknown-partition"),
        pytest.param("jupiter", {"partition": "develbooster"}, "partition 'develbooster' is not a GPU partition of JUPITER Booster; allowed: booster",
                     "use --partition booster, or add develbooster to gpu_partitions of [sites.jupiter] in your sites file", id="jupiter-has-no-develbooster"),
        pytest.param("juwels-booster", {"partition": "boo ster"}, "--partition 'boo ster' is not a valid partition name",
                     "list the partitions on the cluster: sinfo -s", id="partition-with-space"),
        pytest.param("juwels-booster", {"nodes": 0}, "--nodes 0 is not possible; allowed: 1 or more", "use --nodes 1", id="zero-nodes"),
        pytest.param("juwels-booster", {"nodes": -3, "kind": "torchrun"}, "--nodes -3 is not possible; allowed: 1 or more", "use --nodes 1", id="negative-nodes"),
        pytest.param("juwels-booster", {"nodes": 2}, "--kind python is a single-node job, not 2 nodes; allowed: --nodes 1",
                     "use --kind torchrun --nodes 2", id="python-on-two-nodes"),
        pytest.param("juwels-booster", {"time": "1:5"}, "time '1:5' is not a valid Slurm time", "use HH:MM:SS, D-HH:MM:SS or minutes", id="bad-time-format"),
        pytest.param("juwels-booster", {"time": "01:61:00"}, "time '01:61:00' is not a valid Slurm time",
                     "use HH:MM:SS, D-HH:MM:SS or minutes, e.g. --time 01:30:00", id="bad-time-minutes"),
        pytest.param("juwels-booster", {"time": "1-24:00:00"}, "time '1-24:00:00' is not a valid Slurm time",
                     "use HH:MM:SS, D-HH:MM:SS or minutes, e.g. --time 01:30:00", id="bad-time-hours-with-days"),
        pytest.param("juwels-booster", {"time": "0"}, "time '0' is zero; Slurm reads 0 as 'no limit'",
                     "use HH:MM:SS, D-HH:MM:SS or minutes, e.g. --time 01:30:00", id="zero-time"),
        pytest.param("juwels-booster", {"time": "-1"}, "time '-1' is not a valid Slurm time", "use HH:MM:SS, D-HH:MM:SS or minutes", id="negative-time"),
        pytest.param("juwels-booster", {"account": "my project"}, "--account 'my project' is not a valid Slurm account",
                     "give your compute project (budget) as shown in JuDoor: letters, digits, '_' and '-', e.g. training2500", id="account-with-space"),
        pytest.param("juwels-booster", {"account": "x'y"}, "--account \"x'y\" is not a valid Slurm account",
                     "give your compute project (budget) as shown in JuDoor: letters, digits, '_' and '-', e.g. training2500", id="account-with-quote"),
        pytest.param("juwels-booster", {"account": 'x"y'}, "--account 'x\"y' is not a valid Slurm account",
                     "give your compute project (budget) as shown in JuDoor: letters, digits, '_' and '-', e.g. training2500", id="account-with-dquote"),
        pytest.param("juwels-booster", {"account": "a;rm"}, "--account a;rm is not a valid Slurm account",
                     "give your compute project (budget) as shown in JuDoor: letters, digits, '_' and '-', e.g. training2500", id="account-with-semicolon"),
        pytest.param("juwels-booster", {"account": ""}, "--account '' is not a valid Slurm account",
                     "give your compute project (budget) as shown in JuDoor: letters, digits, '_' and '-', e.g. training2500", id="empty-account"),
        pytest.param("juwels-booster", {"kind": "mpi"}, "--kind mpi is not known; allowed: python, torchrun",
                     "use --kind python (one node) or --kind torchrun (several nodes)", id="unknown-kind"),
        pytest.param("juwels-booster", {"cpus_per_task": 0}, "--cpus-per-task 0 is not possible; allowed: 1 or more",
                     "leave it out for the default", id="zero-cpus"),
        pytest.param("judac", {}, "site judac has no GPU partitions (https://apps.fz-juelich.de/jsc/hps/judac/access.html: data access only (read 2026-12-03))",
                     "choose a system with GPU nodes: sshsetup sites", id="judac-has-no-batch"),
    ],
)
def test_refused(cat, site, kwargs, message, hint):
    kwargs = {"account": "myproject", **kwargs}
    with pytest.raises(BadInput) as exc:
        make_spec(cat[site], **kwargs)
    assert exc.value.message == message
    assert exc.value.hint is not None and exc.value.hint.startswith(hint)
    assert exc.value.exit_code == 2


@pytest.mark.parametrize(
    ("site", "kwargs", "message", "hint"),
    [
        pytest.param("mini", {}, "the catalogue lists no GPU partitions for site mini", "give --partition NAME (list them on the cluster: sinfo -s)",
                     id="no-partitions-no-default"),
        pytest.param("parts", {"kind": "torchrun"}, "the catalogue does not know how many GPUs a node of parts has", "give --gpus-per-node N", id="no-gpu-count"),
    ],
)
def test_refused_user_site(user_sites, site, kwargs, message, hint):
    with pytest.raises(BadInput) as exc:
        make_spec(user_sites[site], "a", **kwargs)
    assert (exc.value.message, exc.value.hint) == (message, hint)


def test_is_ours():
    assert is_ours((GOLDEN / "juwels-booster-python.sbatch").read_text())
    assert not is_ours("#!/bin/bash\n#SBATCH --account=x\n")
    assert MARKER == "# generated by sshsetup jobscript"


def test_refused_gpu_less_nodes_and_bad_job_name(user_sites):
    site = parse_sites('[sites.cpu]\nhostname = "h.org"\ngpus_per_node = 0\ngpu_partitions = ["batch"]\n', "u", "u")["cpu"]
    with pytest.raises(BadInput) as exc:
        make_spec(site, "a")
    assert exc.value.message == "the nodes of cpu have no GPUs"
    with pytest.raises(BadInput) as exc:
        make_spec(user_sites["parts"], "a", gpus_per_node=1, job_name="my job")
    assert exc.value.message == "job name 'my job' is not valid"


# ------------------------------------------------------------------ chains: golden files

CHAINS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    # name: (make_spec keywords, with_chain keywords)
    "python-chain-array.sbatch": ({"time": "24:00:00"}, {"links": 4}),
    "torchrun-chain-afterany.sbatch": ({"kind": "torchrun", "nodes": 2, "time": "12:00:00"},
                                       {"links": 3, "every": "1h", "lead": "10m", "ckpt_dir": "$SCRATCH/run1", "dependency": True}),
}


@pytest.mark.parametrize("name", sorted(CHAINS))
def test_chain_scripts_match_their_golden_files(cat, name: str) -> None:
    """The generated links, byte for byte. To change one: delete it, run this test once (it writes the file
    and fails), review ``git diff``."""
    spec_kw, chain_kw = CHAINS[name]
    text = render_jobscript(with_chain(make_spec(cat["juwels-booster"], "myproject", **spec_kw), **chain_kw))
    golden(name, text)
    assert is_ours(text)


def test_chain_refusal_comes_before_anything_is_written(cat) -> None:
    spec = make_spec(cat["juwels-booster"], "myproject", "develbooster", time="00:02:00")
    with pytest.raises(BadInput) as info:
        with_chain(spec, 3, every="2m", lead="1m")
    assert (info.value.message, info.value.hint) == (
        "--checkpoint-every 2m plus --signal-lead 1m is 3m, longer than the link's 2m: a link would end before its first checkpoint",
        "use --checkpoint-every 1m or less, or a longer --time",
    )
    assert with_chain(spec, 3, every="1m", lead="1m").chain.ckpt_dir == "$SCRATCH_myproject/python-job-ckpt"  # type: ignore[union-attr]
