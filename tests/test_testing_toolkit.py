"""The testing toolkit's specification: check_grads, gradcheck, gradgradcheck and the
hypothesis strategies do what their docstrings promise, and their errors say what went
wrong and where."""

from __future__ import annotations

import re

import numpy as np
import pytest
from helpers import leaf
from hypothesis import find, given, settings

import microtensor as mt
from microtensor.testing import GradcheckError, check_grads, gradcheck, gradgradcheck
from microtensor.testing import strategies as mst


def randn(*shape, seed=0) -> mt.Tensor:
    return leaf(np.random.default_rng(seed).standard_normal(shape))


def sin_times_x(x):
    return x.sin() * x


def matmul_tanh(x, w):
    return (x @ w).tanh()


CORRECT = {
    "sin_times_x": (sin_times_x, lambda: (randn(2, 3),)),
    "matmul_tanh": (matmul_tanh, lambda: (randn(2, 3, seed=1), randn(3, 2, seed=2))),
}


# --------------------------------------------------------- user-defined ops, right and wrong
class Sin(mt.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sin()

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x.cos()


def scaled_sin(factor: float):
    """Sin whose backward is multiplied by `factor` (1 is right)."""

    class ScaledSin(Sin):
        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * x.cos() * factor

    return ScaledSin


class DoubledMul(mt.autograd.Function):
    """a * b whose gradient for b is counted twice."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad * b, 2 * grad * a


class TwoOutputs(mt.autograd.Function):
    """(2x, sin x), with the sign of the second output's gradient flipped."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * 2, x.sin()

    @staticmethod
    def backward(ctx, g0, g1):
        (x,) = ctx.saved_tensors
        return g0 * 2 - g1 * x.cos()


class TransposedMatMul(mt.autograd.Function):
    """a @ b whose gradient for b is a @ g instead of aᵀ @ g."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad @ b.T, a @ grad


class DetachedCube(mt.autograd.Function):
    """x ** 3 with the right first derivative, computed from a detached x: a constant
    to create_graph, so its second derivative is wrong."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x.detach() ** 2


class RawNumpyCube(DetachedCube):
    """The same mistake through raw numpy data."""

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * mt.tensor(3 * x.numpy(force=True) ** 2)


# ------------------------------------------------------------------ check_grads passes
@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("name", sorted(CORRECT))
def test_a_correct_function_passes_at_orders_1_to_3_in_both_modes(name, order):
    fn, inputs = CORRECT[name]
    report = check_grads(fn, *inputs(), order=order)
    assert str(report) == "\n".join(f"order {k}: full, directional" for k in range(1, order + 1))


@pytest.mark.parametrize("mode", ["full", "directional"])
def test_the_report_lists_each_order_with_the_modes_that_ran(mode):
    fn, inputs = CORRECT["matmul_tanh"]
    report = check_grads(fn, *inputs(), order=2, modes=(mode,))
    assert str(report) == f"order 1: {mode}\norder 2: {mode}"


def test_a_correct_user_function_passes_to_order_3():
    assert (
        str(check_grads(Sin.apply, randn(3), order=3, modes=("full",)))
        == "order 1: full\norder 2: full\norder 3: full"
    )


def test_full_mode_is_skipped_above_full_limit_and_directional_still_runs():
    x = randn(4, 4)  # 16 elements
    assert str(check_grads(sin_times_x, x, full_limit=15)) == "order 1: directional"
    assert str(check_grads(sin_times_x, x, full_limit=16)) == "order 1: full, directional"


def test_full_mode_alone_above_full_limit_falls_back_to_directional():
    report = check_grads(sin_times_x, randn(4, 4), modes=("full",), full_limit=15)
    assert str(report) == "order 1: directional"


def test_full_limit_counts_the_inputs_of_each_order_including_its_directions():
    # order 1 differentiates x (3 elements), order 2 x and v (6 elements)
    report = check_grads(sin_times_x, randn(3), order=2, full_limit=4)
    assert str(report) == "order 1: full, directional\norder 2: directional"


def test_check_grads_leaves_its_inputs_unchanged():
    x = randn(2, 3)
    before = x.numpy(force=True).copy()
    check_grads(sin_times_x, x, order=2)
    np.testing.assert_array_equal(x.numpy(force=True), before)
    assert x.grad is None


# ------------------------------------------------------------ what an error message says
def test_the_error_names_input_output_worst_index_values_ratio_and_hint():
    x = leaf([[1.0, 2.0], [0.1, 1.2]])  # |cos| is largest at [1, 0]: the worst entry
    with pytest.raises(GradcheckError) as err:
        check_grads(scaled_sin(-1).apply, x, modes=("full",))
    message = str(err.value)
    assert message.startswith(
        "order 1: wrong gradient for input 0 (shape (2, 2)), output 0 (shape (2, 2))\n"
    )
    assert "worst entry: d out[1, 0] / d in[1, 0]" in message
    assert f"analytic = {-float(np.cos(0.1))!r}, numeric = 0.9950041" in message
    assert "ratio = -1\n" in message
    assert "4 of 16 entries exceed atol=1e-05, rtol=0.001" in message
    assert "hint: a ratio of -1 means a flipped sign" in message


@pytest.mark.parametrize(
    "factor, ratio, hint",
    [
        (-1.0, "-1", "flipped sign"),
        (2.0, "2", "counted twice"),
        (0.5, "0.5", "missing factor 2"),
        (0.0, "0", "the analytic gradient is zero"),
        (1.3, "1.3", "compare the VJP's formula with the derivative of the forward"),
    ],
)
def test_the_hint_reads_the_ratio(factor, ratio, hint):
    with pytest.raises(GradcheckError) as err:
        check_grads(scaled_sin(factor).apply, leaf([0.3, -1.1]))
    assert f"ratio = {ratio}\n" in str(err.value)
    assert hint in str(err.value)


def test_the_error_names_the_input_at_fault_among_several():
    a, b = leaf([0.5, -3.0, 1.0]), leaf([1.0, 2.0, 3.0])
    with pytest.raises(GradcheckError) as err:
        check_grads(DoubledMul.apply, a, b, modes=("full",))
    message = str(err.value)
    assert "wrong gradient for input 1 (shape (3,))" in message
    assert "worst entry: d out[1] / d in[1]" in message  # d out[k] / d b[k] = a[k]
    assert "analytic = -6.0" in message and "ratio = 2\n" in message
    assert "counted twice" in message


def test_the_error_names_the_output_at_fault_among_several():
    with pytest.raises(GradcheckError) as err:
        check_grads(TwoOutputs.apply, leaf([0.2, 1.0, -0.5]), modes=("full",))
    assert "input 0 (shape (3,)), output 1 (shape (3,))" in str(err.value)
    assert "flipped sign" in str(err.value)


def test_a_gradient_of_the_wrong_shape_is_reported_as_a_missing_broadcast_reduction(monkeypatch):
    # Primitive VJPs leave broadcasting to the engine's one reduction: drop it.
    monkeypatch.setattr(mt.autograd._ArrayNS, "sum_to", staticmethod(lambda g, shape: g))
    with pytest.raises(
        GradcheckError,
        match=re.escape(
            "gradient for input 1 has shape (2, 3), but the input has shape (3,): a missing "
            "broadcast reduction"
        ),
    ):
        check_grads(lambda a, b: a * b, randn(2, 3), randn(3, seed=1))


def test_a_function_returning_a_gradient_of_the_wrong_shape_is_stopped_by_the_engine():
    class NoReduction(mt.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, grad):
            a, b = ctx.saved_tensors
            return grad * b, grad * a  # b was broadcast: its gradient needs a sum

    with pytest.raises(
        RuntimeError,
        match=re.escape(
            "NoReduction.backward returned a gradient of shape (2, 3) for input 1, which "
            "has shape (3,)"
        ),
    ):
        check_grads(NoReduction.apply, randn(2, 3), randn(3, seed=1))


# ------------------------------------------------------------------------ directional
def test_directional_mode_passes_a_300x300_matmul_without_building_its_jacobian():
    a, b = randn(300, 300), randn(300, 300, seed=1)
    assert str(check_grads(lambda a, b: a @ b, a, b)) == "order 1: directional"


def test_directional_mode_catches_a_transposed_gradient_of_a_300x300_matmul():
    a, b = randn(300, 300), randn(300, 300, seed=1)
    with pytest.raises(GradcheckError) as err:
        check_grads(TransposedMatMul.apply, a, b)
    message = str(err.value)
    assert message.startswith(
        "order 1: wrong gradient for input 1 (shape (300, 300)), "
        "output 0 (shape (300, 300)), along a random direction\n"
    )
    assert "vᵀJu analytic = " in message and "modes=('full',)" in message


def test_the_same_seed_draws_the_same_directions():
    a, b = randn(20, 20), randn(20, 20, seed=1)

    def message(seed):
        with pytest.raises(GradcheckError) as err:
            check_grads(TransposedMatMul.apply, a, b, modes=("directional",), seed=seed)
        return str(err.value)

    assert message(3) == message(3)
    assert message(3) != message(4)


# ------------------------------------------------------------------------- higher order
@pytest.mark.parametrize("cube", [DetachedCube, RawNumpyCube], ids=["detach", "numpy"])
@pytest.mark.parametrize("modes", [("full",), ("directional",)], ids=["full", "directional"])
def test_order_2_catches_a_right_first_derivative_that_is_not_differentiable(cube, modes):
    x = leaf([0.5, -1.0, 2.0])
    check_grads(cube.apply, x, order=1, modes=modes)
    with pytest.raises(GradcheckError, match="^order 2: wrong gradient for input 0 "):
        check_grads(cube.apply, x, order=2, modes=modes)


def test_a_detached_second_derivative_gets_the_detached_hint():
    with pytest.raises(GradcheckError, match="a detached tensor"):
        check_grads(DetachedCube.apply, leaf([0.5, -1.0, 2.0]), order=2, modes=("full",))


def test_gradcheck_passes_and_gradgradcheck_catches_a_detached_second_derivative():
    x = leaf([0.5, -1.0, 2.0])
    assert gradcheck(DetachedCube.apply, (x,))
    assert not gradgradcheck(DetachedCube.apply, (x,), raise_exception=False)
    with pytest.raises(GradcheckError, match="^gradcheck: wrong gradient for input 0"):
        gradgradcheck(DetachedCube.apply, (x,))


def test_gradcheck_returns_false_instead_of_raising_when_asked():
    x = leaf([0.3, -1.1])
    assert gradcheck(Sin.apply, (x,))
    assert gradgradcheck(Sin.apply, (x,))
    assert gradcheck(scaled_sin(-1).apply, (x,), raise_exception=False) is False


# ------------------------------------------------------------------------------- dtypes
def dtype_recorder(seen: list):
    def fn(x):
        seen.append(x.dtype)
        return x.sin() * x

    return fn


def test_by_default_inputs_are_checked_in_float64():
    seen = []
    check_grads(dtype_recorder(seen), leaf([0.3, -1.1, 2.0], np.float32))
    assert set(seen) == {np.dtype(np.float64)}


def test_with_dtype_none_float32_inputs_are_checked_in_float32_and_pass():
    seen = []
    check_grads(dtype_recorder(seen), leaf([0.3, -1.1, 2.0], np.float32), dtype=None, order=2)
    assert set(seen) == {np.dtype(np.float32)}


def test_float32_tolerances_are_looser_than_float64_ones():
    off_by_half_a_percent = scaled_sin(1.005).apply
    x = leaf([0.3, -1.1, 2.0], np.float32)
    check_grads(off_by_half_a_percent, x, dtype=None)
    with pytest.raises(GradcheckError, match=r"atol=1e-05, rtol=0\.001"):
        check_grads(off_by_half_a_percent, x)


def test_an_explicit_zero_tolerance_is_used_as_given():
    # a relative error of 1e-4 is inside the default rtol (1e-3) but not inside 0
    with pytest.raises(GradcheckError, match=r"atol=0\.0, rtol=0\.0"):
        check_grads(scaled_sin(1 + 1e-4).apply, leaf([0.5]), atol=0.0, rtol=0.0)


def test_full_mode_checks_an_input_that_is_not_c_contiguous():
    x = mt.tensor(np.arange(1.0, 7.0).reshape(2, 3).T, requires_grad=True)  # Fortran order
    check_grads(lambda t: t.sin(), x, modes=("full",))


# ---------------------------------------------------------------------- bad arguments
@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"order": 4}, "check_grads: order must be 1, 2 or 3, got 4"),
        ({"order": 0}, "check_grads: order must be 1, 2 or 3, got 0"),
        (
            {"modes": ("full", "forward")},
            "check_grads: modes are 'full' and 'directional', got ('full', 'forward')",
        ),
        ({"modes": ()}, "check_grads: modes are 'full' and 'directional', got ()"),
    ],
)
def test_a_bad_order_or_mode_is_a_value_error_saying_what_is_allowed(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        check_grads(sin_times_x, randn(3), **kwargs)


def test_no_input_requiring_grad_is_a_value_error():
    with pytest.raises(
        ValueError, match="check_grads: no input requires grad, so there is nothing to check"
    ):
        check_grads(sin_times_x, mt.tensor(np.ones(3)))


def test_an_unknown_domain_is_a_value_error_listing_the_known_ones():
    with pytest.raises(
        ValueError,
        match=r"arrays: unknown domain 'complex'; pick one of "
        r"\[.*'positive'.*\], or give bounds",
    ):
        mst.arrays(domain="complex")


# --------------------------------------------------------------------------- strategies
@given(mst.shapes())
def test_shapes_have_at_most_3_dims_of_sides_1_to_4(shape):
    assert len(shape) <= 3 and all(1 <= n <= 4 for n in shape)


def test_shapes_include_the_0d_shape():
    assert find(mst.shapes(), lambda s: s == ()) == ()


@given(mst.broadcastable_shapes(3))
def test_broadcastable_shapes_broadcast_together(shapes):
    assert len(shapes) == 3
    assert len(np.broadcast_shapes(*shapes)) == max(len(s) for s in shapes)


@given(mst.arrays(bounds=(-0.5, 2.0)))
def test_arrays_stay_within_their_bounds(a):
    assert a.dtype == np.float64 and ((-0.5 <= a) & (a <= 2.0)).all()


@given(mst.arrays(domain="positive"))
def test_positive_arrays_are_positive(a):
    assert (a > 0).all()


@given(mst.arrays(domain="nonzero"))
def test_nonzero_arrays_keep_a_margin_of_0_1_from_zero(a):
    assert (np.abs(a) >= 0.1).all()


@given(mst.arrays(shape=mst.shapes(min_dims=1), distinct=True))
def test_distinct_values_are_a_thousandth_of_the_range_apart(a):
    gap = (3.0 - -3.0) / 1000  # the "real" domain
    assert a.size < 2 or np.diff(np.sort(a, axis=None)).min() >= gap * (1 - 1e-9)


@given(mst.arrays(shape=(5, 4), bounds=(0.0, 1.0), distinct=True))
def test_distinct_values_within_bounds_are_a_thousandth_of_the_bounds_apart(a):
    assert ((0.0 <= a) & (a <= 1.0)).all()
    assert np.diff(np.sort(a, axis=None)).min() >= 1e-3 * (1 - 1e-9)


@given(mst.simplex())
def test_simplex_rows_are_positive_and_sum_to_1(p):
    assert p.ndim >= 1 and (p > 0).all()
    np.testing.assert_allclose(p.sum(-1), 1.0, rtol=1e-12)


@given(mst.spd_matrices())
def test_spd_matrices_are_symmetric_with_positive_eigenvalues(m):
    assert m.ndim >= 2 and m.shape[-1] == m.shape[-2]
    np.testing.assert_allclose(m, np.swapaxes(m, -1, -2), rtol=0, atol=1e-12)
    assert (np.linalg.eigvalsh(m) > 0).all()


@given(mst.arrays(domain="spd", dtype=np.float32))
def test_arrays_of_the_spd_domain_come_from_spd_matrices_in_the_dtype_asked(m):
    assert m.dtype == np.float32 and (np.linalg.eigvalsh(m) > 0).all()


@given(mst.tensors())
def test_tensors_are_float64_and_require_grad_by_default(t):
    assert isinstance(t, mt.Tensor) and t.requires_grad and t.dtype == np.float64


@given(mst.tensors(requires_grad=False))
def test_tensors_can_be_drawn_without_requires_grad(t):
    assert not t.requires_grad


SMALL = mst.tensors(shape=mst.shapes(max_dims=2, max_side=3))


class FlippedTanh(mt.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.tanh()

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -grad * (1 - x.tanh() ** 2)


def test_gradient_test_returns_a_runnable_test_that_passes_for_tanh():
    test = mst.gradient_test(mt.tanh, SMALL, order=2)
    assert test.__name__ == "test_gradient_of_tanh"
    settings(max_examples=10)(test)()


def test_gradient_test_of_a_sign_flipped_backward_fails():
    test = mst.gradient_test(FlippedTanh.apply, SMALL)
    with pytest.raises(GradcheckError, match="flipped sign"):
        settings(max_examples=10, database=None)(test)()
