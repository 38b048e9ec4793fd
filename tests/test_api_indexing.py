"""PyTorch's indexing API beyond x[index]: gather/scatter, the index_* ops, the mask
ops, nonzero, and the triangle and diagonal ops. Their values and derivatives on drawn
inputs are rows of the op-case table (tests/op_cases/scatter.py, triangular.py,
indexing.py); here are what those rows do not pin: PyTorch's gradients at ties and
zeros, dtypes, views, in-place forms and errors. Values "from PyTorch" were recorded
with torch 2.13.0 (CPU) on the same inputs."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import leaf

import microtensor as mt

F64 = mt.float64


def grads(out, inputs, g):
    return [
        t.numpy(force=True) for t in mt.autograd.grad(out, list(inputs), mt.tensor(g, dtype=F64))
    ]


# ------------------------------------------------------------ scatter_reduce's gradients
IDX = mt.tensor([0, 0, 1, 1, 1])
G = [1.0, 10.0, 100.0]


@pytest.mark.parametrize(
    "reduce, include_self, out, grad_x, grad_src",
    [
        # from PyTorch: x = [2, 5, 0], src = [2, 1, 5, 5, 3], g = [1, 10, 100]
        ("amax", True, [2, 5, 0], [0.5, 10 / 3, 100], [0.5, 0, 10 / 3, 10 / 3, 0]),
        # PyTorch counts x's own tied element even when it is left out: its share is lost
        ("amax", False, [2, 5, 0], [0, 0, 100], [0.5, 0, 10 / 3, 10 / 3, 0]),
        ("mean", True, [5 / 3, 4.5, 0], [1 / 3, 2.5, 100], [1 / 3, 1 / 3, 2.5, 2.5, 2.5]),
        ("mean", False, [1.5, 13 / 3, 0], [0, 0, 100], [0.5, 0.5, 10 / 3, 10 / 3, 10 / 3]),
        ("sum", False, [3, 13, 0], [0, 0, 100], [1, 1, 10, 10, 10]),
        ("prod", True, [4, 375, 0], [2, 750, 100], [2, 4, 750, 750, 1250]),
        ("prod", False, [2, 75, 0], [0, 0, 100], [1, 2, 150, 150, 250]),
    ],
)
def test_scatter_reduce_gradients_match_pytorch_at_ties(
    reduce, include_self, out, grad_x, grad_src
):
    x, src = leaf([2.0, 5.0, 0.0]), leaf([2.0, 1.0, 5.0, 5.0, 3.0])
    y = mt.scatter_reduce(x, 0, IDX, src, reduce, include_self=include_self)
    np.testing.assert_allclose(y.numpy(force=True), out)
    gx, gs = grads(y, (x, src), G)
    np.testing.assert_allclose(gx, grad_x)
    np.testing.assert_allclose(gs, grad_src)


def test_scatter_reduce_amin_shares_the_gradient_among_ties_as_amax_does():
    x, src = leaf([2.0, 5.0, 0.0]), leaf([2.0, 3.0, 5.0, 5.0, 7.0])
    y = mt.scatter_reduce(x, 0, IDX, src, "amin")
    gx, gs = grads(y, (x, src), G)  # from PyTorch
    np.testing.assert_allclose(gx, [0.5, 10 / 3, 100])
    np.testing.assert_allclose(gs, [0.5, 0, 10 / 3, 10 / 3, 0])


def test_scatter_reduce_prod_gradient_is_exact_at_zeros():
    # from PyTorch: one zero source at position 0 gets the product of the others (2 * 4);
    # two zeros at position 1 make every gradient there 0
    x, src = leaf([2.0, 3.0, 0.0]), leaf([0.0, 4.0, 0.0, 0.0, 3.0])
    y = mt.scatter_reduce(x, 0, IDX, src, "prod")
    gx, gs = grads(y, (x, src), G)
    np.testing.assert_allclose(y.numpy(force=True), [0, 0, 0])
    np.testing.assert_allclose(gx, [0, 0, 100])
    np.testing.assert_allclose(gs, [8, 0, 0, 0, 0])


def test_scatter_reduce_mean_of_integers_floors_as_pytorch():
    x = mt.tensor([[1, 2, 3]])
    y = x.scatter_reduce(1, mt.tensor([[0, 2, 0]]), mt.tensor([[-8, 6, 0]]), "mean")
    assert y.dtype == mt.int64 and y.tolist() == [[-3, 2, 4]]  # from PyTorch: -7/3 -> -3


# ----------------------------------------------------------- gather, scatter, index_*
def test_gather_accumulates_the_gradient_of_repeated_indices():
    x = leaf([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    y = x.gather(1, mt.tensor([[0, 0, 2], [1, 1, 1]]))
    (gx,) = grads(y, (x,), [[1.0, 10.0, 100.0], [1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(gx, [[11, 0, 100], [0, 6, 0]])  # from PyTorch


def test_gather_of_a_0d_tensor_works_as_on_a_1d_one():
    assert mt.gather(mt.tensor(5.0), 0, mt.tensor([0])).tolist() == [5.0]
    assert mt.gather(mt.tensor([1.0, 2.0]), -1, mt.tensor(1)).shape == ()


def test_scatter_writes_src_or_a_number_and_keeps_the_rest():
    x = mt.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])
    src = mt.tensor([[10.0, 20.0, 30.0], [40.0, 50.0, 60.0]])
    index = mt.tensor([[2, 0]])
    assert x.scatter(1, index, src).tolist() == [[20, 1, 10], [3, 4, 5]]  # from PyTorch
    assert x.scatter(1, index, value=7.5).tolist() == [[7.5, 1, 7.5], [3, 4, 5]]
    assert x.scatter(1, index, src, reduce="add").tolist() == [[20, 1, 12], [3, 4, 5]]
    assert x.scatter(1, index, 2.0, reduce="multiply").tolist() == [[0, 1, 4], [3, 4, 5]]


def test_scatter_and_index_copy_give_every_duplicate_source_the_gradient():
    # from PyTorch: only one duplicate is written, but each one's gradient is g there
    x, src = leaf([[0.0, 0.0, 0.0]]), leaf([[1.0, 1.0]])
    gx, gs = grads(x.scatter(1, mt.tensor([[1, 1]]), src), (x, src), [[1.0, 10.0, 100.0]])
    np.testing.assert_array_equal(gs, [[10, 10]])
    np.testing.assert_array_equal(gx, [[1, 0, 100]])
    x, src = leaf([0.0, 0.0, 0.0]), leaf([1.0, 1.0])
    gx, gs = grads(x.index_copy(0, mt.tensor([1, 1]), src), (x, src), G)
    np.testing.assert_array_equal(gs, [10, 10])


def test_index_fill_counts_a_repeated_position_once_in_the_value_gradient():
    x, v = leaf([0.0, 0.0, 0.0]), leaf(2.0)
    y = x.index_fill(0, mt.tensor([0, 0]), v)
    gx, gv = grads(y, (x, v), G)
    assert y.tolist() == [2, 0, 0]
    assert gv == 1.0 and gx.tolist() == [0, 10, 100]  # from PyTorch


def test_index_add_scales_by_alpha_and_accumulates_repeats():
    y = mt.zeros(3, 2).index_add(0, mt.tensor([1, 1]), mt.ones(2, 2), alpha=2)
    assert y.tolist() == [[0, 0], [4, 4], [0, 0]]


def test_a_0d_index_is_one_entry_for_index_select_and_index_add():
    x = mt.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])
    assert x.index_select(1, mt.tensor(2)).tolist() == [[2], [5]]  # from PyTorch
    assert mt.zeros(3, 2).index_add(0, mt.tensor(1), mt.ones(1, 2)).tolist()[1] == [1, 1]


def test_negative_indices_count_from_the_end_in_take_take_along_dim_and_index_fill():
    x = mt.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])
    assert x.take(mt.tensor([-1, 0])).tolist() == [5, 0]
    assert x.take_along_dim(mt.tensor([[0, -1]]), 1).tolist() == [[0, 2], [3, 5]]
    assert mt.zeros(3, 2).index_fill(1, mt.tensor([-1]), 5).tolist() == [[0, 5]] * 3


def test_take_along_dim_without_a_dim_reads_the_flattened_tensor():
    x = mt.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])
    assert mt.take_along_dim(x, mt.tensor([[2, 0]])).tolist() == [2, 0]  # from PyTorch


@pytest.mark.parametrize(
    "call",
    [
        lambda x: x.scatter_(1, mt.tensor([[2, 0]]), 1.5),
        lambda x: x.scatter_add_(1, mt.tensor([[2, 2]]), mt.ones(1, 2)),
        lambda x: x.scatter_reduce_(1, mt.tensor([[2, 2]]), mt.ones(1, 2), "amin"),
        lambda x: x.index_add_(0, mt.tensor([1]), mt.ones(1, 3)),
        lambda x: x.index_copy_(0, mt.tensor([1]), mt.ones(1, 3)),
        lambda x: x.index_fill_(0, mt.tensor([1]), 2.0),
        lambda x: x.masked_fill_(mt.tensor([True, False, True]), 2.0),
        lambda x: x.tril_(),
        lambda x: x.triu_(1),
    ],
)
def test_the_in_place_forms_change_the_tensor_and_return_it(call):
    x = mt.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    before = x.numpy(force=True).copy()
    assert call(x) is x
    assert not np.array_equal(x.numpy(force=True), before)


def test_scatter_add_in_place_values():
    x = mt.zeros(2, 3)
    x.scatter_add_(1, mt.tensor([[2, 2]]), mt.ones(1, 2))
    assert x.tolist() == [[0, 0, 2], [0, 0, 0]]


# ------------------------------------------------------------- masks, nonzero, take
def test_masked_fill_keeps_the_dtype_and_broadcasts_out_of_place():
    mask = mt.tensor([True, False, True])
    ints = mt.zeros(2, 3, dtype=mt.int64).masked_fill(mask, -2.7)
    assert ints.dtype == mt.int64 and ints.tolist() == [[-2, 0, -2]] * 2  # from PyTorch
    assert mt.ones(2, 3).masked_fill(mask, mt.tensor(9.0, dtype=F64)).dtype == mt.float32
    wide = mt.masked_fill(mt.tensor([1.0, 2.0]), mt.tensor([[True], [False]]), 9.0)
    assert wide.tolist() == [[9, 9], [1, 2]]  # from PyTorch


def test_masked_fill_value_gradient_is_the_sum_of_g_over_the_mask():
    x, v = leaf([[0.0, 0.0, 0.0]]), leaf(2.0)
    (gv,) = grads(x.masked_fill(mt.tensor([True, True, False]), v), (v,), [G])
    assert gv == 11.0  # from PyTorch


def test_masked_select_broadcasts_and_returns_1d():
    y = mt.masked_select(mt.tensor([1.0, 2.0]), mt.tensor([[True], [False]]))
    assert y.tolist() == [1.0, 2.0]


def test_nonzero_gives_int64_indices_or_a_tuple_of_them():
    x = mt.tensor([[1, 0], [0, 2]])
    assert x.nonzero().dtype == mt.int64 and x.nonzero().tolist() == [[0, 0], [1, 1]]
    rows, cols = x.nonzero(as_tuple=True)
    assert rows.tolist() == [0, 1] and cols.tolist() == [0, 1]
    assert mt.argwhere(x).tolist() == [[0, 0], [1, 1]]


def test_nonzero_of_a_0d_tensor_follows_pytorch():
    assert mt.nonzero(mt.tensor(5.0)).shape == (1, 0)  # from PyTorch
    assert [t.tolist() for t in mt.nonzero(mt.tensor(5.0), as_tuple=True)] == [[0]]
    assert [t.tolist() for t in mt.nonzero(mt.tensor(0.0), as_tuple=True)] == [[]]


# --------------------------------------------------------------- triangles, diagonals
def test_diagonal_is_a_view_that_writes_through_to_its_tensor():
    x = mt.zeros(3, 3)
    x.diagonal().fill_(1.0)
    assert x.tolist() == np.eye(3).tolist()
    x.diagonal(-1).add_(2.0)
    assert x[1, 0].item() == 2.0 and x[2, 1].item() == 2.0


def test_a_change_through_diagonal_reaches_the_gradient_of_the_base():
    w = leaf(np.zeros((3, 3)))
    y = w * 1
    y.diagonal(1).mul_(mt.tensor([2.0, 3.0], dtype=F64))
    (gw,) = grads(y, (w,), np.arange(9.0).reshape(3, 3))
    expected = np.arange(9.0).reshape(3, 3)
    expected[0, 1], expected[1, 2] = 2.0, 15.0  # from PyTorch
    np.testing.assert_array_equal(gw, expected)


def test_diagonal_of_a_leaf_that_requires_grad_cannot_be_changed_in_place():
    with pytest.raises(RuntimeError, match="view of a leaf"):
        leaf(np.zeros((2, 2))).diagonal().mul_(2.0)


def test_diag_of_a_matrix_is_a_copy():
    x = mt.zeros(3, 3)
    mt.diag(x).fill_(1.0)
    assert x.sum().item() == 0.0


def test_diag_embed_puts_the_last_dim_on_the_diagonal_of_the_dims_named():
    y = mt.diag_embed(mt.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), -1, 0, 2)
    assert y.shape == (4, 2, 4)  # from PyTorch
    assert y[:, 1, :].tolist() == [[0, 0, 0, 0], [4, 0, 0, 0], [0, 5, 0, 0], [0, 0, 6, 0]]


def test_trace_of_integers_is_int64_and_triangles_of_bools_stay_bool():
    assert mt.trace(mt.tensor(np.arange(4, dtype=np.int32).reshape(2, 2))).dtype == mt.int64
    assert mt.tril(mt.ones(2, 2, dtype=mt.bool)).tolist() == [[True, False], [True, True]]


# --------------------------------------------------------------------------- errors
X = mt.zeros(2, 3)


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: X.gather(1, mt.tensor([[0, 3]])),
            r"gather: index 3 is out of range along dim 1, of size 3, in a tensor of shape \(2, 3\)",
        ),
        (
            lambda: X.gather(1, mt.tensor([[0, -1]])),
            r"gather: index -1 is out of range along dim 1",
        ),
        (
            lambda: X.scatter(0, mt.tensor([[2]]), 1.0),
            r"scatter: index 2 is out of range along dim 0",
        ),
        (lambda: X.scatter_add(1, mt.tensor([[5]]), mt.ones(1, 1)), r"scatter_add: index 5 "),
        (
            lambda: X.index_select(1, mt.tensor([3])),
            r"index_select: index 3 .* along dim 1, of size 3",
        ),
        (lambda: X.index_add(0, mt.tensor([-1]), mt.ones(1, 3)), r"index_add: index -1 .*dim 0"),
        (
            lambda: X.take(mt.tensor([6])),
            r"take: index 6 is out of range of the flattened tensor, "
            r"of size 6",
        ),
        (lambda: X.take_along_dim(mt.tensor([[-4]]), 1), r"take_along_dim: index -4 .* -3 to 2"),
    ],
)
def test_an_index_out_of_range_names_the_op_the_dim_the_index_and_the_size(call, message):
    with pytest.raises(IndexError, match=message):
        call()


@pytest.mark.parametrize(
    "call",
    [
        lambda: X.gather(1, mt.tensor([[0.0, 1.0]])),
        lambda: X.scatter(1, mt.tensor([[True]]), 1.0),
        lambda: X.index_select(0, mt.tensor([0.0])),
        lambda: X.take(mt.tensor([1.0])),
    ],
)
def test_an_index_of_floats_or_bools_is_a_type_error_naming_the_op(call):
    with pytest.raises(TypeError, match=r"^\w+: index must be a tensor of integers"):
        call()


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: X.gather(1, mt.tensor([0])), ValueError, "as many dims"),
        (lambda: X.gather(1, mt.tensor([[0], [1], [1]])), ValueError, "larger than the tensor"),
        (lambda: X.gather(1, mt.tensor([[0]]), sparse_grad=True), NotImplementedError, "sparse"),
        (lambda: X.scatter(1, mt.tensor([[0]]), mt.ones(1, 1, dtype=F64)), TypeError, "dtype"),
        (lambda: X.scatter(1, mt.tensor([[0]]), mt.ones(1, 1), value=1.0), TypeError, "not both"),
        (lambda: X.scatter(1, mt.tensor([[0]]), 1.0, reduce="mean"), ValueError, "'add' or"),
        (
            lambda: X.scatter_reduce(1, mt.tensor([[0]]), mt.ones(1, 1), "max"),
            ValueError,
            "one of sum, prod, mean, amax, amin",
        ),
        (lambda: X.index_add(0, mt.tensor([0]), mt.ones(2, 3)), ValueError, r"shape \(1, 3\)"),
        (lambda: X.index_select(0, mt.tensor([[0]])), ValueError, "1-D"),
        (lambda: X.index_fill(0, mt.tensor([0]), mt.ones(2)), ValueError, "0-d tensor"),
        (lambda: X.masked_fill(mt.tensor([1, 0, 1]), 1.0), TypeError, "bool tensor"),
        (lambda: X.masked_fill(mt.tensor([True, False]), 1.0), ValueError, "does not broadcast"),
        (lambda: X.masked_fill(mt.tensor([True]), mt.ones(2)), ValueError, "0-d tensor"),
        (lambda: mt.diag(mt.ones(2, 2, 2)), ValueError, "1-D or 2-D"),
        (lambda: mt.trace(mt.ones(2)), ValueError, "needs a matrix"),
        (lambda: mt.tril(mt.ones(3)), ValueError, "2 dims at least"),
        (lambda: X.diagonal(0, 1, -1), ValueError, "the same dim"),
    ],
)
def test_bad_arguments_are_errors_naming_the_op(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_where_with_the_condition_alone_is_nonzero_as_tuple():
    rows, cols = mt.where(mt.tensor([[1, 0], [0, 2]]))
    assert rows.tolist() == [0, 1] and cols.tolist() == [0, 1]  # from PyTorch
    with pytest.raises(TypeError, match="where: give both x and y, or neither"):
        mt.where(mt.tensor([True]), mt.tensor([1.0]))
