"""Behaviours that mutation testing (`make mutation`) found unpinned: the engine's in-place,
hook and accumulation paths, the public function forms of the ops, and their errors."""
import re

import numpy as np
import pytest

import microtensor as mt
from microtensor import autograd


def leaf(values, dtype=mt.float64):
    return mt.tensor(values, dtype=dtype, requires_grad=True)


# ------------------------------------------------------------------ grad mode, anomaly mode
def test_is_grad_enabled_is_false_inside_no_grad():
    with mt.no_grad():
        assert mt.is_grad_enabled() is False
    assert mt.is_grad_enabled() is True


def test_anomaly_mode_raises_naming_the_op_whose_backward_made_nan_and_ends_with_the_block():
    x = leaf([0.0, 1.0])
    with autograd.detect_anomaly():
        assert autograd.is_anomaly_enabled()
        y = x.sqrt()
        with np.errstate(divide="ignore"), pytest.raises(
                RuntimeError, match=r"^anomaly: the backward of sqrt produced NaN or inf; the "
                                    r"op was created at ") as err:
            y.sum().backward()
    assert "before anomaly mode" not in str(err.value)  # the line was recorded
    assert not autograd.is_anomaly_enabled()


def test_anomaly_mode_checks_the_gradient_of_every_input_not_only_the_first():
    x = leaf([1.0])
    with autograd.detect_anomaly():
        y = mt.tensor([np.inf], dtype=mt.float64) * x  # mul's VJP: (None, inf)
        with pytest.raises(RuntimeError, match="^anomaly: the backward of mul"):
            y.sum().backward()


def test_anomaly_mode_accepts_finite_gradients_and_unused_inputs():
    x, unused = leaf([1.0, 4.0]), leaf([1.0])
    with autograd.detect_anomaly():
        (x.sqrt().sum() + unused.sum() * 0).backward()
        x.split(1)[1].sum().backward()  # split's VJP gets None for the unused piece
    np.testing.assert_allclose(x.grad.data, [0.5, 1.25])


def test_detect_anomaly_with_check_nan_false_lets_nan_gradients_through():
    x = leaf([0.0])
    with autograd.detect_anomaly(check_nan=False), np.errstate(divide="ignore"):
        x.sqrt().sum().backward()
    assert np.isinf(x.grad.data[0])


# ------------------------------------------------------------------ recording and saving
@pytest.mark.parametrize("op", [lambda t: t.exp(), lambda t: t * 2, lambda t: mt.sum(t, 0),
                                lambda t: mt.split(t, 1)[0]],
                         ids=["method", "operator", "function", "two-output"])
def test_an_op_records_a_graph_only_when_an_input_requires_grad_and_grad_mode_is_on(op):
    assert not op(mt.tensor([1.0, 2.0])).requires_grad
    with mt.no_grad():
        assert not op(leaf([1.0, 2.0])).requires_grad
    assert op(leaf([1.0, 2.0])).requires_grad


@pytest.mark.parametrize("op, keeps", [
    (lambda t: t.exp(), True), (lambda t: -t, False), (lambda t: t * 2, False),
    (lambda t: mt.sum(t, 0), False), (lambda t: mt.softmax(t, 0), True),
    (lambda t: mt.split(t, 1)[0], False)],
    ids=["exp", "neg", "mul", "sum", "softmax", "split"])
def test_a_node_keeps_its_output_only_when_its_vjp_reads_it(op, keeps):
    out = op(leaf([1.0, 2.0])).grad_fn.out
    assert (out is not None) == keeps


@pytest.mark.parametrize("op", [lambda t: mt.reshape(t, 2, 1), lambda t: t * 1,
                                lambda t: t.exp()], ids=["function", "operator", "method"])
def test_retain_grad_works_on_the_output_of_every_kind_of_op(op):
    h = op(leaf([0.0, 0.0]))
    h.retain_grad()
    (h * 3).sum().backward()
    np.testing.assert_array_equal(h.grad.data.ravel(), [3.0, 3.0])


def test_a_numpy_error_inside_an_op_is_reraised_naming_the_op_and_the_input_shapes():
    with pytest.raises(ValueError, match=r"^add: .*\(input shapes: \(2,\), list\)$"):
        mt.tensor([1.0, 2.0]) + [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match=r"^mul: .*\(input shapes: \(2,\), \(3,\)\)$"):
        mt.tensor([1.0, 2.0]) * mt.tensor([1.0, 2.0, 3.0])


# ---------------------------------------------------------------------- backward and grad
def test_plain_backward_and_grad_give_gradients_without_a_graph():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward()
    assert not x.grad.requires_grad
    (g,) = autograd.grad((x * x).sum(), x)
    assert not g.requires_grad


def test_backward_of_several_outputs_sums_their_gradients():
    x = leaf([1.0, 2.0])
    autograd.backward([(x * 2).sum(), (x * 3).sum()])
    np.testing.assert_array_equal(x.grad.data, [5.0, 5.0])
    (g,) = autograd.grad([(x * 2).sum(), (x * 3).sum()], x)
    np.testing.assert_array_equal(g.data, [5.0, 5.0])


def test_backward_refuses_fewer_gradients_than_outputs():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError):
        autograd.backward([(x * 2).sum(), (x * 3).sum()], [mt.tensor(1.0, dtype=mt.float64)])


def test_backward_and_grad_of_a_non_scalar_without_a_gradient_are_refused_naming_the_call():
    y = leaf([1.0, 2.0]) * 2
    with pytest.raises(RuntimeError, match="^backward: grad can be implicitly created only "
                                           "for scalar outputs"):
        y.backward(retain_graph=True)
    with pytest.raises(RuntimeError, match="^grad: grad can be implicitly created only"):
        autograd.grad(y, y)


def test_grad_refuses_an_input_that_does_not_require_grad():
    x = leaf([1.0])
    with pytest.raises(RuntimeError, match="^grad: input 1 does not require grad$"):
        autograd.grad((x * 2).sum(), [x, mt.tensor([1.0])])


def test_grad_with_respect_to_an_intermediate_tensor():
    x = leaf([1.0, 2.0])
    h = x * 3
    (gh,) = autograd.grad((h * h).sum(), h)
    np.testing.assert_array_equal(gh.data, [6.0, 12.0])


def test_backward_with_create_graph_keeps_the_graph_for_another_backward_by_default():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward(create_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [4.0, 8.0])


def test_a_leaf_hook_under_create_graph_keeps_grad_differentiable():
    x = leaf(2.0)
    x.register_hook(lambda g: g * 2)
    (x ** 3).backward(create_graph=True)
    assert x.grad.item() == 24.0
    (d2,) = autograd.grad(x.grad, x)
    assert d2.item() == 24.0


def test_a_second_backward_accumulates_into_the_same_grad_tensor():
    x = leaf([1.0, 2.0])
    (x * 2).sum().backward()
    first = x.grad
    (x * 3).sum().backward()
    assert x.grad is first
    np.testing.assert_array_equal(first.data, [5.0, 5.0])


def test_leaves_fed_views_of_one_gradient_each_own_their_grad():
    a, b = leaf([[1.0], [2.0]]), leaf([[3.0], [4.0]])
    y = (mt.reshape(a, 2) + mt.reshape(b, 2)).sum()  # both grads: views of one array
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(a.grad.data, [[2.0], [2.0]])
    np.testing.assert_array_equal(b.grad.data, [[2.0], [2.0]])


# ------------------------------------------------------------------------------ in place
def test_in_place_op_on_the_second_piece_of_split_sends_its_gradient_to_that_piece():
    x = leaf([1.0, 2.0, 3.0, 4.0])
    a, b = (x * 1).split(2)  # pieces of a non-leaf: of a leaf, in-place is refused
    b.add_(1)
    ((a * 2).sum() + (b * 3).sum()).backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0, 3.0, 3.0])


def test_in_place_op_on_a_tensor_that_needs_no_grad_leaves_it_needing_none():
    t = mt.tensor([1.0, 2.0])
    t.add_(1)
    assert not t.requires_grad and t.grad_fn is None
    np.testing.assert_array_equal(t.data, [2.0, 3.0])


def test_retain_grad_on_a_tensor_changed_in_place_receives_its_gradient():
    x = leaf([1.0, 2.0])
    h = x * 1
    h.add_(1)
    h.retain_grad()
    (h * 3).sum().backward()
    np.testing.assert_array_equal(h.grad.data, [3.0, 3.0])


def test_in_place_op_whose_result_has_another_shape_is_refused_naming_the_op():
    h = leaf([1.0, 2.0]) * 1
    with pytest.raises(RuntimeError, match=re.escape(
            "add_: the result has shape (3, 2), which cannot be written into a tensor of "
            "shape (2,) in place")):
        h.add_(mt.ones(3, 2, dtype=mt.float64))


def test_copy_broadcasts_the_source_into_the_tensor_keeping_its_dtype_and_passes_the_gradient():
    src = leaf([1.0, 2.0])
    h = leaf([[0.0, 0.0], [0.0, 0.0]], dtype=mt.float32) * 1
    h.copy_(src)
    assert h.dtype == mt.float32
    np.testing.assert_array_equal(h.data, [[1.0, 2.0], [1.0, 2.0]])
    h.sum().backward()
    np.testing.assert_array_equal(src.grad.data, [2.0, 2.0])


def test_fill_sets_every_element_and_passes_no_gradient_back():
    x = leaf([1.0, 2.0])
    h = x * 1
    h.fill_(7.0)
    np.testing.assert_array_equal(h.data, [7.0, 7.0])
    (h * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [7.0, 7.0])  # only through the product


def test_in_place_mul_by_a_tensor_that_needs_grad_never_gives_a_wrong_gradient():
    # the in-place op overwrote the value its own backward would read for z's gradient
    x, z = leaf([1.0, 2.0]), leaf([5.0, 7.0])
    y = x * 2
    y.mul_(z)
    try:
        y.sum().backward()
    except RuntimeError as e:
        assert "modified by an in-place operation" in str(e)
    else:
        np.testing.assert_array_equal(z.grad.data, [2.0, 4.0])
        np.testing.assert_array_equal(x.grad.data, [10.0, 14.0])


def test_a_tensor_changed_in_place_before_an_op_saves_it_is_not_reported_as_modified():
    x = leaf([1.0, 2.0])
    a = x * 1
    with mt.no_grad():
        a.mul_(5)
    b = a * a  # saves a as it is now
    mt.zeros(2).add_(1)  # a later, unrelated in-place op: backward checks versions
    b.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [10.0, 20.0])


def test_in_place_mul_of_a_non_leaf_by_a_constant_is_differentiable():
    x = leaf([1.0, 2.0])
    y = x * 2
    y.mul_(3)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [6.0, 6.0])


# -------------------------------------------------------------- accumulation into .grad
def test_backward_with_create_graph_accumulates_into_grad_across_calls():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward(create_graph=True)
    (x * x).sum().backward(create_graph=True)
    np.testing.assert_array_equal(x.grad.data, [4.0, 8.0])
    assert x.grad.requires_grad


def test_a_plain_backward_after_a_create_graph_one_adds_to_grad():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward(create_graph=True)
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [5.0, 7.0])


def test_grads_keep_their_tensors_dtype_when_the_graph_computes_in_float64():
    x = leaf([1.0, 2.0], dtype=mt.float32)
    w = mt.tensor([3.0, 4.0], dtype=mt.float64)
    for _ in range(2):
        h = x * 1
        h.retain_grad()
        (h * w).sum().backward()
        assert h.grad.dtype == mt.float32
        np.testing.assert_array_equal(h.grad.data, [3.0, 4.0])
    assert x.grad.dtype == mt.float32
    np.testing.assert_array_equal(x.grad.data, [6.0, 8.0])


@pytest.mark.parametrize("use", [lambda h: h, lambda h: h[0:1], lambda h: h.to(mt.float64)],
                         ids=["sum", "getitem", "cast"])
def test_the_gradient_reaching_a_float32_tensor_is_float32(use):
    x = leaf([1.0, 2.0], dtype=mt.float32)
    h = x * 1
    seen = []
    h.register_hook(lambda g: seen.append(g.dtype))
    use(h).sum().backward()
    assert seen == [mt.float32]


def test_retained_grad_and_a_leaf_grad_do_not_share_memory():
    x = leaf([1.0, 2.0])
    h = x + 0.0  # add hands the same gradient array to h and to x
    h.retain_grad()
    h.sum().backward(retain_graph=True)
    h.sum().backward()
    np.testing.assert_array_equal(h.grad.data, [2.0, 2.0])
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])


# ------------------------------------------------------------------- hooks, retain_grad
def test_hooks_and_retain_grad_on_a_piece_of_split_see_that_pieces_gradient():
    x = leaf([1.0, 2.0, 3.0, 4.0])
    a, b = x.split(2)  # a is unused: its gradient slot stays empty
    seen = []
    b.retain_grad()
    b.register_hook(lambda g: seen.append(g.data.copy()))
    b.register_hook(lambda g: g * 2)
    (b * 3).sum().backward()
    np.testing.assert_array_equal(seen[0], [3.0, 3.0])
    np.testing.assert_array_equal(b.grad.data, [6.0, 6.0])
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 6.0, 6.0])


def test_a_hook_under_create_graph_keeps_the_gradient_differentiable():
    x = leaf(3.0)
    h = x * x
    h.register_hook(lambda g: g * 2)
    y = h * x  # x**3, with the gradient through h doubled: 5 x**2
    (dx,) = autograd.grad(y, x, create_graph=True)
    (d2x,) = autograd.grad(dx, x)  # the hook doubles h's gradient in this pass too: 12 x
    assert dx.item() == 45.0 and d2x.item() == 36.0


def test_retain_grad_under_create_graph_keeps_a_differentiable_grad():
    x = leaf(3.0)
    h = x * x
    h.retain_grad()
    (h * h).backward(create_graph=True)
    assert h.grad.item() == 18.0 and h.grad.requires_grad


def test_a_leaf_hook_may_return_a_numpy_array():
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: np.array([5.0, 6.0]))
    x.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [5.0, 6.0])


# -------------------------------------------------------------------- Function (custom ops)
class Double(autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad * 2


def test_a_function_output_that_is_unused_gets_a_zero_gradient_of_its_dtype():
    seen = []

    class Pair(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1, x * 3

        @staticmethod
        def backward(ctx, ga, gb):
            seen.append((gb.dtype, gb.data.copy()))
            return ga + gb * 3

    x = leaf([1.0, 2.0], dtype=mt.float32)
    a, _ = Pair.apply(x)
    a.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])
    assert seen[0][0] == mt.float32
    np.testing.assert_array_equal(seen[0][1], [0.0, 0.0])


def test_a_function_records_a_node_even_under_a_grad_mode_changed_in_forward():
    class Inner(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            assert mt.is_grad_enabled() is False  # forward runs without recording
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    x = leaf([1.0])
    Inner.apply(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0])


def test_a_function_with_a_constant_input_returns_gradients_only_where_needed():
    class Scale(autograd.Function):
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
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


def test_a_function_backward_returning_a_non_tensor_is_refused_naming_its_type():
    class Bad(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            return grad.data

    with pytest.raises(TypeError, match="^Bad.backward: gradient 0 is a ndarray, not a Tensor"):
        Bad.apply(leaf([1.0])).sum().backward()


def test_a_function_backward_returning_too_many_gradients_is_refused_counting_them():
    class Bad(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    with pytest.raises(RuntimeError, match=re.escape(
            "Bad.backward returned 2 gradients, but forward took 1 input; return one per "
            "input (None for inputs that need none)")):
        Bad.apply(leaf([1.0])).sum().backward()


def test_save_for_backward_refuses_a_non_tensor_naming_its_type():
    class Bad(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, 3.0)
            return x * 1

    with pytest.raises(TypeError, match=r"^Bad.save_for_backward: argument 1 is a float; "
                                        r"save tensors here"):
        Bad.apply(leaf([1.0]))


def test_function_base_class_forward_and_backward_say_what_to_define():
    with pytest.raises(NotImplementedError, match=re.escape(
            "a Function subclass defines forward(ctx, *inputs)")):
        autograd.Function.forward(None)
    with pytest.raises(NotImplementedError, match=re.escape(
            "a Function subclass defines backward(ctx, *grad_outputs)")):
        autograd.Function.backward(None)


def test_a_subclass_of_a_function_runs_its_own_backward():
    class Quadruple(Double):
        @staticmethod
        def backward(ctx, grad):
            return grad * 4

    x = leaf([1.0])
    Double.apply(x).sum().backward()  # Double's op is made first
    Quadruple.apply(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [6.0])


# ------------------------------------------------------------- the public function forms
@pytest.mark.parametrize("fn, expected", [
    (mt.sub, [-2.0, 4.0]), (mt.div, [1 / 3, 3.0]), (mt.eq, [False, False]),
    (mt.ne, [True, True]), (mt.lt, [True, False]), (mt.le, [True, False]),
    (mt.gt, [False, True]), (mt.ge, [False, True]),
])
def test_binary_functions_compute_what_their_names_say(fn, expected):
    a, b = mt.tensor([1.0, 6.0]), mt.tensor([3.0, 2.0])
    np.testing.assert_allclose(fn(a, b).data, expected)


def test_neg_and_the_logical_functions_compute_what_their_names_say():
    a, b = mt.tensor([True, False]), mt.tensor([True, True])
    np.testing.assert_array_equal(mt.logical_and(a, b).data, [True, False])
    np.testing.assert_array_equal(mt.logical_or(a, mt.tensor([False, False])).data,
                                  [True, False])
    np.testing.assert_array_equal(mt.logical_not(a).data, [False, True])
    np.testing.assert_array_equal(mt.neg(mt.tensor([1.0, -2.0])).data, [-1.0, 2.0])


def test_where_picks_from_x_where_the_condition_holds_else_from_y():
    out = mt.where(mt.tensor([True, False]), mt.tensor([1.0, 2.0]), mt.tensor([3.0, 4.0]))
    np.testing.assert_array_equal(out.data, [1.0, 4.0])


def test_linear_adds_its_bias():
    x = mt.tensor([[1.0, 2.0]])
    w = mt.tensor([[1.0, 0.0], [0.0, 1.0]])
    np.testing.assert_array_equal(mt.ops.linear(x, w, mt.tensor([10.0, 20.0])).data,
                                  [[11.0, 22.0]])


def test_linear_gives_the_input_its_gradient_when_the_weight_is_frozen():
    x = leaf([[1.0, 2.0]])
    w = mt.tensor([[3.0, 4.0]], dtype=mt.float64)
    mt.ops.linear(x, w).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[3.0, 4.0]])


def test_linear_weight_gradient_sums_over_every_batch_dim_of_a_3d_input():
    rng = np.random.default_rng(0)
    xv, wv = rng.normal(size=(2, 3, 4)), rng.normal(size=(5, 4))
    w = leaf(wv)
    mt.ops.linear(mt.tensor(xv), w).sum().backward()
    np.testing.assert_allclose(w.grad.data, np.ones((2, 3, 5)).reshape(-1, 5).T
                               @ xv.reshape(-1, 4))


@pytest.mark.parametrize("fn", [mt.maximum, mt.minimum])
def test_maximum_and_minimum_with_a_constant_give_the_tensor_its_gradient(fn):
    x = leaf([1.0, 5.0])
    fn(x, mt.tensor([3.0, 3.0], dtype=mt.float64)).sum().backward()
    expected = [0.0, 1.0] if fn is mt.maximum else [1.0, 0.0]
    np.testing.assert_array_equal(x.grad.data, expected)


@pytest.mark.parametrize("fn, row", [
    (mt.softmax, [0.2689414213699951, 0.7310585786300049]),
    (mt.log_softmax, [-1.3132616875182228, -0.3132616875182228]),
])
def test_softmax_and_log_softmax_shift_each_row_by_its_own_max(fn, row):
    out = fn(mt.tensor([[0.0, 1.0], [-1000.0, -999.0]], dtype=mt.float64), 1)
    np.testing.assert_allclose(out.data, [row, row])


def test_setitem_writes_the_value_and_a_constant_value_leaves_the_rest_its_gradient():
    x = leaf([1.0, 2.0, 3.0])
    h = x * 1
    h[1] = 5.0
    np.testing.assert_array_equal(h.data, [1.0, 5.0, 3.0])
    h.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 0.0, 1.0])


def test_pow_of_a_constant_base_gives_the_exponent_zero_at_base_0_and_nan_below():
    x = leaf([2.0, 3.0])
    (0.0 ** x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0])
    x.grad = None
    ((-2.0) ** x).sum().backward()
    assert np.isnan(x.grad.data).all()
    x.grad = None
    (2.0 ** x).sum().backward()
    np.testing.assert_allclose(x.grad.data, [4 * np.log(2), 8 * np.log(2)])


def test_cast_gives_the_dtype_asked_for():
    assert mt.tensor([1.0], dtype=mt.float64).to(mt.float32).dtype == mt.float32


def test_activation_defaults_match_pytorch():
    x = mt.tensor([-1.0, 2.0], dtype=mt.float64)
    np.testing.assert_allclose(mt.leaky_relu(x).data, [-0.01, 2.0])
    np.testing.assert_allclose(mt.elu(x).data, [np.expm1(-1.0), 2.0])
    assert mt.softplus(mt.tensor([20.5], dtype=mt.float64)).item() == 20.5  # linear above 20


def test_softplus_is_linear_only_strictly_above_its_threshold():
    x = leaf([20.0])
    y = mt.softplus(x)
    assert y.item() == 20.0 + np.log1p(np.exp(-20.0))
    y.sum().backward()
    assert x.grad.item() < 1.0  # sigmoid(20), not the linear part's 1


def test_pad_fills_with_the_value_given():
    np.testing.assert_array_equal(mt.pad(mt.ones(1), (1, 1), value=5.0).data, [5.0, 1.0, 5.0])


def test_fold_defaults_to_stride_1_no_padding_no_dilation():
    out = mt.fold(mt.ones(1, 4, 4), (3, 3), 2)  # every 2x2 window of a 3x3 image
    np.testing.assert_array_equal(out.data[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


# ----------------------------------------------------------------- reductions with a dim
def test_max_and_min_along_a_dim_with_keepdim_give_values_and_indices():
    x = mt.tensor([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]])
    values, indices = mt.max(x, 1, keepdim=True)
    np.testing.assert_array_equal(values.data, [[5.0], [6.0]])
    np.testing.assert_array_equal(indices.data, [[1], [2]])
    values, indices = mt.min(x, 0, keepdim=True)
    np.testing.assert_array_equal(values.data, [[1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(indices.data, [[0, 1, 0]])
    assert mt.max(x, 1).values.shape == (2,)
    values, indices = mt.min(x, 1)
    np.testing.assert_array_equal(values.data, [1.0, 2.0])
    np.testing.assert_array_equal(indices.data, [0, 1])


def test_argmax_and_argmin_along_a_dim_with_and_without_keepdim():
    x = mt.tensor([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]])
    np.testing.assert_array_equal(mt.argmax(x, 1, keepdim=True).data, [[1], [2]])
    np.testing.assert_array_equal(mt.argmin(x, 1).data, [0, 1])
    np.testing.assert_array_equal(mt.argmin(x, 0, keepdim=True).data, [[0, 1, 0]])
    assert mt.argmax(x, keepdim=True).shape == ()  # over all elements: a flat index
    assert mt.argmin(x).item() == 0


def test_amax_amin_and_mean_reduce_only_the_dim_asked_and_drop_it_by_default():
    x = mt.tensor([[1.0, 5.0], [4.0, 2.0]])
    np.testing.assert_array_equal(mt.amax(x, 0).data, [4.0, 5.0])
    np.testing.assert_array_equal(mt.amin(x, 1).data, [1.0, 2.0])
    np.testing.assert_array_equal(mt.mean(x, 1).data, [3.0, 3.0])
    assert mt.amax(x).shape == mt.amin(x).shape == mt.mean(x).shape == ()


def test_all_and_any_along_a_dim_with_keepdim():
    x = mt.tensor([[True, False], [True, True]])
    np.testing.assert_array_equal(mt.all(x, 1).data, [False, True])
    np.testing.assert_array_equal(mt.any(x, 0, keepdim=True).data, [[True, True]])
    np.testing.assert_array_equal(mt.all(x, 0, keepdim=True).data, [[True, False]])
    np.testing.assert_array_equal(mt.any(mt.tensor([[False, False], [False, True]]), 1).data,
                                  [False, True])


# ------------------------------------------------------------------------- shape functions
def test_squeeze_drops_only_the_size_1_dims_asked_for():
    x = mt.zeros(1, 2, 1)
    assert mt.squeeze(x).shape == (2,)
    assert mt.squeeze(x, 0).shape == (2, 1)
    assert mt.squeeze(x, (0, 2)).shape == (2,)
    assert mt.squeeze(x, 1).shape == (1, 2, 1)


def test_flatten_of_a_0d_tensor_and_of_a_range_of_dims():
    assert mt.flatten(mt.tensor(3.0)).shape == (1,)
    assert mt.flatten(mt.zeros(2, 3, 4)).shape == (24,)
    assert mt.flatten(mt.zeros(2, 3, 4), 1).shape == (2, 12)
    assert mt.flatten(mt.zeros(2, 3, 4), 0, 1).shape == (6, 4)


def test_expand_keeps_a_dim_given_as_minus_1_and_adds_leading_dims():
    x = mt.tensor([[1.0], [2.0]])
    assert mt.expand(x, 3, -1, 4).shape == (3, 2, 4)


def test_chunk_and_split_along_a_later_dim_and_split_defaults_to_dim_0():
    x = mt.zeros(4, 6)
    assert [p.shape for p in mt.chunk(x, 3, 1)] == [(4, 2)] * 3
    assert [p.shape for p in mt.chunk(x, 4)] == [(1, 6)] * 4
    assert [p.shape for p in mt.split(x, 3)] == [(3, 6), (1, 6)]
    assert [p.shape for p in mt.split(mt.zeros(0, 2), 2)] == [(0, 2)]


def test_cat_defaults_to_dim_0():
    assert mt.cat([mt.zeros(1, 2), mt.zeros(3, 2)]).shape == (4, 2)


def test_pad_pads_the_last_dims_first_with_the_before_and_after_widths_given():
    x = mt.ones(1, 2)
    out = mt.pad(x, (1, 2))
    np.testing.assert_array_equal(out.data, [[0.0, 1.0, 1.0, 0.0, 0.0]])
    assert mt.pad(x, (0, 0, 1, 0)).shape == (2, 2)
    assert mt.pad(mt.ones(2, 2, 2), (1, 1, 1, 1)).shape == (2, 4, 4)
    assert mt.pad(mt.ones(1, 1), (1, 2, 3, 4)).shape == (8, 4)


def test_reshape_infers_one_minus_1_dim():
    x = mt.zeros(2, 6)
    assert mt.reshape(x, -1, 3).shape == (4, 3)
    assert mt.reshape(x, 1, -1).shape == (1, 12)
    assert mt.reshape(x, (3, 4)).shape == (3, 4)


# ---------------------------------------------------------------------- argument errors
ERRORS = [
    (lambda: mt.argmax(mt.zeros(0)), ValueError, "argmax: cannot reduce an empty tensor"),
    (lambda: mt.argmin(mt.zeros(0)), ValueError, "argmin: cannot reduce an empty tensor"),
    (lambda: mt.amin(mt.zeros(0)), ValueError, "amin: cannot reduce an empty tensor"),
    (lambda: mt.argmax(mt.zeros(2), 1), IndexError, "argmax: dim 1 is out of range"),
    (lambda: mt.argmin(mt.zeros(2), 1), IndexError, "argmin: dim 1 is out of range"),
    (lambda: mt.amax(mt.zeros(2), 1), IndexError, "amax: dim 1 is out of range"),
    (lambda: mt.amin(mt.zeros(2), 1), IndexError, "amin: dim 1 is out of range"),
    (lambda: mt.mean(mt.zeros(2), 1), IndexError, "mean: dim 1 is out of range"),
    (lambda: mt.all(mt.zeros(2), 1), IndexError, "all: dim 1 is out of range"),
    (lambda: mt.any(mt.zeros(2), 1), IndexError, "any: dim 1 is out of range"),
    (lambda: mt.logsumexp(mt.zeros(2), 1), IndexError, "logsumexp: dim 1 is out of range"),
    (lambda: mt.log_softmax(mt.zeros(2), 1), IndexError, "log_softmax: dim 1 is out of range"),
    (lambda: mt.squeeze(mt.zeros(2), 1), IndexError, "squeeze: dim 1 is out of range"),
    (lambda: mt.permute(mt.zeros(2, 2), 0, 2), IndexError, "permute: dim 2 is out of range"),
    (lambda: mt.split(mt.zeros(2), 1, 1), IndexError, "split: dim 1 is out of range"),
    (lambda: mt.chunk(mt.zeros(2), 1, 1), IndexError, "chunk: dim 1 is out of range"),
    (lambda: mt.cat([mt.zeros(2)], 1), IndexError, "cat: dim 1 is out of range"),
    (lambda: mt.flatten(mt.zeros(2, 2), 2), IndexError, "flatten: dim 2 is out of range"),
    (lambda: mt.flatten(mt.zeros(2, 2), 0, 2), IndexError, "flatten: dim 2 is out of range"),
    (lambda: mt.flatten(mt.zeros(2, 2), 1, 0), ValueError,
     "flatten: start_dim 1 comes after end_dim 0"),
    (lambda: mt.mean(mt.zeros(2, dtype=mt.int64)), TypeError,
     "mean: needs a floating tensor, got dtype int64"),
    (lambda: mt.cat([]), ValueError, "cat: expected a non-empty list of tensors"),
    (lambda: mt.split(mt.zeros(2), 0), ValueError, "split: split_size must be positive, got 0"),
    (lambda: mt.chunk(mt.zeros(2), 0), ValueError, "chunk: chunks must be positive, got 0"),
    (lambda: mt.clamp(mt.zeros(2)), ValueError,
     "clamp: at least one of min and max must be given"),
    (lambda: mt.clamp(mt.zeros(2), 2, 1), ValueError, "clamp: min (2) is greater than max (1)"),
    (lambda: mt.pad(mt.zeros(2), (1,)), ValueError,
     "pad: padding (1,) must have an even length of at most 2 * 1 for a tensor of shape (2,)"),
    (lambda: mt.pad(mt.zeros(2), (1, 1, 1, 1)), ValueError,
     "pad: padding (1, 1, 1, 1) must have an even length of at most 2 * 1"),
    (lambda: mt.pad(mt.zeros(2), (1, -1)), ValueError,
     "pad: negative padding (1, -1) is not supported"),
    (lambda: mt.reshape(mt.zeros(6), -1, -1), ValueError,
     "reshape: cannot reshape a tensor of shape (6,) (6 elements) into shape (-1, -1)"),
    (lambda: mt.reshape(mt.zeros(6), 4, -1), ValueError,
     "reshape: cannot reshape a tensor of shape (6,) (6 elements) into shape (4, -1)"),
    (lambda: mt.reshape(mt.zeros(6), 0, -1), ValueError,
     "reshape: cannot reshape a tensor of shape (6,) (6 elements) into shape (0, -1)"),
    (lambda: mt.reshape(mt.zeros(6), 4), ValueError,
     "reshape: cannot reshape a tensor of shape (6,) (6 elements) into shape (4,)"),
    (lambda: mt.reshape(mt.zeros(6), 1, 4), ValueError,
     "reshape: cannot reshape a tensor of shape (6,) (6 elements) into shape (1, 4)"),
    (lambda: mt.broadcast_to(mt.zeros(2, 3), (3,)), ValueError,
     "broadcast_to: a tensor of shape (2, 3) cannot be broadcast to shape (3,)"),
    (lambda: mt.broadcast_to(mt.zeros(3), (2,)), ValueError, "broadcast_to: a tensor of shape"),
    (lambda: mt.broadcast_to(mt.zeros(3, 1), (3,)), ValueError, "broadcast_to: a tensor of"),
    (lambda: mt.fold(mt.zeros(1, 4, 3), (3, 3), 2), ValueError,
     "fold: columns of shape (1, 4, 3) do not match output_size (3, 3) with "
               "kernel (2, 2) (4 windows expected)"),
    (lambda: mt.fold(mt.zeros(1, 3, 4), (3, 3), 2), ValueError, "fold: columns of shape"),
    (lambda: mt.fold(mt.zeros(4, 4), (3, 3), 2), ValueError, "fold: columns of shape"),
    (lambda: mt.fold(mt.zeros(1, 4, 4), (3, 3), (2, 2, 2)), ValueError,
     "fold: kernel_size must be an int or a pair, got (2, 2, 2)"),
    (lambda: mt.fold(mt.zeros(1, 4, 4), (3, 3), 2, dilation=(1, 1, 1)), ValueError,
     "fold: dilation must be an int or a pair"),
    (lambda: mt.fold(mt.zeros(1, 4, 4), (3, 3), 2, padding=(0, 0, 0)), ValueError,
     "fold: padding must be an int or a pair"),
    (lambda: mt.fold(mt.zeros(1, 4, 4), (3, 3), 2, stride=(1, 1, 1)), ValueError,
     "fold: stride must be an int or a pair"),
    (lambda: mt.fold(mt.zeros(1, 4, 4), (3, 3, 3), 2), ValueError,
     "fold: output_size must be an int or a pair"),
    (lambda: mt.ops.linear(mt.zeros(2, 5), mt.zeros(3, 4)), ValueError,
     "linear: input of shape (2, 5) does not match weight of shape (3, 4) "
               "(5 != 4 in_features)"),
    (lambda: mt.ops.linear(mt.zeros(2, 3, 5), mt.zeros(3, 4)), ValueError,
     "linear: input of shape (2, 3, 5) does not match weight of shape (3, 4) "
     "(5 != 4 in_features)"),
    (lambda: mt.ops.linear(mt.zeros(()), mt.zeros(3, 4)), ValueError,
     "linear: the input must have at least one dimension (its features), got a 0-d value"),
    (lambda: mt.ops.linear(mt.zeros(2, 4), mt.zeros(3, 4, 1)), ValueError,
     "linear: weight must be (out_features, in_features) and bias (out_features,), "
     "got weight (3, 4, 1) and bias None"),
    (lambda: mt.ops.linear(mt.zeros(2, 4), mt.zeros(3, 4), mt.zeros(2)), ValueError,
     "linear: weight must be (out_features, in_features) and bias (out_features,), got "
     "weight (3, 4) and bias (2,)"),
    (lambda: mt.matmul(2.0, mt.zeros(2)), ValueError,
     "matmul: both operands need at least 1 dimension, got shapes () and (2,)"),
    (lambda: mt.matmul(mt.zeros(2), 2.0), ValueError,
     "matmul: both operands need at least 1 dimension, got shapes (2,) and ()"),
    (lambda: mt.matmul(mt.zeros(2, 3), mt.zeros(4)), ValueError,
     "matmul: shapes (2, 3) and (4,) do not align (3 != 4)"),
    (lambda: mt.matmul(mt.zeros(3), mt.zeros(4)), ValueError,
     "matmul: shapes (3,) and (4,) do not align (3 != 4)"),
    (lambda: mt.matmul(mt.zeros(2, 3, 4), mt.zeros(5, 6)), ValueError,
     "matmul: shapes (2, 3, 4) and (5, 6) do not align (4 != 5)"),
    (lambda: mt.matmul(mt.zeros(2, 3), mt.zeros(2, 4, 5)), ValueError,
     "matmul: shapes (2, 3) and (2, 4, 5) do not align (3 != 4)"),
    (lambda: mt.matmul(mt.zeros(2, 3, 4), mt.zeros(3, 4, 5)), ValueError,
     "matmul: batch dimensions of shapes (2, 3, 4) and (3, 4, 5) do not broadcast"),
]


@pytest.mark.parametrize("call, error, message", ERRORS)
def test_argument_errors_name_the_op_and_what_is_wrong(call, error, message):
    with pytest.raises(error, match="^" + re.escape(message)):
        call()
