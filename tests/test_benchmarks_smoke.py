"""Smoke test of the engine benchmark: `python -m benchmarks.engine --quick --json PATH`
runs, writes the expected JSON, and its gradient check passes. Speed is never asserted."""
import json
import math
import subprocess
import sys
from pathlib import Path

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
    proc = subprocess.run([sys.executable, "-m", "benchmarks.engine", "--quick", "--json",
                           str(out)], cwd=ROOT, capture_output=True, text=True, timeout=120)
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
