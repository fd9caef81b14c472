"""Run a command in a pty as a user at a terminal would, answer each one-time code prompt.

    python3 pty-answer.py OUTFILE [ANSWER...] -- COMMAND...

Everything the terminal shows is written to OUTFILE (CRLF as a terminal gives it, turned into LF).
Each prompt that asks for a code gets the next ANSWER; an ANSWER "@N" presses Enter only after
N seconds (a user who came back too late); with no answer left the prompt is left unanswered. Stops after 30 s in any case (the child is killed).
"""

from __future__ import annotations

import os
import pty
import select
import signal
import sys
import time

PROMPTS = (b"One-time password", b"Verification code", b"Passcode")


def main(argv: list[str]) -> int:
    sep = argv.index("--")
    out, answers, cmd = argv[1], list(argv[2:sep]), argv[sep + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    seen = b""
    answered = 0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.2)
        if not r:
            continue
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        seen += data
        if sum(seen.count(p) for p in PROMPTS) > answered and answers:
            answer = answers.pop(0)
            time.sleep(float(answer[1:]) if answer.startswith("@") else 0.2)
            os.write(fd, (b"" if answer.startswith("@") else answer.encode()) + b"\r")
            answered += 1
    else:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    with open(out, "wb") as f:
        f.write(seen.replace(b"\r\n", b"\n"))
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
