"""models.experiments.sweep: a sweep gives the same numbers on every scheduler, survives a
dying Dask worker, resumes where it stopped, records failures, rejects a bad file by naming
the key at fault, and takes an old spelling of a name as the new one, saying so."""

import csv
import doctest
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import models.experiments.sweep
from models import xor_easy
from models.cli import main as microtensor
from models.experiments.sweep import Sweep, SweepError, load_sweep, run_sweep, summarize
from models.registry import RenamedWarning

ROOT = pathlib.Path(__file__).resolve().parent.parent
XOR_8 = ROOT / "examples" / "sweeps" / "xor_easy_8.toml"
LAB1 = ROOT / "examples" / "sweeps" / "lab1_lr_width_cv.toml"


# -- data sets the runs load by "test_sweep:function" (in this process or a worker's) ----


def xor_easy_killing_its_worker_once(marker: str):
    """XOR easy; but the first call anywhere creates `marker` and kills its own process,
    as a worker that dies mid-run."""
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL))
    except FileExistsError:
        return xor_easy()
    os._exit(1)


CALLS = []
INTERRUPT_AT = [None]


def xor_easy_counted():
    """XOR easy, counting the runs that load it; a KeyboardInterrupt (Ctrl-C) on call
    number INTERRUPT_AT[0]."""
    CALLS.append(1)
    if len(CALLS) == INTERRUPT_AT[0]:
        raise KeyboardInterrupt
    return xor_easy()


FAILING = [False]


def xor_easy_or_fail(fail: bool = False):
    """XOR easy; a RuntimeError when asked by `fail` or while FAILING[0] is set."""
    if fail or FAILING[0]:
        raise RuntimeError("this run was told to fail")
    return xor_easy()


def xor_easy_noting_blas_threads(directory: str):
    """XOR easy, leaving a file that says how many threads BLAS may use in this run."""
    from threadpoolctl import threadpool_info

    threads = {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}
    path = pathlib.Path(directory) / f"{os.getpid()}-{len(os.listdir(directory))}.json"
    path.write_text(json.dumps(sorted(threads)))
    return xor_easy()


def xor_sweep(dataset="xor_easy", dataset_args=None, **changes):
    """The sweep of examples/sweeps/xor_easy_8.toml as a dict, loading `dataset`."""
    fixed = {
        "dataset": dataset,
        "width": 5,
        "activation": "sigmoid",
        "output": "sigmoid",
        "loss": "l2_loss",
        "reduction": "sum",
        "epochs": 400,
    }
    if dataset_args is not None:
        fixed["dataset_args"] = dataset_args
    sweep = {
        "name": "xor-easy-8",
        "seeds": [0],
        "fixed": fixed,
        "grid": {"optimizer": ["SGD", "Adam"], "lr": [0.05, 0.5]},
        "cv": {"folds": 2},
    }
    sweep.update(changes)
    return sweep


def metrics_of(rows):
    return [{k: v for k, v in row.items() if k.startswith(("train_", "val_"))} for row in rows]


def csv_rows(directory):
    with open(pathlib.Path(directory) / "runs.csv", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    """The 8-run XOR sweep file, run one run at a time in this process."""
    return run_sweep(XOR_8, tmp_path_factory.mktemp("serial"), jobs=1, progress=False)


# -- the same numbers on every scheduler ------------------------------------------------


def test_the_example_sweep_plans_8_runs_of_which_adam_at_lr_0_05_learns_xor(serial):
    assert len(serial) == 8 and all(row["status"] == "ok" for row in serial)
    adam = [row for row in serial if row["optimizer"] == "Adam" and row["lr"] == 0.05]
    assert [row["train_accuracy"] for row in adam] == [1.0, 1.0]


@pytest.mark.parametrize("scheduler", ["local", "dask"])
def test_two_workers_give_the_serial_metrics_to_the_last_digit(serial, scheduler, tmp_path):
    rows = run_sweep(XOR_8, tmp_path, jobs=2, scheduler=scheduler, progress=False)
    assert [row["key"] for row in rows] == [row["key"] for row in serial]
    assert metrics_of(rows) == metrics_of(serial)


def test_the_file_and_the_dict_are_the_same_sweep():
    assert load_sweep(XOR_8) == Sweep.from_dict(xor_sweep(), str(XOR_8))


def test_every_run_sees_blas_limited_to_one_thread(tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    sweep = xor_sweep("test_sweep:xor_easy_noting_blas_threads", {"directory": str(notes)})
    sweep["fixed"]["epochs"] = 1
    run_sweep(sweep, tmp_path / "serial", jobs=1, progress=False)
    run_sweep(sweep, tmp_path / "loky", jobs=2, progress=False)
    seen = [json.loads(p.read_text()) for p in notes.iterdir()]
    assert len(seen) == 16 and all(threads == [1] for threads in seen)


# -- a worker that dies, a sweep that is interrupted, a run that fails ------------------


@pytest.fixture
def dask_cluster():
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        yield cluster


def test_a_dask_worker_dying_mid_run_has_its_run_retried_and_recorded_once(
    serial, dask_cluster, tmp_path
):
    from distributed import Client

    marker = tmp_path / "a-worker-died"
    sweep = xor_sweep("test_sweep:xor_easy_killing_its_worker_once", {"marker": str(marker)})
    with Client(dask_cluster) as client:
        before = set(client.run(os.getpid).values())
        rows = run_sweep(
            sweep,
            tmp_path / "out",
            scheduler="dask",
            address=dask_cluster.scheduler_address,
            progress=False,
        )
        after = set(client.run(os.getpid).values())
    assert marker.exists() and len(before - after) == 1  # one worker process died
    assert [row["status"] for row in rows] == ["ok"] * 8
    assert metrics_of(rows) == metrics_of(serial)
    keys = [row["key"] for row in csv_rows(tmp_path / "out")]
    assert sorted(keys) == sorted(row["key"] for row in rows)


def test_an_interrupted_sweep_reruns_only_the_runs_it_had_not_finished(tmp_path):
    sweep = xor_sweep("test_sweep:xor_easy_counted")
    CALLS.clear()
    INTERRUPT_AT[0] = 4
    with pytest.raises(KeyboardInterrupt):
        run_sweep(sweep, tmp_path, progress=False)
    first = csv_rows(tmp_path)
    assert len(first) == 3
    INTERRUPT_AT[0] = None
    rows = run_sweep(sweep, tmp_path, progress=False)
    assert len(CALLS) == 4 + 5  # 3 finished + the interrupted one, then the other 5
    again = csv_rows(tmp_path)
    assert again[:3] == first  # seconds and all: the finished runs were not run again
    assert sorted(r["key"] for r in again) == sorted(r["key"] for r in rows)
    CALLS.clear()
    run_sweep(sweep, tmp_path, progress=False)
    assert CALLS == []


def test_a_run_cut_short_while_being_written_is_run_again(tmp_path):
    sweep = xor_sweep("test_sweep:xor_easy_counted")
    rows = run_sweep(sweep, tmp_path, progress=False)
    text = (tmp_path / "runs.csv").read_text()
    (tmp_path / "runs.csv").write_text(text[:-20])  # the last row, cut before its status
    CALLS.clear()
    again = run_sweep(sweep, tmp_path, progress=False)
    assert len(CALLS) == 1 and metrics_of(again) == metrics_of(rows)


def test_a_run_that_raises_is_recorded_with_its_error_and_the_others_finish(tmp_path):
    sweep = xor_sweep("test_sweep:xor_easy_or_fail")
    sweep["fixed"].update(optimizer="Adam", lr=0.05)
    del sweep["grid"]
    sweep["points"] = [{"dataset_args": {"fail": False}}, {"dataset_args": {"fail": True}}]
    rows = run_sweep(sweep, tmp_path, progress=False)
    assert [row["status"] for row in rows] == ["ok", "ok", "error", "error"]
    assert rows[2]["error"] == "RuntimeError: this run was told to fail"
    assert [row["status"] for row in csv_rows(tmp_path)] == ["ok", "ok", "error", "error"]
    summary = summarize(rows, ["dataset_args"])
    assert [(s["runs"], s["failed"]) for s in summary] == [(2, 0), (0, 2)]


def test_a_rerun_retries_the_failed_runs_and_keeps_one_row_per_run(tmp_path):
    sweep = xor_sweep("test_sweep:xor_easy_or_fail")
    FAILING[0] = True
    try:
        run_sweep(sweep, tmp_path, progress=False)
    finally:
        FAILING[0] = False
    assert [row["status"] for row in csv_rows(tmp_path)] == ["error"] * 8
    rows = run_sweep(sweep, tmp_path, progress=False)
    assert [row["status"] for row in rows] == ["ok"] * 8
    assert [row["status"] for row in csv_rows(tmp_path)] == ["ok"] * 8


def test_runs_csv_keeps_the_runs_of_an_earlier_sweep_in_the_same_directory(tmp_path):
    first = xor_sweep()
    first["fixed"]["epochs"] = 1
    run_sweep(first, tmp_path, progress=False)
    second = xor_sweep()
    second["fixed"]["epochs"] = 2  # other settings, other keys
    rows = run_sweep(second, tmp_path, progress=False)
    assert [row["epochs"] for row in csv_rows(tmp_path)] == ["1"] * 8 + ["2"] * 8
    assert [row["epochs"] for row in rows] == [2] * 8
    assert len(json.loads((tmp_path / "runs.json").read_text())) == 8


# -- what a sweep writes ----------------------------------------------------------------


def test_a_row_holds_settings_seed_fold_metrics_wall_time_and_host(serial):
    row = serial[0]
    assert {
        "key",
        "seed",
        "fold",
        "lr",
        "optimizer",
        "width",
        "epochs",
        "train_loss",
        "train_accuracy",
        "val_loss",
        "val_accuracy",
        "seconds",
        "host",
        "error",
        "status",
    } <= set(row)
    assert [r["fold"] for r in serial] == [0, 1] * 4
    assert row["seconds"] > 0 and row["host"]


def test_runs_csv_reads_back_the_same_numbers_as_runs_json(tmp_path):
    rows = run_sweep(XOR_8, tmp_path, progress=False)
    from_csv = [
        {k: float(v) for k, v in r.items() if k.startswith(("train_", "val_"))}
        for r in csv_rows(tmp_path)
    ]
    from_json = json.loads((tmp_path / "runs.json").read_text())
    assert from_csv == metrics_of(rows) == metrics_of(from_json)


def test_the_summary_is_mean_and_std_over_seeds_and_folds(serial):
    summary = summarize(serial, ["optimizer", "lr"])
    assert [(s["optimizer"], s["lr"], s["runs"]) for s in summary] == [
        ("SGD", 0.05, 2),
        ("SGD", 0.5, 2),
        ("Adam", 0.05, 2),
        ("Adam", 0.5, 2),
    ]
    accuracies = [row["val_accuracy"] for row in serial[4:6]]
    assert summary[2]["val_accuracy_mean"] == np.mean(accuracies)
    assert summary[2]["val_accuracy_std"] == np.std(accuracies)


def test_the_cli_writes_the_tables_and_one_plot_per_metric(tmp_path, capsys):
    assert microtensor(["sweep", str(XOR_8), "--out", str(tmp_path), "--quiet"]) == 0
    assert {p.name for p in tmp_path.iterdir()} == {
        "runs.csv",
        "runs.json",
        "summary.csv",
        "summary.json",
        "plots",
    }
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == [
        "train_accuracy.png",
        "train_loss.png",
        "val_accuracy.png",
        "val_loss.png",
    ]
    assert (tmp_path / "plots" / "val_loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert capsys.readouterr().out == ""


def test_the_cli_prints_mean_and_std_per_point(tmp_path, capsys):
    microtensor(["sweep", str(XOR_8), "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == [
        "optimizer",
        "lr",
        "runs",
        "train_loss",
        "train_accuracy",
        "val_loss",
        "val_accuracy",
    ]
    adam = [line.split() for line in out.splitlines() if line.startswith("Adam")]
    assert adam[0][:3] == ["Adam", "0.05", "2"] and adam[0][6:9] == ["1", "±", "0"]


def test_the_lab1_sweep_plans_16_points_by_5_folds():
    sweep = load_sweep(LAB1)
    assert sweep.swept == ("lr", "width") and len(sweep.runs) == 80
    assert {run["settings"]["reduction"] for run in sweep.runs} == {"sum"}


# -- bad sweep files --------------------------------------------------------------------

GOOD = """
[fixed]
dataset = "xor_easy"
loss = "mse_loss"
epochs = 10
[grid]
lr = [0.1, 0.5]
"""


@pytest.mark.parametrize(
    "text, message",
    [
        (GOOD + "seed = [1]\n", "grid.seed: unknown setting"),
        (
            "sedes = [0]\n" + GOOD,
            "sedes: unknown key at the top level; expected one of "
            "['name', 'seeds', 'fixed', 'grid', 'points', 'cv'] "
            "(did you mean 'seeds'?)",
        ),
        (GOOD.replace("epochs = 10", "epochs = 10\nwidht = 3"), "fixed.widht: unknown setting"),
        (
            GOOD.replace("epochs = 10", 'epochs = "10"'),
            "fixed.epochs: must be an integer, got a string ('10')",
        ),
        (GOOD.replace("[0.1, 0.5]", "[0.1, true]"), "grid.lr[1]: must be a number, got a boolean"),
        (GOOD.replace("[0.1, 0.5]", "[]"), "grid.lr: must be a non-empty list of values, got []"),
        (GOOD.replace("lr = [0.1, 0.5]", ""), "grid: is empty"),
        (GOOD.replace("lr = [0.1, 0.5]", "lr = 0.1"), "grid.lr: must be a non-empty list"),
        (GOOD.replace('"mse_loss"', '"mse"'), "fixed.loss: 'mse' is not one of"),
        (GOOD + 'activation = ["relu", "sigmod"]\n', "grid.activation[1]: 'sigmod' is not one of"),
        (GOOD.replace("epochs = 10", "epochs = 10\nlr = 0.1"), "grid.lr: is also in [fixed]"),
        (GOOD.replace("epochs = 10\n", ""), "epochs: is required"),
        (GOOD + "[cv]\nfolds = 1\n", "cv.folds: must be at least 2, got 1"),
        (GOOD + "[cv]\nfold = 5\n", "cv.fold: unknown key"),
        ("seeds = []\n" + GOOD, "seeds: must be a non-empty list"),
        (
            GOOD.replace("epochs = 10", "epochs = 10\ndataset_args = { n = 5 }"),
            "fixed.dataset_args: xor_easy() cannot be called with {'n': 5}",
        ),
        (
            GOOD.replace("epochs = 10", 'epochs = 10\noptimizer = "Adam"\nmomentum = 0.9'),
            "fixed.momentum: Adam takes no momentum",
        ),
        (
            GOOD.replace('"xor_easy"', '"xor_hard"'),
            "fixed.dataset: 'xor_hard' is neither a data "
            "set of models.registry that returns (X, y)",
        ),
        (GOOD.replace('"xor_easy"', '"digits"'), "fixed.dataset: 'digits' is neither"),
        (
            GOOD + 'model = ["MLP", "ConvNet"]\n',
            "grid.model[1]: 'ConvNet' is not one of ['MLP', 'SoftmaxClassifier']",
        ),
        (GOOD.replace("[fixed]", "[fixed"), "not valid TOML"),
    ],
)
def test_a_bad_sweep_file_is_an_error_naming_the_key(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(SweepError) as error:
        load_sweep(path)
    assert str(error.value).startswith(f"{path}: ") and message in str(error.value)


def test_grid_and_points_together_is_an_error_naming_points():
    sweep = xor_sweep(points=[{"lr": 0.1}])
    with pytest.raises(SweepError, match=r"^sweep: points: give either \[grid\] or"):
        load_sweep(sweep)


def test_the_cli_reports_a_bad_file_and_exits_2(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(GOOD.replace("[0.1, 0.5]", "[]"))
    assert microtensor(["sweep", str(path), "--out", str(tmp_path / "out")]) == 2
    assert "grid.lr: must be a non-empty list" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_the_command_names_the_file_and_key_in_one_line(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(GOOD.replace("epochs = 10", "epochs = 0"))
    done = subprocess.run(
        [sys.executable, "-m", "models", "sweep", str(path), "--out", str(tmp_path / "out")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr == (
        f"microtensor sweep: error: {path}: fixed.epochs: must be at least 1, got 0\n"
    )


# -- old spellings ----------------------------------------------------------------------


def test_old_spellings_plan_the_same_runs_and_warn_with_the_new_ones():
    old = xor_sweep("xor", grid={"optimizer": ["sgd", "adam"], "lr": [0.05, 0.5]})
    old["fixed"]["activation"] = "identity"
    new = xor_sweep(grid={"optimizer": ["SGD", "Adam"], "lr": [0.05, 0.5]})
    new["fixed"]["activation"] = "none"
    with pytest.warns(RenamedWarning) as caught:
        assert load_sweep(old) == load_sweep(new)
    assert sorted(str(w.message) for w in caught) == [
        "sweep: fixed.activation: 'identity' is now spelled 'none' (the old spelling still works)",
        "sweep: fixed.dataset: 'xor' is now spelled 'xor_easy' (the old spelling still works)",
        "sweep: grid.optimizer[0]: 'sgd' is now spelled 'SGD' (the old spelling still works)",
        "sweep: grid.optimizer[1]: 'adam' is now spelled 'Adam' (the old spelling still works)",
    ]


def test_the_command_notes_an_old_spelling_on_stderr(tmp_path, capsys):
    path = tmp_path / "old.toml"
    path.write_text(GOOD.replace('"xor_easy"', '"xor"').replace("epochs = 10", "epochs = 1"))
    assert microtensor(["sweep", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    assert capsys.readouterr().err == (
        f"microtensor: note: {path}: fixed.dataset: 'xor' is "
        f"now spelled 'xor_easy' (the old spelling still "
        f"works)\n"
    )


def test_sweep_doctests_pass():
    assert doctest.testmod(models.experiments.sweep).failed == 0
