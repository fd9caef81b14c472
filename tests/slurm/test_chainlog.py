from __future__ import annotations

from sshsetup.slurm import chainlog

LOG = """\
sshsetup chain: link 0 of 3: is job 11
sshsetup chain: link 0 of 3: queued the next link: job 12
sshsetup chain: link 0 of 3: starts at 1000, ends by 1120, resumes from nothing
sshsetup chain: link 0 of 3: SIGUSR1 at 1060: asking the training to checkpoint and stop
sshsetup chain: link 0 of 3: stopped at 1061 (exit 0); the next link resumes (exit 75)
some training output
sshsetup chain: link 1 of 3: is job 12
sshsetup chain: link 1 of 3: starts at 1062, ends by 1182, resumes from /c/step-1.pt
"""


def test_parse_and_lost_work_and_finish() -> None:
    log = chainlog.parse(LOG)
    assert log.total == 3 and log.queued == ("12",) and not log.done
    assert log.links[0] == chainlog.Link(0, "11", 1000, 1120, 1060, 1061, "stopped")
    assert log.links[1] == chainlog.Link(1, "12", 1062, 1182)
    assert chainlog.lost_work(log, [1030, 1060.5]) == [0.5, None]
    assert chainlog.lost_work(log, [990]) == [61, None]  # no checkpoint in the link: all of it is redone
    assert chainlog.finish_by(log, 120, now=1100) == 1182 + 120
    done = chainlog.parse(LOG + "sshsetup chain: link 1 of 3: the training wrote DONE at 1070: stopping the chain\n")
    assert done.done and chainlog.finish_by(done, 120, now=2000) == 1070
