"""Result dtypes follow PyTorch's promotion, not numpy's: each expected dtype below was
recorded from PyTorch 2.13 with the same inputs (numpy 2 gives float64 for all but the
bool and float16 rows)."""

import numpy as np
import pytest

import microtensor as mt

i64 = mt.tensor([1, 2])
f32 = mt.tensor([1.0, 2.0])
f64_0d = mt.tensor(2.0, dtype=mt.float64)
f32_0d = mt.tensor(1.5)


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda: i64 * 1.5, mt.float32),  # integer tensor, Python float
        (lambda: 1.5 + i64, mt.float32),
        (lambda: i64 / i64, mt.float32),  # true division of integers
        (lambda: mt.tensor(3) / 2, mt.float32),
        (lambda: f32 * i64, mt.float32),  # float32 with an integer tensor
        (lambda: f32**i64, mt.float32),
        (lambda: f32 * f64_0d, mt.float32),  # a 0-d tensor of the same category
        (lambda: i64 * f64_0d, mt.float64),  # ... of a higher category
        (lambda: mt.maximum(i64, f32_0d), mt.float32),
        (lambda: mt.where(i64 > 1, i64, 2.5), mt.float32),
        (lambda: i64.exp(), mt.float32),  # a floating op on integers
        (lambda: i64.sqrt(), mt.float32),
        (lambda: i64 + True, mt.int64),
        (lambda: mt.tensor(True) * 1.5, mt.float32),
        (lambda: f32.to(mt.float16) * i64, mt.float16),
        (lambda: f32 * 2.5, mt.float32),  # unchanged cases
        (lambda: mt.tensor([1.0], dtype=mt.float64) * f32, mt.float64),
        (lambda: f32.double(), mt.float64),
    ],
)
def test_result_dtype_is_pytorchs(make, expected):
    assert make().dtype == expected


def test_the_default_dtype_is_what_integers_promote_to():
    mt.set_default_dtype(mt.float64)
    try:
        assert (i64 * 1.5).dtype == mt.float64
        assert (f32 * i64).dtype == mt.float32  # a float tensor keeps its own dtype
    finally:
        mt.set_default_dtype(mt.float32)


def test_values_are_those_of_the_promoted_computation():
    np.testing.assert_array_equal(
        (i64 / mt.tensor([4, 4])).numpy(force=True), np.float32([0.25, 0.5])
    )


def test_gradients_of_float32_inputs_through_mixed_ops_stay_float32():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = (x * f64_0d + x * i64 + x ** mt.tensor([2, 3])).sum()
    (g,) = mt.autograd.grad(y, x)
    assert g.dtype == mt.float32
    np.testing.assert_allclose(g.numpy(force=True), [2 + 1 + 2, 2 + 2 + 12])
