"""A small mutation run: do the tests notice when the code is changed a little? (developer command, not CI)

    python -m tests.mutation                          # the four targets below
    python -m tests.mutation sshsetup/judoor/cidr.py  # one of them (or any module, with --tests)
    python -m tests.mutation sshsetup/files.py --tests tests/test_files.py --line 228-247,250

Each mutant is one small change to one module: a comparison or boolean operator swapped, an
arithmetic operator swapped, a number, flag or string literal changed, a condition negated, a
call statement or ``raise`` dropped, a returned value replaced by ``None``. It is written into a
scratch copy of the checkout (this one is never touched) and the module's own tests run against
it with ``pytest -x``. A mutant the tests let pass ("survived") is printed with its line: either
a test is missing, or the change does not alter behaviour (an equivalent mutant). The score is
killed / (killed + survived); a mutant that hangs past the time limit counts as killed.

It runs one mutant at a time (the machine is shared) and takes minutes per module.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# module -> its own tests (globs, so a new tests/ssh/test_block_golden.py joins by itself)
TARGETS = {
    "sshsetup/ssh/block.py": ["tests/ssh/test_block*.py"],
    "sshsetup/ssh/entries.py": ["tests/ssh/test_entries*.py"],
    "sshsetup/judoor/cidr.py": ["tests/judoor/test_cidr*.py"],
    "sshsetup/files.py": ["tests/test_files*.py"],
}
ENV = {
    "SSHSETUP_HYPOTHESIS_EXAMPLES": "25",  # the property tests with fewer examples: a mutant usually fails fast
    "SSHSETUP_HYPOTHESIS_NO_SHRINK": "1",
    "PYTHONDONTWRITEBYTECODE": "1",  # a mutant of the same size and mtime must never run from a stale .pyc
}

SWAP_CMP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
    ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
}
SWAP_BIN: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.FloorDiv, ast.FloorDiv: ast.Mult, ast.Div: ast.Mult,
    ast.BitOr: ast.BitAnd, ast.BitAnd: ast.BitOr, ast.LShift: ast.RShift, ast.RShift: ast.LShift,
}


@dataclasses.dataclass(frozen=True)
class Mutant:
    line: int
    start: tuple[int, int]  # (line, byte column) of the replaced span
    end: tuple[int, int]
    text: str  # what replaces the span
    what: str


def _skipped_nodes(tree: ast.AST) -> set[int]:
    """ids of nodes never mutated: docstrings, annotations, decorators, f-string insides, TYPE_CHECKING blocks."""
    skip: set[int] = set()

    def all_of(node: ast.AST | None) -> None:
        if node is not None:
            skip.update(id(n) for n in ast.walk(node))

    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
                all_of(body[0])
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for d in node.decorator_list:  # @dataclass(frozen=True), @lru_cache(maxsize=1): declarations, not behaviour
                all_of(d)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            all_of(node.returns)
            for a in [*node.args.args, *node.args.kwonlyargs, *node.args.posonlyargs, node.args.vararg, node.args.kwarg]:
                if a is not None:
                    all_of(a.annotation)
        if isinstance(node, ast.AnnAssign):
            all_of(node.annotation)
        if isinstance(node, ast.JoinedStr):
            all_of(node)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            all_of(node)
        if isinstance(node, ast.Call) and ast.unparse(node.func) in ("TypeVar", "cast", "typing.cast"):
            all_of(node)
    return skip


def _span(node: ast.AST) -> tuple[tuple[int, int], tuple[int, int]]:
    assert node.end_lineno is not None and node.end_col_offset is not None
    return (node.lineno, node.col_offset), (node.end_lineno, node.end_col_offset)


def mutants(source: str) -> Iterator[Mutant]:
    tree = ast.parse(source)
    skip = _skipped_nodes(tree)
    lines = source.splitlines()
    for node in ast.walk(tree):
        if id(node) in skip or not hasattr(node, "lineno"):
            continue
        if "pragma: no mutate" in lines[node.lineno - 1]:
            continue
        yield from _of(node)


def _expr(node: ast.AST, new: ast.expr, what: str) -> Mutant:
    start, end = _span(node)
    return Mutant(node.lineno, start, end, f"({ast.unparse(new)})", what)


def _of(node: ast.AST) -> Iterator[Mutant]:
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            swap = SWAP_CMP.get(type(op))
            if swap is not None:
                ops = [*node.ops[:i], swap(), *node.ops[i + 1 :]]
                yield _expr(node, ast.Compare(node.left, ops, node.comparators), f"{type(op).__name__} -> {swap.__name__}")
    elif isinstance(node, ast.BoolOp):
        other = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        yield _expr(node, ast.BoolOp(other, node.values), f"{type(node.op).__name__} -> {type(other).__name__}")
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        yield _expr(node, node.operand, "drop not")
    elif isinstance(node, ast.BinOp) and type(node.op) in SWAP_BIN:
        swap = SWAP_BIN[type(node.op)]
        yield _expr(node, ast.BinOp(node.left, swap(), node.right), f"{type(node.op).__name__} -> {swap.__name__}")
    elif isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, bool):
            yield _expr(node, ast.Constant(not v), f"{v} -> {not v}")
        elif isinstance(v, (int, float)):
            yield _expr(node, ast.Constant(v + 1), f"{v!r} -> {v + 1!r}")
        elif isinstance(v, (str, bytes)):
            new = ("XX" + v if v else "XX") if isinstance(v, str) else (b"XX" + v if v else b"XX")
            yield _expr(node, ast.Constant(new), f"{v!r} -> {new!r}"[:80])
    elif isinstance(node, ast.If):
        yield _expr(node.test, ast.UnaryOp(ast.Not(), node.test), "negate the condition")
    elif isinstance(node, ast.Expr) and isinstance(node.value, (ast.Call, ast.Await)):
        start, end = _span(node)
        yield Mutant(node.lineno, start, end, "pass", f"drop the call {ast.unparse(node.value.func if isinstance(node.value, ast.Call) else node.value)[:60]}")
    elif isinstance(node, ast.Raise):
        start, end = _span(node)
        yield Mutant(node.lineno, start, end, "pass", "drop the raise")
    elif isinstance(node, ast.Return) and node.value is not None and not (isinstance(node.value, ast.Constant) and node.value.value is None):
        start, end = _span(node)
        yield Mutant(node.lineno, start, end, "return None", "return None")


def apply(source: str, m: Mutant) -> str:
    data = source.encode("utf-8").splitlines(keepends=True)
    (l1, c1), (l2, c2) = m.start, m.end
    head = b"".join(data[: l1 - 1]) + data[l1 - 1][:c1]
    tail = data[l2 - 1][c2:] + b"".join(data[l2:])
    return (head + m.text.encode("utf-8") + tail).decode("utf-8")


def scratch_copy() -> Path:
    tmp = Path(tempfile.mkdtemp(prefix="sshsetup-mutation-"))
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis")
    for name in ("sshsetup", "tests"):
        shutil.copytree(ROOT / name, tmp / name, ignore=ignore)
    if (ROOT / "templates").is_dir():
        shutil.copytree(ROOT / "templates", tmp / "sshsetup" / "templates", ignore=ignore, dirs_exist_ok=True)
    shutil.copy2(ROOT / "pyproject.toml", tmp / "pyproject.toml")
    return tmp


def run_tests(copy: Path, tests: list[str], timeout: float) -> str:
    env = {**os.environ, **ENV, "PYTHONPATH": str(copy)}
    argv = [sys.executable, "-m", "pytest", "-n", "0", "-x", "-q", "--no-header", "-p", "no:cacheprovider", "-m", "not slow", *tests]
    try:
        p = subprocess.run(argv, cwd=copy, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return "timeout"
    return "passed" if p.returncode == 0 else "failed"


def check_copy_is_used(copy: Path, module: str) -> None:
    name = module.removesuffix(".py").replace("/", ".")
    env = {**os.environ, **ENV, "PYTHONPATH": str(copy)}
    where = subprocess.run([sys.executable, "-c", f"import {name} as m; print(m.__file__)"], cwd=copy, env=env,
                           capture_output=True, text=True, check=True).stdout.strip()
    if Path(where).resolve() != (copy / module).resolve():
        raise SystemExit(f"the scratch copy is not what gets imported: {name} comes from {where}")


def parse_lines(spec: str | None) -> set[int] | None:
    """``120``, ``120-140`` or a comma-separated list of both."""
    if not spec:
        return None
    lines: set[int] = set()
    for part in spec.split(","):
        a, _, b = part.partition("-")
        lines.update(range(int(a), int(b or a) + 1))
    return lines


def run_module(module: str, tests: list[str], lines: set[int] | None) -> tuple[int, int, list[tuple[Mutant, str]]]:
    source = (ROOT / module).read_text(encoding="utf-8")
    found = [m for m in mutants(source) if lines is None or m.line in lines]
    copy = scratch_copy()
    try:
        check_copy_is_used(copy, module)
        files = sorted({f for pattern in tests for f in glob.glob(pattern, root_dir=ROOT)})
        t = time.monotonic()
        if run_tests(copy, files, timeout=600) != "passed":
            raise SystemExit(f"{module}: the tests fail without any mutant: {' '.join(files)}")
        limit = 5 * (time.monotonic() - t) + 10
        print(f"{module}: {len(found)} mutants, tests {' '.join(files)} ({time.monotonic() - t:.1f} s a run)", flush=True)
        killed = 0
        survived: list[tuple[Mutant, str]] = []
        for n, m in enumerate(found, 1):
            mutated = apply(source, m)
            try:
                compile(mutated, module, "exec")
            except SyntaxError:
                continue
            (copy / module).write_text(mutated, encoding="utf-8")
            outcome = run_tests(copy, files, limit)
            if outcome == "passed":
                code = source.splitlines()[m.line - 1].strip()
                survived.append((m, code))
                print(f"  survived  {module}:{m.line}: {m.what}    | {code[:90]}", flush=True)
            else:
                killed += 1
            if n % 25 == 0:
                print(f"  ... {n}/{len(found)}", flush=True)
        (copy / module).write_text(source, encoding="utf-8")
        return killed, len(survived), survived
    finally:
        shutil.rmtree(copy, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.mutation", description=__doc__.split("\n\n")[0])
    ap.add_argument("modules", nargs="*", help="modules to mutate (default: " + ", ".join(TARGETS) + ")")
    ap.add_argument("--tests", nargs="+", help="test files (globs) to run instead of the module's own")
    ap.add_argument("--line", help="only mutants on these lines, e.g. 120, 120-140 or 73,120-140 (re-check the survivors)")
    args = ap.parse_args(argv)
    total_k = total_s = 0
    rows = []
    for module in args.modules or list(TARGETS):
        tests = args.tests or TARGETS.get(module)
        if not tests:
            ap.error(f"{module}: no tests known for it; give --tests")
        k, s, _ = run_module(module, tests, parse_lines(args.line))
        rows.append((module, k, s))
        total_k, total_s = total_k + k, total_s + s
    print()
    for module, k, s in [*rows, ("total", total_k, total_s)]:
        print(f"{module:<28} killed {k:>4} of {k + s:>4}  score {100 * k / max(1, k + s):5.1f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
