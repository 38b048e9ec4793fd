"""The engine: recording, backward and grad, accumulation into .grad, hooks and
retain_grad, grad modes, anomaly mode, freeing the graph, and higher orders.

In-place ops, views and the version checks that guard saved tensors are in
test_inplace_views.py; custom ops (autograd.Function) in test_function.py."""

import gc
import weakref

import numpy as np
import pytest
from helpers import leaf

import microtensor as mt
from microtensor import autograd


# ---------------------------------------------------------------------------- recording
def test_x_times_x_gives_two_x():
    x = leaf([1.0, 2.0, 3.0])
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(force=True), [2.0, 4.0, 6.0])


def test_diamond_graph_sums_both_paths():
    # y = a*b + a*c with b = 2a, c = a**2  -> dy/da = 4a + 3a^2
    a = leaf(1.5)
    b, c = a * 2, a**2
    y = a * b + a * c
    y.backward()
    assert a.grad.item() == pytest.approx(4 * 1.5 + 3 * 1.5**2)


def test_only_leaves_keep_grad():
    x = leaf([1.0, 2.0])
    h = x * 2
    h.sum().backward()
    assert h.grad is None
    assert x.grad is not None and not h.is_leaf and x.is_leaf


def test_grad_fn_names_the_op():
    x = leaf([1.0])
    y = (x @ mt.ones(1, 2, dtype=mt.float64)).exp()
    assert y.grad_fn.name == "exp"
    assert repr(y.grad_fn).startswith("<ExpBackward0 object at 0x")  # PyTorch's form
    assert x.grad_fn is None


@pytest.mark.parametrize(
    "op",
    [lambda t: t.exp(), lambda t: t * 2, lambda t: mt.sum(t, 0), lambda t: mt.split(t, 1)[0]],
    ids=["method", "operator", "function", "two-output"],
)
def test_an_op_records_a_graph_only_when_an_input_requires_grad_and_grad_mode_is_on(op):
    assert not op(mt.tensor([1.0, 2.0])).requires_grad
    with mt.no_grad():
        assert not op(leaf([1.0, 2.0])).requires_grad
    assert op(leaf([1.0, 2.0])).requires_grad


@pytest.mark.parametrize(
    "op, keeps",
    [
        (lambda t: t.exp(), True),
        (lambda t: -t, False),
        (lambda t: t * 2, False),
        (lambda t: mt.sum(t, 0), False),
        (lambda t: mt.softmax(t, 0), True),
        (lambda t: mt.split(t, 1)[0], False),
    ],
    ids=["exp", "neg", "mul", "sum", "softmax", "split"],
)
def test_a_node_keeps_its_output_only_when_its_vjp_reads_it(op, keeps):
    out = op(leaf([1.0, 2.0])).grad_fn.out
    assert (out is not None) == keeps


def test_split_outputs_share_one_node_and_unused_pieces_get_zero_gradient():
    x = leaf([1.0, 2.0, 3.0, 4.0])
    a, b = x.split(2)
    assert a.grad_fn is b.grad_fn
    (b * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(force=True), [0.0, 0.0, 3.0, 3.0])


def test_detach_shares_data_and_cuts_the_graph():
    x = leaf([1.0, 2.0])
    d = (x * 2).detach()
    assert not d.requires_grad and d.grad_fn is None
    y = (x * d).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(force=True), [2.0, 4.0])  # d is a constant


# -------------------------------------------------------------------- backward and grad
def test_second_backward_without_retain_graph_is_a_clear_error():
    x = leaf([1.0, 2.0])
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = leaf([1.0, 2.0])
    y = (x.exp() * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(force=True), 4 * np.exp([1.0, 2.0]))


def test_backward_of_a_non_scalar_needs_a_gradient():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"shape \(2,\).*gradient"):
        (x * 2).backward()
    (x * 2).backward(mt.tensor([1.0, 10.0], dtype=mt.float64))
    np.testing.assert_allclose(x.grad.numpy(force=True), [2.0, 20.0])


def test_backward_and_grad_of_a_non_scalar_without_a_gradient_are_refused_naming_the_call():
    y = leaf([1.0, 2.0]) * 2
    with pytest.raises(
        RuntimeError, match="^backward: grad can be implicitly created only for scalar outputs"
    ):
        y.backward(retain_graph=True)
    with pytest.raises(RuntimeError, match="^grad: grad can be implicitly created only"):
        autograd.grad(y, y)


def test_backward_gradient_of_the_wrong_shape_is_refused():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\)"):
        (x * 2).backward(mt.ones(3))


def test_backward_on_a_tensor_that_does_not_require_grad_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        mt.tensor(1.0).backward()


def test_backward_through_several_roots():
    x = leaf([1.0, 2.0])
    mt.autograd.backward([x * 2, (x * x).sum()], [mt.ones(2, dtype=mt.float64), None])
    np.testing.assert_allclose(x.grad.numpy(force=True), [4.0, 6.0])


def test_backward_of_several_outputs_sums_their_gradients():
    x = leaf([1.0, 2.0])
    autograd.backward([(x * 2).sum(), (x * 3).sum()])
    np.testing.assert_array_equal(x.grad.numpy(force=True), [5.0, 5.0])
    (g,) = autograd.grad([(x * 2).sum(), (x * 3).sum()], x)
    np.testing.assert_array_equal(g.numpy(force=True), [5.0, 5.0])


def test_backward_refuses_fewer_gradients_than_outputs():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError):
        autograd.backward([(x * 2).sum(), (x * 3).sum()], [mt.tensor(1.0, dtype=mt.float64)])


def test_plain_backward_and_grad_give_gradients_without_a_graph():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward()
    assert not x.grad.requires_grad
    (g,) = autograd.grad((x * x).sum(), x)
    assert not g.requires_grad


def test_grad_returns_gradients_without_touching_dot_grad():
    x, y = leaf(2.0), leaf(3.0)
    gx, gy = mt.autograd.grad(x * x * y, [x, y])
    assert (gx.item(), gy.item()) == (12.0, 4.0)
    assert x.grad is None and y.grad is None


def test_grad_of_an_unused_input_is_an_error_unless_allowed():
    x, y = leaf(2.0), leaf(3.0)
    with pytest.raises(RuntimeError, match="input 1 .* was not used"):
        mt.autograd.grad(x * 2, [x, y], retain_graph=True)
    gx, gy = mt.autograd.grad(x * 2, [x, y], allow_unused=True)
    assert gx.item() == 2.0 and gy is None


def test_grad_refuses_an_input_that_does_not_require_grad():
    x = leaf([1.0])
    with pytest.raises(RuntimeError, match="^grad: input 1 does not require grad$"):
        autograd.grad((x * 2).sum(), [x, mt.tensor([1.0])])


def test_grad_with_respect_to_an_intermediate_tensor():
    x = leaf([1.0, 2.0])
    h = x * 3
    (gh,) = autograd.grad((h * h).sum(), h)
    np.testing.assert_array_equal(gh.numpy(force=True), [6.0, 12.0])


def test_chain_of_100000_ops_runs_backward_without_recursion():
    x = leaf(1.0)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0


def test_a_node_receiving_gradient_from_many_consumers_runs_once_after_all_of_them():
    x = leaf(2.0)
    h = x * 1
    calls = []
    h.register_hook(lambda g: calls.append(g.item()))
    total = h
    for k in range(2, 6):  # consumers made at different times, deep and shallow
        total = total + h * k
    total.backward()
    assert calls == [1.0 + 2 + 3 + 4 + 5]
    assert x.grad.item() == 15.0


# -------------------------------------------------------------- accumulation into .grad
def test_gradients_accumulate_across_backward_calls():
    x = leaf([1.0, -2.0])
    (x * 3).sum().backward()
    (x * 4).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(force=True), [7.0, 7.0])


def test_a_second_backward_accumulates_into_the_same_grad_tensor():
    x = leaf([1.0, 2.0])
    (x * 2).sum().backward()
    first = x.grad
    (x * 3).sum().backward()
    assert x.grad is first
    np.testing.assert_array_equal(first.numpy(force=True), [5.0, 5.0])


def test_backward_with_create_graph_accumulates_into_grad_across_calls():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward(create_graph=True)
    (x * x).sum().backward(create_graph=True)
    np.testing.assert_array_equal(x.grad.numpy(force=True), [4.0, 8.0])
    assert x.grad.requires_grad


def test_a_plain_backward_after_a_create_graph_one_adds_to_grad():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward(create_graph=True)
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(force=True), [5.0, 7.0])


def test_gradients_handed_to_two_leaves_do_not_alias():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + b).sum().backward()  # add hands the same gradient array to both
    a.grad.data *= 2
    np.testing.assert_array_equal(b.grad.numpy(force=True), [1.0, 1.0])


def test_leaves_fed_views_of_one_gradient_each_own_their_grad():
    a, b = leaf([[1.0], [2.0]]), leaf([[3.0], [4.0]])
    y = (mt.reshape(a, 2) + mt.reshape(b, 2)).sum()  # both grads: views of one array
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(a.grad.numpy(force=True), [[2.0], [2.0]])
    np.testing.assert_array_equal(b.grad.numpy(force=True), [[2.0], [2.0]])


def test_retained_grad_and_a_leaf_grad_do_not_share_memory():
    x = leaf([1.0, 2.0])
    h = x + 0.0  # add hands the same gradient array to h and to x
    h.retain_grad()
    h.sum().backward(retain_graph=True)
    h.sum().backward()
    np.testing.assert_array_equal(h.grad.numpy(force=True), [2.0, 2.0])
    np.testing.assert_array_equal(x.grad.numpy(force=True), [2.0, 2.0])


def test_a_seed_gradient_is_never_modified_by_later_backward_calls():
    x = leaf([1.0, 2.0])
    seed = mt.tensor([1.0, 1.0], dtype=mt.float64)
    (x + 0).backward(seed)
    (x + 0).backward(seed)
    np.testing.assert_array_equal(seed.numpy(force=True), [1.0, 1.0])
    np.testing.assert_array_equal(x.grad.numpy(force=True), [2.0, 2.0])


def test_leaf_gradient_keeps_the_leaf_dtype():
    x = leaf([1.0, 2.0], dtype=mt.float32)
    (x * mt.tensor([1.0, 2.0], dtype=mt.float64)).sum().backward()
    assert x.grad.dtype == np.float32


def test_grads_keep_their_tensors_dtype_when_the_graph_computes_in_float64():
    x = leaf([1.0, 2.0], dtype=mt.float32)
    w = mt.tensor([3.0, 4.0], dtype=mt.float64)
    for _ in range(2):
        h = x * 1
        h.retain_grad()
        (h * w).sum().backward()
        assert h.grad.dtype == mt.float32
        np.testing.assert_array_equal(h.grad.numpy(force=True), [3.0, 4.0])
    assert x.grad.dtype == mt.float32
    np.testing.assert_array_equal(x.grad.numpy(force=True), [6.0, 8.0])


@pytest.mark.parametrize(
    "use",
    [lambda h: h, lambda h: h[0:1], lambda h: h.to(mt.float64)],
    ids=["sum", "getitem", "cast"],
)
def test_the_gradient_reaching_a_float32_tensor_is_float32(use):
    x = leaf([1.0, 2.0], dtype=mt.float32)
    h = x * 1
    seen = []
    h.register_hook(lambda g: seen.append(g.dtype))
    use(h).sum().backward()
    assert seen == [mt.float32]


# ---------------------------------------------------------------- hooks and retain_grad
def test_retain_grad_keeps_a_non_leaf_gradient():
    x = leaf([1.0, 2.0])
    h = x * 3
    h.retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(force=True), [6.0, 12.0])


@pytest.mark.parametrize(
    "op",
    [lambda t: mt.reshape(t, 2, 1), lambda t: t * 1, lambda t: t.exp()],
    ids=["function", "operator", "method"],
)
def test_retain_grad_works_on_the_output_of_every_kind_of_op(op):
    h = op(leaf([0.0, 0.0]))
    h.retain_grad()
    (h * 3).sum().backward()
    np.testing.assert_array_equal(h.grad.numpy(force=True).ravel(), [3.0, 3.0])


def test_leaf_hook_can_replace_the_gradient():
    x = leaf([1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy(force=True).copy()) or g * 10)
    (x * x).sum().backward()
    np.testing.assert_allclose(seen[0], [2.0, 4.0])
    np.testing.assert_allclose(x.grad.numpy(force=True), [20.0, 40.0])


def test_a_leaf_hook_may_return_a_numpy_array():
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: np.array([5.0, 6.0]))
    x.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(force=True), [5.0, 6.0])


def test_non_leaf_hook_sees_the_full_gradient_before_it_flows_on():
    x = leaf([1.0, 2.0])
    h = x * 2
    calls = []
    remove = h.register_hook(lambda g: calls.append(g.numpy(force=True).copy()))
    (h + h).sum().backward(retain_graph=True)  # two consumers: the hook runs once, on the sum
    assert len(calls) == 1
    np.testing.assert_allclose(calls[0], [2.0, 2.0])
    remove()
    x.grad = None
    (h * 1).sum().backward()
    assert len(calls) == 1


def test_a_tensor_returned_by_a_hook_is_never_modified_by_later_backward_calls():
    w = leaf([1.0, 2.0])
    keep = mt.tensor([5.0, 5.0], dtype=mt.float64)
    w.register_hook(lambda g: keep)
    (w * 1).sum().backward()
    (w * 1).sum().backward()
    np.testing.assert_array_equal(keep.numpy(force=True), [5.0, 5.0])
    np.testing.assert_array_equal(w.grad.numpy(force=True), [10.0, 10.0])


def test_hooks_and_retain_grad_on_a_piece_of_split_see_that_pieces_gradient():
    x = leaf([1.0, 2.0, 3.0, 4.0])
    a, b = x.split(2)  # a is unused: its gradient slot stays empty
    seen = []
    b.retain_grad()
    b.register_hook(lambda g: seen.append(g.numpy(force=True).copy()))
    b.register_hook(lambda g: g * 2)
    (b * 3).sum().backward()
    np.testing.assert_array_equal(seen[0], [3.0, 3.0])
    np.testing.assert_array_equal(b.grad.numpy(force=True), [6.0, 6.0])
    np.testing.assert_array_equal(x.grad.numpy(force=True), [0.0, 0.0, 6.0, 6.0])


def test_a_leaf_hook_under_create_graph_keeps_grad_differentiable():
    x = leaf(2.0)
    x.register_hook(lambda g: g * 2)
    (x**3).backward(create_graph=True)
    assert x.grad.item() == 24.0
    (d2,) = autograd.grad(x.grad, x)
    assert d2.item() == 24.0


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


# --------------------------------------------------------------------------- grad modes
def test_no_grad_records_nothing_and_enable_grad_overrides_it():
    x = leaf([1.0])
    with mt.no_grad():
        y = x * 2
        with mt.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad


def test_is_grad_enabled_is_false_inside_no_grad():
    with mt.no_grad():
        assert mt.is_grad_enabled() is False
    assert mt.is_grad_enabled() is True


def test_no_grad_works_as_a_decorator_and_restores_the_mode():
    @mt.no_grad()
    def f(t):
        return t * 2

    x = leaf([1.0])
    assert not f(x).requires_grad
    assert mt.is_grad_enabled()


def test_set_grad_enabled_as_call_context_and_decorator():
    x = leaf([1.0])
    mt.set_grad_enabled(False)
    try:
        assert not (x * 2).requires_grad
    finally:
        mt.set_grad_enabled(True)
    with mt.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad

    @mt.set_grad_enabled(False)
    def f(t):
        return t * 2

    assert not f(x).requires_grad and mt.is_grad_enabled()


# ------------------------------------------------------------------------- anomaly mode
def test_anomaly_mode_names_the_op_and_the_forward_line():
    x = leaf([0.0, 1.0])
    with mt.autograd.detect_anomaly():
        y = x.sqrt()  # the line anomaly mode must point at
        with np.errstate(divide="ignore"), pytest.raises(RuntimeError) as err:
            y.sum().backward()
    message = str(err.value)
    assert "sqrt" in message and "NaN or inf" in message
    assert "test_autograd.py" in message and "y = x.sqrt()" in message


def test_anomaly_mode_raises_naming_the_op_whose_backward_made_nan_and_ends_with_the_block():
    x = leaf([0.0, 1.0])
    with autograd.detect_anomaly():
        assert autograd.is_anomaly_enabled()
        y = x.sqrt()
        with (
            np.errstate(divide="ignore"),
            pytest.raises(
                RuntimeError,
                match=r"^anomaly: the backward of sqrt produced NaN or inf; the "
                r"op was created at ",
            ) as err,
        ):
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
    np.testing.assert_allclose(x.grad.numpy(force=True), [0.5, 1.25])


def test_detect_anomaly_with_check_nan_false_lets_nan_gradients_through():
    x = leaf([0.0])
    with autograd.detect_anomaly(check_nan=False), np.errstate(divide="ignore"):
        x.sqrt().sum().backward()
    assert np.isinf(x.grad.numpy(force=True)[0])


def test_without_anomaly_mode_nodes_record_no_stack():
    x = leaf([1.0])
    assert (x * 2).grad_fn.trace is None


# -------------------------------------------------------------------- freeing the graph
def test_dropped_loss_frees_its_graph_by_reference_counting():
    x = leaf(np.ones(3))
    y = (x.exp() * x).sum()
    node = weakref.ref(y.grad_fn)
    inner = weakref.ref(y.grad_fn.next_functions[0])
    gc.disable()  # prove it is reference counting, not the cycle collector
    try:
        del y
        assert node() is None and inner() is None
    finally:
        gc.enable()


def test_backward_releases_saved_values():
    x = leaf(np.ones(3))
    h = x.exp()
    y = (h * 2).sum()
    y.backward()
    assert h.grad_fn.args is None and h.grad_fn.out is None


# ------------------------------------------------------------------------ higher orders
def test_grad_of_grad_gives_the_second_derivative():
    x = leaf(0.7)
    (d1,) = mt.autograd.grad(x.sin() * x, x, create_graph=True)
    (d2,) = mt.autograd.grad(d1, x)
    # d/dx (x sin x) = sin x + x cos x; d2 = 2 cos x - x sin x
    assert d1.item() == pytest.approx(np.sin(0.7) + 0.7 * np.cos(0.7))
    assert d2.item() == pytest.approx(2 * np.cos(0.7) - 0.7 * np.sin(0.7))


def test_third_derivative_of_a_cube():
    x = leaf(2.0)
    (d1,) = mt.autograd.grad(x**3, x, create_graph=True)
    (d2,) = mt.autograd.grad(d1, x, create_graph=True)
    (d3,) = mt.autograd.grad(d2, x)
    assert (d1.item(), d2.item(), d3.item()) == (12.0, 12.0, 6.0)


def test_hessian_vector_product_of_a_quadratic_form():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 4))
    A = mt.tensor(a)
    x = leaf(rng.standard_normal(4))
    v = mt.tensor(rng.standard_normal(4))
    f = (x @ A @ x) * 0.5
    (g,) = mt.autograd.grad(f, x, create_graph=True)
    (hv,) = mt.autograd.grad((g * v).sum(), x)
    np.testing.assert_allclose(
        hv.numpy(force=True), 0.5 * (a + a.T) @ v.numpy(force=True), rtol=1e-12
    )


def test_backward_with_create_graph_leaves_a_differentiable_grad():
    x = leaf([1.0, 2.0])
    (x**3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    g = x.grad
    x.grad = None
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(force=True), [6.0, 12.0])


def test_backward_with_create_graph_keeps_the_graph_for_another_backward_by_default():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward(create_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(force=True), [4.0, 8.0])
