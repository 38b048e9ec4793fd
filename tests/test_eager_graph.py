"""What eager recording leaves behind and what backward keeps: graph parts the cyclic
collector can stop walking, the structure kept after backward frees the saved values,
and the grad mode backward runs hooks in."""

import gc
import weakref

import numpy as np
import pytest

import microtensor as mt


def leaf(values):
    return mt.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


@pytest.mark.parametrize(
    "op",
    [
        lambda x: x * 2.0,  # binary
        lambda x: x.tanh(),  # unary
        lambda x: x.sum(dim=0),  # apply, with attributes
        lambda x: x.mean(),
    ],
)
def test_a_node_holds_its_values_and_flags_in_tuples_the_collector_stops_tracking(op):
    y = op(leaf([[1.0, 2.0], [3.0, 4.0]]))
    node = y.grad_fn
    assert type(node.arrays) is tuple and type(node.needs) is tuple
    gc.collect()  # CPython untracks a tuple of arrays, numbers and bools when it meets one
    assert not gc.is_tracked(node.arrays) and not gc.is_tracked(node.needs)


def test_no_grad_and_enable_grad_are_made_without_a_dict():
    for mode in (mt.no_grad(), mt.enable_grad()):
        assert not hasattr(mode, "__dict__")


def test_grad_modes_nest_and_restore():
    with mt.no_grad():
        assert not mt.is_grad_enabled()
        with mt.enable_grad():
            assert mt.is_grad_enabled()
            with mt.no_grad():
                assert not mt.is_grad_enabled()
            assert mt.is_grad_enabled()
        assert not mt.is_grad_enabled()
    assert mt.is_grad_enabled()

    @mt.no_grad()
    def f(x):
        return (x * 2).requires_grad

    assert f(leaf([1.0])) is False and mt.is_grad_enabled()


def test_loss_backward_seeds_a_scalar_with_one_in_its_dtype():
    x = mt.tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    loss = (x * x).sum()
    loss.backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), np.array([2.0, 4.0], dtype=np.float32))
    with pytest.raises(RuntimeError, match="a second time"):
        loss.backward()  # retain_graph defaults to False
    with pytest.raises(RuntimeError, match="only for scalar outputs, but the output has shape"):
        (x * 2).backward()


@pytest.mark.parametrize("create_graph", [False, True])
def test_hooks_run_in_backwards_grad_mode_on_only_under_create_graph(create_graph):
    x = leaf([1.0, 2.0])
    h = x * 3
    seen = []
    h.register_hook(lambda g: seen.append(("node", mt.is_grad_enabled())))
    x.register_hook(lambda g: seen.append(("leaf", mt.is_grad_enabled())))
    (h * h).sum().backward(create_graph=create_graph)
    assert seen == [("node", create_graph), ("leaf", create_graph)]


def test_next_functions_outlive_backward():
    x = leaf([1.0, 2.0])
    h = x.exp()
    loss = (h * 2.0).sum()
    before = [type(n).__name__ for n in loss.grad_fn.next_functions]
    loss.backward()
    mul = loss.grad_fn.next_functions[0]
    assert [type(n).__name__ for n in loss.grad_fn.next_functions] == before == ["Node"]
    assert mul.next_functions == (h.grad_fn,) and h.grad_fn.next_functions[0] is x
    assert h.grad_fn.args is None and h.grad_fn.out is None  # the saved values are gone


def test_the_structure_kept_after_backward_holds_no_value_of_the_step():
    x = leaf([1.0, 2.0])
    data = mt.tensor(np.array([3.0, 4.0]))
    h = x * data
    loss = (h.exp() * np.array([1.0, 1.0])).sum()
    inner = weakref.ref(h)
    loss.backward()
    refs = [weakref.ref(data), inner]
    del data, h
    assert all(r() is None for r in refs)  # the input batch and the activation are freed
    exp = loss.grad_fn.next_functions[0].next_functions[0]
    (mul,) = exp.next_functions
    assert mul.name == "mul" and len(mul.next_functions) == 1 and mul.next_functions[0] is x


def test_one_of_several_outputs_is_an_edge_with_its_index_after_backward():
    x = leaf([1.0, 2.0, 3.0, 4.0])
    a, b = x.split(2)
    loss = (b * 2.0).sum()
    loss.backward()
    mul = loss.grad_fn.next_functions[0]
    assert mul.edges[0] == (b.grad_fn, 1) and mul.next_functions == (b.grad_fn,)
