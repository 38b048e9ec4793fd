"""The `microtensor` command as a user runs it: `python -m models ...` (the console
script's module form) in a subprocess, checking exit codes, what it prints and the files
it writes; the graph command in-process, as its errors are read from stderr; help and
argparse errors in-process too: they stop before any work, and a fresh process would
cost a second of imports each."""

import json
import os
import re
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import microtensor as mt
from models import cli

ROOT = Path(__file__).resolve().parent.parent
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None,
    reason="the Graphviz `dot` program is not installed (CI installs it)",
)


def microtensor(*args, timeout=120, env=None):
    """Run `python -m models ARGS` (the `microtensor` command) from the repository root."""
    return subprocess.run(
        [sys.executable, "-m", "models", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def assert_png(path: Path) -> None:
    raw = path.read_bytes()
    assert raw[:8] == PNG_SIGNATURE, f"{path.name} is not a PNG"
    assert raw[12:16] == b"IHDR" and min(struct.unpack(">II", raw[16:24])) > 100


def assert_clean_error(result, status: int, *phrases: str) -> None:
    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr
    for phrase in phrases:
        assert phrase in result.stderr


def parse(capsys, *args) -> tuple[int, str, str]:
    """`microtensor ARGS` in this process, for ARGS that stop in argument parsing: the exit
    status, stdout and stderr."""
    with pytest.raises(SystemExit) as stop:
        cli.main(list(map(str, args)))
    out, err = capsys.readouterr()
    return stop.value.code, out, err


# ------------------------------------------------------------------- help and parsing
def test_help_lists_every_command():
    result = microtensor("--help")
    assert result.returncode == 0
    for command in ("demo", "train", "graph", "reproduce", "sweep"):
        assert command in result.stdout


@pytest.mark.parametrize("command", ["demo", "train", "graph", "reproduce", "sweep"])
def test_every_command_has_help(command, capsys):
    status, out, err = parse(capsys, command, "--help")
    assert status == 0, err
    assert out.startswith(f"usage: microtensor {command}")


def test_no_command_is_an_argparse_error(capsys):
    status, _, err = parse(capsys)
    assert status == 2
    assert "usage: microtensor" in err and "required: COMMAND" in err


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "--model", "rnn", "--data", "xor_easy", "--out", "x"], "invalid choice: 'rnn'"),
        (["train", "--model", "MLP", "--data", "cifar", "--out", "x"], "unknown data set 'cifar'"),
        (["train", "--model", "MLP", "--data", "xor_easy"], "required: --out"),
        (
            ["train", "--model", "MLP", "--data", "xor_easy", "--epochs", "0", "--out", "x"],
            "--epochs: must be at least 1",
        ),
        (
            ["train", "--model", "MLP", "--data", "xor_easy", "--lr", "-0.1", "--out", "x"],
            "--lr: must be a positive number",
        ),
        (
            ["train", "--model", "MLP", "--data", "xor_easy", "--batch-size", "many", "--out", "x"],
            "--batch-size: expected a positive whole number or 'full'",
        ),
        (
            ["train", "--model", "MLP", "--data", "xor_easy", "--hidden", "8,x", "--out", "x"],
            "--hidden: expected layer widths",
        ),
        (
            ["train", "--model", "MLP", "--data", "xor_easy", "--optimizer", "lbfgs", "--out", "x"],
            "invalid choice: 'lbfgs'",
        ),
        (["reproduce", "005", "--out", "x"], "invalid choice: '005'"),
        (["reproduce", "000"], "required: --out"),
        (["graph", "--model", "MLP"], "required: --out"),
        (["sweep", "s.toml", "--out", "x", "--jobs", "0"], "--jobs: must be at least 1"),
        (["demo", "--frobnicate"], "unrecognized arguments: --frobnicate"),
    ],
)
def test_bad_arguments_are_argparse_errors(args, message, capsys):
    status, _, err = parse(capsys, *args)
    assert status == 2
    assert "usage: microtensor" in err and message in err


# ------------------------------------------------------------------- errors while running
def test_a_missing_data_file_is_one_line_and_exit_1(tmp_path):
    result = microtensor(
        "train", "--model", "MLP", "--data", tmp_path / "nowhere.csv", "--out", tmp_path / "out"
    )
    assert_clean_error(result, 1, "microtensor train: error:", "no such file or folder")
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_bad_csv_names_the_line(tmp_path):
    csv = tmp_path / "points.csv"
    csv.write_text("0.1,0.2,0\n0.3,oops,1\n")
    result = microtensor("train", "--model", "MLP", "--data", csv, "--out", tmp_path / "out")
    assert_clean_error(result, 1, "line 2, column 2: 'oops' is not a number")


def test_a_folder_without_mnist_files_is_a_clean_error(tmp_path):
    result = microtensor(
        "train", "--model", "ConvNet", "--data", tmp_path, "--out", tmp_path / "out"
    )
    assert_clean_error(result, 1, "no train images file")


@pytest.mark.parametrize(
    "model, data, message",
    [
        ("MLP", "iris", "--model MLP has one sigmoid output (two classes); this data has 3"),
        ("ConvNet", "moons", "--model ConvNet needs images"),
    ],
)
def test_a_model_that_cannot_take_the_data_says_which_to_use(tmp_path, model, data, message):
    result = microtensor("train", "--model", model, "--data", data, "--out", tmp_path)
    assert_clean_error(result, 1, message)


def test_an_out_path_that_is_a_file_is_refused(tmp_path):
    target = tmp_path / "taken"
    target.write_text("")
    result = microtensor("reproduce", "004", "--fast", "--out", target)
    assert_clean_error(result, 1, "is a file, not a folder")


# ------------------------------------------------------------------- demo
def test_demo_trains_xor_easy_to_100_percent_in_under_a_minute(tmp_path):
    start = time.perf_counter()
    result = microtensor("demo", "--out", tmp_path, timeout=90)
    assert time.perf_counter() - start < 60
    assert result.returncode == 0, result.stderr
    assert "accuracy 100.0%" in result.stdout
    assert_png(tmp_path / "loss_curve.png")
    assert_png(tmp_path / "decision_boundary.png")
    svg = tmp_path / "graph.svg"
    graph = svg if svg.exists() else tmp_path / "graph.dot"
    assert graph.stat().st_size > 1000
    for name in ("loss_curve.png", "decision_boundary.png", graph.name):
        assert str(tmp_path / name) in result.stdout  # it names its files


def test_demo_writes_dot_text_when_graphviz_is_missing(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path / "empty-bin")}  # no `dot` on PATH
    result = microtensor("demo", "--out", tmp_path / "out", "--quiet", env=env, timeout=90)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "graph.dot").read_text().startswith("digraph microtensor {")
    assert not (tmp_path / "out" / "graph.svg").exists()
    assert "dot -Tsvg graph.dot" in result.stdout


# ------------------------------------------------------------------- train
def test_train_help_describes_the_language_models():
    result = microtensor("train", "--help")
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    for phrase in (
        "CharMLP",
        "CharRNN",
        "--cell {LSTM,GRU,RNN}",
        "--steps",
        "--block-size",
        "--temperature",
        "samples.txt",
        "loss_curve.png",
        "names: 690 US first names",
        "one word per line",
        "`--model charlm` is CharMLP",
    ):
        assert phrase in text


def test_train_softmax_on_iris_writes_history_plots_and_weights(tmp_path):
    result = microtensor(
        "train",
        "--model",
        "SoftmaxClassifier",
        "--data",
        "iris",
        "--hidden",
        "8",
        "--epochs",
        "30",
        "--out",
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "test:  accuracy" in result.stdout
    record = json.loads((tmp_path / "history.json").read_text())
    keys = {"model", "data", "optimizer", "lr", "epochs", "seed", "history", "test"}
    assert keys <= set(record)
    assert record["history"]["records"]["epoch"][-1] == 30
    assert record["test"]["accuracy"] >= 0.9
    assert np.array(record["test"]["confusion_matrix"]).shape == (3, 3)
    assert_png(tmp_path / "learning_curves.png")
    assert_png(tmp_path / "confusion_matrix.png")
    state = mt.load(tmp_path / "model.npz")
    assert state["layers.0.weight"].shape == (8, 4)


def test_train_mlp_on_a_2d_set_draws_its_decision_boundary(tmp_path):
    result = microtensor(
        "train",
        "--model",
        "MLP",
        "--data",
        "linear_set",
        "--optimizer",
        "SGD",
        "--lr",
        "0.5",
        "--batch-size",
        "full",
        "--epochs",
        "500",
        "--hidden",
        "5,5",
        "--out",
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert_png(tmp_path / "decision_boundary.png")
    assert json.loads((tmp_path / "history.json").read_text())["batch_size"] is None


def test_train_reads_a_csv_file(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (60, 2))
    rows = "\n".join(f"{a},{b},{int(a + b > 0)}" for a, b in X)
    (tmp_path / "points.csv").write_text("x,y,label\n" + rows + "\n")
    result = microtensor(
        "train",
        "--model",
        "SoftmaxClassifier",
        "--data",
        tmp_path / "points.csv",
        "--epochs",
        "40",
        "--out",
        tmp_path / "out",
    )
    assert result.returncode == 0, result.stderr
    assert "48 train / 12 test" in result.stdout


def _write_idx(path: Path, array: np.ndarray, magic: int) -> None:
    header = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def test_train_convnet_reads_an_mnist_idx_folder(tmp_path):
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 40), ("t10k", 20)):
        _write_idx(
            tmp_path / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)), 2051
        )
        _write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte", np.arange(n) % 10, 2049)
    result = microtensor(
        "train",
        "--model",
        "ConvNet",
        "--data",
        tmp_path,
        "--epochs",
        "1",
        "--out",
        tmp_path / "out",
    )
    assert result.returncode == 0, result.stderr
    assert "40 train / 20 test, 10 classes" in result.stdout
    assert_png(tmp_path / "out" / "confusion_matrix.png")


# ------------------------------------------------------------------- old spellings
def test_old_spellings_train_as_the_new_ones_with_a_note_each(tmp_path):
    result = microtensor(
        "train",
        "--model",
        "mlp",
        "--data",
        "xor",
        "--optimizer",
        "sgd",
        "--epochs",
        "2",
        "--out",
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if "note:" in line]
    assert notes == [
        "microtensor: note: --model: 'mlp' is now spelled 'MLP' (the old spelling still works)",
        "microtensor: note: --data: 'xor' is now spelled 'xor_easy' (the old spelling still works)",
        "microtensor: note: --optimizer: 'sgd' is now spelled 'SGD' (the old spelling still works)",
    ]
    record = json.loads((tmp_path / "history.json").read_text())
    assert (record["model"], record["data"], record["optimizer"]) == ("MLP", "xor_easy", "SGD")


# ------------------------------------------------------------------- graph
def graph(*args):
    """`microtensor graph ARGS` in this process: its exit status."""
    return cli.main(["graph", *map(str, args)])


def test_graph_writes_dot_text(tmp_path):
    result = microtensor("graph", "--model", "MLP", "--out", tmp_path / "mlp.dot")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "mlp.dot").read_text().startswith("digraph microtensor {")
    assert result.stdout == f"wrote {tmp_path / 'mlp.dot'}\n"


def test_graph_draws_lab1s_mlp_on_the_input_shape_given(tmp_path):
    assert graph("--model", "MLP", "--input-shape", "1,2", "--out", tmp_path / "g.dot") == 0
    text = (tmp_path / "g.dot").read_text()
    assert 'label="MLP, input (1, 2)"' in text
    assert text.count('label="sigmoid') == 3


@needs_dot
def test_graph_draws_a_collapsed_convnet_to_png(tmp_path):
    assert (
        graph(
            "--model",
            "ConvNet",
            "--input-shape",
            "1,1,8,8",
            "--collapse",
            "cluster",
            "--direction",
            "LR",
            "--out",
            tmp_path / "c.png",
        )
        == 0
    )
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
    assert not (tmp_path / "c.dot").exists()  # the source is kept only when rendering fails


def test_graph_without_dot_writes_the_dot_text_and_exits_1(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert (
        graph(
            "--model",
            "SoftmaxClassifier",
            "--out",
            tmp_path / "s.svg",
            "--collapse",
            "fold",
            "--show-values",
        )
        == 1
    )
    assert "apt-get install graphviz" in capsys.readouterr().err
    folded = re.findall(r'shape="box3d".* label="([^\\]*)\\n', (tmp_path / "s.dot").read_text())
    assert folded == ["layers.0: Linear", "activations.0: ReLU", "layers.1: Linear"]


def test_graph_refuses_an_unknown_file_type_before_drawing(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit:
        graph("--model", "MLP", "--out", tmp_path / "g.jpg")
    assert exit.value.code == 2
    assert ".svg, .png or .dot" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_graph_says_when_the_input_shape_does_not_fit_the_model(tmp_path, capsys):
    assert graph("--model", "ConvNet", "--input-shape", "1,64", "--out", tmp_path / "c.dot") == 2
    assert "N,C,H,W" in capsys.readouterr().err


# ------------------------------------------------------------------- sweep, packaging
def test_sweep_says_not_available_without_its_module(monkeypatch, capsys):
    import models.experiments

    monkeypatch.delattr(models.experiments, "sweep", raising=False)
    monkeypatch.setitem(sys.modules, "models.experiments.sweep", None)  # as if it were absent
    assert cli.main(["sweep", "lab1.toml", "--out", "runs"]) == 2
    assert "microtensor sweep: error: not available" in capsys.readouterr().err


def test_the_console_script_is_declared():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"microtensor": "models.cli:main"}


def test_python_m_microtensor_points_to_the_command_and_exits_2():
    result = subprocess.run(
        [sys.executable, "-m", "microtensor", "demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert_clean_error(result, 2, "microtensor --help", "python -m models")
    assert result.stdout == ""
