"""The benchmark suite: microtensor three ways (eager and idiomatic, eager with raw ops,
under mt.compile) side by side with hand-written numpy, PyTorch eager, JAX jit and HIPS
autograd.

    python3 -m benchmarks                  # the full suite (about 15 minutes on 2 cores)
    python3 -m benchmarks --quick          # one round, 2 steps, 5 workloads: the smoke test
    python3 -m benchmarks --workloads mlp-2-5-5-1,conv-b64-f32 --rounds 7
    python3 -m benchmarks --impls eager-raw,compiled,jax-jit   # numpy and eager always run
    python3 -m benchmarks --profile mlp-64-256-256-10-f32   # cProfile of the eager step
    python3 -m benchmarks --profile conv-b64-f32 --profile-impl compiled  # ... of mt.compile's
    python3 -m benchmarks --list           # the workloads and implementations

Every (workload, implementation) pair runs in a fresh Python process, once per round,
the pairs of a round in a shuffled (seeded) order, so no process inherits another's
imports, threads, allocator state or warm caches, and a slow spell of the machine hits
all implementations alike. Each process warms up, then times a few blocks of steps and
reports the median; the suite reports, per pair, the median over rounds and the spread
(min-max), the ratio to the hand-written numpy reference *of the same round* (median
and spread of the per-round ratios; likewise to PyTorch and to JAX), and the process's
peak RSS (ru_maxrss) and how much of it came after the imports. The first table puts
every implementation of a workload side by side.

A training step is forward + loss + backward + optimizer step. Before timing, one
process computes every implementation's gradients on the same weights and batch and
prints their max abs difference from the numpy reference's; the exit status is 1 when
microtensor's (eager, eager-raw or compiled) differ (or a job fails). After the rounds,
one process checks that eager microtensor's RSS after 1e4 training steps is the RSS after
1e2 (graphs are freed).

The environment is used as it is (OPENBLAS_*, OMP_*, MALLOC_* ... are printed in the
header, with numpy's BLAS as threadpoolctl sees it); `--env NAME=VALUE` and `--unset
NAME` change it for the timed processes, to compare. PyTorch runs with as many threads
as numpy's BLAS; JAX is held to one CPU when numpy's BLAS has one thread. Peers that are not
installed (pip install "microtensor[bench]") are skipped with a note. Nothing here
asserts on speed.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .worker import RESULT_TAG
from .workloads import IMPLS, LABELS, NOT_WRITTEN, PEERS, WORKLOADS

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_JSON = ROOT / "benchmarks" / "results" / "suite.json"
ENV_PREFIXES = (
    "OPENBLAS_",
    "GOTO",
    "OMP_",
    "MKL_",
    "BLIS_",
    "MALLOC_",
    "GLIBC_TUNABLES",
    "KMP_",
    "NUMEXPR_",
    "PYTHONMALLOC",
    "LD_PRELOAD",
)
GRAD_TOL = {"float64": 1e-10, "float32": 1e-4}  # relative to the largest gradient entry
MEMORY_WORKLOADS = ("mlp-2-5-5-1",)
# --quick without --workloads: one workload of each kind (the MSE and the CE MLP)
QUICK_WORKLOADS = (
    "mlp-2-5-5-1",
    "mlp-64-256-256-10-f32",
    "conv-b64-f32",
    "chain-1e3",
    "digits-epoch",
)
LINEAR_TOL = 1.5  # backward us/op at the largest N within this factor of the smallest N
FLAT_TOL = 1.25  # forward us/op likewise: recording costs the same per op at any N
RATIO_TO = ("numpy", "torch", "jax-jit")  # every time is also given as a ratio to these
MT_IMPLS = ("eager", "eager-raw", "compiled")  # microtensor's: a gradient that differs fails


def ratio_key(other: str) -> str:
    """The summary's key of the ratio to `other`: ratio_numpy, ratio_torch, ratio_jax_jit."""
    return "ratio_" + other.replace("-", "_")


# ------------------------------------------------------------------------- environment
def _version(dist: str):
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def sources_id() -> dict:
    """Which microtensor is measured: git HEAD (read only) and a hash of its sources as
    they are on disk (the library may be edited while the suite runs)."""
    pkg = ROOT / "microtensor"
    h = hashlib.sha256()
    for f in sorted(pkg.rglob("*.py")):
        h.update(str(f.relative_to(pkg)).encode() + b"\0" + f.read_bytes() + b"\0")
    try:
        head = (
            subprocess.run(
                ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
            ).stdout.strip()
            or None
        )
        dirty = bool(
            subprocess.run(
                ["git", "status", "--porcelain", "--", "microtensor"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=10,
            ).stdout.strip()
        )
    except (OSError, subprocess.SubprocessError):
        head, dirty = None, None
    return {
        "git_head": head,
        "microtensor_modified_since_head": dirty,
        "microtensor_sources_sha256": h.hexdigest()[:16],
    }


def environment(child_env: dict, changed: list) -> dict:
    """What the numbers depend on. (numpy's BLAS, seen by threadpoolctl, comes from the
    check process: this one imports no numpy, so its children start small.)"""
    return {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "python": sys.version.split()[0],
        "numpy": _version("numpy"),
        "torch": _version("torch"),
        "jax": _version("jax"),
        "autograd": _version("autograd"),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "env": {k: v for k, v in sorted(child_env.items()) if k.startswith(ENV_PREFIXES)},
        "env_as_is": not changed,
        "env_changes": changed,
        "loadavg_start": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }


# ---------------------------------------------------------------------------- children
class JobError(RuntimeError):
    pass


def run_child(spec: dict, env: dict, timeout: float = 600) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.worker", json.dumps(spec)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_TAG):
            if proc.returncode == 0:
                return json.loads(line[len(RESULT_TAG) :])
    tail = (proc.stdout + proc.stderr).strip().splitlines()[-8:]
    raise JobError(
        f"{spec.get('mode')} {spec.get('workload', '')} {spec.get('impl', '')} "
        f"exited {proc.returncode}:\n  " + "\n  ".join(tail)
    )


def save_digits(tmp: Path, env: dict) -> str:
    """models.digits()'s training set, saved once so the timed processes skip sklearn."""
    return run_child({"mode": "digits", "path": str(tmp / "digits.npz")}, env)["path"]


# ---------------------------------------------------------------------------- summaries
def stat(values: list) -> dict:
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "rounds": values,
    }


def summarize(raw: dict, workloads: list) -> dict:
    """Per workload and implementation: time, CPU time, ratios to numpy, torch and jax-jit
    (each taken within a round), memory; for chains, forward/backward per op and overhead
    over numpy."""
    out = {}
    for name in workloads:
        w = WORKLOADS[name]
        runs = {impl: raw[(n, impl)] for (n, impl) in raw if n == name}
        if not runs:
            continue
        ref = runs.get("numpy")
        entry = {"title": w.title, "kind": w.kind, "dtype": w.dtype, "unit": w.unit, "impls": {}}
        for impl, rounds in runs.items():
            ok = [r for r in rounds if r is not None]
            if not ok:
                entry["impls"][impl] = {"error": "every round failed"}
                continue
            d = {
                "us": stat([r["us"] for r in ok]),
                "cpu_us": stat([r["cpu_us"] for r in ok]),
                "peak_rss_mib": max(r["peak_rss_kib"] for r in ok) / 1024,
                "base_rss_mib": statistics.median(r["base_rss_kib"] for r in ok) / 1024,
                "failed_rounds": len(rounds) - len(ok),
            }
            d["over_imports_mib"] = d["peak_rss_mib"] - d["base_rss_mib"]
            if ok[0].get("meta"):
                d["meta"] = ok[0]["meta"]
            for other in RATIO_TO:
                if other in runs and other != impl:
                    pairs = [
                        (a["us"], b["us"])
                        for a, b in zip(rounds, runs[other])
                        if a is not None and b is not None
                    ]
                    if pairs:
                        d[ratio_key(other)] = stat([a / b for a, b in pairs])
            if w.kind == "chain":
                d["fwd_us"] = stat([r["fwd_us"] for r in ok])
                d["bwd_us"] = stat([r["bwd_us"] for r in ok])
                if ref and impl != "numpy":
                    pairs = [
                        (a["fwd_us"], b["us"])
                        for a, b in zip(rounds, ref)
                        if a is not None and b is not None
                    ]
                    d["overhead_us"] = stat([a - b for a, b in pairs])
            entry["impls"][impl] = d
        out[name] = entry
    return out


def evaluate_targets(summary: dict) -> list:
    """Each workload's target rows against the medians over rounds, then the chains'
    growth from the smallest N to the largest (eager)."""
    rows = []
    for name, entry in summary.items():
        for impl, against, limit in WORKLOADS[name].targets:
            d = entry["impls"].get(impl, {})
            if against == "overhead_us":
                value = d.get("overhead_us", {}).get("median")
                what = f"{impl}: forward per op with recording - bare numpy <= {limit:g} µs"
                met = value is not None and value <= limit
            else:
                value = d.get(ratio_key(against), {}).get("median")
                faster = against != "numpy" and limit == 1.0
                what = f"{impl} / {against} " + ("< 1 (faster)" if faster else f"<= {limit:g}x")
                met = value is not None and (value < limit if faster else value <= limit)
            rows.append(
                {
                    "workload": name,
                    "impl": impl,
                    "target": against,
                    "limit": limit,
                    "value": value,
                    "what": what,
                    "met": None if value is None else met,
                }
            )
    chains = sorted(
        (
            n
            for n, e in summary.items()
            if e["kind"] == "chain" and "bwd_us" in e["impls"].get("eager", {})
        ),
        key=lambda n: WORKLOADS[n].n_ops,
    )
    if len(chains) >= 2:
        first, last = chains[0], chains[-1]
        n0, n1 = f"N={WORKLOADS[first].n_ops:.0e}", f"N={WORKLOADS[last].n_ops:.0e}"
        for target, key, tol, what in (
            ("linear_backward", "bwd_us", LINEAR_TOL, "backward"),
            ("flat_forward", "fwd_us", FLAT_TOL, "forward"),
        ):
            growth = (
                summary[last]["impls"]["eager"][key]["median"]
                / summary[first]["impls"]["eager"][key]["median"]
            )
            rows.append(
                {
                    "workload": f"{first} .. {last}",
                    "impl": "eager",
                    "target": target,
                    "limit": tol,
                    "value": growth,
                    "what": f"eager: {what} µs/op at {n1} over {n0} <= {tol:g}",
                    "met": growth <= tol,
                }
            )
    return rows


# ----------------------------------------------------------------------------- markdown
def _fmt_time(us: float, unit: str) -> str:
    if unit == "epoch":
        return f"{us / 1000:,.1f} ms"
    return f"{us:,.1f} µs" if us < 1e4 else f"{us / 1000:,.2f} ms"


def _f2(x: float) -> str:
    return f"{x:.2f}"


def _span(s: dict, fmt) -> str:
    """median (min–max) over rounds; the median alone after one round."""
    if len(s["rounds"]) == 1:
        return fmt(s["median"])
    return f"{fmt(s['median'])} ({fmt(s['min'])}–{fmt(s['max'])})"


def _side_by_side(res: dict, steps: dict) -> list:
    """One row per workload: numpy's time, every other implementation's ratio to it."""
    meta = res["meta"]
    columns = [i for i in IMPLS if i in meta["impls"] or i in meta["not_installed"]]
    lines = [
        "",
        "## Training steps side by side: hand-written numpy's time per step, every other "
        "implementation's time ÷ numpy's in the same round (median over rounds, min–max)",
        "",
        "; ".join(f"`{i}`: {LABELS[i]}" for i in columns),
        "",
        "| workload | " + " | ".join(columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for name, e in steps.items():
        cells = []
        for impl in columns:
            d = e["impls"].get(impl)
            if impl not in WORKLOADS[name].impls:
                cells.append("—")
            elif impl in meta["not_installed"]:
                cells.append("not installed")
            elif d is None:
                cells.append("")
            elif "error" in d:
                cells.append("FAILED")
            elif impl == "numpy":
                cells.append(_span(d["us"], functools.partial(_fmt_time, unit=e["unit"])))
            else:
                cells.append(
                    _span(d["ratio_numpy"], lambda x: f"{x:.2f}x") if "ratio_numpy" in d else ""
                )
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def report(res: dict) -> str:
    env, meta = res["environment"], res["meta"]
    blas = [p for p in (env.get("threadpoolctl") or []) if p.get("user_api") == "blas"]
    blas_txt = (
        ", ".join(
            f"{p['internal_api']} {p.get('version')} ({p.get('architecture')}, "
            f"{p['num_threads']} thread{'s' if p['num_threads'] != 1 else ''})"
            for p in blas
        )
        or "threadpoolctl absent"
    )
    env_txt = (
        ", ".join(f"{k}={v}" for k, v in env["env"].items())
        or "none of OPENBLAS_*/OMP_*/MKL_*/MALLOC_* set"
    )
    load = env.get("loadavg_start")
    end = meta.get("loadavg_end")
    lines = [
        f"# microtensor benchmark suite — {env['date_utc']} UTC",
        "",
        f"- machine: {env['cpu']}, {env['cpu_count']} CPUs ({env['affinity']} usable), "
        f"{env['platform']}",
        f"- python {env['python']}, numpy {env['numpy']}, torch {env['torch'] or 'absent'}, "
        f"jax {env['jax'] or 'absent'}, HIPS autograd {env['autograd'] or 'absent'}; "
        f"numpy's BLAS: {blas_txt}",
        (
            f"- environment used as is: {env_txt}"
            if env["env_as_is"]
            else f"- environment CHANGED for the timed processes ({', '.join(env['env_changes'])}); "
            f"then: {env_txt}"
        ),
        f"- load average at start {', '.join(f'{x:.2f}' for x in load) if load else '?'}"
        f"{', at end ' + ', '.join(f'{x:.2f}' for x in end) if end else ''}"
        + (
            " — the machine was busy: treat the times as noisy"
            if load
            and max(load[0], (end or load)[0]) > 0.75 * (env["affinity"] or env["cpu_count"])
            else ""
        ),
        f"- microtensor sources {meta['sources']['microtensor_sources_sha256']} "
        f"(HEAD {(meta['sources']['git_head'] or '?')[:10]}"
        f"{', modified since' if meta['sources']['microtensor_modified_since_head'] else ''})"
        + (
            ""
            if meta["sources_unchanged"]
            else " — THE SOURCES CHANGED DURING THE RUN: the numbers mix versions"
        ),
        f"- method: every (workload, implementation) in a fresh process, {meta['rounds']} "
        f"round(s) in shuffled order, ~{meta['budget']} s of timed steps per process "
        f"in {meta['blocks']} blocks (median); ratios are per round, then the median "
        f"(min–max) over rounds{'; QUICK MODE: not a measurement' if meta['quick'] else ''}",
    ]
    threads = sorted(
        {
            d["meta"]["torch_threads"]
            for e in res["summary"].values()
            for d in e["impls"].values()
            if d.get("meta", {}).get("torch_threads")
        }
    )
    if threads:
        lines.append(
            f"- PyTorch threads: {', '.join(map(str, threads))} (set to numpy's BLAS threads)"
        )
    if meta["skipped"]:
        lines.append("- skipped: " + "; ".join(meta["skipped"]))
    lines += [
        "",
        "## Gradients and updates before timing (max abs difference from the hand-written "
        "numpy reference, same weights and batch; MLPs and the conv net: also the weights "
        "after two training steps)",
        "",
        "| workload | implementation | gradients: max abs diff | max abs grad | loss diff | "
        "weights after the steps: max abs diff | ok |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, c in res["grad_check"].items():
        for impl, d in c["impls"].items():
            weights = f"{d['weights_max_abs_diff']:.2e}" if "weights_max_abs_diff" in d else "—"
            lines.append(
                f"| {name} | {impl} | {d['max_abs_diff']:.2e} | "
                f"{c['max_abs_grad']:.2e} | {d['loss_abs_diff']:.1e} | {weights} | "
                f"{'yes' if d['ok'] else 'NO'} |"
            )
    steps = {n: e for n, e in res["summary"].items() if e["kind"] != "chain"}
    if steps:
        lines += _side_by_side(res, steps)
        lines += [
            "",
            "## Training steps, one row per implementation (forward + loss + backward + "
            "optimizer step; digits: one epoch)",
            "",
            "| workload | implementation | time per step, median (min–max) | "
            "× numpy, same round | × PyTorch, same round | × JAX jit, same round | "
            "CPU ÷ wall | peak RSS MiB (after imports) |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for name, e in steps.items():
            for impl in IMPLS:
                d = e["impls"].get(impl)
                if d is None:
                    continue
                if "error" in d:
                    lines.append(f"| {name} | {impl} | FAILED | | | | | |")
                    continue
                ratios = [
                    _span(d[ratio_key(o)], _f2) if ratio_key(o) in d else ("1" if impl == o else "")
                    for o in RATIO_TO
                ]
                lines.append(
                    f"| {name} | {impl} | "
                    f"{_span(d['us'], functools.partial(_fmt_time, unit=e['unit']))} | "
                    + " | ".join(ratios)
                    + f" | {d['cpu_us']['median'] / d['us']['median']:.2f} | "
                    f"{d['peak_rss_mib']:.0f} (+{d['over_imports_mib']:.0f}) |"
                )
    chains = {n: e for n, e in res["summary"].items() if e["kind"] == "chain"}
    if chains:
        lines += [
            "",
            "## Op chains: `x = x * 1.0001` on a (100,) float64 tensor, N ops "
            "recorded, then backward",
            "",
            "| N | implementation | forward µs/op | backward µs/op | "
            "forward − numpy µs/op | peak RSS MiB (after imports) |",
            "|---|---|---|---|---|---|",
        ]
        for name, e in chains.items():
            n = f"{WORKLOADS[name].n_ops:.0e}"
            for impl in IMPLS:
                d = e["impls"].get(impl)
                if d is None:
                    continue
                if "error" in d:
                    lines.append(f"| {n} | {impl} | FAILED | | | |")
                    continue
                bwd = (
                    "—"
                    if impl == "numpy"
                    else "in forward"
                    if impl == "compiled"
                    else _span(d["bwd_us"], _f2)
                )
                over = _span(d["overhead_us"], _f2) if "overhead_us" in d else "—"
                lines.append(
                    f"| {n} | {impl} | {_span(d['fwd_us'], _f2)} | {bwd} | {over} | "
                    f"{d['peak_rss_mib']:.0f} (+{d['over_imports_mib']:.0f}) |"
                )
    if res["targets"]:
        lines += [
            "",
            "## Targets (microtensor eager, eager-raw and compiled; medians over rounds)",
            "",
            "| workload | target | measured | met |",
            "|---|---|---|---|",
        ]
        for t in res["targets"]:
            v = t["value"]
            shown = (
                "—"
                if v is None
                else (
                    f"{v:.2f} µs"
                    if t["target"] == "overhead_us"
                    else f"{v:.2f}"
                    if t["target"] in ("linear_backward", "flat_forward")
                    else f"{v:.2f}x"
                )
            )
            met = "—" if t["met"] is None else ("yes" if t["met"] else "**no**")
            lines.append(f"| {t['workload']} | {t['what']} | {shown} | {met} |")
    mem = res.get("memory")
    if mem:
        lines += [
            "",
            "## Memory: RSS of one process after many training steps (eager, no explicit gc)",
            "",
            "| workload | RSS after early steps | RSS after late steps | growth | "
            "gc.collect() found | live graph nodes | no growth |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, m in mem.items():
            lines.append(
                f"| {name} | {m['rss_early_kib'] / 1024:.1f} MiB after "
                f"{m['early_steps']:,} | {m['rss_late_kib'] / 1024:.1f} MiB after "
                f"{m['late_steps']:,} | {m['growth_kib']:+d} KiB | "
                f"{m['gc_unreachable']} objects | {m['live_nodes']} | "
                f"{'yes' if m['ok'] else '**no**'} |"
            )
    if res["errors"]:
        lines += ["", "## Errors", ""] + [f"- {e}" for e in res["errors"]]
    return "\n".join(lines) + "\n"


def profile_table(name: str, res: dict, impl: str = "eager") -> str:
    """cProfile's top functions by own time, per step and per call (µs)."""
    n = res["steps"]
    unit = "chain" if WORKLOADS[name].kind == "chain" else WORKLOADS[name].unit
    lines = [
        f"### cProfile of {n} {impl} {unit}s of {name} ({res['total_s'] / n * 1e6:,.0f} "
        f"µs per {unit} under the profiler), sorted by own time",
        "",
        f"| function | calls per {unit} | own µs per call | own µs per {unit} | "
        f"own % | cumulative µs per {unit} |",
        "|---|---|---|---|---|---|",
    ]
    for r in res["top"]:
        lines.append(
            f"| `{r['function']}` | {r['ncalls'] / n:g} | "
            f"{r['tottime_s'] / r['ncalls'] * 1e6:.2f} | {r['tottime_s'] / n * 1e6:.1f} | "
            f"{100 * r['tottime_s'] / res['total_s']:.1f} | "
            f"{r['cumtime_s'] / n * 1e6:.1f} |"
        )
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------- main
def _parse_env(args) -> tuple[dict, list]:
    env = dict(os.environ)
    changed = []
    for item in args.env or ():
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise SystemExit(f"--env expects NAME=VALUE, got {item!r}")
        env[name] = value
        changed.append(f"{name}={value}")
    for name in args.unset or ():
        env.pop(name, None)
        changed.append(f"unset {name}")
    # the children import `benchmarks` and `microtensor` from this checkout
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    )
    return env, changed


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        prog="python3 -m benchmarks",
        description="\n\n".join(__doc__.split("\n\n")[:2]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--rounds", type=int, default=5, help="timing rounds (default 5)")
    ap.add_argument(
        "--budget", type=float, default=0.8, help="seconds of timed steps per process (default 0.8)"
    )
    ap.add_argument(
        "--blocks",
        type=int,
        default=5,
        help="timed blocks per process, the median is kept (default 5)",
    )
    ap.add_argument("--workloads", help="comma-separated names (default: all; see --list)")
    ap.add_argument(
        "--impls",
        help=f"comma-separated, from {','.join(IMPLS)} (default: all "
        f"installed; numpy always runs, as the reference)",
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--quick",
        action="store_true",
        help="one round, 2 steps per process, one workload of each kind "
        "(unless --workloads), memory check over 10 vs 100 steps: a "
        "smoke test, not a measurement",
    )
    ap.add_argument(
        "--json",
        metavar="PATH",
        default=str(DEFAULT_JSON),
        help=f"where to write the results (default {DEFAULT_JSON.relative_to(ROOT)})",
    )
    ap.add_argument("--markdown", metavar="PATH", help="also write the tables here")
    ap.add_argument(
        "--env",
        action="append",
        metavar="NAME=VALUE",
        help="set a variable for the timed processes (repeatable)",
    )
    ap.add_argument(
        "--unset",
        action="append",
        metavar="NAME",
        help="remove a variable for the timed processes (repeatable)",
    )
    ap.add_argument(
        "--memory-steps",
        help="early,late step counts of the memory check (default 100,10000; 10,100 with --quick)",
    )
    ap.add_argument(
        "--memory-workloads",
        help=f"comma-separated workloads of the memory "
        f"check (default {','.join(MEMORY_WORKLOADS)})",
    )
    ap.add_argument("--no-memory", action="store_true", help="skip the memory check")
    ap.add_argument(
        "--profile",
        metavar="WORKLOAD",
        help="only print a cProfile of microtensor on WORKLOAD (no timing)",
    )
    ap.add_argument("--profile-steps", type=int, default=200)
    ap.add_argument(
        "--profile-impl",
        default="eager",
        choices=MT_IMPLS,
        help="what --profile profiles (default eager)",
    )
    ap.add_argument("--list", action="store_true", help="list workloads and exit")
    args = ap.parse_args(argv)
    log = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731

    if args.list:
        for w in WORKLOADS.values():
            print(f"{w.name:26s} {', '.join(w.impls):62s} {w.title}")
        return 0
    env, changed = _parse_env(args)
    names = list(WORKLOADS) if not args.workloads else args.workloads.split(",")
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        ap.error(f"unknown workload(s) {unknown}; use --list")
    if args.quick:
        args.rounds, args.budget, args.blocks = 1, 0.0, 1
        if not args.workloads:
            names = list(QUICK_WORKLOADS)
    bad = [n for n in (args.memory_workloads or "").split(",") if n and n not in WORKLOADS]
    if bad:
        ap.error(f"unknown memory workload(s) {bad}; use --list")
    if args.memory_steps is None:
        args.memory_steps = "10,100" if args.quick else "100,10000"
    early, late = (int(x) for x in args.memory_steps.split(","))
    if args.rounds < 1 or args.blocks < 1 or args.budget < 0 or not 0 < early < late:
        ap.error(
            "--rounds and --blocks must be positive, --budget >= 0, and the memory "
            "steps 0 < early < late"
        )

    wanted = set(IMPLS if not args.impls else args.impls.split(",")) | {"numpy", "eager"}
    if wanted - set(IMPLS):
        ap.error(f"unknown implementation(s) {sorted(wanted - set(IMPLS))}; use --list")
    skipped, not_installed = [], []
    for impl, module in PEERS.items():
        if impl in wanted and importlib.util.find_spec(module) is None:
            wanted.discard(impl)
            not_installed.append(impl)
            skipped.append(f'{impl} is not installed (pip install "microtensor[bench]")')
    if "digits-epoch" in names and importlib.util.find_spec("sklearn") is None:
        names.remove("digits-epoch")
        skipped.append("digits-epoch needs scikit-learn (models.digits)")
    kinds = {WORKLOADS[n].kind for n in names}
    skipped += [
        f"{impl} has no {kind} version: {why}"
        for (impl, kind), why in NOT_WRITTEN.items()
        if impl in wanted and kind in kinds
    ]

    with tempfile.TemporaryDirectory(prefix="mt-bench-") as tmp:
        data = save_digits(Path(tmp), env) if "digits-epoch" in names else None
        if args.profile:
            if args.profile not in WORKLOADS:
                ap.error(f"unknown workload {args.profile!r}")
            res = run_child(
                {
                    "mode": "profile",
                    "workload": args.profile,
                    "impl": args.profile_impl,
                    "steps": args.profile_steps,
                    "seed": args.seed,
                    "data": data,
                    "top": 30,
                },
                env,
            )
            print(profile_table(args.profile, res, args.profile_impl))
            return 0
        peers = {"skipped": skipped, "not_installed": not_installed}
        return _suite(args, names, wanted, peers, env, changed, data, early, late, log)


def _suite(args, names, wanted, peers, env, changed, data, early, late, log) -> int:
    sources = sources_id()
    res = {"environment": environment(env, changed), "errors": []}
    log(res["environment"]["date_utc"] + f" — {len(names)} workloads, rounds={args.rounds}")

    # -- gradients first
    checked = run_child(
        {
            "mode": "check",
            "workloads": names,
            "impls": sorted(wanted),
            "seed": args.seed,
            "data": data,
        },
        env,
    )
    check = checked["workloads"]
    res["environment"].update(checked["info"])
    grad_ok = True
    for name, c in check.items():
        rel = GRAD_TOL[WORKLOADS[name].dtype]
        for impl, d in c["impls"].items():
            d["ok"] = d["max_abs_diff"] <= rel * max(1.0, c["max_abs_grad"]) and (
                "weights_max_abs_diff" not in d
                or d["weights_max_abs_diff"] <= rel * max(1.0, c["max_abs_weight"])
            )
            if impl in MT_IMPLS and not d["ok"]:
                grad_ok = False
            weights = (
                f", weights after {c['check_steps']} steps {d['weights_max_abs_diff']:.2e}"
                if "weights_max_abs_diff" in d
                else ""
            )
            log(
                f"gradient check {name:26s} {impl:12s} max abs diff {d['max_abs_diff']:.2e} "
                f"(max |grad| {c['max_abs_grad']:.2e}){weights} {'OK' if d['ok'] else 'DIFFERS'}"
            )
    res["grad_check"] = check

    # -- timing rounds
    jobs = [(n, impl) for n in names for impl in WORKLOADS[n].impls if impl in wanted]
    raw = {job: [] for job in jobs}
    order_rng = random.Random(args.seed)
    t_start = time.perf_counter()
    loads = []
    for r in range(args.rounds):
        order = list(jobs)
        order_rng.shuffle(order)
        for name, impl in order:
            spec = {
                "mode": "time",
                "workload": name,
                "impl": impl,
                "seed": args.seed,
                "budget": args.budget,
                "blocks": args.blocks,
                "min_warm": 1 if args.quick else 2,
                "data": data,
            }
            try:
                raw[(name, impl)].append(run_child(spec, env))
            except (JobError, subprocess.TimeoutExpired) as e:
                raw[(name, impl)].append(None)
                res["errors"].append(f"round {r + 1}: {e}")
                log(f"FAILED: {e}")
        loads.append(os.getloadavg()[0] if hasattr(os, "getloadavg") else None)
        log(
            f"round {r + 1}/{args.rounds} done ({time.perf_counter() - t_start:.0f} s, "
            f"load {loads[-1]})"
        )

    # -- memory
    mem_names = (
        args.memory_workloads.split(",") if args.memory_workloads else list(MEMORY_WORKLOADS)
    )
    if not args.no_memory:
        try:
            mem = run_child(
                {
                    "mode": "memory",
                    "workloads": mem_names,
                    "early": early,
                    "late": late,
                    "seed": args.seed,
                },
                env,
            )
            for m in mem.values():
                # "no growth": within 1% of the early RSS or 256 KiB (allocator noise),
                # nothing left for the cycle collector, no graph node alive
                m["ok"] = (
                    m["growth_kib"] <= max(256, 0.01 * m["rss_early_kib"])
                    and m["gc_unreachable"] == 0
                    and m["live_nodes"] == 0
                )
            res["memory"] = mem
        except (JobError, subprocess.TimeoutExpired) as e:
            res["errors"].append(f"memory: {e}")

    sources_after = sources_id()
    res["meta"] = {
        "rounds": args.rounds,
        "budget": args.budget,
        "blocks": args.blocks,
        "seed": args.seed,
        "quick": args.quick,
        "workloads": names,
        "impls": sorted(wanted),
        **peers,
        "sources": sources,
        "sources_unchanged": sources == sources_after,
        "loadavg_end": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "loadavg_per_round": loads,
        "wall_s": time.perf_counter() - t_start,
    }
    res["summary"] = summarize(raw, names)
    res["targets"] = evaluate_targets(res["summary"])
    res["raw"] = {f"{n}|{i}": v for (n, i), v in raw.items()}
    text = report(res)
    print(text)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)
            f.write("\n")
        log(f"results written to {args.json}")
    if args.markdown:
        Path(args.markdown).write_text(text)
    # the memory verdict counts in a real run; quick mode's 10 vs 100 steps are a smoke test
    mem_ok = args.quick or all(m["ok"] for m in res.get("memory", {}).values())
    return 0 if grad_ok and not res["errors"] and mem_ok else 1


if __name__ == "__main__":
    sys.exit(main())
