"""mt.compile on programs nobody wrote by hand, against eager mode bit for bit.

Each random program of ops, in-place ops and views (microtensor.testing.programs), as a
step that resets its leaves' gradients, runs the program and calls backward(), is called
eagerly and compiled on the same leaf values, four times (the recording, a replay, then
new values): each call's result and every gradient have eager mode's bits, or raise
eager mode's error, whether the step replays or runs eagerly (saying why). Random conv
nets (any kernel, stride, padding and dilation of the convolution and of max pooling,
seven activations, dropout, a hidden layer or none, two losses, five optimizers, float32
and float64, a last batch of another size) train six steps both ways to the same bits,
every step replayed but the first of each batch size."""

import warnings

import numpy as np
from hypothesis import assume, event, example, given
from hypothesis import strategies as st

import microtensor as mt
from microtensor import nn
from microtensor.backend import conv_out_size
from microtensor.compile import CompileWarning
from microtensor.nn import functional as F
from microtensor.testing import Program, programs

SCALES = (1.0, 1.0, 0.97, 1.03)  # the leaves' values on each call, as multiples of the drawn ones


def _step(fn):
    def step(*leaves):
        for x in leaves:
            x.grad = None
        out = fn(*leaves)
        out.backward()
        return out

    return step


def _calls(program: Program, compiled: bool) -> tuple:
    """What each call gives (the result's and the gradients' bytes, or the error), and
    the compiled function (None for eager mode)."""
    fn, leaves = program.build()
    step = mt.compile(_step(fn)) if compiled else _step(fn)
    outcomes = []
    for scale in SCALES:
        with mt.no_grad():
            for x, values in zip(leaves, program.leaves.values()):
                x.copy_(mt.tensor(values * scale))
        try:
            out = step(*leaves)
        except RuntimeError as e:
            outcomes.append((type(e), str(e)))
            continue
        grads = [None if x.grad is None else x.grad.numpy(force=True).tobytes() for x in leaves]
        outcomes.append((out.numpy(force=True).tobytes(), grads))
    return outcomes, step if compiled else None


@given(programs())
def test_a_compiled_program_gives_eager_modes_bits_on_every_call(program):
    # new values may cross a domain edge (a sqrt below 0): both ways compute the same NaN
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", CompileWarning)
        eager, _ = _calls(program, compiled=False)
        compiled, step = _calls(program, compiled=True)
    assert compiled == eager
    event(f"replays: {step.replays} of {len(SCALES)} calls")


ACTIVATIONS = ("relu", "sigmoid", "tanh", "leaky_relu", "elu", "softplus", "none")
OPTIMIZERS = (mt.optim.SGD, mt.optim.Adam, mt.optim.AdamW, mt.optim.RMSprop, mt.optim.Adagrad)


def _activation(name: str, x):
    return x if name == "none" else getattr(F, name)(x)


def _window(draw, size: tuple, kmax: int, smax: int) -> tuple:
    """(kernel, stride, padding, dilation) of a window that fits `size` at least once."""
    k, s, d = draw(st.integers(1, kmax)), draw(st.integers(1, smax)), draw(st.integers(1, 2))
    p = draw(st.integers(0, k // 2))
    assume(min(conv_out_size(x, k, s, p, d) for x in size) >= 1)
    return k, s, p, d


@st.composite
def conv_models(draw):
    """A small conv net's layout, the reports' ConvNet's in general: one or two blocks of
    a convolution (any kernel, stride, padding and dilation), dropout, a max pool (any
    window) or none and an activation; one linear layer, or two with the activation and
    dropout between; a loss; the batch, a last batch of another size, the image size,
    the dtype and the optimizer."""
    n, c = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    shape = (n, c, draw(st.integers(3, 9)), draw(st.integers(3, 9)))
    size, blocks = shape[2:], []
    for _ in range(draw(st.integers(1, 2))):
        conv = _window(draw, size, 3, 2)
        size = tuple(conv_out_size(x, *conv) for x in size)
        pool = _window(draw, size, 3, 3) if draw(st.booleans()) else None
        if pool is not None:
            size = tuple(conv_out_size(x, *pool) for x in size)
        blocks.append((draw(st.integers(1, 4)), conv, pool))
    return {
        "shape": shape,
        "last": draw(st.integers(1, n)),  # the batch size of a last, partial batch
        "blocks": blocks,  # (out channels, conv window, pool window or None)
        "hidden": draw(st.sampled_from((0, 3))),  # units of a hidden linear layer
        "activation": draw(st.sampled_from(ACTIVATIONS)),
        "dropout": draw(st.sampled_from((0.0, 0.3))),
        "classes": draw(st.integers(2, 4)),
        "loss": draw(st.sampled_from(("cross_entropy", "mse_loss"))),
        "dtype": draw(st.sampled_from((mt.float32, mt.float64))),
        "optimizer": draw(st.sampled_from(OPTIMIZERS)),
    }


def _train(m: dict, compiled: bool, steps: int = 6) -> tuple:
    """The parameters' and losses' bytes after `steps` steps on new batches, and the step."""
    mt.manual_seed(0)
    n, c, h, w = m["shape"]
    convs, channels = [], c
    for out_c, (k, s, p, d), _ in m["blocks"]:
        convs.append(
            nn.Conv2d(channels, out_c, k, stride=s, padding=p, dilation=d, dtype=m["dtype"])
        )
        channels = out_c

    def features(x):
        for conv, (_, _, pool) in zip(convs, m["blocks"]):
            x = F.dropout(conv(x), m["dropout"])
            if pool is not None:
                x = F.max_pool2d(x, *pool)
            x = _activation(m["activation"], x)
        return x.flatten(1)

    with mt.no_grad(), np.errstate(all="ignore"):
        x = features(mt.zeros(m["shape"], dtype=m["dtype"]))
    assume(bool(x.isfinite().all()))  # no pooling window wholly in the padding (-inf)
    hidden = m["hidden"] or m["classes"]
    fc = nn.Linear(x.shape[1], hidden, dtype=m["dtype"])
    fc2 = nn.Linear(hidden, m["classes"], dtype=m["dtype"]) if m["hidden"] else None
    params = [q for layer in (*convs, fc, fc2) if layer is not None for q in layer.parameters()]
    opt = m["optimizer"](params, lr=0.01)

    def step(xb, yb):
        opt.zero_grad()
        out = fc(features(xb))
        if fc2 is not None:
            out = fc2(F.dropout(_activation(m["activation"], out), m["dropout"]))
        loss = F.cross_entropy(out, yb) if yb.ndim == 1 else F.mse_loss(out, yb)
        loss.backward()
        opt.step()
        return loss

    run = mt.compile(step) if compiled else step
    losses = []
    for i in range(steps):  # full batches, and every third a last, partial one
        g = mt.Generator().manual_seed(i)
        size = m["last"] if i % 3 == 2 else n
        xb = mt.randn(size, c, h, w, generator=g, dtype=m["dtype"])
        yb = mt.randint(0, m["classes"], (size,), generator=g)
        if m["loss"] == "mse_loss":  # one-hot rows, made outside the step (a guard reads none)
            yb = F.one_hot(yb, m["classes"]).to(m["dtype"])
        losses.append(run(xb, yb).numpy(force=True).tobytes())
    return [q.numpy(force=True).tobytes() for q in params], losses, run


# found by this test: unfold returned a view of x (one window column), whose overlapping
# layout no replay buffer has, so the weight gradient's matmul took another kernel there
UNFOLD_AS_A_VIEW = {
    "shape": (1, 1, 5, 3),
    "blocks": [(1, (3, 1, 0, 1), None)],
    "activation": "relu",
    "dropout": 0.0,
    "classes": 2,
    "loss": "cross_entropy",
    "dtype": mt.float32,
    "optimizer": mt.optim.SGD,
    "last": 1,
    "hidden": 0,
}


@given(conv_models())
@example(UNFOLD_AS_A_VIEW)
def test_a_compiled_conv_net_trains_to_eager_modes_bits(model):
    """Random conv nets (any window arithmetic the buffer forms of unfold, col2im and max
    pooling must get right) trained six steps on new batches both ways: the same bits,
    every step replayed but the first of each batch size."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a step that ran eagerly would warn
        eager_params, eager_losses, _ = _train(model, compiled=False)
        params, losses, run = _train(model, compiled=True)
    assert losses == eager_losses and params == eager_params
    records = 1 if model["last"] == model["shape"][0] else 2  # one per batch size
    assert (run.records, run.replays) == (records, 6 - records)
