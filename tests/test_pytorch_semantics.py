"""Forward semantics that finite differences cannot see, as PyTorch has them: indexing,
gradient dtypes, pow at 0, connected piecewise derivatives, empty tensors, and silent
inf/nan. Every expected value below was recorded from PyTorch 2.13 (CPU) with the same
inputs, or is written from the formula in the comment."""

import math

import numpy as np
import pytest
from helpers import leaf
from hypothesis import given
from hypothesis import strategies as st

import microtensor as mt
from microtensor.nn import functional as F

T = mt.tensor(np.arange(24).reshape(2, 3, 4))


# ------------------------------------------------------------------------------- indexing
@pytest.mark.parametrize(
    "index, expected",
    [
        (lambda t: t[0, :, [0, 2]], [[0, 2], [4, 6], [8, 10]]),  # numpy: the transpose
        (lambda t: t[:, 1, [0, 3]], [[4, 7], [16, 19]]),
        (lambda t: t[1, [0, 2], 1:3], [[13, 14], [21, 22]]),
        (lambda t: t[[1, 0], :, [3, 1]], [[15, 19, 23], [1, 5, 9]]),
        (lambda t: t[None, 0, :, [1]], [[[1], [5], [9]]]),
        (lambda t: t[..., [0, 1]], [[[0, 1], [4, 5], [8, 9]], [[12, 13], [16, 17], [20, 21]]]),
        (lambda t: t[[0, 1], ..., [2, 0]], [[2, 6, 10], [12, 16, 20]]),
        (lambda t: t[0, mt.tensor([True, False, True])], [[0, 1, 2, 3], [8, 9, 10, 11]]),
        (lambda t: t[:, [[0, 1], [2, 2]], 0], [[[0, 4], [8, 8]], [[12, 16], [20, 20]]]),
        (lambda t: t[-1, :, [-1]], [[15], [19], [23]]),
        (lambda t: t[1, ..., [0, 2]], [[12, 14], [16, 18], [20, 22]]),
        (lambda t: t[mt.tensor(1), 2, mt.tensor([3, 0])], [23, 20]),  # a 0-d tensor is an int
    ],
)
def test_indexing_selects_what_pytorch_selects(index, expected):
    np.testing.assert_array_equal(index(T).numpy(force=True), expected)


def test_an_empty_index_list_selects_nothing():
    assert T[[]].shape == (0, 3, 4)
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    x[[]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(force=True), [0.0, 0.0])


def test_a_float_index_is_an_error_naming_the_op():
    with pytest.raises(IndexError, match="getitem: tensors used as indices must be integer"):
        T[mt.tensor([0.0])]


def test_setitem_writes_where_getitem_reads():
    t = mt.zeros(2, 3, 4)
    t[0, :, [0, 2]] = mt.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    np.testing.assert_array_equal(t.numpy(force=True)[0][:, [0, 2]], [[1, 2], [3, 4], [5, 6]])
    assert t.numpy(force=True).sum() == 21


@given(st.integers(0, 1), st.lists(st.integers(-4, 3), min_size=1, max_size=5), st.integers(0, 2))
def test_int_slice_array_indexing_and_its_gradient_follow_the_loop_reference(i, cols, row):
    """t[i, :, cols] is, element by element, t[i, r, cols[k]] at [r, k]; the gradient
    counts each element as often as it was picked."""
    x = mt.tensor(np.random.default_rng(0).normal(size=(2, 3, 4)), requires_grad=True)
    out = x[i, :, cols]
    expected = [[x.numpy(force=True)[i, r, c] for c in cols] for r in range(3)]
    np.testing.assert_array_equal(out.numpy(force=True), expected)
    out[row].sum().backward()
    counts = np.zeros((2, 3, 4))
    for c in cols:
        counts[i, row, c] += 1
    np.testing.assert_array_equal(x.grad.numpy(force=True), counts)


# ------------------------------------------------------------------------ gradient dtypes
F32_OPS = {
    "max": lambda x: x.max(),
    "max-dim": lambda x: x.max(1).values.sum(),
    "amin": lambda x: x.amin(0).sum(),
    "maximum": lambda x: mt.maximum(x, x[0:1]).sum(),
    "minimum": lambda x: mt.minimum(x, 0.5).sum(),
    "pow-int-tensor": lambda x: (x ** mt.tensor([[2, 3, 1]])).sum(),
    "pow-float": lambda x: (x.abs() ** 1.5).sum(),
    "rpow": lambda x: (2.0**x).sum(),
    "where": lambda x: mt.where(x > 0, x, x * 2).sum(),
    "relu-abs-clamp": lambda x: (x.relu() + x.abs() + x.clamp(-0.5, 0.5)).sum(),
    "leaky-elu-softplus": lambda x: (F.leaky_relu(x) + F.elu(x) + F.softplus(x)).sum(),
    "std-mean": lambda x: x.std() + x.mean(),
    "softmax-logsumexp": lambda x: (x.softmax(1) * x).sum() + x.logsumexp(1).sum(),
    "cross_entropy": lambda x: F.cross_entropy(x, mt.tensor([0, 2])),
    "mse_loss": lambda x: F.mse_loss(x, mt.zeros(2, 3)),
    "matmul-linear": lambda x: (x @ x.T).sum() + F.linear(x, x).sum(),
    "max_pool2d": lambda x: F.max_pool2d(x.reshape(1, 1, 2, 3), 2, stride=1).sum(),
}


@pytest.mark.parametrize("name", F32_OPS)
@pytest.mark.parametrize("create_graph", [False, True])
def test_gradients_of_float32_inputs_are_float32(name, create_graph):
    x = mt.tensor([[0.5, -1.25, 2.0], [1.5, 0.75, -0.25]], requires_grad=True)
    (g,) = mt.autograd.grad(F32_OPS[name](x), x, create_graph=create_graph)
    assert g.dtype == mt.float32


# --------------------------------------------------------------------------- pow at zero
@pytest.mark.parametrize(
    "y, value, dx, dy",
    [
        (0.0, 1.0, 0.0, 0.0),
        (-1.0, math.inf, -math.inf, -math.inf),
        (0.5, 0.0, math.inf, 0.0),
        (1.0, 0.0, 1.0, 0.0),
        (2.0, 0.0, 0.0, 0.0),
        (3.0, 0.0, 0.0, 0.0),
        (-2.0, math.inf, -math.inf, -math.inf),
        (2.5, 0.0, 0.0, 0.0),
    ],
)
def test_pow_of_a_zero_base_and_its_gradients(y, value, dx, dy):
    x = mt.tensor(0.0, dtype=mt.float64, requires_grad=True)
    e = mt.tensor(y, dtype=mt.float64, requires_grad=True)
    z = x**e
    gx, ge = mt.autograd.grad(z, (x, e))
    assert (z.item(), gx.item(), ge.item()) == (value, dx, dy)


@pytest.mark.parametrize(
    "y, value, dy", [(-1.0, math.inf, -math.inf), (0.0, 1.0, 0.0), (0.5, 0.0, 0.0), (2.0, 0.0, 0.0)]
)
def test_zero_to_a_tensor_power(y, value, dy):
    e = mt.tensor(y, dtype=mt.float64, requires_grad=True)
    z = 0**e
    (ge,) = mt.autograd.grad(z, e)
    assert (z.item(), ge.item()) == (value, dy)


def test_pow_of_a_constant_base_gives_the_exponent_zero_at_base_0_and_nan_below():
    x = leaf([2.0, 3.0])
    (0.0**x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(force=True), [0.0, 0.0])
    x.grad = None
    ((-2.0) ** x).sum().backward()
    assert np.isnan(x.grad.numpy(force=True)).all()
    x.grad = None
    (2.0**x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(force=True), [4 * np.log(2), 8 * np.log(2)])


@pytest.mark.parametrize("k, dx", [(0, 0.0), (1, 1.0), (2, 0.0), (3, 0.0), (-1, -math.inf)])
def test_a_zero_tensor_to_a_constant_power(k, dx):
    x = mt.tensor(0.0, dtype=mt.float64, requires_grad=True)
    (g,) = mt.autograd.grad(x**k, x)
    assert g.item() == dx


# ------------------------------------------- piecewise-linear ops under create_graph=True
CONNECTED = {  # PyTorch's backward formulas of these read the input
    "relu": lambda x: x.relu(),
    "abs": lambda x: x.abs(),
    "leaky_relu": lambda x: F.leaky_relu(x, 0.1),
    "max_pool2d": lambda x: F.max_pool2d(x.reshape(1, 1, 2, 2), 2),
}
DETACHED = {  # ... and of these only masks made from it: not connected in PyTorch either
    "clamp": lambda x: x.clamp(-1.0, 1.0),
    "maximum": lambda x: mt.maximum(x, mt.tensor([0.0, 0.0, 0.0, 0.0], dtype=mt.float64)),
    "minimum": lambda x: mt.minimum(x, 0.0),
    "amax": lambda x: x.amax(),
    "where": lambda x: mt.where(x > 0, x, -x),
}


@pytest.mark.parametrize("name", CONNECTED)
def test_first_derivatives_of_piecewise_ops_stay_connected_with_zero_second(name):
    x = mt.tensor([-1.5, 0.5, 2.0, -0.25], dtype=mt.float64, requires_grad=True)
    (g,) = mt.autograd.grad(CONNECTED[name](x).sum(), x, create_graph=True)
    assert g.requires_grad
    (h,) = mt.autograd.grad(g.sum(), x)
    np.testing.assert_array_equal(h.numpy(force=True), np.zeros(4))


@pytest.mark.parametrize("name", DETACHED)
def test_first_derivatives_pytorch_leaves_unconnected_are_unconnected(name):
    x = mt.tensor([-1.5, 0.5, 2.0, -0.25], dtype=mt.float64, requires_grad=True)
    (g,) = mt.autograd.grad(DETACHED[name](x).sum(), x, create_graph=True)
    assert not g.requires_grad


# -------------------------------------------------------------------------- empty tensors
def test_reductions_over_non_empty_dims_of_empty_tensors_are_empty():
    z = mt.zeros(0, 3, requires_grad=True)
    assert mt.amax(z, 1).shape == (0,)
    assert z.max(1).values.shape == (0,)
    assert z.argmin(1).shape == (0,)
    np.testing.assert_array_equal(z.sum(0).numpy(force=True), [0.0, 0.0, 0.0])
    assert np.isnan(z.mean(0).numpy(force=True)).all() and np.isnan(mt.zeros(0).mean().item())
    (z.sum(0).sum() + mt.amax(z, 1).sum()).backward()
    assert z.grad.shape == (0, 3)


def test_softmax_and_logsumexp_of_empty_dims():
    e = mt.zeros(3, 0, requires_grad=True)
    assert e.softmax(1).shape == (3, 0) and e.log_softmax(1).shape == (3, 0)
    np.testing.assert_array_equal(e.logsumexp(1).numpy(force=True), [-np.inf] * 3)  # log of 0
    (e.softmax(1).sum() + e.log_softmax(0).sum()).backward()
    assert e.grad.shape == (3, 0)


@pytest.mark.parametrize(
    "reduce, message",
    [
        (
            lambda z: mt.amax(z, 0),
            "amax: cannot reduce an empty tensor of shape \\(0, 3\\) over dim 0",
        ),
        (lambda z: z.amax(), "amax: cannot reduce an empty tensor"),
        (lambda z: z.argmax(), "argmax: cannot reduce an empty tensor"),
        (lambda z: z.min(0), "amin: cannot reduce"),
    ],
)
def test_max_and_min_over_an_empty_dim_raise_as_pytorch_does(reduce, message):
    with pytest.raises(ValueError, match=message):
        reduce(mt.zeros(0, 3))


# -------------------------------------------------- bad probabilities, std, silent inf/nan
@pytest.mark.parametrize("p", [math.nan, -0.1, 1.5])
def test_binary_cross_entropy_rejects_what_is_not_a_probability(p):
    with pytest.raises(ValueError, match="binary_cross_entropy: input must hold probabilities"):
        F.binary_cross_entropy(mt.tensor([0.5, p]), mt.tensor([1.0, 0.0]))


def test_binary_cross_entropy_rejects_a_target_outside_0_1():
    with pytest.raises(ValueError, match="binary_cross_entropy: target"):
        F.binary_cross_entropy(mt.tensor([0.5]), mt.tensor([2.0]))


def test_std_of_equal_values_has_a_zero_gradient():
    x = mt.tensor([2.0, 2.0, 2.0], requires_grad=True)
    x.std().backward()
    np.testing.assert_array_equal(x.grad.numpy(force=True), [0.0, 0.0, 0.0])
    y = mt.tensor([[2.0, 2.0], [1.0, 3.0]], dtype=mt.float64, requires_grad=True)
    y.std(1).sum().backward()  # row 2: (x - mean) / (std (n - 1)) = -+1 / sqrt(2)
    np.testing.assert_allclose(y.grad.numpy(force=True), [[0.0, 0.0], [-(0.5**0.5), 0.5**0.5]])


def test_inf_and_nan_come_back_silently_as_in_pytorch():
    # pytest turns every RuntimeWarning into an error here (pyproject's filterwarnings)
    np.testing.assert_array_equal(mt.tensor([-1.0, 0.0]).log().numpy(force=True), [np.nan, -np.inf])
    assert np.isnan(mt.tensor(-1.0).sqrt().item())
    assert np.isnan(mt.tensor([np.inf, 1.0]).softmax(0).numpy(force=True)).all()
    assert (mt.tensor([1.0]) / mt.tensor([0.0])).item() == np.inf
    assert mt.tensor([1e4]).exp().item() == np.inf
    x = mt.tensor([0.0, -1.0], requires_grad=True)
    (x.log().sum() + x.sqrt().sum()).backward()  # 1/0 and 1/(2 sqrt(-1))
    assert x.grad.numpy(force=True)[0] == np.inf and np.isnan(x.grad.numpy(force=True)[1])
