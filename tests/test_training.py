"""models.training: fit is seeded and reproducible, follows its scheduler and early
stopping, and its metrics are scikit-learn's on the model's predictions."""

import doctest
import io
import json

import numpy as np
import pytest
from sklearn import metrics as skm

import microtensor as mt
import models.training
from microtensor.nn import functional as F
from models import MLP, SoftmaxClassifier, iris, moons, xor_easy
from models.training import EarlyStopping, History, evaluate, fit, predict


def moons_run(seed=0, epochs=6, **kw):
    """A dropout network on shuffled mini-batches: every source of randomness in play."""
    mt.manual_seed(0)
    net = SoftmaxClassifier([2, 16, 2], activations="relu", dropout=0.2)
    opt = mt.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    X, y = moons(96, noise=0.2, seed=0)
    kw.setdefault("val_data", moons(48, noise=0.2, seed=1))
    history = fit(
        net,
        (X, y),
        loss=F.cross_entropy,
        optimizer=opt,
        epochs=epochs,
        batch_size=16,
        seed=seed,
        progress=False,
        **kw,
    )
    return net, history


# -- reproducibility -----------------------------------------------------------------


def test_same_seed_gives_the_same_history_to_the_last_digit():
    _, a = moons_run(seed=1, metrics=["accuracy", "f1"])
    _, b = moons_run(seed=1, metrics=["accuracy", "f1"])
    assert a == b and a.records == b.records


def test_another_seed_gives_another_history():
    assert moons_run(seed=1)[1].records["loss"] != moons_run(seed=2)[1].records["loss"]


def test_full_batch_fit_is_the_hand_written_gradient_descent_loop():
    X, Y = xor_easy()
    l2_sum = lambda out, y: F.l2_loss(out, y, reduction="sum")
    mt.manual_seed(0)
    net = MLP([2, 5, 5, 1], activations="sigmoid", output="sigmoid")
    history = fit(
        net,
        (X, Y),
        loss=l2_sum,
        epochs=50,
        batch_size=None,
        progress=False,
        optimizer=mt.optim.SGD(net.parameters(), lr=0.1),
    )
    mt.manual_seed(0)
    net = MLP([2, 5, 5, 1], activations="sigmoid", output="sigmoid")
    opt = mt.optim.SGD(net.parameters(), lr=0.1)
    x, y = mt.tensor(X, dtype=mt.float32), mt.tensor(Y, dtype=mt.float32)
    losses = []
    for _ in range(50):
        opt.zero_grad()
        loss = l2_sum(net(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert history["loss"] == losses


def test_log_every_records_every_kth_epoch_and_the_last():
    _, history = moons_run(epochs=7, log_every=3)
    assert history["epoch"] == [3, 6, 7]
    assert all(len(v) == 3 for v in history.records.values())


def test_history_records_loss_metrics_val_and_lr():
    _, history = moons_run(epochs=2, metrics=["accuracy", "precision"])
    assert list(history.records) == [
        "epoch",
        "lr",
        "loss",
        "accuracy",
        "precision",
        "val_loss",
        "val_accuracy",
        "val_precision",
    ]
    assert history.last["epoch"] == 2
    assert json.loads(json.dumps(history.to_dict()))["records"] == history.records


def test_history_names_what_it_has_when_asked_for_what_it_has_not():
    with pytest.raises(KeyError, match="no 'f1'; recorded"):
        History({"loss": [1.0]})["f1"]


# -- scheduler and early stopping ----------------------------------------------------


def test_scheduler_steps_once_per_epoch():
    mt.manual_seed(0)
    net = MLP([2, 3, 1], output="sigmoid")
    opt = mt.optim.SGD(net.parameters(), lr=0.1)
    sched = mt.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    history = fit(
        net,
        xor_easy(),
        loss=F.mse_loss,
        optimizer=opt,
        epochs=5,
        batch_size=8,
        scheduler=sched,
        progress=False,
    )
    assert history["lr"] == [0.1, 0.1, 0.05, 0.05, 0.025]
    assert sched.last_epoch == 5


def test_reduce_lr_on_plateau_is_given_the_validation_loss():
    mt.manual_seed(0)
    net = SoftmaxClassifier([2, 8, 2])
    opt = mt.optim.SGD(net.parameters(), lr=0.5)
    sched = mt.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5)
    X, y = moons(64, seed=0)
    history = fit(
        net,
        (X, y),
        loss=F.cross_entropy,
        optimizer=opt,
        epochs=6,
        batch_size=16,
        val_data=(X[:20], 1 - y[:20]),
        scheduler=sched,
        progress=False,
    )
    assert sched.best in history["val_loss"]
    assert history["lr"][-1] < 0.5


def test_early_stopping_stops_after_patience_epochs_without_improvement():
    mt.manual_seed(0)
    net = SoftmaxClassifier([2, 8, 2])
    opt = mt.optim.SGD(net.parameters(), lr=0.0)  # nothing changes: no epoch improves
    history = fit(
        net,
        moons(32),
        loss=F.cross_entropy,
        optimizer=opt,
        epochs=50,
        batch_size=8,
        val_data=moons(16, seed=1),
        progress=False,
        early_stopping=EarlyStopping(patience=3),
    )
    assert history["epoch"] == [1, 2, 3, 4]
    assert history.stopped_early and history.best_epoch == 1


def test_early_stopping_restores_the_weights_of_the_best_epoch():
    X, y = moons(64, noise=0.1, seed=0)
    net, history = moons_run(
        epochs=40,
        val_data=(X, 1 - y),  # learning y makes 1 - y worse
        early_stopping=EarlyStopping(patience=2),
    )
    assert history.stopped_early and len(history["epoch"]) < 40
    best = history["epoch"].index(history.best_epoch)
    assert history["val_loss"][-1] > history["val_loss"][best]
    restored = evaluate(net, (X, 1 - y), F.cross_entropy)["loss"]
    assert restored == pytest.approx(history["val_loss"][best], rel=1e-6)


def test_early_stopping_on_a_val_metric_needs_val_data():
    with pytest.raises(
        ValueError, match="monitors 'val_loss', which is not recorded.*pass val_data"
    ):
        moons_run(val_data=None, early_stopping=EarlyStopping())


# -- metrics are sklearn's -----------------------------------------------------------


def test_evaluate_binary_metrics_equal_sklearns_on_the_predictions():
    net, _ = moons_run(epochs=3)
    X, y = moons(80, noise=0.3, seed=5)
    pred = predict(net, X)
    got = evaluate(net, (X, y), metrics=models.training.METRICS)
    assert got["accuracy"] == skm.accuracy_score(y, pred)
    assert got["precision"] == skm.precision_score(y, pred)
    assert got["recall"] == skm.recall_score(y, pred)
    assert got["f1"] == skm.f1_score(y, pred)
    np.testing.assert_array_equal(got["confusion_matrix"], skm.confusion_matrix(y, pred))


def test_evaluate_multiclass_metrics_are_macro_averages():
    X, y = iris()
    mt.manual_seed(0)
    net = SoftmaxClassifier([4, 8, 3])
    opt = mt.optim.Adam(net.parameters(), lr=0.05)
    fit(net, (X, y), loss=F.cross_entropy, optimizer=opt, epochs=20, batch_size=32, progress=False)
    pred = predict(net, X)
    got = evaluate(net, (X, y), F.cross_entropy, ["precision", "recall", "f1"])
    assert got["precision"] == skm.precision_score(y, pred, average="macro", zero_division=0)
    assert got["recall"] == skm.recall_score(y, pred, average="macro", zero_division=0)
    assert got["f1"] == skm.f1_score(y, pred, average="macro", zero_division=0)
    with mt.no_grad():
        expected = F.cross_entropy(net(mt.tensor(X, dtype=mt.float32)), mt.tensor(y)).item()
    assert got["loss"] == pytest.approx(expected, rel=1e-6)


def test_one_output_predicts_class_1_above_the_threshold():
    net = mt.nn.Linear(1, 1)
    net.weight.numpy(force=True)[...], net.bias.numpy(force=True)[...] = 1.0, 0.0
    X = np.array([[-1.0], [0.2], [0.7]])
    assert predict(net, X).tolist() == [0, 0, 1]
    assert predict(net, X, threshold=0.0).tolist() == [0, 1, 1]


def test_float_and_one_hot_targets_become_class_labels():
    net = mt.nn.Linear(2, 2)
    X = np.random.default_rng(0).normal(size=(10, 2))
    labels = np.arange(10) % 2
    by_index = evaluate(net, (X, labels), metrics=["accuracy"])
    assert evaluate(net, (X, np.eye(2)[labels]), metrics=["accuracy"]) == by_index
    net1 = mt.nn.Linear(2, 1)
    assert evaluate(net1, (X, labels.astype(float)[:, None])) == evaluate(net1, (X, labels))


def test_fit_train_metrics_are_those_of_the_epochs_forward_pass():
    X, Y = xor_easy()
    mt.manual_seed(0)
    net = MLP([2, 5, 1], output="sigmoid")
    before = skm.accuracy_score(Y[:, 0], predict(net, X))
    history = fit(
        net,
        (X, Y),
        loss=F.mse_loss,
        optimizer=mt.optim.SGD(net.parameters(), 0.1),
        epochs=1,
        batch_size=None,
        progress=False,
    )
    assert history["accuracy"] == [before]


def test_fit_trains_a_conv_net_on_images():
    from models import ConvNet, digits

    X_train, X_test, y_train, y_test = digits()
    mt.manual_seed(0)
    net = ConvNet(in_shape=(1, 8, 8), channels=(4, 8), hidden=16, dropout=0.25)
    history = fit(
        net,
        (X_train[:256], y_train[:256]),
        loss=F.cross_entropy,
        epochs=2,
        batch_size=64,
        optimizer=mt.optim.Adam(net.parameters(), lr=0.01),
        val_data=(X_test, y_test),
        progress=False,
    )
    assert history["val_loss"][1] < history["val_loss"][0]
    assert predict(net, X_test).shape == (len(X_test),)


def test_unknown_metric_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown metric 'auc'; choose from \['accuracy'"):
        moons_run(metrics=["auc"])


def test_fit_sends_the_confusion_matrix_to_evaluate():
    with pytest.raises(ValueError, match="ask evaluate\\(\\) for the confusion matrix"):
        moons_run(metrics=["confusion_matrix"])


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"epochs": 0}, "epochs must be a positive int"),
        ({"batch_size": 0}, "batch_size must be a positive int or None"),
        ({"log_every": 0}, "log_every must be a positive int"),
    ],
)
def test_fit_rejects_bad_counts(kw, message):
    net = MLP([2, 1])
    args = dict(
        loss=F.mse_loss,
        optimizer=mt.optim.SGD(net.parameters(), 0.1),
        epochs=1,
        batch_size=1,
        progress=False,
    )
    args.update(kw)
    with pytest.raises(ValueError, match=message):
        fit(net, xor_easy(), **args)


def test_fit_rejects_data_that_is_not_a_pair():
    net = MLP([2, 1])
    with pytest.raises(ValueError, match="inputs and targets \\(2 items\\), got 3"):
        fit(
            net,
            (1, 2, 3),
            loss=F.mse_loss,
            optimizer=mt.optim.SGD(net.parameters(), 0.1),
            epochs=1,
            batch_size=1,
        )


# -- progress bar --------------------------------------------------------------------


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize(
    "stream, progress, shown",
    [(FakeTerminal, True, True), (FakeTerminal, False, False), (io.StringIO, True, False)],
)
def test_progress_bar_only_on_a_terminal_and_when_asked(monkeypatch, stream, progress, shown):
    err = stream()
    monkeypatch.setattr("sys.stderr", err)
    net = MLP([2, 1], output="sigmoid")
    fit(
        net,
        xor_easy(),
        loss=F.mse_loss,
        optimizer=mt.optim.SGD(net.parameters(), 0.1),
        epochs=3,
        batch_size=None,
        progress=progress,
    )
    assert ("3/3" in err.getvalue()) == shown


def test_training_doctests_pass():
    assert doctest.testmod(models.training).failed == 0


def test_the_progress_bar_shows_in_a_jupyter_kernel_though_stderr_is_no_terminal(monkeypatch):
    import sys
    import types

    from models.training import _progress_enabled

    monkeypatch.setattr(sys, "stderr", types.SimpleNamespace(isatty=lambda: False))
    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: None  # imported, but no shell: a plain script
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    assert not _progress_enabled(True)  # a pipe or a log file: no bar
    ipython.get_ipython = lambda: types.SimpleNamespace(kernel=object())  # Jupyter's shell
    assert _progress_enabled(True) and not _progress_enabled(False)
