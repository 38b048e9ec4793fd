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
from models.experiments.reproduce.common import VERDICTS

ROOT = Path(__file__).resolve().parent.parent
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TABLE_HEADER = "| quantity | ours | report | verdict | why |"
RESULT_KEYS = {
    "report",
    "title",
    "source",
    "scale",
    "seconds",
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
        process.wait(timeout=170)
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
    assert "| report | title | reproduced | differs | no number in report | seconds |" in text
    for report in REPORTS:
        assert f"[{report}]({report}/report.md)" in text
        assert f"## Report {report}:" in text


@pytest.mark.parametrize("report", REPORTS)
def test_each_report_writes_results_figures_and_tables(fast_run, report):
    r = results(fast_run, report)
    assert RESULT_KEYS <= set(r)
    assert r["report"] == report and r["scale"] == "fast"
    assert r["comparisons"] and all(c["verdict"] in VERDICTS for c in r["comparisons"])
    assert sum(r["summary"].values()) == len(r["comparisons"])
    assert all(c["why"] for c in r["comparisons"] if c["verdict"] == "differs")
    assert r["figures"]
    for figure in r["figures"]:
        raw = (fast_run[1] / report / figure["path"]).read_bytes()
        assert raw[:8] == PNG_SIGNATURE, figure["path"]
    text = (fast_run[1] / report / "report.md").read_text()
    assert TABLE_HEADER in text
    assert text.count("**reproduced**") == r["summary"]["reproduced"]
    assert f"](figures/{Path(r['figures'][0]['path']).name})" in text


def test_000_lab1_reaches_100_percent_on_linear_and_xor_easy(fast_run):
    main = results(fast_run, "000")["results"]["main"]
    assert main["linear"]["accuracy"] == 1.0
    assert main["xor"]["accuracy"] == 1.0


def test_000_without_activations_xor_easy_is_the_reports_33_percent(fast_run):
    r = results(fast_run, "000")["results"]["no_activation"]["xor"]
    assert r["accuracy"] == pytest.approx(1 / 3)
    assert r["mse"] == pytest.approx(0.2887139107611549, rel=1e-3)  # the report's loss


def test_001_hidden_32_reaches_100_percent_and_generalises(fast_run):
    r = results(fast_run, "001")["results"]
    assert r["main"]["linear"]["accuracy"] == 1.0
    assert r["main"]["xor"]["accuracy"] == 1.0
    assert r["generalisation"]["accuracy"] >= 0.95


def test_001_a_sigmoid_on_the_output_only_gets_the_reports_76_percent(fast_run):
    r = results(fast_run, "001")["results"]["no_activation"]["xor_sigmoid_output"]
    assert r["accuracy"] == pytest.approx(16 / 21)


def test_002_breast_cancer_test_accuracy_is_at_least_95_percent(fast_run):
    cancer = results(fast_run, "002")["results"]["breast_cancer"]
    assert len(cancer) >= 6
    assert all(run["test_accuracy"] >= 0.95 for run in cancer.values())


def test_002_moons_tanh_loss_is_the_reports(fast_run):
    moons = results(fast_run, "002")["results"]["moons"]["activations"]
    assert moons["tanh"]["loss"] == pytest.approx(0.070758, rel=0.01)


def test_003_trains_every_network_and_conv_configuration(fast_run):
    r = results(fast_run, "003")["results"]
    assert len(r["boundaries"]) == 6
    assert set(r["convnet"]) == {
        "relu / xavier / adam 0.005",
        "sigmoid / he / sgd 0.01",
        "tanh / xavier / adagrad 0.01",
        "leaky_relu / he / adam 0.005",
    }
    assert all(0 <= c["test_accuracy"] <= 1 for c in r["convnet"].values())


def test_004_forward_pass_is_0_8221(fast_run):
    r = results(fast_run, "004")["results"]
    assert r["forward_pass"]["rounded"] == 0.8221
    assert r["backward"]["max_abs_difference"] < 1e-12


def test_004_cross_validation_accumulates_a_2x2_confusion_matrix_over_the_set(fast_run):
    cv = results(fast_run, "004")["results"]["cross_validation"]
    for name in ("LinearXY", "NonLinearXY"):
        cm = cv[name]["confusion_matrix"]
        assert len(cm) == 2 and all(len(row) == 2 for row in cm)
        assert sum(map(sum, cm)) == cv[name]["n"] == 200
        assert {"accuracy", "precision", "recall", "f1"} <= set(cv[name])
    assert cv["LinearXY"]["accuracy"] == 1.0


def test_004_sweeps_are_printed_as_the_homeworks_four_lists(fast_run):
    r = results(fast_run, "004")
    for sweep in ("epochs", "lr", "reg", "sizes"):
        lists = r["results"]["sweeps"][sweep]
        assert all(
            len(lists[m]) == len(lists["values"]) for m in ("accuracy", "precision", "recall", "f1")
        )
    text = (fast_run[1] / "004" / "report.md").read_text()
    for line in ("accuracy scores: [", "precision scores: [", "recall scores: [", "f1 scores: ["):
        assert text.count(line) == 4


def test_one_report_writes_into_out_and_prints_its_lines():
    process, out = finished("004")
    assert process.returncode == 0, process.stderr
    assert "004 forward pass: 0.822059" in process.stdout
    assert "accuracy scores: [" in process.stdout
    assert (out / "results.json").is_file() and (out / "report.md").is_file()
