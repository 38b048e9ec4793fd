"""Smoke tests of the benchmarks: `python -m benchmarks.engine --quick --json PATH` and
the suite's `python -m benchmarks --quick` run, write the expected JSON, and their
gradient checks pass. Speed is never asserted."""

import contextlib
import importlib.util
import io
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
PEER_MODULES = {"torch": "torch", "jax-jit": "jax", "autograd": "autograd"}
STEPPED = ("mlp-2-5-5-1", "mlp-64-256-256-10-f32", "conv-b64-f32")  # no dropout, no chain
RAW = STEPPED  # the chain is raw ops already; the digits epoch has no raw version
COLUMNS = ["numpy", "eager", "eager-raw", "compiled", "torch", "jax-jit", "autograd"]


def _run_suite(tmp_path, *args):
    out = tmp_path / "suite.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--json", str(out), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout, json.loads(out.read_text())


def _table(text: str, header_start: str) -> dict:
    """The markdown table whose header starts with header_start: {first cell: cells}."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = {}
    for line in [lines[start], *lines[start + 2 :]]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0]] = cells[1:]
    return rows


@pytest.fixture(scope="module")
def quick_suite(tmp_path_factory):
    """One quick run of every kind of workload with every implementation, the peers
    hidden as if not installed (as in CI), its memory check at 10 and 50 steps; read by
    the tests below (a run costs seconds: every job is a fresh process)."""
    from benchmarks import run

    out = tmp_path_factory.mktemp("suite") / "suite.json"
    find_spec = importlib.util.find_spec
    text = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(text):
        mp.setattr(
            importlib.util,
            "find_spec",
            lambda name, *a: None if name in PEER_MODULES.values() else find_spec(name, *a),
        )
        status = run.main(["--quick", "--json", str(out), "--memory-steps", "10,50"])
    assert status == 0, text.getvalue()
    return text.getvalue(), json.loads(out.read_text())


def test_quick_suite_times_every_kind_of_workload_in_fresh_processes(quick_suite):
    text, res = quick_suite
    meta = res["meta"]
    assert meta["quick"] is True and meta["rounds"] == 1
    assert tuple(meta["workloads"]) == QUICK_WORKLOADS
    assert "environment used as is" in text
    assert "| mlp-2-5-5-1 | eager-raw |" in text and "| 1e+03 | eager |" in text

    for name in QUICK_WORKLOADS:
        impls = res["summary"][name]["impls"]
        expected = {"numpy", "eager", "compiled"} | ({"eager-raw"} if name in RAW else set())
        assert set(impls) == expected, name
        for impl in expected - {"numpy"}:
            d = impls[impl]
            _check_stat(d["us"], f"{name}.{impl}.us")
            _check_stat(d["ratio_numpy"], f"{name}.{impl}.ratio_numpy")
            assert d["peak_rss_mib"] >= d["base_rss_mib"] > 0
            check = res["grad_check"][name]["impls"][impl]
            assert check["ok"] is True, (name, impl, check)
            # the update is checked too, where every library draws the same numbers
            assert ("weights_max_abs_diff" in check) == (name in STEPPED), (name, impl)
        assert res["grad_check"][name]["max_abs_grad"] > 0  # real gradients were compared

    chain = res["summary"]["chain-1e3"]["impls"]["eager"]
    for key in ("fwd_us", "bwd_us"):
        _check_stat(chain[key], key)
    assert math.isfinite(chain["overhead_us"]["median"])
    targets = {(t["impl"], t["target"]) for t in res["targets"]}
    assert {("eager", "numpy"), ("eager-raw", "numpy"), ("compiled", "numpy")} <= targets
    assert {("compiled", "torch"), ("compiled", "jax-jit"), ("eager", "overhead_us")} <= targets


def test_quick_suite_puts_every_implementation_of_a_workload_side_by_side(quick_suite):
    text, res = quick_suite
    table = _table(text, "| workload | numpy |")
    assert table["workload"] == COLUMNS
    for name in ("mlp-2-5-5-1", "mlp-64-256-256-10-f32", "conv-b64-f32", "digits-epoch"):
        cells = dict(zip(COLUMNS, table[name]))
        impls = res["summary"][name]["impls"]
        assert cells["numpy"].endswith(("µs", "ms")), cells
        for impl in ("eager", "eager-raw", "compiled"):
            if impl in impls:
                assert cells[impl] == f"{impls[impl]['ratio_numpy']['median']:.2f}x", (name, impl)
            else:
                assert cells[impl] == "—", (name, impl)  # no such implementation
        assert cells["torch"] == cells["jax-jit"] == "not installed", cells
    assert table["conv-b64-f32"][COLUMNS.index("autograd")] == "—"
    assert table["mlp-2-5-5-1"][COLUMNS.index("autograd")] == "not installed"


def test_quick_suite_skips_peers_that_are_not_installed_with_a_note(quick_suite):
    text, res = quick_suite
    assert res["meta"]["not_installed"] == ["torch", "jax-jit", "autograd"]
    assert not res["errors"]
    for impl in ("torch", "jax-jit", "autograd"):
        assert f"{impl} is not installed" in text
        assert all(impl not in e["impls"] for e in res["summary"].values())


def test_quick_suite_checks_that_memory_does_not_grow(quick_suite):
    mem = quick_suite[1]["memory"]["mlp-2-5-5-1"]
    assert (mem["early_steps"], mem["late_steps"]) == (10, 50)
    assert mem["live_nodes"] == 0 and mem["gc_unreachable"] == 0  # graphs freed by refcount


def test_quick_suite_runs_the_installed_peers(tmp_path):
    installed = [i for i, m in PEER_MODULES.items() if importlib.util.find_spec(m)]
    if not {"torch", "jax-jit"} & set(installed):
        pytest.skip("neither PyTorch nor JAX is installed (the bench extra)")
    text, res = _run_suite(
        tmp_path,
        "--workloads",
        "mlp-2-5-5-1,conv-b64-f32,chain-1e3",
        "--impls",
        "torch,jax-jit,autograd",
        "--no-memory",
    )
    for name, dtype in (("mlp-2-5-5-1", "float64"), ("conv-b64-f32", "float32")):
        impls = res["summary"][name]["impls"]
        for impl in {"torch", "jax-jit"} & set(installed):
            check = res["grad_check"][name]["impls"][impl]
            assert check["ok"] is True and check["dtypes"] == [dtype], (name, impl, check)
            _check_stat(impls[impl]["ratio_numpy"], f"{name}.{impl}.ratio_numpy")
            _check_stat(impls["eager"][f"ratio_{impl.replace('-', '_')}"], f"{name}.eager/{impl}")
    mlp = res["summary"]["mlp-2-5-5-1"]["impls"]
    if "torch" in installed:
        assert mlp["torch"]["meta"]["torch_threads"] >= 1
    if "jax-jit" in installed:
        assert mlp["jax-jit"]["meta"]["jax_enable_x64"] is True  # the float64 workload
        assert res["summary"]["conv-b64-f32"]["impls"]["jax-jit"]["meta"]["jax_enable_x64"] is False
    if "autograd" in mlp:
        _check_stat(mlp["autograd"]["ratio_numpy"], "autograd.ratio_numpy")
    else:
        assert "autograd is not installed" in text
