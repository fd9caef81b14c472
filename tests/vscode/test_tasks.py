from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path

import jsonschema
import pytest
from jsonschema.exceptions import best_match

from sshsetup import files
from sshsetup.catalogue import load_catalogue, parse_sites
from sshsetup.errors import EXIT_FAIL, BadInput, Refused
from sshsetup.vscode import tasks_file as vt
from sshsetup.vscode.jsonc import editor as jsonc
from sshsetup.vscode.tasks import (
    FOLLOW_SCRIPT,
    LIMITS_SCRIPT,
    PREFIX,
    SUBMIT_REMOTE_SCRIPT,
    is_our_input,
    is_our_task,
    make_tasks,
)

SCHEMA = json.loads((Path(__file__).parents[1] / "data" / "vscode-tasks.schema.json").read_text())
VSCODE_VARIABLES = re.compile(r"\$\{(file|fileDirname|input:sshsetup[A-Za-z]+)\}")


@pytest.fixture(scope="module")
def cat():
    return load_catalogue(None, None)


def schema_error(doc):
    err = best_match(jsonschema.Draft7Validator(SCHEMA).iter_errors(doc))
    return None if err is None else f"{err.json_path}: {err.message}"


def by_label(doc):
    return {t["label"]: t for t in doc["tasks"]}


def substitute(s, values):
    """What VS Code does before it runs a task: replace ${...} in the string."""
    return VSCODE_VARIABLES.sub(lambda m: values[m.group(1)], s)


PRESENT = {"reveal": "always", "panel": "shared", "clear": True}
PRESENT_TTY = {"reveal": "always", "focus": True, "panel": "dedicated", "clear": True}


def test_labels(cat):
    doc = make_tasks(cat["juwels-booster"], "myproject")
    names = [
        "my jobs (squeue --me)",
        "cancel a job (scancel)",
        "show a job (scontrol show job)",
        "follow the newest job's output (tail -F)",
        "interactive shell on a compute node (srun --pty)",
        "partition limits (sinfo, scontrol show partition)",
        "quotas (jutil user dataquota)",
    ]
    assert [t["label"] for t in doc["tasks"]] == (
        ["sshsetup: [login node] submit the current file (sbatch)"]
        + [f"sshsetup: [login node] {n}" for n in names]
        + ["sshsetup: [laptop via jsc-booster] submit a job script on the cluster (sbatch)"]
        + [f"sshsetup: [laptop via jsc-booster] {n}" for n in names]
    )
    assert all(t["type"] == "process" and t["problemMatcher"] == [] for t in doc["tasks"])


def test_remote_tasks_exact(cat):
    t = by_label(make_tasks(cat["juwels-booster"], "myproject"))
    assert t["sshsetup: [login node] submit the current file (sbatch)"] == {
        "label": "sshsetup: [login node] submit the current file (sbatch)",
        "type": "process",
        "command": "sbatch",
        "args": ["${file}"],
        "options": {"cwd": "${fileDirname}"},
        "detail": "Submit the job script open in the editor; its output goes next to it. "
                  "Runs on the login node (for a workspace opened there over Remote-SSH).",
        "problemMatcher": [],
        "presentation": PRESENT,
    }
    assert t["sshsetup: [login node] cancel a job (scancel)"]["command"] == "scancel"
    assert t["sshsetup: [login node] cancel a job (scancel)"]["args"] == ["${input:sshsetupJobId}"]
    assert t["sshsetup: [login node] show a job (scontrol show job)"]["args"] == ["show", "job", "${input:sshsetupJobId}"]
    inter = t["sshsetup: [login node] interactive shell on a compute node (srun --pty)"]
    assert [inter["command"], *inter["args"]] == [
        "srun", "--account=${input:sshsetupAccount}", "--partition=${input:sshsetupPartition}", "--nodes=1", "--ntasks=1",
        "--gres=gpu:4", "--time=${input:sshsetupTime}", "--cpu-bind=none", "--pty", "/bin/bash", "-i",
    ]  # fmt: skip
    assert inter["presentation"] == PRESENT_TTY
    follow = t["sshsetup: [login node] follow the newest job's output (tail -F)"]
    assert [follow["command"], *follow["args"]] == ["bash", "-c", FOLLOW_SCRIPT, "sshsetup"]
    limits = t["sshsetup: [login node] partition limits (sinfo, scontrol show partition)"]
    assert [limits["command"], *limits["args"]] == ["bash", "-c", LIMITS_SCRIPT, "sshsetup", "${input:sshsetupPartition}"]
    assert LIMITS_SCRIPT == "sinfo --format='%P %a %l %D %G' && scontrol show partition \"$1\"\n"
    quota = t["sshsetup: [login node] quotas (jutil user dataquota)"]
    assert [quota["command"], *quota["args"]] == ["jutil", "user", "dataquota"]


def test_local_tasks_exact(cat):
    t = by_label(make_tasks(cat["juwels-booster"], "myproject"))
    p = "sshsetup: [laptop via jsc-booster] "
    assert t[p + "my jobs (squeue --me)"]["args"] == ["jsc-booster", "squeue --me"]
    def typed(word: str) -> str:  # what VS Code fills in stays inside a quoted here-document
        return f"\"$(cat <<'SSHSETUP_END_OF_INPUT_7f3a'\n{word}\nSSHSETUP_END_OF_INPUT_7f3a\n)\""

    assert t[p + "cancel a job (scancel)"]["args"] == ["jsc-booster", "scancel " + typed("${input:sshsetupJobId}")]
    assert t[p + "show a job (scontrol show job)"]["args"] == ["jsc-booster", "scontrol show job " + typed("${input:sshsetupJobId}")]
    assert t[p + "interactive shell on a compute node (srun --pty)"]["args"] == [
        "-t", "jsc-booster",
        f"srun {typed('--account=${input:sshsetupAccount}')} {typed('--partition=${input:sshsetupPartition}')} --nodes=1 "
        f"--ntasks=1 --gres=gpu:4 {typed('--time=${input:sshsetupTime}')} --cpu-bind=none --pty /bin/bash -i",
    ]  # fmt: skip
    assert t[p + "submit a job script on the cluster (sbatch)"]["args"] == [
        "jsc-booster", f"bash -c {shlex.quote(SUBMIT_REMOTE_SCRIPT)} sshsetup {typed('${input:sshsetupRemoteScript}')}"
    ]
    assert t[p + "follow the newest job's output (tail -F)"]["args"][:2] == ["-t", "jsc-booster"]
    assert all(task["command"] == "ssh" for label, task in t.items() if label.startswith(p))


@pytest.mark.parametrize("value", ["12345", "my project", "a;echo pwned", 'x"y', "$(id)", "*", "-n", "o'brien",
                                   "x'; touch /tmp/pwned; '", "a\\b `id`"])
def test_local_command_string_gives_the_remote_argv_back(cat, value):
    """ssh joins, the login node's real shell re-splits: after VS Code's substitution each input is one word."""
    doc = make_tasks(cat["juwels-booster"], "myproject")
    values = {"file": "/f", "fileDirname": "/", **{f"input:{i['id']}": value for i in doc["inputs"]}}
    remote = {t["label"].removeprefix(PREFIX + "[login node] "): t for t in doc["tasks"] if t["command"] != "ssh"}
    for task in doc["tasks"]:
        if task["command"] != "ssh" or "submit" in task["label"]:
            continue
        remote_task = remote[task["label"].removeprefix(PREFIX + "[laptop via jsc-booster] ")]
        want = [substitute(a, values) for a in [remote_task["command"], *remote_task["args"]]]
        words = subprocess.run(["sh", "-c", "printf '%s\\0' " + substitute(task["args"][-1], values)],
                               capture_output=True, text=True, check=True).stdout.split("\0")[:-1]
        assert words == want


def test_the_end_marker_typed_alone_runs_nothing(tmp_path):
    """The one value that ends the here-document early: the word comes out empty and nothing runs."""
    from sshsetup.vscode.tasks import HEREDOC_END, ssh_args

    cmd = ssh_args("h", ("printf", "[%s]", "${input:x}"), False)[-1].replace("${input:x}", HEREDOC_END)
    work = tmp_path / "work"
    work.mkdir()
    done = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, cwd=work)
    assert done.stdout == "[]" and list(work.iterdir()) == []


def test_only_vscode_variables_we_mean(cat):
    """VS Code substitutes ${...} everywhere; the scripts use $VAR, $(...) and "$1" only."""
    text = json.dumps(make_tasks(cat["juwels-booster"], "myproject"))
    assert [m for m in re.findall(r"\$\{[^}]*\}", text) if not VSCODE_VARIABLES.fullmatch(m)] == []


def test_inputs_exact(cat):
    doc = make_tasks(cat["juwels-booster"], "myproject")
    assert doc["inputs"] == [
        {"id": "sshsetupAccount", "type": "promptString", "description": "Slurm account: your compute project (budget) in JuDoor", "default": "myproject"},
        {
            "id": "sshsetupPartition", "type": "pickString", "description": "Slurm partition on JUWELS Booster",
            "options": [
                {"label": "booster (gpu, up to 1-00:00:00)", "value": "booster"},
                {"label": "develbooster (devel, up to 02:00:00)", "value": "develbooster"},
            ],
            "default": "develbooster",
        },
        {"id": "sshsetupJobId", "type": "promptString", "description": "Slurm job id (see: squeue --me)"},
        {"id": "sshsetupTime", "type": "promptString", "description": "Time limit, HH:MM:SS", "default": "01:00:00"},
        {"id": "sshsetupRemoteScript", "type": "promptString", "description": "Job script on jsc-booster: absolute path, or relative to your home there"},
    ]  # fmt: skip


def test_options_set_defaults(cat):
    doc = make_tasks(cat["jusuf"], "training2500", partition="gpus", alias="my-jusuf")
    inputs = {i["id"]: i for i in doc["inputs"]}
    assert inputs["sshsetupPartition"]["default"] == "gpus"
    assert inputs["sshsetupAccount"]["default"] == "training2500"
    assert "sshsetup: [laptop via my-jusuf] my jobs (squeue --me)" in by_label(doc)
    assert "--gres=gpu:1" in by_label(doc)["sshsetup: [login node] interactive shell on a compute node (srun --pty)"]["args"]
    assert make_tasks(cat["jusuf"])["inputs"][0]["default"] == ""


def test_unknown_partitions_become_a_prompt():
    site = parse_sites('[sites.mini]\nhostname = "login.example.org"\n', "u", "u")["mini"]
    doc = make_tasks(site, partition="gpu")
    assert doc["inputs"][1] == {
        "id": "sshsetupPartition", "type": "promptString", "description": "Slurm partition on mini (list them: sinfo -s)", "default": "gpu",
    }  # fmt: skip
    args = by_label(doc)["sshsetup: [login node] interactive shell on a compute node (srun --pty)"]["args"]
    assert not any(a.startswith("--gres") for a in args)  # GPUs per node unknown: not guessed
    assert schema_error(doc) is None


@pytest.mark.parametrize(
    ("site", "kwargs", "message"),
    [
        pytest.param("juwels-booster", {"partition": "batch"},
                     "partition 'batch' is not a GPU partition of JUWELS Booster; allowed: booster, develbooster", id="unknown-partition"),
        pytest.param("juwels-booster", {"account": "my project"}, "--account 'my project' is not a valid Slurm account", id="bad-account"),
        pytest.param("judac", {}, "site judac has no GPU partitions, so no Slurm tasks", id="judac"),
    ],
)
def test_refused(cat, site, kwargs, message):
    with pytest.raises(BadInput) as exc:
        make_tasks(cat[site], **kwargs)
    assert exc.value.message == message


@pytest.mark.parametrize("site", ["juwels-booster", "jusuf", "juwels-cluster", "jureca-dc", "jupiter"])
def test_validates_against_vscode_schema(cat, site):
    assert schema_error(make_tasks(cat[site], "myproject")) is None


@pytest.mark.parametrize(
    "breakage",
    [
        pytest.param(lambda d: d.update(version="2.0"), id="version"),
        pytest.param(lambda d: d["tasks"][0].update(type="proces"), id="type"),
        pytest.param(lambda d: d["tasks"][0].update(args="x"), id="args-string"),
        pytest.param(lambda d: d["inputs"][1].pop("options"), id="pickString-without-options"),
    ],
)
def test_schema_check_is_not_vacuous(cat, breakage):
    doc = make_tasks(cat["juwels-booster"], "myproject")
    breakage(doc)
    assert schema_error(doc) is not None


def test_ownership_predicates():
    assert is_our_task({"label": "sshsetup: x"}) and not is_our_task({"label": "build"}) and not is_our_task("x")
    assert is_our_input({"id": "sshsetupX"}) and not is_our_input({"id": "mine"}) and not is_our_input({"label": 1})


# ---- the command: create / merge / remove .vscode/tasks.json ------------------------------------

USER_TASKS = """\
{
\t// my own build task
\t"version": "2.0.0",
\t"tasks": [
\t\t{
\t\t\t"label": "build", /* keep me */
\t\t\t"type": "shell",
\t\t\t"command": "make",
\t\t},
\t],
}
"""


def run(cat, ws, **kw):
    return vt.vscode_tasks(cat, kw.pop("site", "juwels-booster"), ws, kw.pop("account", "myproject"), yes=True, **kw)


def remove(ws, record=None):
    """What ``sshsetup remove`` does with one workspace's tasks.json: the verbs of its change."""
    ch = vt.remove_change(ws, record)
    if ch is None:
        return [files.Verb.IDENTICAL]
    return [o.verb for o in files.apply(files.plan([ch]), dry_run=False)]


def test_create_then_identical(cat, tmp_path):
    res = run(cat, tmp_path)
    path = tmp_path / ".vscode" / "tasks.json"
    assert [o.verb for o in res.outcomes] == [files.Verb.CREATE]
    assert json.loads(path.read_text()) == make_tasks(cat["juwels-booster"], "myproject")
    assert path.read_text().startswith('{\n    "version": "2.0.0",\n    "tasks": [\n        {\n')
    assert [o.verb for o in run(cat, tmp_path).outcomes] == [files.Verb.IDENTICAL]


def test_merge_keeps_user_bytes(cat, tmp_path):
    path = tmp_path / ".vscode" / "tasks.json"
    path.parent.mkdir()
    path.write_text(USER_TASKS)
    run(cat, tmp_path)
    text = path.read_text()
    assert text.startswith('{\n\t// my own build task\n\t"version": "2.0.0",\n\t"tasks": [\n\t\t{\n\t\t\t"label": "build", /* keep me */\n')
    value = jsonc.parse(text)
    assert value["tasks"][0] == {"label": "build", "type": "shell", "command": "make"}
    assert value["tasks"][1:] == make_tasks(cat["juwels-booster"], "myproject")["tasks"]
    assert value["inputs"] == make_tasks(cat["juwels-booster"], "myproject")["inputs"]
    assert schema_error(value) is None
    assert [o.verb for o in run(cat, tmp_path).outcomes] == [files.Verb.IDENTICAL]
    # and out again: exactly the user's bytes (the "inputs" member sshsetup added goes too)
    assert remove(tmp_path) == [files.Verb.UPDATE]
    assert path.read_text() == USER_TASKS


def test_merge_replaces_ours_and_drops_stale_ones(cat, tmp_path):
    run(cat, tmp_path)
    res = run(cat, tmp_path, site="jusuf", account="training2500")
    assert [o.verb for o in res.outcomes] == [files.Verb.UPDATE]
    value = jsonc.parse((tmp_path / ".vscode" / "tasks.json").read_text())
    assert value == make_tasks(cat["jusuf"], "training2500")  # no jsc-booster tasks left
    assert "-            \"label\": \"sshsetup: [laptop via jsc-booster] my jobs (squeue --me)\",\n" in res.diff


def test_update_needs_yes(cat, tmp_path):
    path = tmp_path / ".vscode" / "tasks.json"
    path.parent.mkdir()
    path.write_text(USER_TASKS)
    res = vt.vscode_tasks(cat, "juwels-booster", tmp_path, "myproject")
    assert res.exit_code == EXIT_FAIL and path.read_text() == USER_TASKS
    assert res.messages == (f"{path} was left unchanged (diff above). Re-run with --yes to update it.",)
    assert '+\t\t{\n+\t\t\t"label": "sshsetup: [login node] submit the current file (sbatch)",\n' in res.diff
    res = vt.vscode_tasks(cat, "juwels-booster", tmp_path, "myproject", confirm=lambda q: q == f"Update {path}?")
    assert [o.verb for o in res.outcomes] == [files.Verb.UPDATE] and res.outcomes[0].backup is not None


def test_dry_run(cat, tmp_path):
    res = vt.vscode_tasks(cat, "juwels-booster", tmp_path, "myproject", dry_run=True)
    assert [o.verb for o in res.outcomes] == [files.Verb.CREATE] and not (tmp_path / ".vscode").exists()
    assert res.diff.startswith(f"--- /dev/null\n+++ {tmp_path / '.vscode' / 'tasks.json'}\n")


def test_crlf_and_bom_survive(cat, tmp_path):
    path = tmp_path / ".vscode" / "tasks.json"
    path.parent.mkdir()
    path.write_bytes(b'\xef\xbb\xbf{\r\n  "version": "2.0.0",\r\n  "tasks": []\r\n}\r\n')
    run(cat, tmp_path)
    data = path.read_bytes()
    assert data.startswith(b'\xef\xbb\xbf{\r\n  "version": "2.0.0",\r\n  "tasks": [\r\n')
    assert b"\n" not in data.replace(b"\r\n", b"")


def test_empty_and_comment_only_files(cat, tmp_path):
    path = tmp_path / ".vscode" / "tasks.json"
    path.parent.mkdir()
    path.write_text("// nothing yet\n")
    run(cat, tmp_path)
    assert path.read_text().startswith("// nothing yet\n{\n")
    assert jsonc.parse(path.read_text()) == make_tasks(cat["juwels-booster"], "myproject")


def test_remove_deletes_a_file_only_when_sshsetup_created_it(cat, tmp_path):
    res = run(cat, tmp_path)
    assert res.record == vt.TasksRecord(existed=False, original="")
    assert remove(tmp_path) == [files.Verb.UPDATE]  # no record (an earlier version's manifest): never deleted
    run(cat, tmp_path)
    assert remove(tmp_path, res.record) == [files.Verb.DELETE] and not (tmp_path / ".vscode" / "tasks.json").exists()
    assert remove(tmp_path, res.record) == [files.Verb.IDENTICAL]


@pytest.mark.parametrize(
    "before",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"{}", id="empty-object"),
        pytest.param(b"{}\n", id="empty-object-newline"),
        pytest.param(b'{"version": "2.0.0"}\n', id="version-only"),
        pytest.param(b'{\n  "tasks": []\n}\n', id="empty-tasks-no-version"),
        pytest.param(b'{"version": "2.0.0", "tasks": [], "inputs": []}', id="empty-lists"),
        pytest.param(b"\xef\xbb\xbf", id="bom-only"),
        pytest.param(b"\xef\xbb\xbf{}\r\n", id="bom-crlf"),
        pytest.param(b"// tasks go here\n", id="comment-only"),
        pytest.param(b"   \n\n", id="blank-lines"),
    ],
)
def test_remove_restores_a_pre_existing_file_exactly(cat, tmp_path, before):
    path = tmp_path / ".vscode" / "tasks.json"
    path.parent.mkdir()
    path.write_bytes(before)
    path.chmod(0o640)
    res = run(cat, tmp_path)
    assert [o.verb for o in res.outcomes] == [files.Verb.UPDATE]
    manifest: dict = {}
    vt.remember(manifest, res)
    assert list(manifest[vt.MANIFEST_KEY]) == [str(path)]
    vt.remember(manifest, run(cat, tmp_path, site="jusuf"))  # a second run keeps the first record
    record = vt.TasksRecord.from_json(manifest[vt.MANIFEST_KEY][str(path)])
    assert record == vt.TasksRecord(existed=True, original=before.decode(), version_added=b'"version"' not in before)
    assert remove(tmp_path, record) == [files.Verb.UPDATE]
    assert path.read_bytes() == before
    assert path.stat().st_mode & 0o777 == 0o640


def test_remove_takes_out_a_version_it_added(cat, tmp_path):
    path = tmp_path / ".vscode" / "tasks.json"
    path.parent.mkdir()
    mine = '{\n  "tasks": [\n    {"label": "build", "command": "make"}\n  ]\n}\n'
    path.write_text(mine)
    res = run(cat, tmp_path)
    assert res.record == vt.TasksRecord(existed=True, original=None, version_added=True)
    assert jsonc.parse(path.read_text())["version"] == "2.0.0"
    assert remove(tmp_path, res.record) == [files.Verb.UPDATE]
    assert path.read_text() == mine


def test_remove_keeps_what_the_user_added_since(cat, tmp_path):
    path = tmp_path / ".vscode" / "tasks.json"
    path.parent.mkdir()
    path.write_text("{}")
    res = run(cat, tmp_path)
    text = path.read_text()
    path.write_text(text.replace('"tasks": [', '"tasks": [\n        {"label": "mine", "command": "true"},', 1))
    assert remove(tmp_path, res.record) == [files.Verb.UPDATE]
    assert jsonc.parse(path.read_text()) == {"tasks": [{"label": "mine", "command": "true"}]}


def test_a_record_of_another_version_is_not_trusted():
    assert vt.TasksRecord.from_json({"version": 99, "existed": False, "original": ""}) is None
    assert vt.TasksRecord.from_json({"version": 1, "existed": "no", "original": ""}) is None
    assert vt.TasksRecord.from_json(None) is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param('{"version": "2.0.0", "tasks": [,]}', "line 1", id="broken"),
        pytest.param('{"version": "0.1.0", "tasks": []}', "has version '0.1.0'; sshsetup writes version 2.0.0 tasks", id="old-version"),
        pytest.param('{"version": "2.0.0", "tasks": {}}', "not an array", id="tasks-not-array"),
    ],
)
def test_refuses_files_it_cannot_edit(cat, tmp_path, content, message):
    path = tmp_path / ".vscode" / "tasks.json"
    path.parent.mkdir()
    path.write_text(content)
    with pytest.raises(Refused) as exc:
        run(cat, tmp_path)
    assert message in exc.value.message and str(path) in exc.value.message
    assert path.read_text() == content


def test_symlinked_tasks_file_is_edited_at_its_target(cat, tmp_path):
    real = tmp_path / "shared-tasks.json"
    real.write_text(USER_TASKS)
    (tmp_path / "ws" / ".vscode").mkdir(parents=True)
    (tmp_path / "ws" / ".vscode" / "tasks.json").symlink_to(real)
    run(cat, tmp_path / "ws")
    assert (tmp_path / "ws" / ".vscode" / "tasks.json").is_symlink()
    assert len(jsonc.parse(real.read_text())["tasks"]) == 17


def test_show(cat, tmp_path, capsys):
    res = run(cat, tmp_path, dry_run=True)
    assert vt.show(res) == 0
    out, err = capsys.readouterr()
    assert out.startswith("--- /dev/null\n") and err == f"  would create     {tmp_path / '.vscode' / 'tasks.json'}\n"


def test_version_added_when_missing(cat, tmp_path):
    path = tmp_path / ".vscode" / "tasks.json"
    path.parent.mkdir()
    path.write_text('{\n    "tasks": []\n}\n')
    run(cat, tmp_path)
    assert jsonc.parse(path.read_text())["version"] == "2.0.0"


def test_remove_leaves_a_user_only_file_alone(tmp_path):
    path = tmp_path / ".vscode" / "tasks.json"
    path.parent.mkdir()
    path.write_text(USER_TASKS)
    assert remove(tmp_path) == [files.Verb.IDENTICAL]
    path.write_text("")
    assert remove(tmp_path) == [files.Verb.IDENTICAL]
    assert path.read_text() == ""


def test_unknown_partitions_without_option_prompt_empty():
    site = parse_sites('[sites.mini]\nhostname = "login.example.org"\n', "u", "u")["mini"]
    assert make_tasks(site)["inputs"][1]["default"] == ""


def test_workspace_must_exist(cat, tmp_path):
    with pytest.raises(BadInput) as exc:
        run(cat, tmp_path / "nope")
    assert exc.value.message == f"workspace {tmp_path / 'nope'} is not a directory"


def test_every_detail_says_where_the_task_runs(cat):
    doc = make_tasks(cat["juwels-booster"], "myproject")
    remote = [t for t in doc["tasks"] if t["command"] != "ssh"]
    local = [t for t in doc["tasks"] if t["command"] == "ssh"]
    assert len(remote) == len(local) == 8
    assert all(t["detail"].endswith(". Runs on the login node (for a workspace opened there over Remote-SSH).") for t in remote)
    assert all(t["detail"].endswith(". Runs from this laptop (a local workspace): ssh jsc-booster runs it on the login node.")
               for t in local)
    assert by_label(doc)["sshsetup: [laptop via jsc-booster] my jobs (squeue --me)"]["detail"] == (
        "List your pending and running jobs. "
        "Runs from this laptop (a local workspace): ssh jsc-booster runs it on the login node.")


# ------------------------------------------------------------------ where the tasks run (issue 18 item 11): golden files

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("where", ["both", "local", "remote"])
def test_tasks_match_their_golden_files(cat, where: str) -> None:
    """The whole document per --where, byte for byte as vscode writes it into an empty workspace. To change one:
    delete it, run this test once (it writes the file and fails), review ``git diff``."""
    doc = make_tasks(cat["juwels-booster"], "myproject", where=where)
    text = json.dumps(doc, indent=4, ensure_ascii=False) + "\n"
    path = GOLDEN / f"tasks-{where}.json"
    if not path.exists():
        path.write_text(text)
        pytest.fail(f"wrote {path}: review it")
    assert text == path.read_text()
    assert schema_error(doc) is None  # "group" is not used: VS Code allows only build, test and none there
    assert all("group" not in t for t in doc["tasks"])
    for t in doc["tasks"]:
        remote = t["command"] != "ssh"
        assert t["label"].startswith("sshsetup: [login node] " if remote else "sshsetup: [laptop via jsc-booster] ")
        assert (" Runs on the login node (" if remote else " Runs from this laptop (") in t["detail"]
    used = {i["id"] for i in doc["inputs"]}
    assert all(f"${{input:{i}}}" in json.dumps(doc["tasks"]) for i in used)
    assert len(doc["tasks"]) == {"both": 16, "local": 8, "remote": 8}[where]


@pytest.mark.parametrize(
    ("env", "host", "want"),
    [
        pytest.param({}, "juwels21", ("local", "this shell did not come in over ssh (no SSH_CONNECTION): a local workspace"), id="no-ssh"),
        pytest.param({"SSH_CONNECTION": ""}, "x", ("local", "this shell did not come in over ssh (no SSH_CONNECTION): a local workspace"), id="empty"),
        pytest.param({"SSH_CONNECTION": "1 2 3 4"}, "juwels21.fz-juelich.de",
                     ("remote", "this is juwels21, a login node of JUWELS Booster in the catalogue"), id="login-node-fqdn"),
        pytest.param({"SSH_CONNECTION": "1 2 3 4"}, "JUWELS24", ("remote", "this is juwels24, a login node of JUWELS Booster in the catalogue"),
                     id="login-node-upper"),
        pytest.param({"SSH_CONNECTION": "1 2 3 4"}, "juwels-booster", ("remote", "this is juwels-booster, a login node of JUWELS Booster in the catalogue"),
                     id="login-hostname"),
        pytest.param({"SSH_CONNECTION": "1 2 3 4"}, "jrlogin03",
                     ("both", "reached over ssh, but jrlogin03 is not a login node of JUWELS Booster in the catalogue"), id="other-host"),
    ],
)
def test_guess_where(cat, env: dict[str, str], host: str, want: tuple[str, str]) -> None:
    from sshsetup.vscode.tasks import guess_where

    assert guess_where(cat["juwels-booster"], env, host) == want


def test_unknown_where_is_refused(cat) -> None:
    with pytest.raises(BadInput) as exc:
        make_tasks(cat["juwels-booster"], "myproject", where="cluster")
    assert (exc.value.message, exc.value.hint) == ("--where 'cluster' is not known; allowed: local, remote, both",
                                                   "leave it out: sshsetup picks by where it runs")
