"""fit(track_gradients=True), plots.gradient_flow and `microtensor train --track-gradients`:
the recorded norms and update ratios against numpy's by hand, the figure, the command's
files, and the vanishing gradient of a deep sigmoid MLP beside a ReLU/He one."""

import json

import numpy as np
import pytest

import microtensor as mt
from microtensor import nn
from microtensor.nn import functional as F
from models import MLP, cli, plots
from models.datasets import moons
from models.training import fit

X = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5], [-1.0, 1.0, 0.0], [0.0, -2.0, 1.0]])
Y = np.array([[1.0], [-0.5], [2.0], [0.0]])


def linear_one_step(optimizer_cls, **options):
    """A Linear(3, 1) trained one full-batch step on mean squared error; its weights
    before and after, the gradients numpy gives for them, and the History."""
    mt.manual_seed(0)
    net = nn.Linear(3, 1).double()
    w0, b0 = net.weight.detach().numpy().copy(), net.bias.detach().numpy().copy()
    history = fit(
        net,
        (X, Y),
        loss=F.mse_loss,
        optimizer=optimizer_cls(net.parameters(), **options),
        epochs=1,
        batch_size=None,
        progress=False,
        track_gradients=True,
    )
    residual = X @ w0.T + b0 - Y  # d/d out of mean((out - y)^2) is 2 (out - y) / n
    grads = {"weight": 2 * residual.T @ X / len(X), "bias": 2 * residual.sum(axis=0) / len(X)}
    before = {"weight": w0, "bias": b0}
    after = {"weight": net.weight.detach().numpy(), "bias": net.bias.detach().numpy()}
    return history, before, after, grads


def test_recorded_norms_are_the_gradients_norms_by_hand():
    history, _, _, grads = linear_one_step(mt.optim.SGD, lr=0.1)
    assert set(history.gradients) == {"grad_norm", "update_ratio"}
    for name, g in grads.items():
        assert history.gradients["grad_norm"][name] == pytest.approx(
            [np.sqrt(np.sum(g**2))], rel=1e-12
        )


def test_sgd_update_ratio_is_lr_times_grad_norm_over_weight_norm():
    history, before, _, grads = linear_one_step(mt.optim.SGD, lr=0.1)
    for name, g in grads.items():
        expected = 0.1 * np.sqrt(np.sum(g**2)) / np.sqrt(np.sum(before[name] ** 2))
        assert history.gradients["update_ratio"][name] == pytest.approx([expected], rel=1e-9)


def test_update_ratio_is_the_change_the_optimizer_made():
    """Adam's step is not lr * g: the ratio is read from the weights themselves."""
    history, before, after, grads = linear_one_step(mt.optim.Adam, lr=0.05)
    for name in grads:
        change = np.linalg.norm(after[name] - before[name]) / np.linalg.norm(before[name])
        assert history.gradients["update_ratio"][name] == pytest.approx([change], rel=1e-9)
        sgd_like = 0.05 * np.linalg.norm(grads[name]) / np.linalg.norm(before[name])
        assert abs(change - sgd_like) > 1e-3 * change  # so the test tells them apart


def test_one_value_per_recorded_epoch_keyed_by_dotted_names():
    mt.manual_seed(0)
    net = MLP([3, 4, 1], activations="tanh")
    history = fit(
        net,
        (X, Y),
        loss=F.mse_loss,
        optimizer=mt.optim.SGD(net.parameters(), lr=0.1),
        epochs=7,
        batch_size=2,
        log_every=3,
        progress=False,
        track_gradients=True,
    )
    names = ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"]
    for stat in ("grad_norm", "update_ratio"):
        assert list(history.gradients[stat]) == names
        assert all(len(v) == len(history["epoch"]) == 3 for v in history.gradients[stat].values())
    assert json.loads(json.dumps(history.to_dict()))["gradients"] == history.gradients


def untracked_history():
    mt.manual_seed(0)
    net = nn.Linear(3, 1)
    return fit(
        net,
        (X, Y),
        loss=F.mse_loss,
        optimizer=mt.optim.SGD(net.parameters(), lr=0.1),
        epochs=2,
        batch_size=None,
        progress=False,
    )


def test_nothing_is_recorded_when_off():
    history = untracked_history()
    assert history.gradients == {} and "gradients" not in history.to_dict()


def deep_mlp_history(activation, init, epochs=2):
    mt.manual_seed(0)
    X, y = moons()
    net = MLP([2, 16, 16, 16, 16, 16, 1], activations=activation, output="sigmoid", init=init)
    return fit(
        net,
        (X, y[:, None].astype(float)),
        loss=F.binary_cross_entropy,
        optimizer=mt.optim.SGD(net.parameters(), lr=0.1),
        epochs=epochs,
        batch_size=50,
        progress=False,
        track_gradients=True,
    )


def first_over_last(history):
    norms = history.gradients["grad_norm"]
    return norms["layers.0.weight"][-1] / norms["layers.5.weight"][-1]


def test_a_deep_sigmoid_mlp_starves_its_first_layer_and_relu_he_does_not():
    sigmoid = first_over_last(deep_mlp_history("sigmoid", None))
    relu = first_over_last(deep_mlp_history("relu", "he"))
    # each sigmoid layer scales the gradient by at most 1/4: five of them, below 1e-3
    assert sigmoid < 1e-3
    assert relu > 0.05 and relu > 1000 * sigmoid


def test_gradient_flow_writes_a_png_for_one_run_and_for_several(tmp_path):
    history = deep_mlp_history("sigmoid", None)
    one = plots.gradient_flow(history, tmp_path / "one.png")
    both = plots.gradient_flow(
        {"a": history, "b": history}, tmp_path / "sub" / "both.png", include_bias=True, title="two"
    )
    for path in (one, both):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_gradient_flow_needs_tracked_gradients(tmp_path):
    with pytest.raises(ValueError, match="track_gradients=True"):
        plots.gradient_flow(untracked_history(), tmp_path / "g.png")


def test_train_track_gradients_writes_the_figure_and_the_norms(tmp_path, capsys):
    out = tmp_path / "run"
    assert (
        cli.main(
            [
                "train",
                "--model",
                "MLP",
                "--data",
                "moons",
                "--hidden",
                "8,8",
                "--epochs",
                "3",
                "--quiet",
                "--track-gradients",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert str(out / "gradient_flow.png") in capsys.readouterr().out
    assert (out / "gradient_flow.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    record = json.loads((out / "history.json").read_text())
    norms = record["history"]["gradients"]["grad_norm"]
    assert sorted(norms) == [f"layers.{i}.{p}" for i in range(3) for p in ("bias", "weight")]
    assert all(len(v) == 3 and all(x > 0 for x in v) for v in norms.values())


def test_train_without_the_flag_writes_no_gradients(tmp_path, capsys):
    out = tmp_path / "run"
    assert (
        cli.main(
            [
                "train",
                "--model",
                "MLP",
                "--data",
                "moons",
                "--epochs",
                "1",
                "--quiet",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert not (out / "gradient_flow.png").exists()
    assert "gradients" not in json.loads((out / "history.json").read_text())["history"]


def test_train_track_gradients_refuses_a_language_model(tmp_path, capsys):
    assert (
        cli.main(
            [
                "train",
                "--model",
                "CharMLP",
                "--data",
                "names",
                "--track-gradients",
                "--out",
                str(tmp_path),
            ]
        )
        == 1
    )
    assert "--track-gradients: only for" in capsys.readouterr().err
