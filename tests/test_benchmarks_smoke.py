"""Smoke tests of the benchmarks: `python -m benchmarks.engine --quick --json PATH` and
the suite's `python -m benchmarks --quick` run, write the expected JSON, and their
gradient checks pass. Speed is never asserted."""

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OPS = ("mul", "add", "tanh")
STAT_KEYS = ("median", "min", "max", "rounds")


def _positive_finite(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


def _check_stat(stat, where):
    assert set(STAT_KEYS) <= set(stat), where
    values = [stat["median"], stat["min"], stat["max"], *stat["rounds"]]
    assert stat["rounds"], where
    assert all(_positive_finite(v) for v in values), (where, stat)
    assert stat["min"] <= stat["median"] <= stat["max"], (where, stat)


def test_quick_benchmark_runs_and_writes_json(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.engine", "--quick", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "| microtensor |" in proc.stdout and "| numpy_hand |" in proc.stdout
    res = json.loads(out.read_text())

    assert {"meta", "primitive", "train_step"} <= set(res)
    assert res["meta"]["quick"] is True
    assert res["meta"]["rounds"] == 1

    prim = res["primitive"]
    assert set(OPS) <= set(prim)
    for op in OPS:
        d = prim[op]
        for key in ("numpy_us", "no_grad_us", "forward_us", "backward_us"):
            _check_stat(d[key], f"{op}.{key}")
        assert _positive_finite(d["forward_over_numpy"])
        assert _positive_finite(d["fwd_bwd_over_numpy"])
        assert d["grad_check_max_abs_diff"] < 1e-12, (op, d["grad_check_max_abs_diff"])

    step = res["train_step"]
    _check_stat(step["microtensor_us"], "microtensor_us")
    _check_stat(step["numpy_hand_us"], "numpy_hand_us")
    _check_stat(step["ratio_rounds"], "ratio_rounds")
    assert _positive_finite(step["ratio"])
    assert step["target_ratio"] == 2.0
    assert isinstance(step["meets_target"], bool)
    diff = step["grad_check_max_abs_diff"]
    assert isinstance(diff, float) and math.isfinite(diff) and 0 <= diff < 1e-12, diff
    assert step["grad_check"]["max_abs_diff"] == diff
    assert step["grad_check"]["max_abs_grad"] > 0  # the check compared real gradients
    assert step["weights_max_abs_diff_after_training"] < 1e-9


# ------------------------------------------------------------- the suite: python -m benchmarks
QUICK_WORKLOADS = (
    "mlp-2-5-5-1",
    "mlp-64-256-256-10-f32",
    "conv-b64-f32",
    "chain-1e3",
    "digits-epoch",
)


def _run_suite(tmp_path, *args):
    out = tmp_path / "suite.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--json", str(out), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout, json.loads(out.read_text())


@pytest.fixture(scope="module")
def quick_suite(tmp_path_factory):
    """One quick run of every kind of workload, its memory check at 10 and 50 steps, read
    by the two tests below (a run costs seconds: every job is a fresh process)."""
    return _run_suite(
        tmp_path_factory.mktemp("suite"), "--impls", "numpy,microtensor", "--memory-steps", "10,50"
    )


def test_quick_suite_times_every_kind_of_workload_in_fresh_processes(quick_suite):
    text, res = quick_suite
    meta = res["meta"]
    assert meta["quick"] is True and meta["rounds"] == 1
    assert tuple(meta["workloads"]) == QUICK_WORKLOADS
    assert "environment used as is" in text
    assert "| mlp-2-5-5-1 | microtensor |" in text and "| 1e+03 | microtensor |" in text

    for name in QUICK_WORKLOADS:
        impls = res["summary"][name]["impls"]
        assert {"numpy", "microtensor"} <= set(impls), name
        mt = impls["microtensor"]
        _check_stat(mt["us"], f"{name}.us")
        _check_stat(mt["ratio_numpy"], f"{name}.ratio_numpy")
        assert mt["peak_rss_mib"] >= mt["base_rss_mib"] > 0
        check = res["grad_check"][name]["impls"]["microtensor"]
        assert check["ok"] is True, (name, check)
        assert res["grad_check"][name]["max_abs_grad"] > 0  # real gradients were compared

    chain = res["summary"]["chain-1e3"]["impls"]["microtensor"]
    for key in ("fwd_us", "bwd_us"):
        _check_stat(chain[key], key)
    assert math.isfinite(chain["overhead_us"]["median"])
    assert {t["target"] for t in res["targets"]} >= {"numpy", "overhead_us"}


def test_quick_suite_checks_that_memory_does_not_grow(quick_suite):
    mem = quick_suite[1]["memory"]["mlp-2-5-5-1"]
    assert (mem["early_steps"], mem["late_steps"]) == (10, 50)
    assert mem["live_nodes"] == 0 and mem["gc_unreachable"] == 0  # graphs freed by refcount


def test_quick_suite_runs_the_installed_peers(tmp_path):
    pytest.importorskip("torch")
    text, res = _run_suite(
        tmp_path, "--workloads", "mlp-2-5-5-1,chain-1e3", "--impls", "torch,autograd", "--no-memory"
    )
    mlp = res["summary"]["mlp-2-5-5-1"]["impls"]
    assert res["grad_check"]["mlp-2-5-5-1"]["impls"]["torch"]["ok"] is True
    _check_stat(mlp["torch"]["ratio_numpy"], "torch.ratio_numpy")
    _check_stat(mlp["microtensor"]["ratio_torch"], "microtensor.ratio_torch")
    assert mlp["torch"]["meta"]["torch_threads"] >= 1
    if "autograd" in mlp:
        _check_stat(mlp["autograd"]["ratio_numpy"], "autograd.ratio_numpy")
    else:
        assert "autograd is not installed" in text
