"""fit(compile=True), the default, trains through mt.compile: on the reports' workloads it
gives the weights and the History that compile=False gives, to the bit, while replaying
its recorded step; where the step cannot be replayed it runs eagerly and says why."""

import math
import sys
import warnings

import numpy as np
import pytest

import microtensor as mt
from microtensor import nn
from microtensor.compile import CompileWarning
from microtensor.nn import functional as F
from models import MLP, ConvNet, SoftmaxClassifier, digits, moons, xor_easy
from models.training import History, fit


@pytest.fixture(autouse=True)
def _float32_default():
    yield
    mt.set_default_dtype(mt.float32)


def _bits(net) -> list:
    arrays = [p.numpy(force=True) for p in net.parameters()]
    assert all(np.isfinite(a).all() for a in arrays)  # NaN's bits would compare equal
    return [a.tobytes() for a in arrays]


def _both_ways(train) -> tuple:
    """train(compile) -> (net, History), run with compile off and on: the two runs'
    weights and Histories, and the compiled run's History, with warnings as errors (a
    step that ran eagerly would warn)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        eager_net, eager = train(False)
        net, compiled = train(True)
    return _bits(eager_net), eager, _bits(net), compiled


def _assert_same(train, records: int = 1) -> History:
    eager_bits, eager, bits, history = _both_ways(train)
    assert bits == eager_bits
    assert history == eager and history.records == eager.records
    assert history.gradients == eager.gradients
    info = history.compiled
    assert (info["records"], info["eager_calls"], info["fallbacks"]) == (records, 0, [])
    assert info["replays"] > 0 and eager.compiled == {}
    return history


def _lab1(sizes=(2, 5, 5, 1), optimizer=mt.optim.SGD, **options):
    """Lab 1: the 2-5-5-1 sigmoid MLP, float64, full-batch gradient descent on the
    weights only (the biases stay out of the optimizer, their .grad piling up)."""

    def train(compile):
        mt.manual_seed(0)
        mt.set_default_dtype(mt.float64)
        net = MLP(list(sizes), activations="sigmoid", output="sigmoid")
        for layer in net.layers:
            nn.init.normal_(layer.weight, 0.0, 1.0)
        opt = optimizer([layer.weight for layer in net.layers], **options)
        history = fit(
            net,
            xor_easy(),
            loss=lambda p, y: F.l2_loss(p, y, reduction="sum"),
            optimizer=opt,
            epochs=100,
            batch_size=None,
            progress=False,
            log_every=10,
            compile=compile,
        )
        return net, history

    return train


def test_lab1_full_batch_sgd_trains_the_same_to_the_bit():
    # 2 recordings: the biases' .grad is None on the first step, added into after
    _assert_same(_lab1(lr=0.1), records=2)


@pytest.mark.parametrize(
    "optimizer, options",
    [
        (mt.optim.SGD, {"lr": 0.1, "momentum": 0.9}),
        (mt.optim.Adam, {"lr": 0.05}),
        (mt.optim.AdamW, {"lr": 0.05, "weight_decay": 0.1}),
        (mt.optim.Adagrad, {"lr": 0.1}),
        (mt.optim.RMSprop, {"lr": 0.01}),
    ],
    ids=["sgd-momentum", "adam", "adamw", "adagrad", "rmsprop"],
)
def test_every_optimizer_of_the_registry_trains_the_same_to_the_bit(optimizer, options):
    _assert_same(_lab1(optimizer=optimizer, **options), records=2)


def test_softmax_classifier_with_weight_decay_on_the_weights_only_trains_the_same():
    """Reports 002/003: summed cross-entropy on moons, full batch, weight decay in the
    weights' parameter group and none on the biases'."""

    def train(compile):
        mt.manual_seed(0)
        mt.set_default_dtype(mt.float64)
        net = SoftmaxClassifier([2, 10, 2], activations="tanh")
        for layer in net.layers:
            nn.init.normal_(layer.weight, 0.0, 1.0 / math.sqrt(layer.in_features))
            nn.init.zeros_(layer.bias)
        opt = mt.optim.SGD(
            [
                {"params": [layer.weight for layer in net.layers], "weight_decay": 0.01},
                {"params": [layer.bias for layer in net.layers]},
            ],
            lr=0.01,
        )
        history = fit(
            net,
            moons(200),
            loss=lambda o, y: F.cross_entropy(o, y, reduction="sum"),
            optimizer=opt,
            epochs=100,
            batch_size=None,
            progress=False,
            log_every=10,
            compile=compile,
        )
        return net, history

    _assert_same(train)


def _conv(optimizer, options, scheduler=None, activation="relu", init="xavier", **kw):
    """The reports' conv net (two dropouts) on 230 digits: shuffled batches of 50 and a
    last one of 30, cross-entropy on class targets that change with every batch."""
    X_train, X_test, y_train, y_test = digits()

    def train(compile):
        mt.manual_seed(0)
        net = ConvNet(in_shape=X_train.shape[1:], activation_name=activation, init=init)
        opt = optimizer(net.parameters(), **options)
        history = fit(
            net,
            (X_train[:230], y_train[:230]),
            loss=F.cross_entropy,
            optimizer=opt,
            scheduler=None if scheduler is None else scheduler(opt),
            epochs=4,
            batch_size=50,
            seed=3,
            val_data=(X_test[:100], y_test[:100]),
            progress=False,
            compile=compile,
            **kw,
        )
        return net, history

    return train


def test_conv_net_with_dropout_mini_batches_and_adam_trains_the_same_to_the_bit():
    # 2 recordings: batches of 50 and the last one of 30 (a shape guard)
    history = _assert_same(_conv(mt.optim.Adam, {"lr": 1e-3}), records=2)
    assert history.compiled["replays"] == 4 * 5 - 2


def test_conv_net_with_sgd_and_an_exponential_lr_trains_the_same_to_the_bit():
    history = _assert_same(
        _conv(
            mt.optim.SGD,
            {"lr": 0.05, "momentum": 0.9},
            lambda opt: mt.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5),
        ),
        records=2,
    )
    assert history["lr"] == [0.05, 0.025, 0.0125, 0.00625]  # each epoch's, read by its replays


def test_tracked_gradients_are_the_same_to_the_bit():
    history = _assert_same(_conv(mt.optim.Adam, {"lr": 1e-3}, track_gradients=True), records=2)
    assert set(history.gradients["grad_norm"]) == {
        n for n, _ in ConvNet((1, 8, 8)).named_parameters()
    }


# float dtype -> (the unsigned integer of its size, the bits of a signaling NaN)
_SIGNALING = {
    np.dtype(np.float32): (np.uint32, 0x7FA00000),
    np.dtype(np.float64): (np.uint64, 0x7FF4000000000000),
}


def _poisoned(new):
    """numpy's `new` (np.empty or np.empty_like) with its memory filled: zeros for
    mt.compile's check of a buffer form at record time (lower._lower), as fresh memory
    often is, so that a form reading a buffer before writing it can pass its check;
    everywhere else, the replay's buffers included, signaling NaN (other floats: NaN;
    integers: the dtype's largest value), so that such a read shows: arithmetic on a
    signaling NaN warns even where the value would not matter."""
    from microtensor.compile import lower

    check = lower._lower.__code__

    def make(*args, **kw):
        a = new(*args, **kw)
        frame, in_check = sys._getframe(1), False
        while frame is not None and not in_check:
            in_check, frame = frame.f_code is check, frame.f_back
        if in_check:
            a.fill(0)
        elif a.dtype in _SIGNALING:  # any arithmetic on it warns (an error in _both_ways)
            a.view(_SIGNALING[a.dtype][0])[...] = _SIGNALING[a.dtype][1]
        elif a.dtype.kind in "fc":
            a.fill(np.nan)
        elif a.dtype.kind in "iu":
            a.fill(np.iinfo(a.dtype).max)
        else:
            a.fill(1)
        return a

    return make


@pytest.fixture
def poisoned_empty(monkeypatch):
    """np.empty and np.empty_like poisoned (_poisoned) for the test."""
    monkeypatch.setattr(np, "empty", _poisoned(np.empty))
    monkeypatch.setattr(np, "empty_like", _poisoned(np.empty_like))


@pytest.mark.parametrize(
    "activation, init, optimizer, options",
    [
        ("relu", "xavier", mt.optim.Adam, {"lr": 0.005}),
        ("sigmoid", "he", mt.optim.SGD, {"lr": 0.01}),
        ("tanh", "xavier", mt.optim.Adagrad, {"lr": 0.01}),
        ("leaky_relu", "he", mt.optim.Adam, {"lr": 0.005}),
    ],
    ids=["relu-adam", "sigmoid-sgd", "tanh-adagrad", "leaky_relu-adam"],
)
def test_a_replay_writes_every_buffer_before_it_reads_it(
    activation, init, optimizer, options, poisoned_empty
):
    """Report 003's four conv nets, every np.empty buffer (the replay's own and eager
    mode's) holding signaling NaNs until written: no warning, and the weights stay
    finite and equal."""
    _assert_same(_conv(optimizer, options, activation=activation, init=init), records=2)


@pytest.mark.parametrize("optimizer", [mt.optim.SGD, mt.optim.Adam], ids=["sgd", "adam"])
def test_a_lab1_replay_writes_every_buffer_before_it_reads_it(optimizer, poisoned_empty):
    _assert_same(_lab1(optimizer=optimizer, lr=0.1), records=2)


def test_making_a_replay_computes_nothing_on_its_unwritten_buffers(poisoned_empty):
    """A replay's buffers hold garbage until it runs (signaling NaNs here). Making the
    replay once ran each op without a buffer form (leaky ReLU's forward and VJP) on them,
    to see whether it gave a view, and numpy warned whenever the garbage held a signaling
    NaN (now and then in the full suite's reproductions). Warnings as errors hid it (the
    probe's error was swallowed), so they are recorded here."""
    mt.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 5), nn.LeakyReLU(), nn.Linear(5, 5), nn.LeakyReLU())
    opt = mt.optim.Adam(net.parameters(), lr=0.01)
    x, y = mt.randn(100, 2), mt.randint(0, 5, (100,))

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        return loss

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = mt.compile(step)
        for _ in range(3):
            run(x, y)
    assert [str(w.message) for w in caught] == []
    assert (run.records, run.replays) == (1, 2)


def test_a_loss_that_branches_on_a_value_trains_eagerly_with_the_reason_in_the_history():
    def loss(out, y):  # a Python branch on the loss: no recording can take both ways
        value = F.mse_loss(out, y)
        return value * 2 if value.item() > 0.2 else value

    def train(compile):
        mt.manual_seed(0)
        net = MLP([2, 4, 1], activations="tanh", output="sigmoid")
        opt = mt.optim.SGD(net.parameters(), lr=0.5)
        X, Y = xor_easy()
        return net, fit(
            net, (X, Y), loss=loss, optimizer=opt, epochs=30, batch_size=None,
            progress=False, compile=compile,
        )  # fmt: skip

    eager_net, eager = train(False)
    with pytest.warns(CompileWarning, match=r"reads a tensor's values in Python") as caught:
        net, history = train(True)
    assert len(caught) == 1  # once, not once per epoch
    assert _bits(net) == _bits(eager_net) and history == eager
    assert history.compiled["replays"] == 0 and history.compiled["eager_calls"] == 30
    assert history.compiled["fallbacks"] == [str(caught[0].message).split("running eagerly: ")[1]]


def test_a_random_draw_in_the_model_trains_eagerly_and_draws_as_eager_mode_does():
    class Noisy(nn.Module):  # noise from mt.randn: not a dropout mask, so not redrawn
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 1)

        def forward(self, x):
            return self.fc(x + 0.01 * mt.randn(*x.shape))

    def train(compile):
        mt.manual_seed(0)
        net = Noisy()
        opt = mt.optim.SGD(net.parameters(), lr=0.1)
        X, Y = xor_easy()
        return net, fit(
            net, (X, Y), loss=F.mse_loss, optimizer=opt, epochs=5, batch_size=8,
            progress=False, compile=compile,
        )  # fmt: skip

    eager_net, eager = train(False)
    with pytest.warns(CompileWarning, match="draws random numbers other than dropout's"):
        net, history = train(True)
    assert _bits(net) == _bits(eager_net) and history == eager
    assert history.compiled["replays"] == 0


def test_fit_compiles_by_default():
    mt.manual_seed(0)
    net = MLP([2, 3, 1], activations="tanh")
    history = fit(
        net, xor_easy(), loss=F.mse_loss, optimizer=mt.optim.SGD(net.parameters(), lr=0.1),
        epochs=3, batch_size=None, progress=False,
    )  # fmt: skip
    assert history.compiled == {"records": 1, "replays": 2, "eager_calls": 0, "fallbacks": []}


def test_accuracy_is_sklearns_to_the_bit():
    from sklearn.metrics import accuracy_score

    from models.training import _score

    rng = np.random.default_rng(0)
    for n in (1, 7, 1000, 4097):
        y, p = rng.integers(0, 3, n), rng.integers(0, 3, n)
        assert _score("accuracy", y, p, 3) == accuracy_score(y, p)


@pytest.mark.parametrize("flags, compiled", [((), True), (("--no-compile",), False)])
def test_train_command_compiles_unless_told_not_to(flags, compiled, tmp_path, monkeypatch):
    import models.training
    from models import cli

    class Stop(Exception):
        pass

    def fit(*args, **kwargs):
        assert kwargs["compile"] is compiled
        raise Stop

    monkeypatch.setattr(models.training, "fit", fit)
    argv = ["train", "--model", "MLP", "--data", "xor_easy", "--out", str(tmp_path), *flags]
    with pytest.raises(Stop):
        cli.main(argv)
