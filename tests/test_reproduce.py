"""`microtensor reproduce --fast`, run as a user runs it, once for all five reports: each
writes results.json, valid PNG figures and a report.md whose tables put our numbers beside
the report's, and the reports' claims that hold at fast scale hold on our numbers.

These runs take a minute, so conftest.py starts them (`start_in_background`) as soon as
collection ends: they run on the second core while the other tests run, and these tests
wait only for what is left of them."""

import atexit
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from models.experiments.reproduce import REPORTS
from models.experiments.reproduce.common import VERDICTS, Spread, claim_verdict, judge

ROOT = Path(__file__).resolve().parent.parent
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TABLE_HEADER = "| quantity | ours | report | verdict | why | chosen by us |"
RESULT_KEYS = {
    "report",
    "title",
    "source",
    "scale",
    "seeds",
    "mnist",
    "seconds",
    "cpu_seconds",
    "data",
    "settings",
    "results",
    "comparisons",
    "summary",
    "figures",
    "notes",
    "listings",
}


_started: dict = {}  # each background run by name: (Popen, its folder)


def _start(name: str, *args: str, out_exists: bool = False) -> None:
    """Start `python -m models reproduce ARGS --out FOLDER/out`, its output going to
    FOLDER/stdout and FOLDER/stderr (files: a pipe nobody reads could fill and stall it)."""
    folder = Path(tempfile.mkdtemp(prefix="mt-reproduce-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    if out_exists:
        (folder / "out").mkdir()
    with open(folder / "stdout", "w") as stdout, open(folder / "stderr", "w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "models", "reproduce", *args, "--out", str(folder / "out")],
            cwd=ROOT,
            stdout=stdout,
            stderr=stderr,
            text=True,
        )
    atexit.register(process.kill)  # if no test waited for it
    _started[name] = (process, folder)


def start_in_background() -> None:
    """Start this module's runs of `microtensor reproduce` without waiting for them:
    `all --fast --quiet` into a new folder, `004 --fast` into an existing one."""
    _start("all", "all", "--fast", "--quiet")
    _start("004", "004", "--fast", out_exists=True)


def finished(name: str) -> tuple[subprocess.CompletedProcess, Path]:
    """Wait for the background run `name`: (its process, its --out folder)."""
    if not _started:  # conftest.py did not start them (this module imported on its own)
        start_in_background()
    process, folder = _started[name]
    try:
        process.wait(timeout=400)  # generous: a loaded 2-core machine
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    return subprocess.CompletedProcess(
        process.args,
        process.returncode,
        (folder / "stdout").read_text(),
        (folder / "stderr").read_text(),
    ), folder / "out"


@pytest.fixture(scope="module")
def fast_run():
    """`reproduce all --fast --out DIR --quiet`, finished: (process, DIR)."""
    return finished("all")


def results(fast_run, report: str) -> dict:
    return json.loads((fast_run[1] / report / "results.json").read_text())


def test_reproduce_all_fast_exits_0_without_warnings(fast_run):
    process, _ = fast_run
    assert process.returncode == 0, process.stderr
    assert "Warning" not in process.stderr and "Traceback" not in process.stderr
    assert "note:" not in process.stderr  # the reproductions spell every name as it is now
    for report in REPORTS:
        assert f"report {report} (fast" in process.stdout


def test_reproduce_all_writes_a_combined_summary(fast_run):
    out = fast_run[1]
    combined = json.loads((out / "results.json").read_text())
    assert combined["scale"] == "fast" and sorted(combined["reports"]) == list(REPORTS)
    text = (out / "report.md").read_text()
    assert (
        "| report | title | reproduced | same order | consistent | differs | not comparable "
        "| not reported | seconds | CPU s |"
    ) in text
    assert "- **command**: `microtensor reproduce all --out " in text
    for report in REPORTS:
        assert f"[{report}]({report}/report.md)" in text
        assert f"## Report {report}:" in text


@pytest.mark.parametrize("report", REPORTS)
def test_each_report_writes_results_figures_and_tables(fast_run, report):
    r = results(fast_run, report)
    assert RESULT_KEYS <= set(r)
    assert r["report"] == report and r["scale"] == "fast" and r["seeds"] == [0]
    assert r["comparisons"] and all(c["verdict"] in VERDICTS for c in r["comparisons"])
    assert list(r["summary"]) == list(VERDICTS)
    assert sum(r["summary"].values()) == len(r["comparisons"])
    assert all(c["why"] for c in r["comparisons"] if c["verdict"] == "differs")
    assert r["figures"]
    for figure in r["figures"]:
        raw = (fast_run[1] / report / figure["path"]).read_bytes()
        assert raw[:8] == PNG_SIGNATURE, figure["path"]
    text = (fast_run[1] / report / "report.md").read_text()
    assert TABLE_HEADER in text
    for verdict in VERDICTS:
        assert text.count(f"| **{verdict}** |") == r["summary"][verdict], verdict
    assert f"](figures/{Path(r['figures'][0]['path']).name})" in text


@pytest.mark.parametrize("report", REPORTS)
def test_each_rows_verdict_follows_the_rules_from_its_recorded_values(fast_run, report):
    """A number's verdict is judge()'s on the per-seed values results.json records (scaled
    into the report's units) against the report's printed number; its tolerance is the
    report's rounding unless the row says why; a claim's is claim_verdict()'s on its
    per-seed checks."""
    rows = results(fast_run, report)["comparisons"]
    for c in rows:
        where = f"{c['section']}: {c['quantity']}"
        if c["kind"] == "number" and c["report"] != "—":
            printed = c["report"].strip().rstrip("%")
            decimals = len(printed.lower().partition("e")[0].partition(".")[2])
            exponent = int(printed.lower().partition("e")[2] or 0)
            rounding = 0.5 * 10.0 ** (exponent - decimals)
            reason = c["why"].partition("; ")[2]  # after number()'s "tolerance 0.005"
            if c["comparable"]:
                assert c["tol"] == pytest.approx(rounding) or reason, where
            ours = Spread([v * c["scale"] for v in c["values"]])
            verdict = judge(
                ours, float(printed), tol=c["tol"], loss=c["loss"], comparable=c["comparable"]
            )
            assert c["verdict"] == verdict, where
        elif c["kind"] == "number":
            assert c["verdict"] == "not reported", where
        elif c["kind"] == "claim":
            assert c["verdict"] == claim_verdict(c["holds"], comparable=c["comparable"]), where


def _rows_000(fast_run, section_start: str) -> dict[str, dict]:
    """Report 000's rows of the sections whose name starts with `section_start`."""
    rows = results(fast_run, "000")["comparisons"]
    return {c["quantity"]: c for c in rows if c["section"].startswith(section_start)}


def test_000_lab1_reaches_100_percent_on_linear_and_xor_easy(fast_run):
    main = results(fast_run, "000")["results"]["main"]
    assert main["linear"]["accuracy"] == [1.0] and main["xor"]["accuracy"] == [1.0]
    for name in ("linear", "XOR-easy"):
        row = _rows_000(fast_run, f"Main run on {name} ")["accuracy"]
        assert (row["report"], row["verdict"]) == ("100%", "reproduced")  # Table 1


def test_000_without_activations_xor_easy_is_the_reports_33_percent_to_every_digit(fast_run):
    r = results(fast_run, "000")["results"]["no_activation"]["xor"]
    assert r["accuracy"] == [7 / 21]
    assert r["mse"][0] == pytest.approx(0.2887139107611549, abs=1e-15)  # 110/381
    rows = _rows_000(fast_run, "No activation")
    for quantity, printed in (
        ("XOR-easy: accuracy", "33.33333333333333%"),
        ("XOR-easy: loss (MSE)", "0.2887139107611549"),
    ):
        assert (rows[quantity]["report"], rows[quantity]["verdict"]) == (printed, "reproduced")


def test_000_no_loss_is_reproduced_by_being_within_10x(fast_run):
    """Only the no-activation XOR loss, the same optimum from any start, matches the
    report's printed digits; every other loss is 'same order' at best."""
    rows = results(fast_run, "000")["comparisons"]
    losses = [c for c in rows if c["quantity"].endswith("loss (MSE)") and c["report"] != "—"]
    assert len(losses) >= 15
    reproduced = [(c["section"], c["quantity"]) for c in losses if c["verdict"] == "reproduced"]
    assert reproduced == [("No activation (linear network, §4.3)", "XOR-easy: loss (MSE)")]
    assert {c["verdict"] for c in losses} <= {"reproduced", "same order", "consistent", "differs"}


def test_000_every_printed_number_and_claim_of_the_report_has_a_row(fast_run):
    rows = results(fast_run, "000")["comparisons"]
    printed = {c["report"] for c in rows}
    for number in (
        "3.4907e-06",
        "1.9741075e-05",
        "88.0%",
        "0.09542922275533261",
        "0.005538515725124356",
        "7.693262328713195e-07",
        "0.0053130012637674",
        "0.0032075458939290597",
        "90.0%",
        "0.08799288611066064",
        "92.0%",
        "85.0%",
    ):
        assert number in printed, number
    claims = [c for c in rows if c["report"] == "states it"]
    for paragraph in ("§3.3", "§3.4", "§4.1", "§4.2", "§4.3", "§5.1", "§5.2", "§5.3", "§5.4"):
        assert any(paragraph in c["section"] + c["quantity"] for c in claims), paragraph
    assert any("higher accuracy" in c["quantity"] for c in claims)  # Adam vs SGD, §5.4
    conv = _rows_000(fast_run, "Convolutional first layer")
    assert conv["ReLU: a dead net (output exactly 0.5 at every point, loss flat)"]["verdict"] == (
        "not reported"
    )


def test_000_the_conv_relu_net_at_lr_0_1_dies_in_its_first_epochs_not_at_the_start(fast_run):
    dying = results(fast_run, "000")["results"]["conv"]["relu_lr_0.1"]
    assert dying["dead_at_start"] == [False] and dying["dead_at_end"] == [True]
    assert dying["dead_from"][0] <= 100  # flat at 100/8 from (nearly) the first record
    assert dying["accuracy"] == [pytest.approx(0.52)]  # seed 0's share of label 0


def test_000_dead_from_is_the_epoch_the_loss_settles_at_n_over_8():
    from models.experiments.reproduce.report_000 import dead_from

    assert dead_from([10, 20, 30, 40], [3.0, 12.5, 12.5, 12.5], 100) == 20
    assert dead_from([10, 20, 30], [12.5, 3.0, 12.5], 100) == 30
    assert dead_from([10, 20], [12.5, 12.4], 100) is None


def test_000_a_relu_conv_net_with_negative_filters_is_dead_and_its_loss_flat():
    """The check behind the conv ReLU row: all-negative filters on points in the unit
    square zero every ReLU, so the output is 0.5 everywhere and no step changes it."""
    import microtensor as mt
    from models.datasets import linear_set
    from models.experiments.reproduce.common import train_lab1
    from models.experiments.reproduce.report_000 import ConvLab1, dead_from

    net = ConvLab1("relu", 0)
    with mt.no_grad():
        net.conv.weight.copy_(-net.conv.weight.abs())
    X, y = linear_set(100, seed=0)
    r = train_lab1(net, (X, y), lr=0.1, epochs=40, log_points=4)
    assert r["history"]["loss"] == [12.5] * 4  # 1/2 sum (y - 0.5)^2 = 100/8
    assert dead_from(r["history"]["epoch"], r["history"]["loss"], 100) == 10
    assert r["accuracy"] == pytest.approx(float((y == 0).mean()))  # all predicted 0


def _rows_by_quantity(fast_run, report: str, section_start: str = "") -> dict[str, dict]:
    """A report's rows by quantity, of the sections whose name starts with `section_start`."""
    rows = results(fast_run, report)["comparisons"]
    return {c["quantity"]: c for c in rows if c["section"].startswith(section_start)}


def test_001_hidden_32_reaches_the_reports_100_percent_on_xor_easy_and_generalises(fast_run):
    main = _rows_by_quantity(fast_run, "001", "Main runs")
    assert main["linear: accuracy"]["values"] == [1.0]
    xor = main["XOR-easy: accuracy"]
    assert (xor["report"], xor["values"], xor["verdict"]) == ("100.0%", [1.0], "reproduced")
    assert results(fast_run, "001")["results"]["generalisation"]["accuracy"][0] >= 0.95
    fresh = main["the network's performance remains good on 100 newly generated linear points"]
    assert fresh["verdict"] == "reproduced"


def test_001_a_sigmoid_on_the_output_only_gets_the_reports_76_percent(fast_run):
    rows = _rows_by_quantity(fast_run, "001", "No activation, then a sigmoid")
    acc = rows["sigmoid on the output only (lr 5e-06): accuracy"]
    assert acc["values"] == [pytest.approx(16 / 21)]  # 76.19%, printed 76.2%
    assert (acc["report"], acc["verdict"]) == ("76.2%", "reproduced")
    loss = rows["sigmoid on the output only (lr 5e-06): loss (MSE)"]
    # the loss depends on the random start: the report's 0.26429 only to its order
    assert (loss["report"], loss["verdict"]) == ("0.26429", "same order")


def test_001_every_printed_number_and_claim_of_the_report_has_a_row(fast_run):
    rows = results(fast_run, "001")["comparisons"]
    printed = {c["report"] for c in rows}
    for number in ("100.0%", "76.2%", "0.26429", "0.00000"):
        assert number in printed, number
    for number in ("0.00837", "0.99698", "0.00515", "0.99747", "0.00331", "0.99755"):
        assert number in printed, number  # its XOR-easy outputs, Iter 16-21
    claims = " | ".join(c["quantity"] for c in rows if c["kind"] == "claim")
    for words in (
        "remains good",
        "too large a learning rate may fail to converge",
        "too small a learning rate takes more epochs",
        "does not escape a local minimum",
        "a larger learning rate solves it",
        "performance of the network is poor",
        "cannot handle the non-linear case",
        "output only it still cannot handle",
        "last two layers it can handle the non-linear case",
        "momentum accelerates the convergence",
        "more ReLU layers",
        "more sigmoid layers a larger learning rate",
    ):
        assert words in claims, words


def test_001_the_widest_network_is_stuck_because_its_output_sigmoid_saturates(fast_run):
    r = results(fast_run, "001")
    rows = _rows_by_quantity(fast_run, "001", "Width sweep on linear")
    stuck = rows["hidden 128: at lr 5e-2 the optimizer does not escape a local minimum"]
    assert stuck["verdict"] == "reproduced"
    assert rows["hidden 128, lr 0.5: accuracy"]["values"][0] < 1.0
    assert r["results"]["wide_saturated_fraction"] == [1.0]


def test_002_breast_cancer_test_accuracy_is_at_least_95_percent(fast_run):
    cancer = results(fast_run, "002")["results"]["breast_cancer"]
    assert len(cancer) == 9
    assert all(min(run["test_accuracy"]) >= 0.95 for run in cancer.values())


def test_002_breast_cancer_cells_within_2_of_114_test_points_are_reproduced(fast_run):
    report = {  # the report's table, test accuracy in %
        "sigmoid, h=10": 97.37,
        "tanh, h=10": 98.25,
        "relu, h=10": 95.61,
        "sigmoid, h=30": 98.25,
        "tanh, h=30": 98.25,
        "relu, h=30": 96.49,
        "sigmoid, h=50": 97.37,
        "tanh, h=50": 98.25,
        "relu, h=50": 96.49,
    }
    rows = {
        c["quantity"]: c
        for c in results(fast_run, "002")["comparisons"]
        if c["section"].startswith("Breast cancer") and c["quantity"] in report
    }
    assert set(rows) == set(report)
    for cell, theirs in report.items():
        (ours,) = rows[cell]["values"]  # one seed at fast scale: one split of 114 points
        off = abs(round(ours * 114) - round(theirs / 100 * 114))
        assert rows[cell]["verdict"] == ("reproduced" if off <= 2 else "differs"), cell


def test_002_moons_tanh_loss_is_the_reports(fast_run):
    moons = results(fast_run, "002")["results"]["moons"]
    (loss,) = moons["[2, 3, 2] tanh"]["loss"]
    assert loss == pytest.approx(0.070758, rel=0.01)


def test_002_every_claim_in_words_has_a_row(fast_run):
    claims = [c["quantity"] for c in results(fast_run, "002")["comparisons"]]
    for words in (
        "the three activations give the same loss",
        "smoother than ReLU's",
        "more hidden units, a lower final loss",
        "a second hidden layer changes the result little",
        "tanh is the best activation",
        "sigmoid, [30, 50]: overfitting occurs",
        "Xavier, lr decay is the most robust configuration",
        "without Xavier init the test accuracy is low at the start",
        "Adam at lr 0.01 is too high",
        "Xavier init and the optimizer matter most",
    ):
        assert any(words in claim for claim in claims), words


def test_002_conv_net_rows_are_not_comparable_without_mnist(fast_run):
    rows = [c for c in results(fast_run, "002")["comparisons"] if c["section"].startswith("Conv")]
    assert len(rows) == 9
    assert all(c["verdict"] == "not comparable" for c in rows)


def test_002_boundary_shape_finds_corners_and_bends():
    import numpy as np

    from models.experiments.reproduce.report_002 import boundary_shape

    xs = ys = np.linspace(-1, 1, 401)
    gx, gy = np.meshgrid(xs, ys)
    line = boundary_shape(xs, ys, gx + 0.5 * gy)
    assert line["total_turning"] == pytest.approx(0, abs=1e-6)
    assert line["boundary_length"] == pytest.approx(np.hypot(1, 2))  # from y=-1 to y=1
    corner = boundary_shape(xs, ys, gy - np.abs(gx))  # a right angle at the origin
    assert corner["sharpest_turn"] == pytest.approx(90, abs=1)
    circle = boundary_shape(xs, ys, np.hypot(gx, gy) - 0.5)
    assert circle["total_turning"] == pytest.approx(360, abs=3)
    assert circle["sharpest_turn"] == pytest.approx(np.degrees(0.02 / 0.5), abs=0.5)


def test_003_trains_every_network_and_conv_configuration(fast_run):
    r = results(fast_run, "003")["results"]
    assert len(r["small"]) == 5 and len(r["deep"]) == 6
    assert set(r["convnet"]) == {
        "relu / xavier / adam 0.005",
        "sigmoid / he / sgd 0.01",
        "tanh / xavier / adagrad 0.01",
        "leaky_relu / he / adam 0.005",
    }
    assert all(0 <= a <= 1 for c in r["convnet"].values() for a in c["test_accuracy"])
    names = {Path(f["path"]).stem for f in results(fast_run, "003")["figures"]}
    for figure in ("figure1a", "figure2a", "figure3c", "figure4f", "figure5a", "figure5c"):
        assert any(name.startswith(figure) for name in names), figure


def test_003_every_claim_in_words_has_a_row(fast_run):
    claims = [c["quantity"] for c in results(fast_run, "003")["comparisons"]]
    for words in (
        "ReLU (2a) gives sharp, straight boundaries",
        "tanh gives a more pronounced separation than sigmoid",
        "5 and 10: more intricate ones",
        "4a: the 3-layer tanh boundary is curved",
        "4f: the 5-layer sigmoid captures the data better than the 4-layer ReLU",
        "on both sets, sigmoid and tanh give smooth boundaries",
        "tanh / xavier / adagrad reaches the highest test accuracy",
        "leaky_relu / he / adam starts from the lowest test accuracy",
        "leaky_relu / he / adam converges the slowest",
        "leaky_relu / he / adam's training loss oscillates the most",
        "sigmoid / he / sgd performs satisfactorily",
    ):
        assert any(words in claim for claim in claims), words


def test_003_relu_boundaries_are_straight_and_tanh_and_sigmoid_ones_curved(fast_run):
    rows = {c["quantity"]: c for c in results(fast_run, "003")["comparisons"]}
    for claim in (
        "ReLU (2a) gives sharp, straight boundaries",
        "sigmoid (2b) and tanh (2c) give smoother boundaries",
        "4b: the 4-layer ReLU boundary is made of straight segments",
        "4e: the 4-layer ReLU divides the classes along linear separations",
        "on both sets, sigmoid and tanh give smooth boundaries and ReLU piecewise-linear ones",
    ):
        assert rows[claim]["verdict"] == "reproduced", claim


def test_003_conv_rows_are_not_comparable_without_mnist(fast_run):
    rows = _rows_by_quantity(fast_run, "003", "Figure 5")
    judged = [c for c in rows.values() if c["report"] != "—"]
    assert len(judged) == 4 * 2 + 9  # accuracy and time per configuration, the claims
    assert all(c["verdict"] == "not comparable" for c in judged)
    reports = {q: c["report"] for q, c in rows.items()}
    assert "99.05" in reports["tanh / xavier / adagrad 0.01: test accuracy"]
    assert "98.37 or 98.929" in reports["relu / xavier / adam 0.005: test accuracy"]
    assert "58.45 s" in reports["sigmoid / he / sgd 0.01: training time"]


def test_003_sigmoid_he_sgd_is_diagnosed_a_fading_gradient_not_saturation(fast_run):
    r = results(fast_run, "003")
    d = r["results"]["diagnosis"]
    assert all(max(v) < 0.01 for v in d["saturated"]["start"].values())
    ratio = d["gradients_seed_0"]
    sigmoid, relu = ratio["sigmoid / he / sgd 0.01"], ratio["relu / xavier / adam 0.005"]
    assert sigmoid["conv1/fc1 gradient norm"] < 0.1 * relu["conv1/fc1 gradient norm"]
    assert set(d["controls"]) == {"learning rate 0.1", "Adam 0.005", "Xavier init"}
    assert any(n.startswith("Diagnosis of sigmoid / He / SGD 0.01") for n in r["notes"])
    names = {Path(f["path"]).name for f in r["figures"]}
    assert "figure5_gradient_flow_sigmoid.png" in names


def test_003_boundary_shape_tells_straight_pieces_from_curves():
    import numpy as np

    import microtensor as mt
    from models.experiments.reproduce.report_003 import boundary_shape

    def net(f):  # logits (0, f(x, y)): the boundary is f = 0
        def logits(points):
            x, y = points.numpy().T
            return mt.tensor(np.column_stack([np.zeros_like(x), f(x, y)]))

        return logits

    X = np.array([[-1.0, -1.0], [1.0, 1.0]])  # the window: [-1.2, 1.2] on both axes
    line = boundary_shape(net(lambda x, y: x + 0.5 * y), X)
    assert line["straight"] == 1.0
    assert line["length"] == pytest.approx((1.2 + 2.4) / 2.4, abs=0.02)  # |dx| + |dy|
    corner = boundary_shape(net(lambda x, y: y - np.abs(x)), X)  # two straight pieces
    assert corner["straight"] == 1.0
    hinge = boundary_shape(net(lambda x, y: np.maximum(x, 0) - 1e-4), X)  # on a hinge
    assert hinge["straight"] == 1.0
    circle = boundary_shape(net(lambda x, y: np.hypot(x, y) - 0.5), X)
    assert circle["straight"] == 0.0
    assert circle["length"] == pytest.approx(8 * 0.5 / 2.4, abs=0.03)


def test_003_with_mnist_the_conv_rows_are_judged(tmp_path, monkeypatch):
    """On a tiny MNIST (IDX files), with the training replaced by curves we choose: every
    row that has a report number is judged, and the claims by what the curves show."""
    import gzip
    import struct

    import numpy as np

    from models.experiments.reproduce import report_003
    from models.experiments.reproduce.common import Reproduction

    rng = np.random.default_rng(0)
    for prefix, n in (("train", 50), ("t10k", 20)):
        for kind, array in (
            ("images-idx3", rng.integers(0, 256, (n, 28, 28))),
            ("labels-idx1", np.arange(n) % 10),
        ):
            raw = struct.pack(f">I{array.ndim}I", 0x0800 | array.ndim, *array.shape)
            raw += array.astype(np.uint8).tobytes()
            (tmp_path / f"{prefix}-{kind}-ubyte.gz").write_bytes(gzip.compress(raw))
    final = {"relu": 0.986, "sigmoid": 0.985, "tanh": 0.9905, "leaky_relu": 0.95}

    def train_conv(seed, data, epochs, cfg, flow=None):
        assert data[0].shape == (50, 1, 28, 28)
        start = 0.5 if cfg["activation"] == "leaky_relu" else 0.9
        acc = np.full(epochs, final[cfg["activation"]])  # from start, halving the gap
        acc[:-1] -= (acc[-1] - start) * 0.5 ** np.arange(epochs - 1)
        layers = {n: {"slope": 0.2, "saturated": 0.0} for n in ("conv1", "conv2", "fc1")}
        grads = {n: [1.0] * epochs for n in ("conv1.weight", "fc1.weight", "fc2.weight")}
        return {
            "test_accuracy": acc[-1],
            "test_loss": 1 - acc[-1],
            "seconds": 1.0,
            "steps": epochs,
            "curve": {
                "epoch": list(range(1, epochs + 1)),
                "loss": list(1 - acc),
                "val_loss": list(1 - acc),
                "val_accuracy": list(acc),
            },
            "gradients": {"grad_norm": grads, "update_ratio": grads},
            "sigmoid": {
                "start": {"layers": layers, "logit_sd": 1.0},
                "end": {"layers": layers, "logit_sd": 1.0},
            },
        }

    monkeypatch.setattr(report_003, "train_conv", train_conv)
    ctx = Reproduction(
        "003", "t", "s", tmp_path / "out", fast=True, progress=False, echo=False, mnist=tmp_path
    )
    report_003.conv_section(ctx)
    assert ctx.settings["convnet"]["epochs"] == report_003.MNIST_EPOCHS
    rows = {c.quantity: c for c in ctx.comparisons}
    assert rows["tanh / xavier / adagrad 0.01: test accuracy"].verdict == "reproduced"
    assert rows["relu / xavier / adam 0.005: test accuracy"].verdict == "reproduced"  # 98.37-98.929
    assert rows["leaky_relu / he / adam 0.005: test accuracy"].verdict == "differs"  # 95.0
    assert rows["relu / xavier / adam 0.005: training time"].verdict == "not comparable"
    claims = {q: c.verdict for q, c in rows.items() if c.report == "states it"}
    assert len(claims) == 10 and "not comparable" not in claims.values()
    assert claims["tanh / xavier / adagrad reaches the highest test accuracy (5c)"] == "reproduced"
    assert claims["leaky_relu / he / adam underperforms: the lowest test accuracy"] == "reproduced"
    assert (
        claims[
            "tanh and sigmoid reach lower test losses and higher accuracies than ReLU and leaky ReLU"
        ]
        == "differs"
    )  # relu 98.6% > sigmoid 98.5%


def test_004_forward_pass_is_the_reports_0_8221(fast_run):
    row = _rows_by_quantity(fast_run, "004", "Q1")["forward pass output a(2)"]
    assert row["values"] == [pytest.approx(0.822059, abs=5e-7)]
    assert (row["report"], row["verdict"]) == ("0.8221", "reproduced")
    assert results(fast_run, "004")["results"]["backward"]["max_abs_difference"] < 1e-12


def test_004_cross_validation_accumulates_a_2x2_confusion_matrix_over_the_set(fast_run):
    cv = results(fast_run, "004")["results"]["cross_validation"]
    for name in ("LinearXY", "NonLinearXY"):
        for cm in cv[name]["confusion_matrix"]:  # one per seed
            assert len(cm) == 2 and all(len(row) == 2 for row in cm)
            assert sum(map(sum, cm)) == cv[name]["n"] == 200
        assert all(len(cv[name][m]) == 1 for m in ("accuracy", "precision", "recall", "f1"))
        rows = _rows_by_quantity(
            fast_run, "004", f"Q3: 5-fold stratified cross-validation on {name}"
        )
        assert len(rows) == 6 and {c["verdict"] for c in rows.values()} == {"not reported"}
    assert cv["LinearXY"]["accuracy"] == [1.0]


def test_004_sweeps_are_printed_as_the_homeworks_four_lists(fast_run):
    r = results(fast_run, "004")
    for sweep in ("epochs", "lr", "reg", "sizes"):
        lists = r["results"]["sweeps"][sweep]
        for m in ("accuracy", "precision", "recall", "f1"):
            assert [len(v) for v in lists[m]] == [len(lists["values"])]  # one list per seed
    text = (fast_run[1] / "004" / "report.md").read_text()
    for line in ("accuracy scores: [", "precision scores: [", "recall scores: [", "f1 scores: ["):
        assert text.count(line) == 4


def test_004_the_homeworks_stated_effects_each_have_a_checked_row(fast_run):
    rows = _rows_by_quantity(fast_run, "004", "Q5.4")
    assert len(rows) == 6 and all(c["kind"] == "claim" for c in rows.values())
    assert rows["too large a regularisation prevents the model from learning"]["verdict"] == (
        "reproduced"
    )
    assert _rows_by_quantity(fast_run, "004", "Q2.5")["the loss curve is decreasing"][
        "verdict"
    ] == ("reproduced")


def test_one_report_writes_into_out_and_prints_its_lines():
    process, out = finished("004")
    assert process.returncode == 0, process.stderr
    assert "004 forward pass: 0.822059" in process.stdout
    assert "accuracy scores: [" in process.stdout
    assert (out / "results.json").is_file() and (out / "report.md").is_file()
