"""Random programs in microtensor and in PyTorch, side by side (opt-in; needs torch, never
run by the tests): `python -m benchmarks.pytorch_programs [--programs 300] [--seed 0]`.

Each program from `microtensor.testing.random_program(seed)` is Python source over `mt`;
bound to `torch` it is the same program in PyTorch, from the same leaves. Compared: which
side raises and where, every variable's final value, the first derivatives from
backward() and a Hessian-vector product through grad(create_graph=True), both where both
sides succeed. The generator's expectation is held against PyTorch too: a program it
says must succeed (or must be refused) that PyTorch treats otherwise is a generator bug.
A summary table by category comes first, then the first disagreeing programs as code.
"""

from __future__ import annotations

import argparse
import re
import traceback
from collections import Counter

import numpy as np

import microtensor as mt
from microtensor.testing import random_program
from microtensor.testing.programs import REFUSED, SUCCEEDS

_CLEAR = ("in-place", "inplace", "modified", "view", "leaf")  # as check_program reads errors

__all__ = ["main", "compare", "STAGES"]

RTOL, ATOL = 1e-7, 1e-9  # the same float64 arithmetic on both sides, up to its order


def _array(t) -> np.ndarray:
    if isinstance(t, mt.Tensor):
        return np.array(t.numpy(force=True))
    t = t.detach()
    return np.zeros(t.shape) if t._is_zerotensor() else t.numpy().copy()


_REASONS = (
    ("returns multiple", "a split piece changed or read after a change"),
    ("a view of a leaf", "in-place on a view of a leaf"),
    ("leaf", "in-place on a leaf"),
    ("modified by an in", "a saved tensor changed in place"),
    ("second time", "graph freed"),
    ("freed", "graph freed"),
    ("more than one element", "in-place on an expanded tensor"),
    ("single memory location", "overlapping in-place operands"),
)
_MIXED = re.compile(r"\[[^\]]*-?\d+\s*,[^\]]*:[^\]]*,\s*\[")  # x[0, :, [1, 2]]
_INT_INDEX = re.compile(r"\w\[-?\d+(, -?\d+)*\]")  # v[0], v[1, -1]: a view in PyTorch


def _reason(program, category: str, detail: str) -> str:
    """A short guess at the cause, for the summary table."""
    for key, reason in _REASONS:
        if key in detail:
            return reason
    if any(_MIXED.search(b) for b in program.body):
        return "mixed int/slice/list index"
    if category.startswith("forward") and any(_INT_INDEX.search(b) for b in program.body):
        return "an all-int index (a view?)"
    return ""


def _where(program, error: BaseException) -> str:
    """'line k: source' of the program statement that raised, or 'result'/'outside'."""
    frames = [
        f
        for f in traceback.extract_tb(error.__traceback__)
        if f.filename == "<microtensor program>"
    ]
    if not frames:
        return "outside the program"
    i = frames[-1].lineno - program.first_line
    return f"line {i}: {program.body[i]}" if 0 <= i < len(program.body) else "the result"


def _error(program, error: BaseException) -> str:
    first = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__} at {_where(program, error)}: {first[:160]}"


def _run(program, module, directions: list) -> dict:
    """What one engine does with the program: the forward error or every variable's
    value, then the gradients (or the backward error), then a Hessian-vector product."""
    found: dict = {}
    fn, leaves = program.build(module, trace=True)
    try:
        _, env = fn(*leaves)
    except Exception as error:  # any failure is a finding
        found["forward"] = _error(program, error)
        return found
    found["values"] = {k: _array(v) for k, v in env.items() if type(v).__name__ == "Tensor"}
    fn, leaves = program.build(module)
    try:
        fn(*leaves).backward()
        found["grad"] = [np.zeros(x.shape) if x.grad is None else _array(x.grad) for x in leaves]
    except Exception as error:
        found["backward"] = _error(program, error)
        return found
    fn, leaves = program.build(module)
    try:
        gs = module.autograd.grad(fn(*leaves), leaves, create_graph=True, allow_unused=True)
        terms = [
            (g * module.tensor(u)).sum()
            for g, u in zip(gs, directions)
            if g is not None and g.requires_grad
        ]
        if terms:
            hs = module.autograd.grad(sum(terms), leaves, allow_unused=True)
        else:
            hs = [None] * len(leaves)
        found["hvp"] = [np.zeros(x.shape) if h is None else _array(h) for x, h in zip(leaves, hs)]
    except Exception as error:
        found["double backward"] = _error(program, error)
    return found


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.allclose(a, b, rtol=RTOL, atol=ATOL, equal_nan=True)


STAGES = (
    ("forward", "values", "forward values"),
    ("backward", "grad", "first derivatives"),
    ("double backward", "hvp", "second derivatives"),
)


def compare(program, torch, seed: int = 0) -> tuple:
    """({stage: status}, [(category, detail)]): how microtensor and PyTorch compare on
    `program` at each stage ("agree", "both raise", "only PyTorch raises", "differ",
    ...; stages after a disagreement are "not compared"), and the disagreements."""
    rng = np.random.default_rng(seed)
    directions = [rng.standard_normal(v.shape) for v in program.leaves.values()]
    ours, theirs = _run(program, mt, directions), _run(program, torch, directions)
    status = {title: "not compared" for _, _, title in STAGES}
    found = []
    error = theirs.get("forward") or theirs.get("backward") or ""
    refused = error.startswith("RuntimeError") and "forward" in theirs
    if (program.expect == SUCCEEDS and any(k in error.lower() for k in _CLEAR)) or (
        program.expect == REFUSED and not refused
    ):
        status["generator's expectation"] = "wrong"
        found.append((f"generator: '{program.expect}' but PyTorch does not", error))
    else:
        status["generator's expectation"] = "consistent"
    for stage, result, title in STAGES:
        if stage in ours or stage in theirs:
            both = stage in ours and stage in theirs
            status[title] = (
                "both raise"
                if both
                else f"only {'microtensor' if stage in ours else 'PyTorch'} raises"
            )
            if not both:
                found.append((f"{title}: {status[title]}", ours.get(stage) or theirs.get(stage)))
            return status, found
        pairs = ours[result].items() if result == "values" else zip(program.leaves, ours[result])
        other = theirs[result] if result == "values" else dict(zip(program.leaves, theirs[result]))
        for name, a in pairs:
            b = other.get(name)
            if b is None or not _close(a, b):
                shape = b is None or a.shape != b.shape
                status[title] = "a shape differs" if shape else "differ"
                detail = (
                    f"{name}: microtensor shape {a.shape}, PyTorch {None if b is None else b.shape}"
                    if shape
                    else f"{name}: microtensor {a.ravel()[:4].tolist()}, PyTorch "
                    f"{b.ravel()[:4].tolist()}"
                )
                found.append((f"{title}: {status[title]}", detail))
                return status, found
        status[title] = "agree"
    return status, found


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", type=int, default=300, help="how many (default 300)")
    parser.add_argument("--seed", type=int, default=0, help="the first program's seed")
    parser.add_argument("--show", type=int, default=5, help="disagreeing programs to print")
    args = parser.parse_args(argv)
    import torch

    stages: Counter = Counter()
    causes: Counter = Counter()
    shown: dict = {}
    for seed in range(args.seed, args.seed + args.programs):
        program = random_program(seed)
        status, found = compare(program, torch, seed)
        stages.update(status.items())
        for category, detail in found:
            causes[category, _reason(program, category, detail)] += 1
            shown.setdefault(category, (seed, program, detail))
    last = args.seed + args.programs - 1
    print(
        f"{args.programs} programs (seeds {args.seed}..{last}), microtensor against "
        f"PyTorch {torch.__version__}\n"
    )
    print(f"| {'stage':<24} | {'status':<26} | programs |")
    print(f"|{'-' * 26}|{'-' * 28}|----------|")
    order = ["generator's expectation"] + [title for _, _, title in STAGES]
    for (stage, state), n in sorted(stages.items(), key=lambda kv: (order.index(kv[0][0]), -kv[1])):
        print(f"| {stage:<24} | {state:<26} | {n:>8} |")
    print(f"\n| {'disagreement':<44} | {'likely cause':<44} | programs |")
    print(f"|{'-' * 46}|{'-' * 46}|----------|")
    for (category, reason), n in causes.most_common():
        print(f"| {category:<44} | {reason:<44} | {n:>8} |")
    for category, (seed, program, detail) in list(shown.items())[: args.show]:
        print(f"\n### {category} (seed {seed})\n# {detail}\n{program}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
