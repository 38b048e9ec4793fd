"""In-place ops and views under PyTorch's semantics: every case gives PyTorch's gradient
(derived by hand in the comments, and checked against PyTorch 2.13) or a clear error.

The random programs of test_random_programs.py cover the same ground without a list;
these are the cases one by one, the version checks that guard saved tensors, and the
errors."""

import re

import numpy as np
import pytest
from helpers import leaf

import microtensor as mt


# ---------------------------------------------------------- a tensor used, then changed
def test_inplace_op_on_a_non_leaf_is_recorded_and_differentiated():
    x = leaf([1.0, 2.0])
    h = x * 1
    h.add_(x)  # h = x + x
    h.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(force=True), [2.0, 2.0])


def test_in_place_mul_of_a_non_leaf_by_a_constant_is_differentiable():
    x = leaf([1.0, 2.0])
    y = x * 2
    y.mul_(3)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(force=True), [6.0, 6.0])


def test_consumers_made_before_an_in_place_op_keep_the_old_history():
    x = leaf([1.0, 2.0])
    y = x * 2
    z = y + 1
    y.mul_(3)
    (z.sum() + y.sum()).backward()  # dz/dx = 2, d(6x)/dx = 6
    np.testing.assert_array_equal(x.grad.numpy(force=True), [8.0, 8.0])


def test_the_same_with_retain_graph_and_a_second_backward():
    x = leaf([1.0, 2.0])
    y = x * 2
    z = y + 1
    y.mul_(3)
    out = z.sum() + y.sum()
    out.backward(retain_graph=True)
    out.backward()
    np.testing.assert_array_equal(x.grad.numpy(force=True), [16.0, 16.0])


def test_an_in_place_op_with_an_unsaved_input_is_differentiated_through():
    x = leaf([1.0, 2.0])
    y = x.exp()
    z = y * 1.0
    z.add_(x)  # add saves nothing: z = e^x + x
    z.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(force=True), np.exp([1.0, 2.0]) + 1)


def test_x_mul_x_in_place_reads_the_old_value_on_both_sides():
    x = leaf([1.0, 2.0])
    y = x * 1.0
    y.mul_(y)  # y = x^2 (PyTorch refuses this at backward; the value is well defined)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(force=True), [2.0, 4.0])


def test_in_place_mul_by_a_tensor_that_requires_grad_gives_both_gradients_as_pytorch_does():
    # mul_ overwrites the value its own backward reads for z's gradient, so it saves it
    # first: PyTorch 2.13 gives x.grad = 2 z and z.grad = 2 x here, without an error
    x, z = leaf([1.0, 2.0]), leaf([5.0, 7.0])
    y = x * 2
    y.mul_(z)
    y.sum().backward()
    np.testing.assert_array_equal(z.grad.numpy(force=True), [2.0, 4.0])
    np.testing.assert_array_equal(x.grad.numpy(force=True), [10.0, 14.0])


def test_retain_grad_on_a_tensor_changed_in_place_receives_its_gradient():
    x = leaf([1.0, 2.0])
    h = x * 1
    h.add_(1)
    h.retain_grad()
    (h * 3).sum().backward()
    np.testing.assert_array_equal(h.grad.numpy(force=True), [3.0, 3.0])


# -------------------------------------------------------- saved tensors: version checks
def test_inplace_change_of_a_saved_input_is_caught_at_backward():
    x = leaf([1.0, 2.0])
    a = x * 1
    b = a * a  # mul saves a
    with mt.no_grad():
        a.mul_(5)
    with pytest.raises(
        RuntimeError,
        match=r"^mul: an input of shape \(2,\) saved for backward "
        r"was modified by an in-place operation",
    ):
        b.sum().backward()


def test_inplace_change_of_a_saved_output_is_caught_at_backward():
    x = leaf([1.0, 2.0])
    e = x.exp()  # exp saves its output
    with mt.no_grad():
        e.add_(1)
    with pytest.raises(RuntimeError, match="^exp: its output, saved for backward"):
        e.sum().backward()


def test_overwriting_a_saved_output_raises_at_backward_naming_the_op():
    x = leaf([1.0, 2.0])
    a = x.exp()
    b = a.exp()  # exp saves its output a... and b's node reads a through a's node
    a.fill_(0.75)
    with pytest.raises(RuntimeError, match="exp: its output, saved for backward, was modified"):
        b.sum().backward()


def test_changing_a_saved_input_raises_at_backward_naming_the_op():
    x = leaf([1.0, 2.0])
    y = x * 1.0
    w = y * y
    y.add_(1)
    with pytest.raises(RuntimeError, match="mul: an input of shape \\(2,\\) saved for backward"):
        w.sum().backward()


def test_a_tensor_changed_in_place_before_an_op_saves_it_is_not_reported_as_modified():
    x = leaf([1.0, 2.0])
    a = x * 1
    with mt.no_grad():
        a.mul_(5)
    b = a * a  # saves a as it is now
    mt.zeros(2).add_(1)  # a later, unrelated in-place op: backward checks versions
    b.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(force=True), [10.0, 20.0])


def test_detach_shares_the_version_counter():
    x = leaf([1.0, 2.0])
    y = x.exp()
    y.detach().mul_(2)  # changes y's memory: exp's saved output
    with pytest.raises(RuntimeError, match="exp: its output, saved for backward"):
        y.sum().backward()
    z = x * 1.0
    w = z * z
    z.detach().add_(1)
    with pytest.raises(RuntimeError, match="mul: an input"):
        w.sum().backward()


# ------------------------------------------------------ in place into a constant tensor
def test_in_place_op_on_a_tensor_that_needs_no_grad_leaves_it_needing_none():
    t = mt.tensor([1.0, 2.0])
    t.add_(1)
    assert not t.requires_grad and t.grad_fn is None
    np.testing.assert_array_equal(t.numpy(force=True), [2.0, 3.0])


def test_mul_into_a_constant_saves_the_constant_before_it_is_overwritten():
    c = mt.tensor([2.0])
    w = mt.tensor([3.0], requires_grad=True)
    c.mul_(w)
    assert c.requires_grad and not c.is_leaf
    c.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(force=True), [2.0])  # d(2w)/dw


def test_div_into_a_constant_saves_the_constant_before_it_is_overwritten():
    c = mt.tensor([2.0], dtype=mt.float64)
    w = mt.tensor([4.0], dtype=mt.float64, requires_grad=True)
    c /= w
    c.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(force=True), [-2.0 / 16.0])  # d(2/w)/dw = -2/w^2


# ---------------------------------------------------------------- setitem, copy_, fill_
def test_setitem_is_differentiable_for_both_sides():
    x = leaf([1.0, 2.0, 3.0])
    v = leaf(5.0)
    h = x * 1
    h[1] = v * 2
    (h * mt.tensor([1.0, 10.0, 100.0], dtype=mt.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(force=True), [1.0, 0.0, 100.0])
    assert v.grad.item() == 20.0


def test_setitem_writes_the_value_and_a_constant_value_leaves_the_rest_its_gradient():
    x = leaf([1.0, 2.0, 3.0])
    h = x * 1
    h[1] = 5.0
    np.testing.assert_array_equal(h.numpy(force=True), [1.0, 5.0, 3.0])
    h.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(force=True), [1.0, 0.0, 1.0])


def test_copy_broadcasts_the_source_into_the_tensor_keeping_its_dtype_and_passes_the_gradient():
    src = leaf([1.0, 2.0])
    h = leaf([[0.0, 0.0], [0.0, 0.0]], dtype=mt.float32) * 1
    h.copy_(src)
    assert h.dtype == mt.float32
    np.testing.assert_array_equal(h.numpy(force=True), [[1.0, 2.0], [1.0, 2.0]])
    h.sum().backward()
    np.testing.assert_array_equal(src.grad.numpy(force=True), [2.0, 2.0])


def test_fill_sets_every_element_and_passes_no_gradient_back():
    x = leaf([1.0, 2.0])
    h = x * 1
    h.fill_(7.0)
    np.testing.assert_array_equal(h.numpy(force=True), [7.0, 7.0])
    (h * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(force=True), [7.0, 7.0])  # only through the product


# ---------------------------------------------------------- create_graph after a change
def test_second_order_uses_the_saved_output_not_the_inputs_current_value():
    x = leaf([1.0, 2.0])
    y = x * 1.0
    z = y.exp()
    y.add_(1)  # exp saved its output, not y: legal, and z is still e^x
    (g,) = mt.autograd.grad(z.sum(), x, create_graph=True)
    np.testing.assert_allclose(g.numpy(force=True), np.exp([1.0, 2.0]))
    (h,) = mt.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(force=True), np.exp([1.0, 2.0]))


@pytest.mark.parametrize(
    "op, d1, d2",
    [
        ("tanh", lambda v: 1 - np.tanh(v) ** 2, lambda v: -2 * np.tanh(v) * (1 - np.tanh(v) ** 2)),
        (
            "sigmoid",
            lambda v: np.exp(-v) / (1 + np.exp(-v)) ** 2,
            lambda v: (np.exp(-2 * v) - np.exp(-v)) / (1 + np.exp(-v)) ** 3,
        ),
        ("sqrt", lambda v: 0.5 / np.sqrt(v), lambda v: -0.25 * v**-1.5),
    ],
)
def test_second_order_of_output_saving_ops_after_their_input_changed(op, d1, d2):
    x = leaf([0.5, 2.0])
    y = x * 1.0
    z = getattr(y, op)()
    y.mul_(5)
    (g,) = mt.autograd.grad(z.sum(), x, create_graph=True)
    (h,) = mt.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(g.numpy(force=True), d1(x.numpy(force=True)))
    np.testing.assert_allclose(h.numpy(force=True), d2(x.numpy(force=True)))


# -------------------------------------------------------------------------------- views
def test_in_place_through_a_slice_reaches_the_base():
    x = leaf([1.0, 2.0])
    y = x * 1.0
    y[0:1].mul_(10)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(force=True), [10.0, 1.0])


def test_in_place_through_a_slice_is_seen_by_a_node_that_saved_the_base():
    x = leaf([1.0, 2.0])
    y = x * 1.0
    w = y * y
    y[0:1].mul_(10)
    with pytest.raises(RuntimeError, match="mul: an input .* modified by an in-place"):
        w.sum().backward()


def test_in_place_through_a_reshape_view():
    x = leaf([1.0, 2.0, 3.0, 4.0])
    y = x * 1.0
    y.reshape(2, 2)[1].mul_(10)  # y = [x0, x1, 10 x2, 10 x3]
    (y * y).sum().backward()  # 2 y dy/dx
    np.testing.assert_array_equal(x.grad.numpy(force=True), [2.0, 4.0, 600.0, 800.0])


def test_in_place_through_a_transposed_view_of_a_view():
    x = leaf(np.arange(6.0).reshape(2, 3) + 1)
    y = x * 1.0
    v = y.T[1:]  # rows 1, 2 of the transpose: columns 1, 2 of y
    v.mul_(2)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(force=True), [[1.0, 2.0, 2.0], [1.0, 2.0, 2.0]])


def test_in_place_on_a_split_piece():
    x = leaf([1.0, 2.0])
    y = x * 1.0
    first, second = y.split(1)
    second.mul_(10)  # y = [x0, 10 x1]; PyTorch refuses in-place on split outputs
    (y * y).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(force=True), [2.0, 400.0])
    # the other piece follows the new base, the changed one its own new value
    np.testing.assert_array_equal(second.numpy(force=True), [20.0])


def test_in_place_op_on_the_second_piece_of_split_sends_its_gradient_to_that_piece():
    x = leaf([1.0, 2.0, 3.0, 4.0])
    a, b = (x * 1).split(2)  # pieces of a non-leaf: of a leaf, in-place is refused
    b.add_(1)
    ((a * 2).sum() + (b * 3).sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(force=True), [2.0, 2.0, 3.0, 3.0])


def test_copy_into_a_view_of_a_constant_makes_the_constant_differentiable():
    x = leaf([1.0, 2.0])
    c = mt.zeros(3, dtype=mt.float64)
    c[0:2].copy_(x)
    assert c.requires_grad
    (c * c).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(force=True), [2.0, 4.0])


def test_setitem_of_a_constant_with_a_tensor_that_requires_grad():
    x = leaf([1.0, 2.0])
    c = mt.zeros(2, 2, dtype=mt.float64)
    c[1] = x * 3
    c.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(force=True), [3.0, 3.0])


def test_a_view_made_before_its_base_changed_follows_the_new_base():
    x = leaf([1.0, 2.0])
    y = x * 1.0
    v = y[0:1]
    y.mul_(2)
    assert v.numpy(force=True)[0] == 2.0  # it shares memory
    v.sum().backward()  # v = 2 x0
    np.testing.assert_array_equal(x.grad.numpy(force=True), [2.0, 0.0])


def test_an_op_on_a_view_before_the_change_keeps_the_old_history():
    x = leaf([1.0, 2.0])
    y = x * 1.0
    v = y[1:]
    before = v.exp()  # made when v was x1 (exp saves its output, not v)
    y.mul_(3)
    (before.sum() + v.sum()).backward()  # e^x1 + 3 x1
    np.testing.assert_allclose(x.grad.numpy(force=True), [0.0, np.exp(2.0) + 3])


def test_sibling_views_follow_a_change_made_through_one_of_them():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 1.0
    a, b = y[0:2], y[1:3]  # they overlap at y[1]
    a.mul_(10)
    b.sum().backward()  # b = [10 x1, x2]
    np.testing.assert_array_equal(x.grad.numpy(force=True), [0.0, 10.0, 1.0])


def test_second_order_through_an_in_place_op_on_a_view():
    x = leaf([1.0, 2.0])
    y = x * x
    y[1:].mul_(y[0:1].detach() + 2)  # y = [x0^2, 3 x1^2] (y[0] is 1 at x0 = 1)
    (g,) = mt.autograd.grad(y.sum(), x, create_graph=True)
    np.testing.assert_array_equal(g.numpy(force=True), [2.0, 12.0])
    (h,) = mt.autograd.grad(g.sum(), x)
    np.testing.assert_array_equal(h.numpy(force=True), [2.0, 6.0])


def test_a_reshape_that_copies_is_not_a_view():
    y = leaf(np.arange(6.0).reshape(2, 3)) * 1
    r = y.T.reshape(6)  # numpy must copy: changing r leaves y alone
    r.mul_(0)
    np.testing.assert_array_equal(y.numpy(force=True), np.arange(6.0).reshape(2, 3))
    y.sum().backward()


def test_advanced_indexing_copies_so_its_result_changes_alone():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 1.0
    picked = y[[0, 2]]
    picked.mul_(10)
    np.testing.assert_array_equal(y.numpy(force=True), [1.0, 2.0, 3.0])
    (y.sum() + picked.sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(force=True), [11.0, 1.0, 11.0])


# ------------------------------------------------------------- what is refused, and why
def test_in_place_on_a_leaf_that_requires_grad_is_refused():
    x = leaf([1.0, 2.0])
    with pytest.raises(
        RuntimeError, match="mul_: a leaf tensor of shape \\(2,\\) that requires grad"
    ):
        x.mul_(2)


def test_inplace_op_on_a_leaf_that_requires_grad_is_refused():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="add_: a leaf tensor"):
        x += 1
    before = x._version
    with mt.no_grad():
        x += 1  # optimizers do this
    np.testing.assert_array_equal(x.numpy(force=True), [2.0, 3.0])
    assert x._version > before


@pytest.mark.parametrize(
    "view", [lambda x: x[0:1], lambda x: x.reshape(2, 1), lambda x: x.split(1)[1], lambda x: x.T]
)
def test_in_place_on_a_view_of_a_leaf_that_requires_grad_is_refused(view):
    x = leaf([1.0, 2.0])
    with pytest.raises(
        RuntimeError, match="mul_: .* is a view of a leaf tensor that requires grad"
    ):
        view(x).mul_(0)
    np.testing.assert_array_equal(x.numpy(force=True), [1.0, 2.0])


def test_under_no_grad_a_leaf_and_its_views_may_change():
    x = leaf([1.0, 2.0])
    with mt.no_grad():
        x[0:1].mul_(0)
        x.add_(1)
    np.testing.assert_array_equal(x.numpy(force=True), [1.0, 3.0])
    assert x.is_leaf


def test_a_view_made_under_no_grad_cannot_change_its_base_with_grad_on():
    y = leaf([1.0, 2.0]) * 1
    with mt.no_grad():
        v = y[0:1]
    with pytest.raises(RuntimeError, match="mul_: .* view made under no_grad"):
        v.mul_(2)


def test_in_place_on_an_expanded_tensor_is_refused_naming_the_op():
    e = mt.ones(1).expand(3)
    with pytest.raises(RuntimeError, match="add_: .* broadcast \\(expand\\) view"):
        e.add_(1)


def test_in_place_op_whose_result_has_another_shape_is_refused_naming_the_op():
    h = leaf([1.0, 2.0]) * 1
    with pytest.raises(
        RuntimeError,
        match=re.escape(
            "add_: the result has shape (3, 2), which cannot be written into a tensor of "
            "shape (2,) in place"
        ),
    ):
        h.add_(mt.ones(3, 2, dtype=mt.float64))


def test_an_in_place_result_that_cannot_be_cast_is_refused():
    t = mt.tensor([1, 2])
    with pytest.raises(RuntimeError, match="add_: the result type float32 can't be cast"):
        t.add_(1.5)
    np.testing.assert_array_equal(t.numpy(force=True), [1, 2])


def test_a_float32_tensor_changed_by_a_float64_one_stays_float32():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    y.add_(mt.tensor([0.5, 0.5], dtype=mt.float64))
    assert y.dtype == mt.float32
    y.sum().backward()
    assert x.grad.dtype == mt.float32


def test_a_leaf_hook_must_return_a_gradient_of_the_same_shape():
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: g.sum())
    with pytest.raises(RuntimeError, match="returned a gradient of shape \\(\\)"):
        (x * 2).sum().backward()
    assert x.grad is None
