"""In-place ops that record nothing (an update under no_grad, a tensor outside the graph):
written straight into the tensor's memory (Op.forward_), with PyTorch's semantics kept:
the same values as the out-of-place op, a version bump, and the same errors."""

import operator

import numpy as np
import pytest

import microtensor as mt
from microtensor import ops


def test_add_sub_mul_have_their_augmented_operator_as_in_place_form():
    assert ops.Add.forward_ is operator.iadd
    assert ops.Sub.forward_ is operator.isub
    assert ops.Mul.forward_ is operator.imul
    assert ops.Div.forward_ is None  # its forward is not an operator on arrays


def _operands(dtype):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4)).astype(dtype) if dtype != np.int64 else np.arange(12)
    b = rng.standard_normal((3, 4)).astype(dtype) if dtype != np.int64 else np.arange(12) % 5
    return a.reshape(3, 4), b.reshape(3, 4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("name", ["add_", "sub_", "mul_"])
@pytest.mark.parametrize("kind", ["tensor", "row", "int", "float", "0-d float64"])
def test_an_update_under_no_grad_equals_the_out_of_place_op_bit_for_bit(dtype, name, kind):
    a, b = _operands(dtype)
    other = {
        "tensor": lambda: mt.tensor(b),
        "row": lambda: mt.tensor(b[0]),
        "int": lambda: 3,
        "float": lambda: 0.37,
        "0-d float64": lambda: mt.tensor(np.float64(0.37)),
    }[kind]()
    t = mt.tensor(a, requires_grad=dtype != np.int64)
    expected = getattr(mt, name[:-1])(mt.tensor(a), other)
    memory = t._data
    if expected.dtype != t.dtype and not np.can_cast(expected.dtype, t.dtype, "same_kind"):
        with mt.no_grad(), pytest.raises(RuntimeError, match=f"{name[:-1]}_: the result type"):
            getattr(t, name)(other)
        np.testing.assert_array_equal(t.numpy(force=True), a)  # nothing written
        return
    with mt.no_grad():
        getattr(t, name)(other)
    assert t._data is memory and t.dtype == a.dtype
    np.testing.assert_array_equal(t.numpy(force=True), expected.numpy().astype(a.dtype))


def test_augmented_assignment_of_a_parameter_under_no_grad_is_the_sgd_update():
    w0 = np.array([1.0, 2.0])
    w = mt.tensor(w0, requires_grad=True)
    (w * w).sum().backward()
    with mt.no_grad():
        w -= 0.1 * w.grad
        w.grad.zero_()
    np.testing.assert_array_equal(w.numpy(force=True), w0 - 0.1 * (2 * w0))
    assert w.requires_grad and w.is_leaf and not w.grad.numpy().any()


def test_an_update_under_no_grad_bumps_the_version_a_saved_input_is_checked_against():
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()  # mul saved w
    with mt.no_grad():
        w -= 0.5
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()


def test_an_update_through_a_view_under_no_grad_bumps_the_base_version():
    w = mt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    loss = (w * w).sum()
    with mt.no_grad():
        w[1:].mul_(2.0)
    np.testing.assert_array_equal(w.numpy(force=True), [1.0, 4.0, 6.0])
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()


def test_a_saved_output_changed_under_no_grad_is_refused_at_backward():
    x = mt.tensor([0.5, 1.0], requires_grad=True)
    y = x.exp()  # exp's VJP reads its output
    with mt.no_grad():
        y.mul_(2.0)
    with pytest.raises(RuntimeError, match="its output, saved for backward, was modified"):
        y.sum().backward()


def test_a_leaf_that_requires_grad_is_refused_outside_no_grad():
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor of shape .* cannot be modified"):
        w -= 0.5
    np.testing.assert_array_equal(w.numpy(force=True), [1.0, 2.0])


def test_a_tensor_outside_the_graph_is_updated_in_grad_mode_too():
    g = mt.tensor([1.0, 2.0])
    memory = g._data
    g.mul_(3.0)
    g -= mt.tensor([1.0, 1.0])
    assert g._data is memory and not g.requires_grad
    np.testing.assert_array_equal(g.numpy(), [2.0, 5.0])


def test_the_operand_read_is_the_old_value_when_a_tensor_updates_itself():
    t = mt.tensor([1.0, 2.0, 3.0])
    with mt.no_grad():
        t.mul_(t)
        t[1:].add_(t[:-1])  # overlapping: each element reads the value before the write
    np.testing.assert_array_equal(t.numpy(), [1.0, 5.0, 13.0])


def test_errors_under_no_grad_name_the_op_and_the_shapes():
    t = mt.zeros(3)
    with mt.no_grad():
        with pytest.raises(RuntimeError, match=r"add_: the result has shape \(2, 3\).*\(3,\)"):
            t.add_(mt.zeros(2, 3))
        with pytest.raises(RuntimeError, match="broadcast \\(expand\\) view"):
            mt.zeros(3).expand(2, 3).add_(1.0)
        with pytest.raises(RuntimeError, match="broadcast \\(expand\\) view"):
            mt.zeros(3).expand(2, 3).fill_(1.0)
    np.testing.assert_array_equal(t.numpy(), [0.0, 0.0, 0.0])


def test_fill_and_zero_under_no_grad_cast_as_the_out_of_place_fill():
    t = mt.tensor([1, 2, 3])
    with mt.no_grad():
        t.fill_(2.7)
    np.testing.assert_array_equal(t.numpy(), [2, 2, 2])
    f = mt.tensor([1.0, 2.0], dtype=mt.float32)
    with mt.no_grad():
        f.fill_(0.1)
    assert f.numpy().tolist() == [np.float32(0.1)] * 2
