"""One job of the suite, run in a fresh process by benchmarks.run:

    python3 -m benchmarks.worker '{"mode": "time", "workload": "mlp-2-5-5-1", ...}'

Modes:
  time     build one implementation of one workload, warm it up, then time `blocks`
           blocks of steps (or of op chains) within about `budget` seconds; report the
           median per-step (per-op) time of the blocks, the process's peak RSS and its
           RSS after the imports.
  check    for each listed workload, the gradients of every listed implementation on
           the same weights and batch, and (MLPs, conv net) its weights after CHECK_STEPS
           training steps, against the hand-written numpy reference's.
  memory   microtensor's eager RSS after `early` and after `late` training steps, the live
           graph nodes and what the garbage collector found (graphs must be freed by
           reference counting, so nothing grows).
  profile  cProfile of `steps` steps (or op chains) of one implementation (eager unless
           `impl` says), top functions by own time.
  digits   save models.digits()'s training set for the digits-epoch workload.

The result is printed as one JSON line after RESULT_TAG on stdout.
"""

from __future__ import annotations

import cProfile
import gc
import io
import json
import os
import pstats
import resource
import statistics
import sys
import time

RESULT_TAG = "@@benchmark-result@@ "
CHECK_STEPS = 2  # a compiled step records on the first call and replays from the second


def rss_kib() -> int:
    """Resident set size now, in KiB (Linux's /proc; elsewhere the peak)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
    except OSError:
        return peak_rss_kib()


def peak_rss_kib() -> int:
    """ru_maxrss of this process, in KiB. On Linux it is at least the RSS the parent had
    when it started this process (the high-water mark survives exec), so the suite's
    runner keeps its own RSS small; vm_hwm_kib() is the exec'd image's own peak."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak  # macOS counts bytes


def vm_hwm_kib() -> int | None:
    """VmHWM: the peak RSS of this process image since exec (Linux), in KiB."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _time_steps(runner, budget: float, blocks: int, min_warm: int) -> dict:
    """Warm up (at least min_warm steps and 15% of the budget), then `blocks` blocks
    of equal step counts sized to fill the budget; per-step seconds of each block, wall
    clock, and the process's CPU time per step (all its threads: below the wall time
    when the process waited for a core, above it when BLAS ran in parallel)."""
    perf, cpu = time.perf_counter, time.process_time
    step = runner.step
    t0 = perf()
    warm = 0
    while warm < min_warm or perf() - t0 < 0.15 * budget:
        step()
        warm += 1
    per = (perf() - t0) / warm
    k = max(1, int(budget / blocks / per)) if budget > 0 else 1
    times, cpus = [], []
    for _ in range(blocks):
        c0 = cpu()
        t0 = perf()
        for _ in range(k):
            step()
        times.append((perf() - t0) / k)
        cpus.append((cpu() - c0) / k)
    return {
        "us": statistics.median(times) * 1e6,
        "blocks_us": [t * 1e6 for t in times],
        "cpu_us": statistics.median(cpus) * 1e6,
        "steps_per_block": k,
        "warm_steps": warm,
    }


def _time_chain(runner, budget: float, blocks: int, min_warm: int) -> dict:
    """The same for op chains: each block runs enough chains for about budget/blocks."""
    runner.block(min_warm)  # warm-up
    tf, tb, ops = runner.block(1)
    per_chain = tf + tb
    chains = max(1, int(budget / blocks / per_chain)) if budget > 0 else 1
    fwd, bwd, cpus = [], [], []
    for _ in range(blocks):
        c0 = time.process_time()
        tf, tb, ops = runner.block(chains)
        cpus.append((time.process_time() - c0) / ops * 1e6)
        fwd.append(tf / ops * 1e6)
        bwd.append(tb / ops * 1e6)
    return {
        "us": statistics.median(fwd),
        "fwd_us": statistics.median(fwd),
        "bwd_us": statistics.median(bwd),
        "blocks_fwd_us": fwd,
        "blocks_bwd_us": bwd,
        "cpu_us": statistics.median(cpus),
        "chains_per_block": chains,
        "ops_per_chain": runner.n,
    }


def run_time(spec: dict) -> dict:
    from .runners import build
    from .workloads import WORKLOADS

    base = rss_kib()
    runner = build(spec["workload"], spec["impl"], spec.get("seed", 0), spec.get("data"))
    timer = _time_chain if WORKLOADS[spec["workload"]].kind == "chain" else _time_steps
    res = timer(runner, spec.get("budget", 0.8), spec.get("blocks", 5), spec.get("min_warm", 2))
    res.update(
        peak_rss_kib=peak_rss_kib(), vm_hwm_kib=vm_hwm_kib(), base_rss_kib=base, meta=runner.meta
    )
    return res


def _max_abs_diff(arrays, refs) -> float:
    """max |a - r| over the lists, in float64; inf when their shapes differ."""
    import numpy as np

    if [np.shape(a) for a in arrays] != [np.shape(r) for r in refs]:
        return float("inf")
    return max(
        float(np.max(np.abs(np.asarray(a, dtype=np.float64) - r))) for a, r in zip(arrays, refs)
    )


def _weights_after_steps(runner) -> list:
    import numpy as np

    for _ in range(CHECK_STEPS):
        runner.step()
    return [np.array(w, dtype=np.float64) for w in runner.weights()]


def run_check(spec: dict) -> dict:
    """max |grad - reference grad| per workload and implementation, and for the MLPs and
    the conv net max |weight - reference weight| after CHECK_STEPS steps (the digits
    epoch draws dropout masks, each library its own)."""
    import numpy as np

    from .runners import build
    from .workloads import WORKLOADS

    out = {}
    for name in spec["workloads"]:
        w = WORKLOADS[name]
        stepped = w.kind in ("mlp", "conv")
        impls = [i for i in w.impls if i in spec["impls"] or i == "numpy"]
        reference = build(name, "numpy", spec.get("seed", 0), spec.get("data"))
        ref_loss, ref_grads = reference.grads()
        scale = max(float(np.max(np.abs(g))) for g in ref_grads)
        res = {"max_abs_grad": scale, "impls": {}}
        if stepped:
            ref_weights = _weights_after_steps(reference)
            res["max_abs_weight"] = max(float(np.max(np.abs(p))) for p in ref_weights)
            res["check_steps"] = CHECK_STEPS
        for impl in impls:
            if impl == "numpy":
                continue
            runner = build(name, impl, spec.get("seed", 0), spec.get("data"))
            loss, grads = runner.grads()
            res["impls"][impl] = {
                "max_abs_diff": _max_abs_diff(grads, ref_grads),
                "loss_abs_diff": abs(loss - ref_loss),
                "dtypes": sorted({str(np.asarray(g).dtype) for g in grads}),
            }
            if stepped:
                weights = _weights_after_steps(runner)
                res["impls"][impl]["weights_max_abs_diff"] = _max_abs_diff(weights, ref_weights)
        out[name] = res
    return {"workloads": out, "info": _numpy_info()}


def _numpy_info() -> dict:
    """numpy's version and BLAS as threadpoolctl sees it (in this process)."""
    import numpy as np

    info = {"numpy": np.__version__}
    try:
        from threadpoolctl import threadpool_info

        info["threadpoolctl"] = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    except ImportError:
        info["threadpoolctl"] = None
    return info


def run_digits(spec: dict) -> dict:
    """Save models.digits()'s training set where the timed processes read it (no sklearn)."""
    import numpy as np

    from models import digits

    xtr, _, ytr, _ = digits()
    np.savez(spec["path"], X=xtr, y=ytr)
    return {"path": spec["path"], "n": len(xtr)}


def run_memory(spec: dict) -> dict:
    """RSS after `early` and after `late` steps of microtensor, no explicit collection in
    between (as a user runs); then what gc.collect() finds and how many graph nodes live."""
    from microtensor.autograd import Node

    from .runners import build

    out = {}
    for name in spec["workloads"]:
        runner = build(name, "eager", spec.get("seed", 0), spec.get("data"))
        gc.collect()  # cycles left by imports (enum classes, ...) are not the steps' garbage
        early, late = spec["early"], spec["late"]
        for _ in range(early):
            runner.step()
        rss_early = rss_kib()
        for _ in range(late - early):
            runner.step()
        rss_late = rss_kib()
        unreachable = gc.collect()
        nodes = sum(1 for o in gc.get_objects() if isinstance(o, Node))
        out[name] = {
            "early_steps": early,
            "late_steps": late,
            "rss_early_kib": rss_early,
            "rss_late_kib": rss_late,
            "growth_kib": rss_late - rss_early,
            "gc_unreachable": unreachable,
            "live_nodes": nodes,
            "peak_rss_kib": peak_rss_kib(),
        }
    return out


def _qualname(file: str, line: int, fn: str) -> str:
    """fn with its enclosing class, read from the source ("Linear.forward")."""
    import linecache

    indent = None
    for i in range(line, 0, -1):
        text = linecache.getline(file, i)
        stripped = text.lstrip()
        if indent is None:
            if stripped.startswith(("def ", "async def ")):
                indent = len(text) - len(stripped)
            continue
        if stripped.startswith("class ") and len(text) - len(stripped) < indent:
            return stripped[6:].split("(")[0].split(":")[0] + "." + fn
        if stripped and not stripped.startswith(("#", "@")) and len(text) - len(stripped) == 0:
            break
    return fn


def run_profile(spec: dict) -> dict:
    from .runners import build
    from .workloads import WORKLOADS

    runner = build(
        spec["workload"], spec.get("impl", "eager"), spec.get("seed", 0), spec.get("data")
    )
    chain = WORKLOADS[spec["workload"]].kind == "chain"
    work = (lambda: runner.block(1)) if chain else runner.step
    for _ in range(max(1, spec["steps"] // 10)):
        work()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(spec["steps"]):
        work()
    prof.disable()
    text = io.StringIO()
    stats = pstats.Stats(prof, stream=text)
    stats.sort_stats(spec.get("sort", "tottime")).print_stats(spec.get("top", 30))
    rows = []
    for (file, line, fn), (_, nc, tt, ct, _) in stats.stats.items():
        where = (
            os.path.relpath(file)
            if file.startswith(os.getcwd())
            else os.path.basename(file)
            if file.startswith("/")
            else file
        )
        name = _qualname(file, line, fn) if line and file.startswith("/") else fn
        rows.append(
            {
                "function": f"{where}:{line}({name})" if line else fn,
                "ncalls": nc,
                "tottime_s": tt,
                "cumtime_s": ct,
            }
        )
    rows.sort(key=lambda r: -r["tottime_s"])
    return {
        "steps": spec["steps"],
        "text": text.getvalue(),
        "top": rows[: spec.get("top", 30)],
        "total_s": sum(r["tottime_s"] for r in rows),
    }


MODES = {
    "time": run_time,
    "check": run_check,
    "memory": run_memory,
    "profile": run_profile,
    "digits": run_digits,
}


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    spec = json.loads(argv[0])
    result = MODES[spec["mode"]](spec)
    sys.stdout.write(RESULT_TAG + json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
