"""PyTorch's elementwise and arithmetic API on microtensor: aliases and keywords, integer
and bool dtypes, rounding and division conventions, bitwise operators, the gradients at
kinks and corners, stability, and the errors. Values "from PyTorch" were recorded with
torch 2.x on CPU (float64 unless said); the others are worked out by hand or with
Python's math module. The op-case table (tests/op_cases/) checks every op's values and
derivatives on drawn inputs; this file checks what drawn inputs do not reach."""

import math

import numpy as np
import pytest
from helpers import leaf

import microtensor as mt

KINKS = [-3.0, -1.5, 0.0, 0.5, 1.0, 3.0, 6.0]  # corners of hardtanh, relu6, hardswish...


def grad_of(fn, values):
    x = leaf(values)
    fn(x).sum().backward()
    return x.grad.numpy(force=True)


# ------------------------------------------------------------------ names and aliases
@pytest.mark.parametrize(
    "name",
    [
        "tan",
        "asin",
        "acos",
        "atan",
        "atan2",
        "sinh",
        "cosh",
        "asinh",
        "acosh",
        "atanh",
        "exp2",
        "log2",
        "log10",
        "sign",
        "reciprocal",
        "rsqrt",
        "square",
        "floor",
        "ceil",
        "round",
        "trunc",
        "frac",
        "fmod",
        "remainder",
        "floor_divide",
        "hypot",
        "lerp",
        "nan_to_num",
        "isnan",
        "isinf",
        "isfinite",
        "isclose",
        "allclose",
        "clip",
        "bitwise_and",
        "bitwise_or",
        "bitwise_xor",
        "bitwise_not",
        "bitwise_left_shift",
        "bitwise_right_shift",
        "add",
        "sub",
        "mul",
        "div",
        "true_divide",
        "multiply",
        "subtract",
        "divide",
        "lt",
        "logical_and",
    ],
)
def test_each_function_is_also_the_tensor_method_of_its_name(name):
    assert getattr(mt.Tensor, name) is getattr(mt, name)


def test_pytorch_aliases_are_the_same_functions():
    assert mt.clip is mt.clamp and mt.multiply is mt.mul
    assert mt.subtract is mt.sub and mt.divide is mt.div


def test_activations_are_functions_of_mt_and_rsub_is_not_a_method():
    for name in (
        "gelu",
        "silu",
        "mish",
        "hardtanh",
        "relu6",
        "hardswish",
        "hardsigmoid",
        "logsigmoid",
        "softsign",
    ):
        assert callable(getattr(mt, name))
    assert not hasattr(mt.Tensor, "rsub")  # as torch.Tensor


def test_clip_underscore_clamps_in_place():
    x = mt.tensor([-2.0, 0.5, 3.0])
    assert x.clip_(-1.0, 1.0) is x
    np.testing.assert_array_equal(x.numpy(force=True), [-1.0, 0.5, 1.0])


# --------------------------------------------------------------------- arithmetic
def test_add_and_sub_scale_other_by_alpha():
    a, b = mt.tensor([5.0, 5.0]), mt.tensor([1.0, 2.0])
    np.testing.assert_array_equal(mt.add(a, b, alpha=2).numpy(force=True), [7.0, 9.0])
    np.testing.assert_array_equal(a.sub(b, alpha=2).numpy(force=True), [3.0, 1.0])  # from PyTorch
    np.testing.assert_array_equal(
        mt.add(mt.tensor([1, 2]), mt.tensor([3, 4]), alpha=2).numpy(force=True), [7, 10]
    )  # from PyTorch: ints stay ints
    np.testing.assert_array_equal(mt.sub(mt.tensor([1, 2]), 1, alpha=3).numpy(force=True), [-2, -1])


def test_alpha_scales_the_gradient_of_other():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    mt.sub(a, b, alpha=3).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(force=True), [1.0, 1.0])
    np.testing.assert_array_equal(b.grad.numpy(force=True), [-3.0, -3.0])


def test_a_float_alpha_with_integer_tensors_is_an_error_naming_add():
    with pytest.raises(TypeError, match="add: .*alpha=2.5"):
        mt.add(mt.tensor([1, 2]), mt.tensor([3, 4]), alpha=2.5)


def test_rsub_is_other_minus_alpha_times_input():
    a, b = leaf([1.0, 2.0]), leaf([10.0, 10.0])
    out = mt.rsub(a, b, alpha=3)
    np.testing.assert_array_equal(out.numpy(force=True), [7.0, 4.0])  # from PyTorch
    out.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(force=True), [-3.0, -3.0])
    np.testing.assert_array_equal(b.grad.numpy(force=True), [1.0, 1.0])


def test_div_rounding_modes_on_floats_and_integers():
    f, i = mt.tensor([-7.5, 7.5]), mt.tensor([-7, 7])
    np.testing.assert_array_equal(
        mt.div(f, 2, rounding_mode="trunc").numpy(force=True), [-3.0, 3.0]
    )
    np.testing.assert_array_equal(
        mt.div(f, 2, rounding_mode="floor").numpy(force=True), [-4.0, 3.0]
    )
    np.testing.assert_array_equal(i.div(2, rounding_mode="trunc").numpy(force=True), [-3, 3])
    assert i.div(2, rounding_mode="floor").dtype == np.int64
    assert mt.div(i, 2).dtype == np.float32 and mt.true_divide(i, 2).dtype == np.float32


def test_div_refuses_an_unknown_rounding_mode():
    with pytest.raises(ValueError, match="div: rounding_mode .*'round'"):
        mt.div(mt.tensor([1.0]), 2, rounding_mode="round")


def test_reflected_operators_put_the_number_first():
    x = mt.tensor([2, -2])
    np.testing.assert_array_equal((7 // x).numpy(force=True), [3, -4])  # from PyTorch
    np.testing.assert_array_equal((7 % x).numpy(force=True), [1, -1])  # from PyTorch
    np.testing.assert_array_equal((1 << mt.tensor([3])).numpy(force=True), [8])
    np.testing.assert_array_equal((6 & mt.tensor([3])).numpy(force=True), [2])
    np.testing.assert_array_equal((2.0 - mt.tensor([0.5])).numpy(force=True), [1.5])


# ----------------------------------------------------------------- rounding, division
def test_rounding_keeps_integer_tensors_as_they_are():
    x = mt.tensor([3, -4])
    for fn in (mt.floor, mt.ceil, mt.round, mt.trunc, mt.sign):
        out = fn(x)
        assert out.dtype == np.int64
    np.testing.assert_array_equal(mt.sign(x).numpy(force=True), [1, -1])


def test_round_sends_halves_to_the_even_neighbour_and_takes_decimals():
    x = mt.tensor([0.5, 1.5, 2.5, -0.5, -1.5])
    np.testing.assert_array_equal(x.round().numpy(force=True), [0.0, 2.0, 2.0, -0.0, -2.0])
    out = mt.tensor([1.2345, 0.125], dtype=mt.float64).round(decimals=2)
    np.testing.assert_array_equal(out.numpy(force=True), [1.23, 0.12])  # from PyTorch


def test_round_refuses_decimals_that_are_not_an_int():
    with pytest.raises(TypeError, match="round: decimals"):
        mt.round(mt.tensor([1.0]), decimals=1.5)


def test_sign_of_nan_is_zero_as_in_pytorch():
    np.testing.assert_array_equal(
        mt.sign(mt.tensor([math.nan, -0.0, 2.0])).numpy(force=True), [0.0, 0.0, 1.0]
    )


def test_piecewise_constant_ops_give_a_zero_gradient_not_none():
    for fn in (
        mt.floor,
        mt.ceil,
        mt.round,
        mt.trunc,
        mt.sign,
        lambda x: x // 2.0,
        lambda x: mt.div(x, 2.0, rounding_mode="trunc"),
    ):
        x = leaf([1.5, -2.5])
        y = fn(x)
        assert y.requires_grad
        y.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(force=True), [0.0, 0.0])


def test_frac_keeps_the_sign_and_has_gradient_1():
    np.testing.assert_array_equal(
        mt.frac(mt.tensor([-2.75, 2.75])).numpy(force=True), [-0.75, 0.75]
    )
    np.testing.assert_array_equal(grad_of(mt.frac, [-2.75, 2.75]), [1.0, 1.0])


def test_integer_division_and_remainders_round_as_pytorch():
    a, b = mt.tensor([5, -5, 6]), mt.tensor([3, 3, -4])
    np.testing.assert_array_equal((a // b).numpy(force=True), [1, -2, -2])  # from PyTorch
    np.testing.assert_array_equal((a % b).numpy(force=True), [2, 1, -2])  # from PyTorch
    np.testing.assert_array_equal(mt.fmod(a, b).numpy(force=True), [2, -2, 2])  # from PyTorch


def test_fmod_and_remainder_gradients_in_the_divisor_are_minus_the_quotient():
    a, b = leaf([5.0, -5.0, 5.0, -5.0]), leaf([3.0, 3.0, -3.0, -3.0])
    mt.fmod(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(force=True), [1.0, 1.0, 1.0, 1.0])
    np.testing.assert_allclose(b.grad.numpy(force=True), [-1.0, 1.0, 1.0, -1.0])  # from PyTorch
    a.grad = b.grad = None
    (a % b).sum().backward()
    np.testing.assert_allclose(b.grad.numpy(force=True), [-1.0, 2.0, 2.0, -1.0])  # from PyTorch


@pytest.mark.parametrize(
    "fn, name",
    [
        (lambda a, b: a // b, "floor_divide"),
        (lambda a, b: a % b, "remainder"),
        (mt.fmod, "fmod"),
        (lambda a, b: mt.div(a, b, rounding_mode="trunc"), "div"),
    ],
)
def test_integer_division_by_zero_is_an_error_naming_the_op(fn, name):
    with pytest.raises(ZeroDivisionError, match=f"{name}: integer division by zero"):
        fn(mt.tensor([5, 6]), mt.tensor([1, 0]))


def test_float_division_by_zero_is_inf_or_nan_silently():
    x = mt.tensor([5.0, -5.0])  # RuntimeWarnings are errors in this suite
    np.testing.assert_array_equal((x // 0.0).numpy(force=True), [math.inf, -math.inf])
    assert (
        np.isnan((x % 0.0).numpy(force=True)).all()
        and np.isnan(mt.fmod(x, 0.0).numpy(force=True)).all()
    )


# ------------------------------------------------------------------------ bitwise
def test_and_or_xor_on_integers_are_bitwise_not_logical():
    a, b = mt.tensor([5, 3]), mt.tensor([3, 1])
    np.testing.assert_array_equal((a & b).numpy(force=True), [1, 1])
    np.testing.assert_array_equal((mt.tensor([3]) | 4).numpy(force=True), [7])  # from PyTorch
    np.testing.assert_array_equal(
        (mt.tensor([3]) ^ mt.tensor([5])).numpy(force=True), [6]
    )  # from PyTorch
    np.testing.assert_array_equal((~mt.tensor([5])).numpy(force=True), [-6])  # from PyTorch
    np.testing.assert_array_equal((mt.tensor([-8]) >> 1).numpy(force=True), [-4])  # from PyTorch
    np.testing.assert_array_equal(mt.bitwise_left_shift(mt.tensor([1]), 3).numpy(force=True), [8])


def test_bitwise_ops_on_bools_are_the_logical_ops():
    a, b = mt.tensor([True, True, False]), mt.tensor([True, False, False])
    assert (a & b).tolist() == [True, False, False] and (a | b).tolist() == [True, True, False]
    assert (a ^ b).tolist() == [False, True, False] and (~a).tolist() == [False, False, True]
    assert (mt.tensor([True, False]) & 1).tolist() == [1, 0]  # from PyTorch: promoted to int


@pytest.mark.parametrize(
    "fn, name",
    [
        (lambda x: x & x, "bitwise_and"),
        (lambda x: x | 1, "bitwise_or"),
        (lambda x: ~x, "bitwise_not"),
        (lambda x: x << 1, "bitwise_left_shift"),
        (lambda x: mt.tensor([1]) ^ 1.5, "bitwise_xor"),
    ],
)
def test_bitwise_ops_refuse_floats_naming_the_op(fn, name):
    with pytest.raises(TypeError, match=f"{name}: only integer and bool"):
        fn(mt.tensor([1.0]))


# ------------------------------------------------------- classification, nan_to_num
def test_isnan_isinf_isfinite():
    x = mt.tensor([math.nan, math.inf, -math.inf, 1.0])
    assert mt.isnan(x).tolist() == [True, False, False, False]
    assert x.isinf().tolist() == [False, True, True, False]
    assert x.isfinite().tolist() == [False, False, False, True]
    assert mt.isnan(mt.tensor([1, 2])).tolist() == [False, False]  # integers: never NaN


def test_isclose_uses_pytorch_tolerances_and_allclose_gives_a_python_bool():
    a = mt.tensor([1.0, math.nan, 1.0, 100.0], dtype=mt.float64)
    b = mt.tensor([1.0 + 5e-6, math.nan, 1.1, 100.0005], dtype=mt.float64)
    assert mt.isclose(a, b).tolist() == [True, False, False, True]  # 1e-8 + 1e-5 |b|
    assert a.isclose(b, equal_nan=True).tolist() == [True, True, False, True]
    assert mt.isclose(a, b, atol=0.2).tolist() == [True, False, True, True]
    assert mt.allclose(a[:1], b[:1]) is True and a.allclose(b) is False


def test_nan_to_num_replaces_with_the_dtypes_limits_or_the_values_given():
    x = mt.tensor([math.nan, math.inf, -math.inf, 1.0])
    big = np.finfo(np.float32).max
    np.testing.assert_array_equal(mt.nan_to_num(x).numpy(force=True), [0.0, big, -big, 1.0])
    np.testing.assert_array_equal(
        x.nan_to_num(nan=1.5, posinf=9.0, neginf=-9.0).numpy(force=True), [1.5, 9.0, -9.0, 1.0]
    )


def test_nan_to_num_passes_the_gradient_where_x_is_finite():
    x = leaf([math.nan, math.inf, 1.0])
    mt.nan_to_num(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(force=True), [0.0, 0.0, 1.0])  # from PyTorch


# --------------------------------------------------------------------- activations
@pytest.mark.parametrize(
    "fn, expected",
    [
        (mt.hardtanh, [0, 0, 1, 1, 0, 0, 0]),
        (mt.relu6, [0, 0, 0, 1, 1, 1, 0]),
        (mt.hardswish, [0, 0, 0.5, 2 / 3, 5 / 6, 1, 1]),
        (mt.hardsigmoid, [0, 1 / 6, 1 / 6, 1 / 6, 1 / 6, 0, 0]),
        (mt.softsign, [0.0625, 0.16, 1.0, 4 / 9, 0.25, 0.0625, 1 / 49]),
    ],
    ids=["hardtanh", "relu6", "hardswish", "hardsigmoid", "softsign"],
)
def test_gradients_at_the_corners_are_pytorchs(fn, expected):
    np.testing.assert_allclose(grad_of(fn, KINKS), expected, rtol=1e-12)  # from PyTorch


@pytest.mark.parametrize(
    "fn, expected",
    [
        (
            mt.gelu,
            [
                -0.01194564720418392,
                -0.1274691922299796,
                0.5,
                0.8674951246561629,
                1.0833154705876864,
                1.011945647204184,
                1.0000000354687093,
            ],
        ),
        (
            lambda x: mt.gelu(x, approximate="tanh"),
            [
                -0.011584166630969648,
                -0.12771079315143308,
                0.5,
                0.8673699035346424,
                1.0829640838457826,
                1.0115841666309695,
                1.0000000007709977,
            ],
        ),
        (
            mt.silu,
            [
                -0.08810410601516962,
                -0.041294154299142946,
                0.5,
                0.7399611873026519,
                0.9276705118714869,
                1.0881041060151693,
                1.0123264325915249,
            ],
        ),
        (
            mt.mish,
            [
                -0.09339311453232084,
                -0.06409781589225869,
                0.6,
                0.8864243753577272,
                1.0490362200997922,
                1.0211069109294435,
                1.00013414050621,
            ],
        ),
        (
            mt.logsigmoid,
            [
                0.9525741268224333,
                0.8175744761936437,
                0.5,
                0.37754066879814546,
                0.2689414213699951,
                0.04742587317756679,
                0.0024726231566347748,
            ],
        ),
    ],
    ids=["gelu", "gelu-tanh", "silu", "mish", "logsigmoid"],
)
def test_smooth_activation_gradients_match_pytorch(fn, expected):
    np.testing.assert_allclose(grad_of(fn, KINKS), expected, rtol=1e-12)  # from PyTorch


def test_the_normal_cdf_matches_math_erfc_in_its_tails():
    """Beyond |x| = 2.1 gelu's CDF comes from a continued fraction, which the op-case
    table draws (|x| <= 3) seldom reach."""
    x = np.concatenate([np.linspace(-37.0, -2.2, 60), np.linspace(2.2, 9.0, 20)])
    expected = [0.5 * math.erfc(-v / math.sqrt(2)) for v in x]
    got = mt.ops.apply(mt.ops.Ndtr, mt.tensor(x)).numpy(force=True)
    np.testing.assert_allclose(got, expected, rtol=3e-13, atol=0)


def test_gelu_in_float32_is_within_float32_rounding_of_float64():
    x = np.linspace(-8.0, 8.0, 161)
    low = mt.gelu(mt.tensor(x, dtype=mt.float32))
    assert low.dtype == np.float32
    np.testing.assert_allclose(
        low.numpy(force=True), mt.gelu(mt.tensor(x)).numpy(force=True), rtol=3e-7, atol=1e-7
    )


def test_logsigmoid_and_gelu_are_finite_and_quiet_for_large_inputs():
    x = mt.tensor([-1000.0, 1000.0], dtype=mt.float64)  # RuntimeWarnings are errors here
    np.testing.assert_array_equal(mt.logsigmoid(x).numpy(force=True), [-1000.0, 0.0])
    np.testing.assert_array_equal(mt.gelu(mt.tensor([-40.0, 40.0])).numpy(force=True), [0.0, 40.0])
    np.testing.assert_array_equal(mt.mish(x).numpy(force=True), [-0.0, 1000.0])


@pytest.mark.parametrize(
    "fn",
    [
        mt.silu,
        mt.mish,
        mt.hardtanh,
        mt.relu6,
        mt.hardswish,
        mt.hardsigmoid,
        mt.leaky_relu,
        mt.elu,
    ],
    ids=lambda fn: fn.__name__,
)
def test_inplace_writes_the_result_into_the_input_with_the_same_gradient(fn):
    a, b = leaf(KINKS[:-1]), leaf(KINKS[:-1])
    expected = fn(a * 1.0)
    y = b * 1.0
    assert fn(y, inplace=True) is y
    np.testing.assert_array_equal(y.numpy(force=True), expected.numpy(force=True))
    expected.sum().backward()
    y.sum().backward()
    np.testing.assert_array_equal(b.grad.numpy(force=True), a.grad.numpy(force=True))


def test_hardtanh_clips_to_the_bounds_given_with_gradient_strictly_inside():
    x = leaf([-1.0, -0.5, 0.0, 2.0, 3.0])
    y = mt.hardtanh(x, min_val=-0.5, max_val=2.0)
    np.testing.assert_array_equal(y.numpy(force=True), [-0.5, -0.5, 0.0, 2.0, 2.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(force=True), [0.0, 0.0, 1.0, 0.0, 0.0])


def test_activation_arguments_are_checked():
    with pytest.raises(ValueError, match="gelu: approximate .*'exact'"):
        mt.gelu(mt.tensor([1.0]), approximate="exact")
    with pytest.raises(ValueError, match=r"hardtanh: min_val \(2.0\) is greater"):
        mt.hardtanh(mt.tensor([1.0]), 2.0, 1.0)


# ------------------------------------------------------------ trigonometric, powers
def test_atan2_gradient_at_the_origin_is_zero_and_hypots_is_nan():
    a, b = leaf([0.0, 0.0]), leaf([0.0, 1.0])
    mt.atan2(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(force=True), [0.0, 1.0])  # from PyTorch
    np.testing.assert_array_equal(b.grad.numpy(force=True), [0.0, 0.0])  # from PyTorch (-0.0)
    a, b = leaf([0.0, 0.0]), leaf([0.0, 1.0])
    mt.hypot(a, b).sum().backward()
    assert (
        np.isnan(a.grad.numpy(force=True)[0]) and b.grad.numpy(force=True)[1] == 1.0
    )  # from PyTorch


def test_inverse_functions_outside_their_domain_are_nan_silently():
    assert np.isnan(mt.asin(mt.tensor([2.0])).numpy(force=True)).all()
    assert np.isnan(mt.acosh(mt.tensor([0.5])).numpy(force=True)).all()
    assert mt.atanh(mt.tensor([1.0])).item() == math.inf


def test_integer_inputs_of_floating_functions_give_the_default_dtype():
    i = mt.tensor([4])
    for fn, expected in (
        (mt.exp2, 16.0),
        (mt.log2, 2.0),
        (mt.rsqrt, 0.5),
        (mt.reciprocal, 0.25),
        (mt.tan, math.tan(4)),
    ):
        out = fn(i)
        assert out.dtype == np.float32 and out.item() == pytest.approx(expected, rel=1e-6)
    assert mt.square(i).dtype == np.int64 and mt.square(i).item() == 16


def test_lerp_with_a_tensor_weight_and_its_gradients():
    a, b, w = leaf([1.0, 2.0]), leaf([3.0, 6.0]), leaf([0.25, 0.75])
    out = mt.lerp(a, b, w)
    np.testing.assert_array_equal(out.numpy(force=True), [1.5, 5.0])
    out.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(force=True), [0.75, 0.25])  # from PyTorch
    np.testing.assert_array_equal(b.grad.numpy(force=True), [0.25, 0.75])  # from PyTorch
    np.testing.assert_array_equal(w.grad.numpy(force=True), [2.0, 4.0])  # from PyTorch


def test_lerp_with_a_number_weight_and_its_gradients():
    a, b = leaf([1.0, -1.0]), leaf([3.0, 7.0])
    out = a.lerp(b, 0.75)
    np.testing.assert_array_equal(out.numpy(force=True), [2.5, 5.0])
    out.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(force=True), [0.25, 0.25])
    np.testing.assert_array_equal(b.grad.numpy(force=True), [0.75, 0.75])
    np.testing.assert_array_equal(mt.lerp(a, b, 1.0).numpy(force=True), [3.0, 7.0])  # exactly `end`
