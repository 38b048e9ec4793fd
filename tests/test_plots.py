"""models.plots: every figure is a real PNG written where asked, drawn headless."""

import doctest
import struct

import numpy as np
import pytest

import microtensor as mt
import models.plots
from models import MLP, History, moons, plots

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path) -> tuple[int, int]:
    """(width, height) in pixels, after checking the signature and the IHDR chunk."""
    raw = path.read_bytes()
    assert raw[:8] == PNG_SIGNATURE and raw[12:16] == b"IHDR"
    assert len(raw) > 5000, f"{path.name}: {len(raw)} bytes is too small for a drawn figure"
    return struct.unpack(">II", raw[16:24])


def history(lrs=(0.1, 0.1, 0.1)):
    return History(
        {
            "epoch": [1, 2, 3],
            "lr": list(lrs),
            "loss": [1.0, 0.1, 0.01],
            "accuracy": [0.5, 0.8, 1.0],
            "val_loss": [1.1, 0.3, 0.2],
            "val_accuracy": [0.5, 0.7, 0.9],
        }
    )


def test_learning_curves_png(tmp_path):
    path = plots.learning_curves(history(), tmp_path / "curves.png", title="xor")
    assert path == tmp_path / "curves.png"
    assert png_size(path) == (960, 380)  # loss and metrics panels


def test_learning_curves_add_a_panel_when_the_lr_changed(tmp_path):
    path = plots.learning_curves(history(lrs=(0.1, 0.05, 0.025)), tmp_path / "curves.png")
    assert png_size(path)[0] == 1440


def test_learning_curves_take_a_plain_mapping(tmp_path):
    path = plots.learning_curves({"epoch": [1, 2], "loss": [0.5, 0.4]}, tmp_path / "c.png")
    assert png_size(path)[0] == 480


def test_learning_curves_need_epoch_and_loss(tmp_path):
    with pytest.raises(ValueError, match="needs 'epoch' and 'loss'"):
        plots.learning_curves({"loss": [1.0]}, tmp_path / "c.png")


def test_prediction_scatter_png(tmp_path):
    X, y = moons(60, seed=0)
    pred = y.copy()
    pred[:4] = 1 - pred[:4]
    png_size(plots.prediction_scatter(X, y, pred, tmp_path / "scatter.png"))


def test_prediction_scatter_takes_the_lab1_float_column(tmp_path):
    X = np.random.default_rng(0).uniform(size=(20, 2))
    y = (X[:, :1] < X[:, 1:]).astype(float)
    png_size(plots.prediction_scatter(X, y, y, tmp_path / "scatter.png"))


def test_decision_boundary_of_a_module_png(tmp_path):
    X, y = moons(80, seed=0)
    mt.manual_seed(0)
    net = MLP([2, 8, 2], activations="tanh")
    png_size(plots.decision_boundary(net, X, y, tmp_path / "boundary.png", resolution=60))


def test_decision_boundary_of_a_function_png(tmp_path):
    X, y = moons(80, seed=0)
    path = plots.decision_boundary(
        lambda p: (p[:, 1] < 0.25).astype(int),
        X,
        y,
        tmp_path / "sub" / "boundary.png",
        resolution=60,
    )
    png_size(path)  # and the missing folder was made


def test_decision_boundary_needs_2d_points(tmp_path):
    with pytest.raises(ValueError, match=r"needs 2-D points, X of shape \(n, 2\), got \(5, 3\)"):
        plots.decision_boundary(
            lambda p: p[:, 0] > 0, np.zeros((5, 3)), np.zeros(5), tmp_path / "b.png"
        )


def test_confusion_matrix_png(tmp_path):
    cm = np.array([[50, 2, 0], [3, 40, 7], [0, 1, 47]])
    png_size(plots.confusion_matrix(cm, tmp_path / "cm.png", labels=["a", "b", "c"]))


def test_confusion_matrix_must_be_square(tmp_path):
    with pytest.raises(ValueError, match=r"square matrix, got shape \(2, 3\)"):
        plots.confusion_matrix(np.zeros((2, 3)), tmp_path / "cm.png")


def test_bar_chart_png_with_a_gap_for_a_missing_value(tmp_path):
    path = plots.bar_chart(
        [0.01, 0.1, 0.5],
        {"microtensor": [0.9, 1.0, 1.0], "report": [None, 1.0, 1.0]},
        tmp_path / "sweep.png",
        ylabel="accuracy",
    )
    png_size(path)


def test_bar_chart_series_must_match_the_categories(tmp_path):
    with pytest.raises(ValueError, match="series 'report' has 2 values for 3 categories"):
        plots.bar_chart("abc", {"report": [1, 2]}, tmp_path / "b.png")


def test_plots_write_png_only(tmp_path):
    with pytest.raises(ValueError, match="name the output \\*.png"):
        plots.bar_chart(["a"], [1.0], tmp_path / "b.svg")


def test_plots_doctests_pass():
    assert doctest.testmod(models.plots).failed == 0
