"""Engine overhead: microtensor against plain numpy, per primitive and per training step.

Run from the repository root (the directory holding `microtensor/`):

    python3 -m benchmarks.engine                   # full run: 7 rounds, markdown tables
    python3 -m benchmarks.engine --json out.json   # ... and the results as JSON
    python3 -m benchmarks.engine --quick           # one short round (the smoke test's mode)
    python3 -m benchmarks.engine --profile         # ... plus a cProfile of the training step

`python3 -m benchmarks` runs the whole suite (benchmarks/run.py), which times these and more
workloads each in a fresh process; this module stays the quick in-process view.

What it measures
----------------
(a) Per-primitive cost. A chain of `--chain` (1000) ops `x = x * 1.0001`,
    `x = x + 0.001` or `x = x.tanh()` on a (100,) float64 tensor that requires grad:
      numpy        the same numpy call on a bare array (no autograd at all),
      no_grad      microtensor under `mt.no_grad()` (Tensor wrapping, no graph),
      forward      microtensor with graph recording on,
      backward     `y.backward(ones)` through that chain, graph teardown included,
    each in microseconds per op, and the ratios forward/numpy and (forward+backward)/numpy.
    The chain's gradient is checked against a hand-written numpy backward first. Also
    counted, once: the objects each recorded op leaves for Python's cyclic garbage
    collector (gc-tracked and alive after a chain), whose full collections walk them all,
    so that they make the per-op cost grow with the graph. With `--scaling`, the forward
    of `x * 1.0001` is timed at 1e3, 1e4 and 1e5 ops, against numpy keeping its outputs.

(b) One full training step of the reports' network: 2 inputs, two hidden layers of 5
    sigmoid units, 1 sigmoid output (sigmoid after every layer, with biases), MSE loss
    (mean over the batch), batch 100, plain SGD with lr 0.1, float64:
      microtensor  `@`, `+`, `.sigmoid()`, `((p - y) ** 2).mean()`, `loss.backward()`,
                   then `p.data -= lr * p.grad.data` under `mt.no_grad()` and `p.grad = None`;
      microtensor_raw  the same forward and backward, then the update as PyTorch's
                   from-scratch tutorials write it: `p -= lr * p.grad` and
                   `p.grad.zero_()` under `mt.no_grad()` (in-place ops on tensors);
      numpy_hand   the same step written by hand as in the reports: sigmoid as
                   1/(1+np.exp(-z)), delta = (a - y) * a * (1 - a) (times 2/n for the mean),
                   dW = a_prev.T @ delta, delta_prev = (delta @ W.T) * a * (1 - a).
    Same data (the reports' "linear" dataset, 100 uniform points, label x0 > x1) and the
    same initial weights. Before timing, both gradients are computed on the same weights
    and batch and their max abs difference is printed (it must be < 1e-12). After timing,
    both models have taken the same number of steps and their weights are compared again.

Methodology: everything is seeded (numpy Generator, `mt.manual_seed`); every case is
warmed up first; then `--rounds` rounds (7), each running every case once in a shuffled
order (seeded), each case timing many ops / `--steps` steps (2000) with
time.perf_counter. Reported: the median over rounds and the spread (min-max). The
step ratio is median(microtensor) / median(numpy_hand); its spread is the min-max of the
per-round ratios. Python's garbage collector is left as a user would have it (on).
No number here is asserted on: speed depends on the machine and its load. The exit
status is 1 only when the training-step gradient check fails (difference >= 1e-12).
The JSON's "meta" names the microtensor sources measured (git HEAD and a sha256 of
microtensor/**/*.py as they were on disk), since the library changes under it.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import hashlib
import io
import json
import math
import os
import platform
import pstats
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import microtensor as mt

SEED = 0
LR = 0.1
BATCH = 100
SIZES = (2, 5, 5, 1)
TARGET_RATIO = 2.0
GRAD_TOL = 1e-12
OPS = ("mul", "add", "tanh")
OP_CODE = {"mul": "x * 1.0001", "add": "x + 0.001", "tanh": "x.tanh()"}

perf_counter = time.perf_counter


# ------------------------------------------------------------------ (a) primitive chains
# One explicit loop per op (no lambda per call), so numpy and microtensor pay the same
# Python loop overhead and differ only in what one op costs.
def _mt_mul(x, n):
    for _ in range(n):
        x = x * 1.0001
    return x


def _mt_add(x, n):
    for _ in range(n):
        x = x + 0.001
    return x


def _mt_tanh(x, n):
    for _ in range(n):
        x = x.tanh()
    return x


def _np_mul(a, n):
    for _ in range(n):
        a = a * 1.0001
    return a


def _np_add(a, n):
    for _ in range(n):
        a = a + 0.001
    return a


def _np_tanh(a, n):
    tanh = np.tanh
    for _ in range(n):
        a = tanh(a)
    return a


MT_CHAIN = {"mul": _mt_mul, "add": _mt_add, "tanh": _mt_tanh}
NP_CHAIN = {"mul": _np_mul, "add": _np_add, "tanh": _np_tanh}


def chain_grad_check(op: str, x0: np.ndarray, n: int) -> float:
    """Max abs difference between microtensor's gradient of sum(chain(x)) and a
    hand-written numpy backward of the same chain."""
    x = mt.tensor(x0, requires_grad=True)
    y = MT_CHAIN[op](x, n)
    y.backward(np.ones_like(x0))
    # hand-written: forward keeping every output, then the chain rule backwards
    a, outs = x0.copy(), []
    for _ in range(n):
        a = NP_CHAIN[op](a, 1)
        outs.append(a)
    g = np.ones_like(x0)
    for out in reversed(outs):
        if op == "mul":
            g = g * 1.0001
        elif op == "tanh":
            g = g * (1 - out * out)
    fwd = float(np.max(np.abs(y.numpy(force=True) - a)))
    return max(fwd, float(np.max(np.abs(x.grad.numpy(force=True) - g))))


def case_numpy(op, x0, n, reps):
    fn = NP_CHAIN[op]
    t = 0.0
    for _ in range(reps):
        a = x0.copy()
        t0 = perf_counter()
        a = fn(a, n)
        t += perf_counter() - t0
    return {"numpy": t / (n * reps) * 1e6}


def case_nograd(op, x0, n, reps):
    fn = MT_CHAIN[op]
    t = 0.0
    for _ in range(reps):
        x = mt.tensor(x0, requires_grad=True)
        with mt.no_grad():
            t0 = perf_counter()
            y = fn(x, n)
            t += perf_counter() - t0
        del y
    return {"no_grad": t / (n * reps) * 1e6}


def tracked_per_op(op, x0, n) -> float:
    """Objects a recorded op leaves tracked by the cyclic garbage collector (alive after a
    chain of n ops, after a collection, which untracks the tuples it can)."""
    x = mt.tensor(x0, requires_grad=True)
    gc.collect()
    before = len(gc.get_objects())
    y = MT_CHAIN[op](x, n)
    gc.collect()
    left = len(gc.get_objects()) - before
    del y
    return left / n


def scaling(x0, lengths=(1000, 10000, 100000), reps: int = 3, log=print) -> dict:
    """Forward us/op of `x * 1.0001` chains of each length (median of `reps`), beside numpy
    computing the same chain and keeping every output (as the graph keeps them)."""
    out = {}
    for n in lengths:
        mt_us, np_us = [], []
        for _ in range(reps):
            x = mt.tensor(x0, requires_grad=True)
            t0 = perf_counter()
            y = _mt_mul(x, n)
            mt_us.append((perf_counter() - t0) / n * 1e6)
            del y
            a, kept = x0.copy(), []
            t0 = perf_counter()
            for _ in range(n):
                a = a * 1.0001
                kept.append(a)
            np_us.append((perf_counter() - t0) / n * 1e6)
            del kept
        out[str(n)] = {"microtensor_us": summary(mt_us), "numpy_keeping_us": summary(np_us)}
        log(f"scaling: {n} ops done")
    return out


def case_recorded(op, x0, n, reps):
    fn = MT_CHAIN[op]
    seed = np.ones_like(x0)
    tf = tb = 0.0
    for _ in range(reps):
        x = mt.tensor(x0, requires_grad=True)
        t0 = perf_counter()
        y = fn(x, n)
        t1 = perf_counter()
        y.backward(seed)
        del y  # graph teardown counts as backward
        t2 = perf_counter()
        tf += t1 - t0
        tb += t2 - t1
    return {"forward": tf / (n * reps) * 1e6, "backward": tb / (n * reps) * 1e6}


# --------------------------------------------------------------- (b) one training step
def make_problem(seed: int = SEED):
    """The reports' linear dataset (batch 100) and randn weights, zero biases."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.0, 1.0, (BATCH, SIZES[0]))
    Y = (X[:, 0] > X[:, 1]).astype(np.float64).reshape(BATCH, 1)
    params = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        params.append(rng.standard_normal((fan_in, fan_out)))
        params.append(np.zeros(fan_out))
    return X, Y, params


def mt_loss(X, Y, params):
    """Forward pass of the network in microtensor: the MSE loss tensor."""
    W1, b1, W2, b2, W3, b3 = params
    h1 = (X @ W1 + b1).sigmoid()
    h2 = (h1 @ W2 + b2).sigmoid()
    p = (h2 @ W3 + b3).sigmoid()
    return ((p - Y) ** 2).mean()


def make_mt_step(X, Y, params0, lr=LR):
    Xt, Yt = mt.tensor(X), mt.tensor(Y)
    params = [mt.tensor(p, requires_grad=True) for p in params0]  # copies

    def step():
        loss = mt_loss(Xt, Yt, params)
        loss.backward()
        with mt.no_grad():
            for q in params:
                q.data -= lr * q.grad.numpy(force=True)
                q.grad = None
        return loss

    return step, params


def make_mt_raw_step(X, Y, params0, lr=LR):
    """The update as from-scratch code writes it: in-place ops on the parameters."""
    Xt, Yt = mt.tensor(X), mt.tensor(Y)
    params = [mt.tensor(p, requires_grad=True) for p in params0]  # copies

    def step():
        loss = mt_loss(Xt, Yt, params)
        loss.backward()
        with mt.no_grad():
            for q in params:
                q -= lr * q.grad
                q.grad.zero_()
        return loss

    return step, params


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def hand_grads(X, Y, params):
    """Forward and hand-derived backward in numpy, as in the reports; MSE is the mean over
    the batch, so the output delta carries 2/n."""
    W1, b1, W2, b2, W3, b3 = params
    a1 = sigmoid(np.dot(X, W1) + b1)
    a2 = sigmoid(np.dot(a1, W2) + b2)
    a3 = sigmoid(np.dot(a2, W3) + b3)
    loss = np.mean((a3 - Y) ** 2)
    delta3 = (2.0 / Y.size) * (a3 - Y) * a3 * (1 - a3)
    dW3, db3 = np.dot(a2.T, delta3), delta3.sum(axis=0)
    delta2 = np.dot(delta3, W3.T) * a2 * (1 - a2)
    dW2, db2 = np.dot(a1.T, delta2), delta2.sum(axis=0)
    delta1 = np.dot(delta2, W2.T) * a1 * (1 - a1)
    dW1, db1 = np.dot(X.T, delta1), delta1.sum(axis=0)
    return loss, [dW1, db1, dW2, db2, dW3, db3]


def make_hand_step(X, Y, params0, lr=LR):
    params = [p.copy() for p in params0]

    def step():
        loss, grads = hand_grads(X, Y, params)
        for p, g in zip(params, grads):
            p -= lr * g
        return loss

    return step, params


def step_grad_check(X, Y, params0) -> dict:
    """microtensor's gradients against the hand-written ones, same weights and batch."""
    params = [mt.tensor(p, requires_grad=True) for p in params0]
    loss = mt_loss(mt.tensor(X), mt.tensor(Y), params)
    loss.backward()
    hand_loss, grads = hand_grads(X, Y, [p.copy() for p in params0])
    diff = 0.0
    for p, g in zip(params, grads):
        if p.grad is None or p.grad.shape != g.shape or p.grad.dtype != np.float64:
            raise AssertionError(
                f"gradient of shape {g.shape}: microtensor gave "
                f"{None if p.grad is None else (p.grad.shape, p.grad.dtype)}"
            )
        diff = max(diff, float(np.max(np.abs(p.grad.numpy(force=True) - g))))
    scale = max(float(np.max(np.abs(g))) for g in grads)
    return {
        "max_abs_diff": diff,
        "max_abs_grad": scale,
        "loss_abs_diff": abs(float(loss.item()) - float(hand_loss)),
        "loss": float(hand_loss),
    }


def case_step(step, steps):
    t0 = perf_counter()
    for _ in range(steps):
        step()
    return perf_counter() - t0


# --------------------------------------------------------------------------- reporting
def source_id() -> dict:
    """Which microtensor was measured: git HEAD (read only) and a hash of its sources."""
    pkg = Path(mt.__file__).resolve().parent
    h = hashlib.sha256()
    for f in sorted(pkg.rglob("*.py")):
        h.update(str(f.relative_to(pkg)).encode() + b"\0" + f.read_bytes() + b"\0")
    try:
        head = (
            subprocess.run(
                ["git", "rev-parse", "HEAD"], cwd=pkg, capture_output=True, text=True, timeout=10
            ).stdout.strip()
            or None
        )
    except (OSError, subprocess.SubprocessError):
        head = None
    return {
        "microtensor_path": str(pkg),
        "git_head": head,
        "microtensor_sources_sha256": h.hexdigest()[:16],
    }


def summary(values):
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "rounds": list(values),
    }


def fmt(s, digits=2):
    return f"{s['median']:.{digits}f} ({s['min']:.{digits}f}-{s['max']:.{digits}f})"


def run(
    rounds: int,
    steps: int,
    chain: int,
    reps: int,
    seed: int = SEED,
    log=print,
    scale: bool = False,
) -> dict:
    mt.manual_seed(seed)
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal(100)
    order_rng = random.Random(seed)

    # -- correctness first
    chain_check = {op: chain_grad_check(op, x0, chain) for op in OPS}
    X, Y, params0 = make_problem(seed)
    check = step_grad_check(X, Y, params0)
    log(
        f"gradient check, training step (microtensor vs hand-written numpy, float64): "
        f"max abs diff = {check['max_abs_diff']:.3e} (max |grad| {check['max_abs_grad']:.3e}, "
        f"loss diff {check['loss_abs_diff']:.3e}) -> "
        f"{'OK' if check['max_abs_diff'] < GRAD_TOL else 'FAILED'} (< {GRAD_TOL:g})"
    )
    log(
        "gradient check, op chains (vs hand-written numpy backward): "
        + ", ".join(f"{op} {d:.1e}" for op, d in chain_check.items())
    )

    mt_step, mt_params = make_mt_step(X, Y, params0)
    raw_step, raw_params = make_mt_raw_step(X, Y, params0)
    hand_step, hand_params = make_hand_step(X, Y, params0)

    cases = []
    for op in OPS:
        cases.append((("chain", op, "numpy"), lambda op=op: case_numpy(op, x0, chain, reps)))
        cases.append((("chain", op, "no_grad"), lambda op=op: case_nograd(op, x0, chain, reps)))
        cases.append((("chain", op, "recorded"), lambda op=op: case_recorded(op, x0, chain, reps)))
    cases.append((("step", "microtensor"), lambda: case_step(mt_step, steps)))
    cases.append((("step", "microtensor_raw"), lambda: case_step(raw_step, steps)))
    cases.append((("step", "numpy_hand"), lambda: case_step(hand_step, steps)))

    # -- warm-up: every case once, smaller (the step cases keep the two models in lockstep)
    warm_steps = max(1, steps // 10)
    for op in OPS:
        case_numpy(op, x0, chain, 1)
        case_nograd(op, x0, chain, 1)
        case_recorded(op, x0, chain, 1)
    case_step(mt_step, warm_steps)
    case_step(raw_step, warm_steps)
    case_step(hand_step, warm_steps)

    raw = {key: [] for key, _ in cases}
    for r in range(rounds):
        order = list(cases)
        order_rng.shuffle(order)
        for key, fn in order:
            raw[key].append(fn())
        log(f"round {r + 1}/{rounds} done")

    # -- collect
    prim = {}
    for op in OPS:
        nump = [d["numpy"] for d in raw[("chain", op, "numpy")]]
        nog = [d["no_grad"] for d in raw[("chain", op, "no_grad")]]
        fwd = [d["forward"] for d in raw[("chain", op, "recorded")]]
        bwd = [d["backward"] for d in raw[("chain", op, "recorded")]]
        prim[op] = {
            "code": OP_CODE[op],
            "numpy_us": summary(nump),
            "no_grad_us": summary(nog),
            "forward_us": summary(fwd),
            "backward_us": summary(bwd),
            "forward_over_numpy": statistics.median(fwd) / statistics.median(nump),
            "fwd_bwd_over_numpy": (statistics.median(fwd) + statistics.median(bwd))
            / statistics.median(nump),
            "grad_check_max_abs_diff": chain_check[op],
            "gc_tracked_per_op": tracked_per_op(op, x0, chain),
        }
    mt_us = [t / steps * 1e6 for t in raw[("step", "microtensor")]]
    raw_us = [t / steps * 1e6 for t in raw[("step", "microtensor_raw")]]
    hand_us = [t / steps * 1e6 for t in raw[("step", "numpy_hand")]]
    per_round = [a / b for a, b in zip(mt_us, hand_us)]
    ratio = statistics.median(mt_us) / statistics.median(hand_us)
    total_steps = warm_steps + rounds * steps
    after = max(
        float(np.max(np.abs(p.numpy(force=True) - q))) for p, q in zip(mt_params, hand_params)
    )
    raw_after = max(
        float(np.max(np.abs(p.numpy(force=True) - q.numpy(force=True))))
        for p, q in zip(raw_params, mt_params)
    )
    step = {
        "network": "2-5-5-1, sigmoid after every layer, biases, MSE (mean), SGD lr 0.1, "
        "batch 100, float64",
        "grad_check": check,
        "grad_check_max_abs_diff": check["max_abs_diff"],
        "microtensor_us": summary(mt_us),
        "numpy_hand_us": summary(hand_us),
        "ratio": ratio,
        "ratio_rounds": summary(per_round),
        "microtensor_raw_us": summary(raw_us),
        "raw_ratio": statistics.median(raw_us) / statistics.median(hand_us),
        "raw_ratio_rounds": summary([a / b for a, b in zip(raw_us, hand_us)]),
        "raw_weights_max_abs_diff_vs_microtensor": raw_after,
        "target_ratio": TARGET_RATIO,
        "meets_target": ratio <= TARGET_RATIO,
        "steps_taken": total_steps,
        "weights_max_abs_diff_after_training": after,
    }
    meta = {
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "microtensor": getattr(mt, "__version__", "?"),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "seed": seed,
        "rounds": rounds,
        "steps_per_round": steps,
        "chain_len": chain,
        "chains_per_round": reps,
        "batch": BATCH,
        "dtype": "float64",
        **source_id(),
    }
    res = {"meta": meta, "primitive": prim, "train_step": step}
    if scale:
        res["scaling"] = scaling(x0, log=log)
    return res


def report(res: dict) -> str:
    m, prim, step = res["meta"], res["primitive"], res["train_step"]
    lines = [
        "",
        f"## microtensor engine overhead (python {m['python']}, numpy {m['numpy']}, "
        f"{m['machine']}, {m['cpu_count']} CPUs; microtensor sources "
        f"{m['microtensor_sources_sha256']} on {(m['git_head'] or '?')[:10]})",
        "",
        f"### (a) per primitive: chain of {m['chain_len']} ops on a (100,) float64 tensor "
        f"that requires grad, {m['chains_per_round']} chains per round, {m['rounds']} "
        f"round(s); us/op, median (min-max)",
        "",
        "| op | numpy | mt no_grad | mt forward (recording) | mt backward "
        "| forward / numpy | (fwd+bwd) / numpy | gc-tracked objects left per op |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for d in prim.values():
        lines.append(
            f"| `{d['code']}` | {fmt(d['numpy_us'])} | {fmt(d['no_grad_us'])} | "
            f"{fmt(d['forward_us'])} | {fmt(d['backward_us'])} | "
            f"{d['forward_over_numpy']:.1f}x | {d['fwd_bwd_over_numpy']:.1f}x | "
            f"{d['gc_tracked_per_op']:.2f} |"
        )
    check = step["grad_check"]
    lines += [
        "",
        f"### (b) one training step: {step['network']}; {m['steps_per_round']} steps per "
        f"round, {m['rounds']} round(s); us/step, median (min-max)",
        "",
        f"gradient check before timing: max abs diff {check['max_abs_diff']:.3e} "
        f"(< {GRAD_TOL:g}: {'yes' if check['max_abs_diff'] < GRAD_TOL else 'NO'}); after "
        f"{step['steps_taken']} steps each, weights differ by at most "
        f"{step['weights_max_abs_diff_after_training']:.3e}",
        "",
        "| implementation | us/step | vs numpy_hand |",
        "|---|---|---|",
        f"| microtensor | {fmt(step['microtensor_us'], 1)} | {step['ratio']:.2f}x "
        f"(rounds {step['ratio_rounds']['min']:.2f}-{step['ratio_rounds']['max']:.2f}) |",
        f"| microtensor_raw | {fmt(step['microtensor_raw_us'], 1)} | {step['raw_ratio']:.2f}x "
        f"(rounds {step['raw_ratio_rounds']['min']:.2f}-"
        f"{step['raw_ratio_rounds']['max']:.2f}) |",
        f"| numpy_hand | {fmt(step['numpy_hand_us'], 1)} | 1.00x |",
        "",
        f"ratio microtensor / numpy_hand = {step['ratio']:.2f}x; target <= "
        f"{step['target_ratio']:.1f}x: {'met' if step['meets_target'] else 'NOT met'}",
        "",
    ]
    if "scaling" in res:
        lines += [
            "### (c) per-op forward cost against the graph's length: `x * 1.0001` chains; "
            "us/op, median (min-max)",
            "",
            "| ops | microtensor | numpy keeping its outputs | difference |",
            "|---|---|---|---|",
        ]
        for n, d in res["scaling"].items():
            a, b = d["microtensor_us"], d["numpy_keeping_us"]
            lines.append(f"| {int(n):,} | {fmt(a)} | {fmt(b)} | {a['median'] - b['median']:.2f} |")
        lines.append("")
    return "\n".join(lines)


def profile_step(steps: int, top: int = 30) -> str:
    """cProfile of `steps` microtensor training steps, sorted by own time."""
    X, Y, params0 = make_problem(SEED)
    mt_step, _ = make_mt_step(X, Y, params0)
    case_step(mt_step, max(1, steps // 10))
    prof = cProfile.Profile()
    prof.enable()
    case_step(mt_step, steps)
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    return (
        f"### cProfile of {steps} microtensor training steps (sorted by own time)\n"
        + out.getvalue()
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        prog="python3 -m benchmarks.engine", description=__doc__.split("\n\n")[0]
    )
    ap.add_argument("--rounds", type=int, default=7, help="timing rounds (default 7)")
    ap.add_argument(
        "--steps", type=int, default=2000, help="training steps per round and case (default 2000)"
    )
    ap.add_argument("--chain", type=int, default=1000, help="ops per chain (default 1000)")
    ap.add_argument("--reps", type=int, default=10, help="chains per round and case (default 10)")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument(
        "--quick", action="store_true", help="one round, few steps: a smoke test, not a measurement"
    )
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON here")
    ap.add_argument(
        "--scaling",
        action="store_true",
        help="also time the forward of 1e3, 1e4 and 1e5-op chains (flat per-op cost?)",
    )
    ap.add_argument(
        "--profile",
        action="store_true",
        help="also print a cProfile of the microtensor training step",
    )
    args = ap.parse_args(argv)
    if args.quick:
        args.rounds, args.steps, args.chain, args.reps = 1, 50, 100, 2
    if min(args.rounds, args.steps, args.chain, args.reps) < 1:
        ap.error("--rounds, --steps, --chain and --reps must be positive")

    res = run(
        args.rounds,
        args.steps,
        args.chain,
        args.reps,
        args.seed,
        log=lambda s: print(s, file=sys.stderr, flush=True),
        scale=args.scaling,
    )
    res["meta"]["quick"] = args.quick
    print(report(res))
    if args.profile:
        print(profile_step(args.steps))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=2)
            f.write("\n")
    ok = res["train_step"]["grad_check_max_abs_diff"] < GRAD_TOL and all(
        math.isfinite(v) for v in (res["train_step"]["ratio"],)
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
