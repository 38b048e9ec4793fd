"""User-defined ops: mt.autograd.Function, its ctx, and the errors that protect users."""

import re

import numpy as np
import pytest
from helpers import leaf

import microtensor as mt
from microtensor.testing import GradcheckError, check_grads


class SoftplusFn(mt.autograd.Function):
    """log(1 + exp(x)), stable, with a backward written in Tensor ops (so order 2 works)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.relu() + (-x.abs()).exp().log1p()

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x.sigmoid()


class ScaledMul(mt.autograd.Function):
    """a * b * scale, with a non-tensor argument and two inputs."""

    @staticmethod
    def forward(ctx, a, b, scale):
        ctx.save_for_backward(a, b)
        ctx.scale = scale
        return a * b * scale

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        ga = grad * b * ctx.scale if ctx.needs_input_grad[0] else None
        gb = grad * a * ctx.scale if ctx.needs_input_grad[1] else None
        return ga, gb, None


class SumAndDiff(mt.autograd.Function):
    """Two outputs: a + b and a - b."""

    @staticmethod
    def forward(ctx, a, b):
        return a + b, a - b

    @staticmethod
    def backward(ctx, g_sum, g_diff):
        return g_sum + g_diff, g_sum - g_diff


class Double(mt.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad * 2


def test_a_function_with_a_correct_backward_passes_check_grads_to_order_2():
    assert check_grads(SoftplusFn.apply, leaf([-2.0, -0.5, 0.3, 4.0]), order=2)


def test_a_function_shows_its_class_name_as_grad_fn():
    y = SoftplusFn.apply(leaf([1.0]))
    assert y.grad_fn.name == "SoftplusFn" and "grad_fn=<SoftplusFnBackward>" in repr(y)
    assert repr(y.grad_fn).startswith(  # as PyTorch prints a Function's node
        "<microtensor.autograd.function.SoftplusFnBackward object at 0x"
    )


def test_forward_records_no_graph_of_its_own():
    y = SoftplusFn.apply(leaf([1.0, 2.0]))
    assert y.grad_fn.next_functions[0].is_leaf  # straight to the input, no inner ops


def test_non_tensor_arguments_pass_through_and_take_a_none_gradient():
    a, b = leaf([1.0, 2.0]), leaf([3.0, -1.0])
    ScaledMul.apply(a, b, 10.0).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(force=True), [30.0, -10.0])
    np.testing.assert_array_equal(b.grad.numpy(force=True), [10.0, 20.0])
    assert check_grads(lambda a, b: ScaledMul.apply(a, b, 0.5), a, b, order=2)


def test_needs_input_grad_says_which_inputs_want_a_gradient():
    seen = []

    class Spy(mt.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            seen.append(ctx.needs_input_grad)
            return a * b

        @staticmethod
        def backward(ctx, grad):
            return grad, None

    Spy.apply(leaf([1.0]), mt.tensor([2.0], dtype=mt.float64)).sum().backward()
    assert seen == [(True, False)]


def test_several_outputs_each_get_their_gradient_and_unused_ones_count_as_zero():
    a, b = leaf([1.0, 2.0]), leaf([5.0, 7.0])
    s, d = SumAndDiff.apply(a, b)
    assert s.grad_fn is d.grad_fn
    (2 * s + 3 * d).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(force=True), [5.0, 5.0])
    np.testing.assert_array_equal(b.grad.numpy(force=True), [-1.0, -1.0])
    a.grad = b.grad = None
    SumAndDiff.apply(a, b)[1].sum().backward()  # the sum output is unused
    np.testing.assert_array_equal(b.grad.numpy(force=True), [-1.0, -1.0])
    assert check_grads(SumAndDiff.apply, a, b, order=2)


def test_a_wrong_number_of_gradients_is_an_error_naming_the_function():
    class TooFew(mt.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(
        RuntimeError,
        match=r"TooFew.backward returned 1 gradient, but "
        r"forward took 2 inputs",
    ):
        TooFew.apply(leaf([1.0]), leaf([2.0])).sum().backward()


def test_a_gradient_of_the_wrong_shape_is_an_error_naming_the_function_and_input():
    class NoReduction(mt.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, grad):
            return grad, grad  # b was broadcast: its gradient needs a sum

    with pytest.raises(
        RuntimeError,
        match=r"NoReduction.backward returned a gradient of "
        r"shape \(2, 3\) for input 1, which has shape \(3,\)",
    ):
        NoReduction.apply(leaf(np.ones((2, 3))), leaf(np.ones(3))).sum().backward()


def test_a_flipped_sign_fails_check_grads_naming_the_input_and_worst_index():
    class Flipped(SoftplusFn):
        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return -grad * x.sigmoid()

    with pytest.raises(GradcheckError) as err:
        check_grads(Flipped.apply, leaf([0.5, 1.0, 2.0]))
    message = str(err.value)
    assert "input 0" in message and "worst entry: d out[" in message
    assert "ratio = -1" in message and "flipped sign" in message


def test_backward_in_tensor_ops_is_differentiable_under_create_graph():
    x = leaf([0.3])
    (g,) = mt.autograd.grad(SoftplusFn.apply(x).sum(), x, create_graph=True)
    (h,) = mt.autograd.grad(g.sum(), x)
    s = 1 / (1 + np.exp(-0.3))
    assert h.item() == pytest.approx(s * (1 - s))


def test_saving_an_output_is_refused_only_where_it_would_be_wrong_under_create_graph():
    class ExpFn(mt.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y

    x = leaf([1.0])
    ExpFn.apply(x).sum().backward()
    assert x.grad.item() == pytest.approx(np.e)
    with pytest.raises(RuntimeError, match="ExpFn: it saved one of its outputs"):
        mt.autograd.grad(ExpFn.apply(x).sum(), x, create_graph=True)


def test_a_saved_tensor_changed_in_place_is_caught_at_backward():
    x = leaf([1.0, 2.0])
    h = x * 1
    y = SoftplusFn.apply(h)
    with mt.no_grad():
        h.mul_(2)
    with pytest.raises(
        RuntimeError,
        match=r"SoftplusFn: saved tensor 0 \(shape \(2,\)\) was "
        r"modified by an in-place operation",
    ):
        y.sum().backward()


def test_anomaly_mode_names_a_function_by_its_class():
    class Bad(mt.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            return grad * np.inf

    x = leaf([1.0])
    with mt.autograd.detect_anomaly():
        y = Bad.apply(x)  # the line the error must point at
        with pytest.raises(
            RuntimeError,
            match=r"backward of Bad produced NaN or inf.*"
            r"y = Bad.apply\(x\)",
        ):
            y.sum().backward()


def test_under_no_grad_a_function_records_nothing():
    with mt.no_grad():
        y = SoftplusFn.apply(leaf([1.0]))
    assert y.grad_fn is None and not y.requires_grad


def test_forward_must_return_tensors():
    class ReturnsArray(mt.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.numpy(force=True)

    with pytest.raises(TypeError, match="ReturnsArray.forward: output 0 is a ndarray"):
        ReturnsArray.apply(leaf([1.0]))


def test_retain_graph_keeps_saved_tensors_for_a_second_backward():
    x = leaf([1.0])
    y = SoftplusFn.apply(x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == pytest.approx(2 / (1 + np.exp(-1.0)))
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


# -------------------------------------------------------- arguments, outputs and errors
def test_a_subclass_of_a_function_runs_its_own_backward():
    class Quadruple(Double):
        @staticmethod
        def backward(ctx, grad):
            return grad * 4

    x = leaf([1.0])
    Double.apply(x).sum().backward()  # Double's op is made first
    Quadruple.apply(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(force=True), [6.0])


def test_a_function_output_that_is_unused_gets_a_zero_gradient_of_its_dtype():
    seen = []

    class Pair(mt.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1, x * 3

        @staticmethod
        def backward(ctx, ga, gb):
            seen.append((gb.dtype, gb.numpy(force=True).copy()))
            return ga + gb * 3

    x = leaf([1.0, 2.0], dtype=mt.float32)
    a, _ = Pair.apply(x)
    a.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(force=True), [1.0, 1.0])
    assert seen[0][0] == mt.float32
    np.testing.assert_array_equal(seen[0][1], [0.0, 0.0])


def test_a_function_records_a_node_even_under_a_grad_mode_changed_in_forward():
    class Inner(mt.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            assert mt.is_grad_enabled() is False  # forward runs without recording
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    x = leaf([1.0])
    Inner.apply(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(force=True), [2.0])


def test_a_function_with_a_constant_input_returns_gradients_only_where_needed():
    class Scale(mt.autograd.Function):
        @staticmethod
        def forward(ctx, k, x):
            ctx.save_for_backward(None, x)
            ctx.k = k
            return x * k

        @staticmethod
        def backward(ctx, grad):
            return None, grad * ctx.k

    x = leaf([1.0, 2.0])
    Scale.apply(3.0, x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(force=True), [3.0, 3.0])


def test_function_base_class_forward_and_backward_say_what_to_define():
    with pytest.raises(
        NotImplementedError, match=re.escape("a Function subclass defines forward(ctx, *inputs)")
    ):
        mt.autograd.Function.forward(None)
    with pytest.raises(
        NotImplementedError,
        match=re.escape("a Function subclass defines backward(ctx, *grad_outputs)"),
    ):
        mt.autograd.Function.backward(None)


def test_a_function_backward_returning_a_non_tensor_is_refused_naming_its_type():
    class Bad(mt.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            return grad.numpy(force=True)

    with pytest.raises(TypeError, match="^Bad.backward: gradient 0 is a ndarray, not a Tensor"):
        Bad.apply(leaf([1.0])).sum().backward()


def test_a_function_backward_returning_too_many_gradients_is_refused_counting_them():
    class Bad(mt.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    with pytest.raises(
        RuntimeError,
        match=re.escape(
            "Bad.backward returned 2 gradients, but forward took 1 input; return one per "
            "input (None for inputs that need none)"
        ),
    ):
        Bad.apply(leaf([1.0])).sum().backward()


def test_save_for_backward_refuses_a_non_tensor_naming_its_type():
    class Bad(mt.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, 3.0)
            return x * 1

    with pytest.raises(
        TypeError,
        match=r"^Bad.save_for_backward: argument 1 is a float; "
        r"save tensors here",
    ):
        Bad.apply(leaf([1.0]))
