"""Stable kernels: inputs of magnitude 1e4, in float32 and float64 (and float16 for the
elementwise ones), give no overflow, no NaN and the right values and gradients; softmax
and log_softmax shift each row by its own max."""

import numpy as np
import pytest

import microtensor as mt

DTYPES = [mt.float32, mt.float64]
BIG = np.array([-1e4, -50.0, 0.0, 50.0, 1e4])


def value_and_grad(fn, values, dtype):
    x = mt.tensor(values, dtype=dtype, requires_grad=True)
    y = fn(x)
    y.sum().backward()
    return y.numpy(force=True), x.grad.numpy(force=True)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_is_stable_for_inputs_of_1e4(dtype):
    y, g = value_and_grad(mt.sigmoid, BIG, dtype)
    np.testing.assert_allclose(y, [0.0, 0.0, 0.5, 1.0, 1.0], atol=1e-7)
    np.testing.assert_allclose(g, [0.0, 0.0, 0.25, 0.0, 0.0], atol=1e-7)


@pytest.mark.parametrize("dtype", DTYPES)
def test_tanh_is_stable_for_inputs_of_1e4(dtype):
    y, g = value_and_grad(mt.tanh, BIG, dtype)
    np.testing.assert_allclose(y, [-1.0, -1.0, 0.0, 1.0, 1.0])
    np.testing.assert_allclose(g, [0.0, 0.0, 1.0, 0.0, 0.0], atol=1e-7)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softplus_is_stable_for_inputs_of_1e4(dtype):
    y, g = value_and_grad(mt.softplus, BIG, dtype)
    np.testing.assert_allclose(y, [0.0, np.exp(-50.0), np.log(2.0), 50.0, 1e4], rtol=1e-6)
    np.testing.assert_allclose(g, [0.0, 0.0, 0.5, 1.0, 1.0], atol=1e-7)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_is_stable_for_inputs_of_1e4(dtype):
    x = mt.tensor([[1e4, 0.0, -1e4], [1e4, 1e4, 1e4]], dtype=dtype, requires_grad=True)
    y = x.softmax(dim=1)
    np.testing.assert_allclose(y.numpy(force=True), [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-6)
    (y * mt.tensor([[1.0, 2.0, 3.0]], dtype=dtype)).sum().backward()
    assert np.isfinite(x.grad.numpy(force=True)).all()
    # d/dx of sum(w * softmax(x)) = s * (w - s.w): zero on the saturated row
    np.testing.assert_allclose(x.grad.numpy(force=True)[0], [0, 0, 0], atol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(force=True)[1], np.array([-1, 0, 1]) / 3, atol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_log_softmax_is_stable_and_exact_where_softmax_underflows(dtype):
    x = mt.tensor([[1e4, 0.0, -1e4]], dtype=dtype, requires_grad=True)
    y = x.log_softmax(dim=-1)
    np.testing.assert_allclose(y.numpy(force=True), [[0.0, -1e4, -2e4]], rtol=1e-6)
    y[0, 1].backward()  # d log_softmax_1 / dx = e_1 - softmax
    np.testing.assert_allclose(x.grad.numpy(force=True), [[-1.0, 1.0, 0.0]], atol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_logsumexp_is_stable_for_inputs_of_1e4(dtype):
    x = mt.tensor([[1e4, 1e4], [-1e4, -1e4], [1e4, -1e4]], dtype=dtype, requires_grad=True)
    y = mt.logsumexp(x, dim=1)
    np.testing.assert_allclose(
        y.numpy(force=True), [1e4 + np.log(2), -1e4 + np.log(2), 1e4], rtol=1e-7
    )
    y.sum().backward()
    np.testing.assert_allclose(
        x.grad.numpy(force=True), [[0.5, 0.5], [0.5, 0.5], [1.0, 0.0]], atol=1e-7
    )


def test_logsumexp_keepdim_and_all_dims():
    x = mt.tensor([[0.0, np.log(3.0)]], dtype=mt.float64)
    assert mt.logsumexp(x, dim=1, keepdim=True).shape == (1, 1)
    assert mt.logsumexp(x, dim=(0, 1)).item() == pytest.approx(np.log(4.0))


@pytest.mark.parametrize("fn", [mt.sigmoid, mt.tanh, mt.softplus])
def test_stable_kernels_stay_finite_in_float16(fn):
    x = mt.tensor(np.array([-1e4, 1e4], dtype=np.float16))
    assert np.isfinite(fn(x).numpy(force=True)).all()


@pytest.mark.parametrize(
    "fn, row",
    [
        (mt.softmax, [0.2689414213699951, 0.7310585786300049]),
        (mt.log_softmax, [-1.3132616875182228, -0.3132616875182228]),
    ],
)
def test_softmax_and_log_softmax_shift_each_row_by_its_own_max(fn, row):
    out = fn(mt.tensor([[0.0, 1.0], [-1000.0, -999.0]], dtype=mt.float64), 1)
    np.testing.assert_allclose(out.numpy(force=True), [row, row])
