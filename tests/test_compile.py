"""mt.compile: a recorded step replays bit for bit what eager mode computes, records again
when a guard changes, and runs eagerly, saying why, when a recording cannot be replayed."""

import gc
import warnings

import numpy as np
import pytest

import microtensor as mt
from microtensor import nn
from microtensor.compile import CompileWarning
from microtensor.nn import functional as F
from models import MLP, SoftmaxClassifier, xor_easy


@pytest.fixture(autouse=True)
def _float32_default():
    yield
    mt.set_default_dtype(mt.float32)


def _same(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def _train_both_ways(make, steps: int = 100):
    """Train fresh (parameters, step, batch) from `make` eagerly and compiled for `steps`
    calls; the parameters and losses of each, and the compiled function."""
    results = []
    for compiled in (False, True):
        params, step, batch = make()
        run = mt.compile(step) if compiled else step
        losses = [run(*batch).numpy(force=True).copy() for _ in range(steps)]
        results.append(([p.numpy(force=True).copy() for p in params], losses, run))
    (pe, le, _), (pc, lc, run) = results
    return pe, pc, le, lc, run


def _assert_equal_bit_for_bit(make, steps: int = 100):
    pe, pc, le, lc, run = _train_both_ways(make, steps)
    assert (run.records, run.replays, run.eager_calls) == (1, steps - 1, 0)
    assert all(_same(a, b) for a, b in zip(pe, pc))
    assert all(_same(a, b) for a, b in zip(le, lc))


def _sgd_step(net, opt, loss_fn):
    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


# -- replays equal eager mode bit for bit, on the reports' workloads -----------------------
def test_sigmoid_mlp_2_5_5_1_with_mse_and_sgd_replays_bit_for_bit():
    def make():
        mt.manual_seed(0)
        mt.set_default_dtype(mt.float64)
        rng = np.random.default_rng(0)
        X = rng.uniform(0, 1, (100, 2))
        x, y = mt.tensor(X), mt.tensor((X[:, :1] > X[:, 1:]).astype(float))
        net = MLP([2, 5, 5, 1], activations="sigmoid", output="sigmoid")
        opt = mt.optim.SGD(net.parameters(), lr=0.1)
        return list(net.parameters()), _sgd_step(net, opt, F.mse_loss), (x, y)

    _assert_equal_bit_for_bit(make)


def test_readme_lab1_step_with_l2_loss_replays_bit_for_bit():
    def make():
        mt.manual_seed(0)
        X, Y = xor_easy()
        net = MLP([2, 5, 5, 1], activations=["sigmoid", "sigmoid"], output="sigmoid")
        opt = mt.optim.SGD(net.parameters(), lr=0.1)
        step = _sgd_step(net, opt, lambda p, y: F.l2_loss(p, y, reduction="sum"))
        return list(net.parameters()), step, (mt.tensor(X), mt.tensor(Y))

    _assert_equal_bit_for_bit(make)


def test_softmax_classifier_with_cross_entropy_and_adam_replays_bit_for_bit():
    def make():
        mt.manual_seed(1)
        rng = np.random.default_rng(1)
        x = mt.tensor(rng.standard_normal((64, 20)).astype(np.float32))
        y = mt.tensor(rng.integers(0, 5, 64))
        net = SoftmaxClassifier([20, 32, 5])
        opt = mt.optim.Adam(net.parameters(), lr=1e-2)
        return list(net.parameters()), _sgd_step(net, opt, F.cross_entropy), (x, y)

    _assert_equal_bit_for_bit(make)


class SmallConvNet(nn.Module):
    """The benchmark's conv net: conv-pool-relu twice, then a linear layer."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3)
        self.conv2 = nn.Conv2d(8, 16, 3)
        self.fc = nn.Linear(16 * 5 * 5, 10)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2(x), 2))
        return self.fc(x.flatten(1))


def test_small_conv_net_with_cross_entropy_and_sgd_replays_bit_for_bit():
    def make():
        mt.manual_seed(2)
        rng = np.random.default_rng(2)
        x = mt.tensor(rng.random((8, 1, 28, 28), dtype=np.float32))
        y = mt.tensor(rng.integers(0, 10, 8))
        net = SmallConvNet()
        opt = mt.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
        return list(net.parameters()), _sgd_step(net, opt, F.cross_entropy), (x, y)

    _assert_equal_bit_for_bit(make)


def test_padded_conv_net_with_dropout_off_replays_bit_for_bit():
    from models import ConvNet

    def make():
        mt.manual_seed(3)
        rng = np.random.default_rng(3)
        x = mt.tensor(rng.random((4, 1, 8, 8), dtype=np.float32))
        y = mt.tensor(rng.integers(0, 10, 4))
        net = ConvNet((1, 8, 8), dropout=0.0)
        opt = mt.optim.AdamW(net.parameters(), lr=3e-3)
        return list(net.parameters()), _sgd_step(net, opt, F.cross_entropy), (x, y)

    _assert_equal_bit_for_bit(make, steps=20)


@pytest.mark.parametrize(
    "make_opt",
    [
        lambda ps: mt.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-2),
        lambda ps: mt.optim.SGD(ps, lr=0.1, momentum=0.5, dampening=0.1, maximize=True),
        lambda ps: mt.optim.Adam(ps, lr=1e-2, amsgrad=True, weight_decay=1e-2),
        lambda ps: mt.optim.Adagrad(ps, lr=1e-2, lr_decay=1e-3),
        lambda ps: mt.optim.RMSprop(ps, lr=1e-3, momentum=0.9, centered=True),
    ],
    ids=[
        "sgd-nesterov-decay",
        "sgd-dampening-maximize",
        "adam-amsgrad-decay",
        "adagrad",
        "rmsprop-centered",
    ],
)
def test_every_optimizer_replays_bit_for_bit_on_flat_and_lone_parameters(make_opt):
    def make():  # a 130x130 weight is updated alone, the small ones as one flat chunk
        mt.manual_seed(14)
        rng = np.random.default_rng(14)
        x = mt.tensor(rng.standard_normal((16, 130)).astype(np.float32))
        y = mt.tensor(rng.integers(0, 3, 16))
        net = MLP([130, 130, 3], activations="tanh")
        return (
            list(net.parameters()),
            _sgd_step(net, make_opt(net.parameters()), F.cross_entropy),
            (x, y),
        )

    _assert_equal_bit_for_bit(make, steps=10)


def test_raw_ops_and_a_manual_update_under_no_grad_replay_bit_for_bit():
    def make():
        mt.manual_seed(4)
        mt.set_default_dtype(mt.float64)
        W1, b1 = mt.randn(2, 5, requires_grad=True), mt.zeros(5, requires_grad=True)
        W2, b2 = mt.randn(5, 1, requires_grad=True), mt.zeros(1, requires_grad=True)
        params = [W1, b1, W2, b2]
        x, y = mt.randn(16, 2), mt.rand(16, 1)

        def step(x, y):
            out = ((x @ W1 + b1).sigmoid() @ W2 + b2).sigmoid()
            loss = ((out - y) ** 2).mean()
            loss.backward()
            with mt.no_grad():
                for p in params:
                    p -= 0.5 * p.grad
                    p.grad = None
            return loss

        return params, step, (x, y)

    _assert_equal_bit_for_bit(make)


def test_a_long_replay_runs_as_parts_bit_for_bit(monkeypatch):
    import sys

    monkeypatch.setattr(sys.modules["microtensor.compile.passes"], "PART_LINES", 7)

    def make():
        mt.manual_seed(16)
        net = MLP([3, 8, 8, 2], activations="sigmoid")
        opt = mt.optim.SGD(net.parameters(), lr=0.1)
        return (
            list(net.parameters()),
            _sgd_step(net, opt, F.mse_loss),
            (mt.randn(5, 3), mt.randn(5, 2)),
        )

    pe, pc, le, lc, run = _train_both_ways(make, steps=10)
    assert "def part7():" in run.code and run.replays == 9
    assert all(map(_same, pe, pc)) and all(map(_same, le, lc))


def test_recording_in_one_thread_leaves_eager_training_in_another_exact():
    import threading

    def make():
        mt.manual_seed(15)
        net = MLP([4, 16, 1], activations="tanh")
        opt = mt.optim.SGD(net.parameters(), lr=0.05)
        x, y = mt.randn(32, 4), mt.randn(32, 1)
        return list(net.parameters()), _sgd_step(net, opt, F.mse_loss), (x, y)

    def train(job, out):
        params, step, batch = job
        for _ in range(40):
            step(*batch)
        out.extend(p.numpy(force=True).copy() for p in params)

    expected: list = []
    train(make(), expected)
    eager, compiled = make(), make()
    compiled = (compiled[0], mt.compile(compiled[1]), compiled[2])
    results: dict = {"eager": [], "compiled": []}
    threads = [
        threading.Thread(target=train, args=(job, results[name]))
        for name, job in (("eager", eager), ("compiled", compiled))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(_same(a, b) for a, b in zip(expected, results["eager"]))
    assert all(_same(a, b) for a, b in zip(expected, results["compiled"]))
    assert compiled[1].replays == 39


# -- what a replay does and does not do ---------------------------------------------------
def test_a_replay_runs_the_recorded_arrays_not_the_python_function():
    calls = []
    w = mt.tensor([1.0, 2.0], requires_grad=True)

    @mt.compile
    def step(x):
        calls.append(1)
        loss = (w * x).sum()
        loss.backward()
        return loss

    for _ in range(3):
        w.grad = None
        loss = step(mt.tensor([3.0, 4.0]))
    assert len(calls) == 1 and step.replays == 2
    assert loss.item() == 11.0 and _same(w.grad.numpy(force=True), np.array([3.0, 4.0], np.float32))


def test_a_replay_makes_no_tensor_but_the_one_it_returns():
    mt.manual_seed(5)
    net = MLP([3, 4, 1], activations="tanh")
    opt = mt.optim.SGD(net.parameters(), lr=0.1)
    step = mt.compile(_sgd_step(net, opt, F.mse_loss))
    x, y = mt.randn(8, 3), mt.randn(8, 1)
    step(x, y)
    step(x, y)
    gc.collect()
    before = sum(isinstance(o, mt.Tensor) for o in gc.get_objects())
    loss = step(x, y)
    after = sum(isinstance(o, mt.Tensor) for o in gc.get_objects())
    assert step.replays == 2 and after - before == 1 and loss.grad_fn is None


def test_each_call_returns_a_fresh_tensor():
    w = mt.tensor([1.0], requires_grad=True)
    opt = mt.optim.SGD([w], lr=0.25)
    step = mt.compile(_sgd_step(lambda x: w * x, opt, lambda p, y: ((p - y) ** 2).sum()))
    losses = [step(mt.tensor([1.0]), mt.tensor([0.0])) for _ in range(3)]
    assert [loss.item() for loss in losses] == [1.0, 0.25, 0.0625] and step.replays == 2


def test_a_forward_pass_replays_and_its_output_is_a_fresh_copy():
    mt.manual_seed(6)
    net = SoftmaxClassifier([4, 8, 3])
    predict = mt.compile(lambda x: net(x).softmax(dim=1))
    x = mt.randn(5, 4)
    with mt.no_grad():
        first, second = predict(x), predict(x)
        expected = net(x).softmax(dim=1)
    assert predict.replays == 1 and first is not second
    assert _same(first.numpy(force=True), expected.numpy(force=True)) and _same(
        second.numpy(force=True), expected.numpy(force=True)
    )


# -- guards: what records again --------------------------------------------------------------
def test_a_new_input_shape_records_again_and_both_shapes_replay():
    mt.manual_seed(7)
    net = MLP([2, 3, 1], activations="sigmoid")
    predict = mt.compile(lambda x: net(x))
    small, large = mt.randn(4, 2), mt.randn(9, 2)
    outs = [predict(x) for x in (small, large, small, large)]
    assert (predict.records, predict.replays) == (2, 2)
    with mt.no_grad():
        assert _same(outs[2].numpy(force=True), net(small).numpy(force=True)) and _same(
            outs[3].numpy(force=True), net(large).numpy(force=True)
        )


def test_changing_grad_mode_records_again():
    w = mt.tensor([2.0], requires_grad=True)
    double = mt.compile(lambda x: w * x)
    x = mt.tensor([3.0])
    double(x)
    with mt.no_grad():
        double(x)
        double(x)
    double(x)
    assert (double.records, double.replays) == (2, 2)


@pytest.mark.parametrize(
    "loss",
    [
        F.cross_entropy,
        lambda out, y: F.nll_loss(F.log_softmax(out, 1), y, reduction="sum"),
        lambda out, y: F.cross_entropy(out.reshape(3, 2, 4).transpose(1, 2), y.reshape(3, 2)),
    ],
    ids=["cross_entropy", "nll_loss", "cross_entropy-3d"],
)
def test_new_class_index_targets_replay_without_recording_again(loss):
    targets = [[0, 1, 2, 3, 0, 1], [3, 3, 2, 1, 0, 0], [1, 1, 1, 1, 1, 1]] * 4
    results = []
    for compiled in (False, True):
        mt.manual_seed(8)
        net = SoftmaxClassifier([3, 4])
        x = mt.randn(6, 3)
        step = _sgd_step(net, mt.optim.SGD(net.parameters(), lr=0.5), loss)
        run = mt.compile(step) if compiled else step
        losses = [run(x, mt.tensor(y)).numpy(force=True) for y in targets]
        results.append((losses, [p.numpy(force=True) for p in net.parameters()]))
    (le, pe), (lc, pc) = results
    assert all(map(_same, le, lc)) and all(map(_same, pe, pc))
    assert (run.records, run.replays, run.eager_calls) == (1, 11, 0)


def test_ignored_targets_replay_while_their_count_stays_and_record_again_when_it_changes():
    mt.manual_seed(8)
    net = SoftmaxClassifier([3, 4])
    loss_of = mt.compile(lambda x, y: F.cross_entropy(net(x), y, ignore_index=-1))
    x = mt.randn(4, 3)
    ys = [[0, -1, 2, 3], [-1, 1, 1, 0], [1, 2, -1, -1], [-1, -1, 3, 3], [-1, -1, -1, -1]]
    got = [loss_of(x, mt.tensor(y)).numpy(force=True) for y in ys]
    with mt.no_grad():
        want = [F.cross_entropy(net(x), mt.tensor(y), ignore_index=-1).numpy() for y in ys]
    assert all(map(_same, got, want)) and np.isnan(got[-1])
    assert (loss_of.records, loss_of.replays) == (3, 2)  # 3, 2 and 0 targets counted


def test_a_target_out_of_range_raises_on_a_call_that_would_replay():
    mt.manual_seed(8)
    net = SoftmaxClassifier([3, 4])
    loss_of = mt.compile(lambda x, y: F.cross_entropy(net(x), y))
    x = mt.randn(2, 3)
    loss_of(x, mt.tensor([0, 1]))
    with pytest.raises(IndexError, match="target 4 is out of bounds for 4 classes"):
        loss_of(x, mt.tensor([0, 4]))


@pytest.mark.parametrize(
    "options",
    [{"label_smoothing": 0.1}, {"weight": mt.tensor([1.0, 2.0, 1.0, 0.5])}],
    ids=["label_smoothing", "weight"],
)
def test_targets_with_label_smoothing_or_class_weights_record_again_for_new_values(options):
    mt.manual_seed(8)
    net = SoftmaxClassifier([3, 4])
    loss_of = mt.compile(lambda x, y: F.cross_entropy(net(x), y, **options))
    x = mt.randn(6, 3)
    y1, y2 = mt.tensor([0, 1, 2, 3, 0, 1]), mt.tensor([3, 3, 2, 1, 0, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CompileWarning)  # weight: its values are read
        got = [loss_of(x, y).numpy(force=True) for y in (y1, y2, y1, y2)]
    with mt.no_grad():
        want = [F.cross_entropy(net(x), y, **options).numpy() for y in (y1, y2, y1, y2)]
    assert all(map(_same, got, want)) and loss_of.replays in (0, 2)


def test_switching_a_module_between_eval_and_train_records_again():
    mt.manual_seed(9)
    net = MLP([3, 4, 1], activations="relu", dropout=0.5)
    net.eval()
    predict = mt.compile(lambda x: net(x))
    x = mt.randn(2, 3)
    predict(x)
    predict(x)
    net.train()
    predict(x)
    predict(x)
    net.eval()
    predict(x)
    assert (predict.records, predict.replays, predict.eager_calls) == (2, 3, 0)


def test_gradients_that_accumulate_across_calls_equal_eager():
    def make():
        mt.manual_seed(10)
        w = mt.randn(3, requires_grad=True)
        opt = mt.optim.SGD([w], lr=0.01)

        def step(x):  # no zero_grad: each backward adds into .grad
            loss = (w * x).sum() ** 2
            loss.backward()
            opt.step()
            return loss

        return [w], step, (mt.randn(3),)

    pe, pc, le, lc, run = _train_both_ways(make, steps=10)
    assert run.records == 2 and run.replays == 8
    assert all(_same(a, b) for a, b in zip(pe, pc)) and all(map(_same, le, lc))


def test_retain_graph_lets_two_backward_calls_share_a_graph():
    def make():
        mt.manual_seed(11)
        net = MLP([2, 3, 1], activations="tanh")
        opt = mt.optim.SGD(net.parameters(), lr=0.1)

        def step(x):
            opt.zero_grad()
            out = net(x)
            a, b = out.sum(), (out**2).sum()
            a.backward(retain_graph=True)
            b.backward()
            opt.step()
            return a + b

        return list(net.parameters()), step, (mt.randn(5, 2),)

    _assert_equal_bit_for_bit(make, steps=10)


# -- fallbacks: what runs eagerly, with a warning that says why ----------------------------
def test_a_branch_on_item_runs_eagerly_with_a_warning():
    w = mt.tensor([1.0, -1.0], requires_grad=True)
    opt = mt.optim.SGD([w], lr=0.1)

    def step(x):
        opt.zero_grad()
        loss = (w * x).sum() ** 2
        if loss.item() > 0.5:  # a Python branch on a value: a replay could not take it
            loss.backward()
            opt.step()
        return loss

    compiled = mt.compile(step)
    why = r"reads a tensor's values in Python .*test_compile"
    with pytest.warns(CompileWarning, match=why):
        first = compiled(mt.tensor([2.0, 1.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        later = [compiled(mt.tensor([2.0, 1.0])).item() for _ in range(3)]
    assert compiled.replays == 0 and compiled.eager_calls == 4
    assert first.item() == 1.0 and later == [0.0, 0.0, 0.0]  # one update, as eagerly


@pytest.mark.parametrize(
    "read",
    [
        lambda t: float(t.sum()),
        lambda t: bool(t.sum() > 0),
        lambda t: t.tolist()[0],
        lambda t: t.detach().numpy()[0],
        lambda t: t.numpy(force=True)[0],
        lambda t: print(t),
    ],
    ids=["float", "bool", "tolist", "numpy", "data", "print"],
)
def test_reading_a_value_of_the_step_in_python_runs_eagerly_with_a_warning(read, capsys):
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    f = mt.compile(lambda x: (read(w * x), w * x)[1])
    with pytest.warns(CompileWarning, match="reads a tensor's values in Python"):
        f(mt.tensor([3.0, 4.0]))
    assert f(mt.tensor([3.0, 4.0])).tolist() == [3.0, 8.0] and f.eager_calls == 2


def test_reading_an_arguments_values_specialises_on_them():
    f = mt.compile(lambda x: x * float(x.numpy().sum()))
    a, b = mt.tensor([1.0, 2.0]), mt.tensor([2.0, 2.0])
    assert [f(t).tolist() for t in (a, b, a)] == [[3.0, 6.0], [8.0, 8.0], [3.0, 6.0]]
    assert (f.records, f.replays) == (2, 1)


@pytest.mark.parametrize(
    "drop, shape",
    [(nn.Dropout(0.5), (40, 5)), (nn.Dropout2d(0.25), (4, 6, 3, 3)), (nn.Dropout(1.0), (3, 2))],
    ids=["dropout", "dropout2d", "p=1"],
)
def test_dropout_draws_a_new_mask_on_each_replay_as_eager_mode_draws_it(drop, shape):
    def make():
        mt.manual_seed(12)
        w = mt.randn(*shape[1:], requires_grad=True)
        opt = mt.optim.SGD([w], lr=0.1)
        x = mt.randn(*shape)
        return [w], _sgd_step(lambda x: drop(x * w) * 2, opt, lambda out, _: out.sum()), (x, 0)

    _assert_equal_bit_for_bit(make, steps=10)
    mt.manual_seed(0)
    f = mt.compile(lambda x: drop(x))
    masks = {f(mt.ones(*shape)).numpy(force=True).tobytes() for _ in range(4)}
    assert len(masks) == (1 if drop.p == 1 else 4)


def test_a_mask_nothing_reads_is_drawn_all_the_same_so_the_next_ones_match_eager_mode():
    def two_masks(x):
        F.dropout(x)  # its mask moves the generator on
        return F.dropout(x)

    step = mt.compile(two_masks)
    mt.manual_seed(6)
    got = [step(mt.ones(8)).numpy(force=True) for _ in range(4)]
    mt.manual_seed(6)
    want = [two_masks(mt.ones(8)).numpy(force=True) for _ in range(4)]
    assert all(map(_same, got, want)) and step.replays == 3


@pytest.mark.parametrize(
    "noisy",
    [
        lambda x: nn.functional.dropout(x) + mt.rand(3),
        lambda x: nn.functional.dropout(x + mt.rand(3)),
    ],
    ids=["after", "before"],
)
def test_a_draw_beside_dropout_runs_eagerly_with_a_warning(noisy):
    step = mt.compile(noisy)
    with pytest.warns(CompileWarning, match="draws random numbers other than dropout's"):
        step(mt.ones(3))
    mt.manual_seed(5)
    got = [step(mt.ones(3)).numpy(force=True) for _ in range(3)]
    mt.manual_seed(5)
    assert all(map(_same, got, [noisy(mt.ones(3)).numpy(force=True) for _ in range(3)]))
    assert step.eager_calls == 4 and step.fallbacks[0].startswith("it draws random numbers")


@pytest.mark.parametrize(
    "make_step, why",
    [
        (lambda w: lambda x: (w * x).sum().backward(create_graph=True), "create_graph"),
        (lambda w: lambda x: mt.autograd.grad((w * x).sum(), w)[0], "autograd.grad"),
        (lambda w: lambda x: _hooked(w * x).sum().backward(), "hook"),
        (lambda w: lambda x: Cube.apply(w * x).sum().backward(), "autograd.Function Cube"),
    ],
)
def test_unsupported_autograd_features_run_eagerly_with_a_warning(make_step, why):
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    f = mt.compile(make_step(w))
    with pytest.warns(CompileWarning, match=why):
        f(mt.tensor([3.0, 4.0]))
    w.grad = None
    f(mt.tensor([3.0, 4.0]))
    assert f.replays == 0 and f.eager_calls == 2


def _hooked(t):
    t.register_hook(lambda g: g * 2)
    return t


class Cube(mt.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x**2


def test_a_backward_gradient_given_replays():
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    seed = mt.tensor([0.5, -1.0])
    f = mt.compile(lambda x: (w * x).backward(seed))
    grads = []
    for _ in range(3):
        w.grad = None
        f(mt.tensor([3.0, 4.0]))
        grads.append(w.grad.tolist())
    assert grads == [[1.5, -4.0]] * 3 and f.replays == 2


def test_anomaly_mode_runs_eagerly_with_a_warning():
    w = mt.tensor([1.0], requires_grad=True)
    f = mt.compile(lambda x: (w * x).sum())
    f(mt.tensor([1.0]))
    with mt.autograd.detect_anomaly(), pytest.warns(CompileWarning, match="anomaly"):
        f(mt.tensor([1.0]))
    assert f.eager_calls == 1


def test_a_leaf_hook_added_after_recording_records_again():
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    f = mt.compile(lambda x: (w * x).sum().backward())
    f(mt.tensor([1.0, 1.0]))
    w.grad = None
    seen = []
    w.register_hook(lambda g: seen.append(g.tolist()))
    with pytest.warns(CompileWarning, match="hook"):
        f(mt.tensor([1.0, 1.0]))
    assert seen == [[1.0, 1.0]] and f.records == 2


def test_a_replaced_parameter_array_records_again():
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    f = mt.compile(lambda x: w * x)
    x = mt.tensor([1.0, 1.0])
    f(x)
    w.data = mt.tensor([5.0, 6.0])  # PyTorch's .data takes a Tensor
    assert f(x).tolist() == [5.0, 6.0] and f.records == 2


def test_a_module_parameter_replaced_records_again():
    layer = nn.Linear(2, 1)
    f = mt.compile(lambda x: layer(x))
    x = mt.tensor([[1.0, 1.0]])
    f(x)
    layer.weight = nn.Parameter(mt.tensor([[2.0, 3.0]]))
    with mt.no_grad():
        assert _same(f(x).numpy(force=True), layer(x).numpy(force=True)) and f.records == 2


def test_a_grad_read_before_the_step_sets_one_records_again_when_it_changes():
    w = mt.tensor([1.0], requires_grad=True)
    w.grad = mt.tensor([2.0])
    f = mt.compile(lambda x: w.grad * x)
    x = mt.tensor([5.0])
    first = f(x).item()
    w.grad = mt.tensor([3.0])
    assert (first, f(x).item(), f.records) == (10.0, 15.0, 2)


def test_an_in_place_op_on_a_tensor_in_the_graph_runs_eagerly():
    w = mt.tensor([1.0, 2.0], requires_grad=True)

    def step(x):
        h = w * x
        h.mul_(2)
        h.sum().backward()

    f = mt.compile(step)
    with pytest.warns(CompileWarning, match="in-place"):
        f(mt.tensor([1.0, 1.0]))
    assert _same(w.grad.numpy(force=True), np.array([2.0, 2.0], np.float32))


def test_a_compiled_method_binds_its_instance():
    class Scaler:
        def __init__(self):
            self.w = mt.tensor([2.0])

        @mt.compile
        def __call__(self, x):
            return self.w * x

    s = Scaler()
    assert s(mt.tensor([3.0])).tolist() == [6.0] and s(mt.tensor([4.0])).tolist() == [8.0]


def test_a_draw_from_an_explicit_generator_runs_eagerly_instead_of_repeating_it():
    g = mt.Generator().manual_seed(3)

    def noisy(x):
        return x + mt.rand(3, generator=g)

    step = mt.compile(noisy)
    x = mt.zeros(3)
    with pytest.warns(UserWarning, match="random"):
        first = step(x)
    second, third = step(x), step(x)
    assert not np.array_equal(first.numpy(force=True), second.numpy(force=True))
    assert not np.array_equal(second.numpy(force=True), third.numpy(force=True))


def test_a_draw_from_numpy_random_runs_eagerly_even_when_it_moves_only_the_position():
    np.random.seed(0)
    np.random.rand()  # the key is made now: the draws below move only the position in it
    step = mt.compile(lambda x: x + float(np.random.rand()))
    with pytest.warns(CompileWarning, match="numpy.random"):
        draws = {step(mt.zeros(1)).item() for _ in range(3)}
    assert len(draws) == 3 and step.replays == 0
