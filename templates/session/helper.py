#!/usr/bin/env python3
"""sshsetup code helper, version 1: runs on the login node (installed by `sshsetup code`).

attach NAME [LEADS]  find this user's running job NAME, run `srun --jobid J --overlap bash -l`
                     with this ssh session's stdin/stderr, relay VS Code server's
                     `listeningOn=PORT` through a port on this login node, warn before the walltime.
pipe PORT|SOCKET     (inside the job, on the node) connect 127.0.0.1:PORT or a Unix socket, pipe it to stdin/stdout.
relay-unix LISTEN JOB SOCKET
                     (on the login node, for `sshsetup serve`) each connection to the Unix socket LISTEN
                     becomes `pipe SOCKET` in a step of JOB; ends with the job.

Dependency-free on purpose; `sshsetup code` checks its hash before each use.
"""

import os
import re
import select
import socket
import subprocess
import sys
import threading
import time

VERSION = 1
LISTENING = re.compile(rb"(listeningOn==?)(\d+)")


def say(text):
    try:
        sys.stderr.write("sshsetup: " + text + "\n")
        sys.stderr.flush()
    except OSError:
        pass


def squeue(*args):
    done = subprocess.run(["squeue", "-h", *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          universal_newlines=True, check=False)
    return done.stdout.split()


def seconds(text):
    m = re.fullmatch(r"(?:(\d+)-)?(?:(\d+):)?(\d+):(\d+)", text.strip())
    if not m:
        return None
    d, h, mi, s = (int(g) if g else 0 for g in m.groups())
    return ((d * 24 + h) * 60 + mi) * 60 + s


def pump(src, dst, done):
    try:
        while True:
            data = os.read(src, 65536)
            if not data:
                break
            while data:
                data = data[os.write(dst, data):]
    except OSError:
        pass
    done.set()


def relay(listener, job, node_port):
    """Each connection to the login-node port becomes `srun ... helper pipe PORT` inside the job."""
    while True:
        conn, _ = listener.accept()
        proc = subprocess.Popen(
            ["srun", "--jobid", str(job), "--overlap", "--nodes=1", "--ntasks=1", "--unbuffered", "--quiet",
             sys.executable, os.path.abspath(__file__), "pipe", str(node_port)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        done = threading.Event()
        fd = conn.fileno()
        threading.Thread(target=pump, args=(fd, proc.stdin.fileno(), done), daemon=True).start()
        threading.Thread(target=pump, args=(proc.stdout.fileno(), fd, done), daemon=True).start()
        threading.Thread(target=finish, args=(conn, proc, done), daemon=True).start()


def finish(conn, proc, done):
    done.wait()
    try:
        conn.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    proc.terminate()
    proc.wait()
    conn.close()


def warn(job, leads):
    left = seconds((squeue("-j", str(job), "-o", "%L") or [""])[0])
    if left is None:
        return
    end = time.monotonic() + left
    for lead in sorted(leads, reverse=True):
        wait = end - lead - time.monotonic()
        if wait < -30:
            continue
        time.sleep(max(0.0, wait))
        minutes = "%d min" % (lead // 60) if lead >= 60 and lead % 60 == 0 else "%d s" % lead
        say("warning: job %s reaches its walltime in %s: save your work" % (job, minutes))


def hangup(proc):
    """The ssh session went away (stdout's reader closed): end the step."""
    p = select.poll()
    p.register(1, 0)
    while proc.poll() is None:
        if any(ev & (select.POLLERR | select.POLLHUP) for _, ev in p.poll(1000)):
            proc.terminate()
            return


def attach(name, leads):
    user = os.environ.get("USER") or os.environ.get("LOGNAME") or ""
    jobs = squeue("-u", user, "-n", name, "-t", "RUNNING", "-o", "%i")
    if not jobs:
        say("no running job %s: start one with: sshsetup code" % name)
        return 1
    job = jobs[0]
    node = (squeue("-j", job, "-o", "%N") or ["?"])[0]
    say("attaching to job %s on %s" % (job, node))
    threading.Thread(target=warn, args=(job, leads), daemon=True).start()
    proc = subprocess.Popen(["srun", "--jobid", job, "--overlap", "--nodes=1", "--ntasks=1", "--unbuffered", "--quiet",
                             "bash", "-l"], stdout=subprocess.PIPE)
    threading.Thread(target=hangup, args=(proc,), daemon=True).start()
    out = sys.stdout.buffer
    for line in iter(proc.stdout.readline, b""):
        m = LISTENING.search(line)
        if m:
            listener = socket.socket()
            listener.bind(("127.0.0.1", 0))
            listener.listen(16)
            threading.Thread(target=relay, args=(listener, job, int(m.group(2))), daemon=True).start()
            port = str(listener.getsockname()[1]).encode()
            line = line[:m.start(2)] + port + line[m.end(2):]
        try:
            out.write(line)
            out.flush()
        except OSError:
            proc.terminate()
            break
    return proc.wait()


def relay_unix(listen, job, target):
    if os.path.exists(listen):
        os.unlink(listen)
    old = os.umask(0o077)
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(listen)
    os.umask(old)
    listener.listen(16)
    threading.Thread(target=relay, args=(listener, job, target), daemon=True).start()
    while squeue("-j", str(job), "-t", "RUNNING", "-o", "%i"):
        time.sleep(10)
    os.unlink(listen)
    return 0


def pipe(target):
    if target.startswith("/"):
        sock = socket.socket(socket.AF_UNIX)
        sock.connect(target)
    else:
        sock = socket.create_connection(("127.0.0.1", int(target)))
    sent, back = threading.Event(), threading.Event()

    def upstream():
        pump(0, sock.fileno(), sent)
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    threading.Thread(target=upstream, daemon=True).start()
    threading.Thread(target=pump, args=(sock.fileno(), 1, back), daemon=True).start()
    back.wait()
    return 0


def main(argv):
    if len(argv) >= 2 and argv[0] == "attach":
        leads = [int(x) for x in (argv[2] if len(argv) > 2 else "900,300").split(",") if x.isdigit()]
        return attach(argv[1], leads)
    if len(argv) == 2 and argv[0] == "pipe":
        return pipe(argv[1])
    if len(argv) == 4 and argv[0] == "relay-unix":
        return relay_unix(argv[1], argv[2], argv[3])
    if argv == ["version"]:
        print(VERSION)
        return 0
    say("usage: helper.py attach NAME [LEADS] | pipe PORT|SOCKET | relay-unix LISTEN JOB SOCKET | version")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
