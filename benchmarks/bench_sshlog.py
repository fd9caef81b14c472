"""The speed and memory goals of ``sshsetup explain`` (issue 16 item 5), measured on this machine.

    python benchmarks/bench_sshlog.py

Goals: a 50 MB log in <= 2 s, any single 5 MB line in <= 0.5 s, memory bounded (the log is read
in pieces: the peak does not grow with the file). Not a timed test: tests/support/test_sshlog.py
holds the bound that CI checks (well under a second per MB for adversarial shapes).
"""

from __future__ import annotations

import tempfile
import time
import tracemalloc
from pathlib import Path

from sshsetup.commands.explain import classify_source
from sshsetup.support import sshlog

DATA = Path(__file__).parents[1] / "tests" / "data" / "sshlogs"


def timed(label: str, fn: object, goal: float | None = None) -> None:
    t = time.perf_counter()
    fn()  # type: ignore[operator]
    s = time.perf_counter() - t
    verdict = "" if goal is None else ("  ok" if s <= goal else f"  OVER the goal of {goal} s")
    print(f"{label:<48} {s:7.2f} s{verdict}")


def main() -> None:
    typical = (DATA / "accepted-vvv.log").read_text() + (DATA / "vscode-pipe-publickey.log").read_text()
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big.log"
        with big.open("w") as fh:
            for _ in range(50_000_000 // len(typical)):
                fh.write(typical)
        timed(f"50 MB -vvv/VS Code log, from a file ({big.stat().st_size / 1e6:.0f} MB)", lambda: classify_source(str(big)), 2.0)
        tracemalloc.start()
        classify_source(str(big))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"{'  peak memory while reading it':<48} {peak / 1e6:7.1f} MB (the file: {big.stat().st_size / 1e6:.0f} MB)")
    for label, line in (("one 5 MB line of 'Load key '", "Load key " * 580_000), ("one 5 MB line, no spaces", "x" * 5_000_000),
                        ("one 5 MB line of '> '", "> " * 2_500_000)):
        timed(label, lambda line=line: sshlog.classify(line + "\n"), 0.5)
    timed("20 MB of newlines", lambda: sshlog.classify("\n" * 20_000_000))
    timed("20 MB of 'Permission denied (publickey).' lines", lambda: sshlog.classify("Permission denied (publickey).\n" * 645_000))
    timed("20 MB of wrapped '> ' continuation lines", lambda: sshlog.classify(("> " + "a" * 70 + "\n") * 275_000))


if __name__ == "__main__":
    main()
