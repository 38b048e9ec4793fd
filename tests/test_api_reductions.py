"""PyTorch's API for reductions, scans, sorting and norms, beyond what the op-case table
checks: the axis=/keepdims= aliases, dtype=, result types (namedtuples, int64 indices),
ties, NaNs and zeros, and errors. Expected values are written by hand or were recorded
from PyTorch 2.13 (torch is never imported here); each test says which."""

import math

import numpy as np
import pytest
from helpers import leaf

import microtensor as mt
from microtensor.functional import std_mean, var_mean

NAN = math.nan
X = [[1.0, 3.0, 3.0], [2.0, 0.0, -2.0]]


def x_() -> mt.Tensor:
    return mt.tensor(X)


def values_of(out) -> list:
    """An output (a tensor, or a tuple of them) as a list of arrays, to compare."""
    return [np.asarray(o.numpy(force=True)) for o in (out if isinstance(out, tuple) else (out,))]


# --------------------------------------------------------------- axis= and keepdims=
# (name, call with dim and keepdim, the same call with axis and keepdims)
ALIASED = [
    ("sum", lambda x: x.sum(1, keepdim=True), lambda x: x.sum(axis=1, keepdims=True)),
    ("mean", lambda x: mt.mean(x, 0, True), lambda x: mt.mean(x, axis=0, keepdims=True)),
    ("amax", lambda x: x.amax((0,)), lambda x: x.amax(axis=(0,))),
    ("amin", lambda x: mt.amin(x, 1, True), lambda x: mt.amin(x, keepdims=True, axis=1)),
    ("max", lambda x: x.max(1, True), lambda x: x.max(axis=1, keepdims=True)),
    ("min", lambda x: mt.min(x, 0), lambda x: mt.min(x, axis=0)),
    ("argmax", lambda x: x.argmax(1, True), lambda x: x.argmax(axis=1, keepdims=True)),
    ("argmin", lambda x: mt.argmin(x, keepdim=True), lambda x: mt.argmin(x, keepdims=True)),
    ("all", lambda x: (x > 0).all(1), lambda x: (x > 0).all(axis=1)),
    ("any", lambda x: mt.any(x > 2, 0, True), lambda x: mt.any(x > 2, axis=0, keepdims=True)),
    ("logsumexp", lambda x: x.logsumexp(1), lambda x: x.logsumexp(axis=1)),
    ("softmax", lambda x: x.softmax(0), lambda x: mt.softmax(x, axis=0)),
    ("log_softmax", lambda x: mt.log_softmax(x, 1), lambda x: x.log_softmax(axis=1)),
    ("prod", lambda x: x.prod(1, True), lambda x: x.prod(axis=1, keepdims=True)),
    ("count_nonzero", lambda x: x.count_nonzero(0), lambda x: mt.count_nonzero(x, axis=0)),
    ("aminmax", lambda x: x.aminmax(dim=1), lambda x: mt.aminmax(x, axis=1)),
    ("var", lambda x: x.var(1, keepdim=True), lambda x: x.var(axis=1, keepdims=True)),
    ("std", lambda x: mt.std(x, 0), lambda x: mt.std(x, axis=0)),
    ("var_mean", lambda x: var_mean(x, 1), lambda x: var_mean(x, axis=1)),
    (
        "std_mean",
        lambda x: std_mean(x, 0, keepdim=True),
        lambda x: std_mean(x, axis=0, keepdims=True),
    ),
    ("cumsum", lambda x: x.cumsum(1), lambda x: x.cumsum(axis=1)),
    ("cumprod", lambda x: mt.cumprod(x, 0), lambda x: mt.cumprod(x, axis=0)),
    ("logcumsumexp", lambda x: x.logcumsumexp(1), lambda x: x.logcumsumexp(axis=1)),
    ("cummax", lambda x: x.cummax(0), lambda x: x.cummax(axis=0)),
    ("cummin", lambda x: mt.cummin(x, 1), lambda x: mt.cummin(x, axis=1)),
    ("sort", lambda x: x.sort(0), lambda x: x.sort(axis=0)),
    ("argsort", lambda x: x.argsort(0, True), lambda x: mt.argsort(x, axis=0, descending=True)),
    ("topk", lambda x: x.topk(1, 0), lambda x: x.topk(1, axis=0)),
    ("kthvalue", lambda x: x.kthvalue(2, 1, True), lambda x: x.kthvalue(2, axis=1, keepdims=True)),
    ("median", lambda x: x.median(0, True), lambda x: x.median(axis=0, keepdims=True)),
    ("unique", lambda x: mt.unique(x, dim=1), lambda x: mt.unique(x, axis=1)),
    ("norm", lambda x: x.norm(1, 1, True), lambda x: x.norm(1, axis=1, keepdims=True)),
    ("linalg.norm", lambda x: mt.linalg.norm(x, dim=1), lambda x: mt.linalg.norm(x, axis=1)),
    (
        "linalg.vector_norm",
        lambda x: mt.linalg.vector_norm(x, 3, 0, True),
        lambda x: mt.linalg.vector_norm(x, 3, axis=0, keepdims=True),
    ),
    (
        "linalg.matrix_norm",
        lambda x: mt.linalg.matrix_norm(x, 1, (1, 0), True),
        lambda x: mt.linalg.matrix_norm(x, 1, axis=(1, 0), keepdims=True),
    ),
]


@pytest.mark.parametrize("name, by_dim, by_axis", ALIASED, ids=[a[0] for a in ALIASED])
def test_axis_and_keepdims_are_other_names_for_dim_and_keepdim(name, by_dim, by_axis):
    expected, got = values_of(by_dim(x_())), values_of(by_axis(x_()))
    assert [e.shape for e in expected] == [g.shape for g in got]
    for e, g in zip(expected, got):  # each dim is not the default: an unread alias shows
        np.testing.assert_array_equal(g, e)


def test_axis_and_dim_together_or_an_unknown_keyword_are_type_errors_naming_the_op():
    x = x_()
    with pytest.raises(TypeError, match=r"sum: got both dim=0 and axis=1"):
        x.sum(0, axis=1)
    with pytest.raises(
        TypeError, match=r"cumsum\(\) got an unexpected keyword argument 'keepdims'"
    ):
        x.cumsum(axis=0, keepdims=True)  # a scan keeps every dim: no keepdim to alias
    with pytest.raises(TypeError, match=r"prod\(\) got an unexpected keyword argument 'dims'"):
        x.prod(dims=0)
    with pytest.raises(TypeError, match=r"mean: got both keepdim and keepdims"):
        x.mean(0, keepdim=True, keepdims=True)


# ------------------------------------------------------------------- dtype= and dtypes
def test_sum_mean_prod_and_scans_take_a_dtype_and_cast_first():
    x = mt.tensor([1.5, 2.5, 4.0])  # float32
    for out in (
        x.sum(dtype=mt.float64),
        mt.mean(x, dtype=mt.float64),
        x.prod(dtype=mt.float64),
        x.cumsum(0, dtype=mt.float64),
        mt.cumprod(x, 0, dtype=mt.float64),
    ):
        assert out.dtype == mt.float64
    assert x.prod(dtype=mt.float64).item() == 15.0
    np.testing.assert_array_equal(
        mt.cumsum(mt.tensor([1, 2, 3]), 0, dtype=mt.float32).numpy(force=True),
        np.array([1, 3, 6], dtype=np.float32),
    )


def test_integers_and_bools_sum_multiply_and_scan_as_int64():
    # recorded from torch: sum(int32) -> int64, cumsum([True, True]) = [1, 2] int64,
    # prod([True, True]) = 1 int64, prod(int32) -> int64
    i32, flags = mt.tensor(np.array([1, 2], dtype=np.int32)), mt.tensor([True, True])
    assert i32.sum().dtype == i32.prod().dtype == mt.int64
    assert mt.cumsum(flags, 0).tolist() == [1, 2] and mt.cumsum(flags, 0).dtype == mt.int64
    assert flags.prod().item() == 1 and flags.prod().dtype == mt.int64
    assert mt.count_nonzero(i32).dtype == mt.int64


def test_mean_of_integers_needs_a_floating_dtype_or_dtype_given():
    ints = mt.tensor([1, 2])
    with pytest.raises(TypeError, match="mean: needs a floating tensor, got dtype int64"):
        ints.mean()
    assert ints.mean(dtype=mt.float32).item() == 1.5


# --------------------------------------------------------------- result types
@pytest.mark.parametrize(
    "call, name, fields",
    [
        (lambda x: x.max(1), None, ("values", "indices")),
        (lambda x: x.min(0), None, ("values", "indices")),
        (lambda x: x.sort(), "sort", ("values", "indices")),
        (lambda x: x.topk(2), "topk", ("values", "indices")),
        (lambda x: x.kthvalue(1), "kthvalue", ("values", "indices")),
        (lambda x: x.median(1), "median", ("values", "indices")),
        (lambda x: x.cummax(1), "cummax", ("values", "indices")),
        (lambda x: x.cummin(0), "cummin", ("values", "indices")),
        (lambda x: x.aminmax(), "aminmax", ("min", "max")),
    ],
    ids=["max", "min", "sort", "topk", "kthvalue", "median", "cummax", "cummin", "aminmax"],
)
def test_results_are_namedtuples_with_pytorchs_field_names_and_int64_indices(call, name, fields):
    out = call(x_())
    assert out._fields == fields
    if name is not None:  # torch.return_types.<name>
        assert type(out).__name__ == name
    if "indices" in fields:
        assert out.indices.dtype == mt.int64 and not out.indices.requires_grad


def test_argmax_and_argmin_keep_every_dim_as_size_1_with_keepdim_and_no_dim():
    # recorded from torch: argmax(X, keepdim=True) = tensor([[1]])
    assert mt.argmax(x_(), keepdim=True).tolist() == [[1]]
    assert mt.argmin(x_(), keepdim=True).tolist() == [[5]]
    assert mt.argmax(mt.ones(2, 1, 3), keepdim=True).shape == (1, 1, 1)


def test_max_and_min_of_two_tensors_are_elementwise_as_in_pytorch():
    a, b = mt.tensor([1.0, 5.0]), mt.tensor([3.0, 2.0])
    assert mt.max(a, b).tolist() == [3.0, 5.0] and a.min(b).tolist() == [1.0, 2.0]


# ------------------------------------------------------------------ prod and cumprod
def hessian(f, values) -> tuple:
    """f's gradient at `values` and its Jacobian (the Hessian of f), by create_graph."""
    x = leaf(values)
    (g,) = mt.autograd.grad(f(x), x, create_graph=True)
    rows = [mt.autograd.grad(g[i], x, retain_graph=True)[0].tolist() for i in range(len(values))]
    return g.tolist(), rows


def test_prods_first_and_second_derivatives_at_zeros_are_pytorchs():
    # recorded from torch (float64)
    assert hessian(lambda x: x.prod(), [2.0, 0.0, 3.0]) == (
        [0.0, 6.0, 0.0],
        [[0.0, 3.0, 0.0], [3.0, 0.0, 2.0], [0.0, 2.0, 0.0]],
    )
    assert hessian(lambda x: x.prod(), [2.0, 0.0, 0.0]) == (
        [0.0, 0.0, 0.0],
        [[0.0, 0.0, 0.0], [0.0, 0.0, 2.0], [0.0, 2.0, 0.0]],
    )


def test_cumprods_first_and_second_derivatives_at_zeros_are_pytorchs():
    # recorded from torch (float64): (cumprod(x) * [1, 2, 3, 4]).sum()
    w = mt.tensor(np.array([1.0, 2.0, 3.0, 4.0]))
    assert hessian(lambda x: (x.cumprod(0) * w).sum(), [2.0, 0.0, 3.0, 5.0]) == (
        [1.0, 142.0, 0.0, 0.0],
        [
            [0.0, 71.0, 0.0, 0.0],
            [71.0, 0.0, 46.0, 24.0],
            [0.0, 46.0, 0.0, 0.0],
            [0.0, 24.0, 0.0, 0.0],
        ],
    )
    assert hessian(lambda x: (x.cumprod(0) * w).sum(), [2.0, 0.0, 3.0, 0.0]) == (
        [1.0, 22.0, 0.0, 0.0],
        [
            [0.0, 11.0, 0.0, 0.0],
            [11.0, 0.0, 6.0, 24.0],
            [0.0, 6.0, 0.0, 0.0],
            [0.0, 24.0, 0.0, 0.0],
        ],
    )


def test_prod_over_a_dim_keeps_it_with_keepdim_and_a_0d_tensor_is_its_own_product():
    assert x_().prod(1).tolist() == [9.0, 0.0]
    assert x_().prod(0, keepdim=True).tolist() == [[2.0, 0.0, -6.0]]
    assert mt.tensor(3.0).prod(0).item() == 3.0


# ------------------------------------------------------------------------- scans
def test_logcumsumexp_neither_overflows_nor_underflows():
    # recorded from torch: logcumsumexp([-1000, 0, 1000]) = [-1000, 0, 1000]
    x = leaf([-1000.0, 0.0, 1000.0])
    out = x.logcumsumexp(0)
    np.testing.assert_allclose(out.numpy(force=True), [-1000.0, 0.0, 1000.0])
    # by hand: d/dx_i sum_k w_k out_k = sum_{k >= i} w_k exp(x_i - out_k) = w_i here
    (out * mt.tensor(np.array([1.0, -2.0, 3.0]))).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(force=True), [1.0, -2.0, 3.0])
    big = mt.tensor([1e4, 1e4], dtype=mt.float32).logcumsumexp(0)
    np.testing.assert_allclose(big.numpy(force=True), [1e4, 1e4 + math.log(2)], rtol=1e-6)


def test_cummax_takes_the_latest_of_ties_and_nan_wins_and_routes_gradients_there():
    # recorded from torch: cummax([1, 3, 3, 2, nan, 5, nan]) indices [0, 1, 2, 2, 4, 4, 6]
    v, i = mt.cummax(mt.tensor([1.0, 3.0, 3.0, 2.0, NAN, 5.0, NAN]), 0)
    np.testing.assert_array_equal(v.numpy(force=True), [1.0, 3.0, 3.0, 3.0, NAN, NAN, NAN])
    assert i.tolist() == [0, 1, 2, 2, 4, 4, 6]
    # recorded from torch: grad of cummax([1, 3, 3, 2]).values.sum() = [1, 1, 2, 0]
    x = leaf([1.0, 3.0, 3.0, 2.0])
    x.cummax(0).values.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 2.0, 0.0]
    x = leaf([3.0, 1.0, 1.0, 2.0])  # cummin: the same rule, indices [0, 1, 2, 2]
    assert x.cummin(0).indices.tolist() == [0, 1, 2, 2]


def test_scans_of_a_0d_tensor_are_the_tensor():
    x = mt.tensor(3.0)
    assert x.cumsum(0).shape == x.cumprod(-1).shape == x.logcumsumexp(0).shape == ()
    v, i = x.cummax(0)
    assert (v.item(), i.item(), i.shape) == (3.0, 0, ())


# ----------------------------------------------------------------------- sorting
def test_sort_is_stable_descending_too_with_nan_as_the_largest():
    # recorded from torch: sort([1, nan, 2, 1], descending=True, stable=True)
    v, i = mt.sort(mt.tensor([1.0, NAN, 2.0, 1.0]), descending=True, stable=True)
    np.testing.assert_array_equal(v.numpy(force=True), [NAN, 2.0, 1.0, 1.0])
    assert i.tolist() == [1, 2, 0, 3]
    assert mt.tensor([1.0, NAN, 2.0, 1.0]).argsort().tolist() == [0, 3, 2, 1]


def test_a_sorted_values_gradient_goes_back_to_where_each_value_came_from():
    x = leaf([[3.0, 1.0, 2.0]])
    (x.sort(1).values * mt.tensor(np.array([10.0, 20.0, 30.0]))).sum().backward()
    assert x.grad.tolist() == [[30.0, 10.0, 20.0]]  # by hand: 1 -> 10, 2 -> 20, 3 -> 30


def test_topk_largest_and_smallest_and_its_gradient_only_on_the_k_picked():
    x = leaf([4.0, 1.0, 3.0, 2.0])
    v, i = x.topk(2)
    assert (v.tolist(), i.tolist()) == ([4.0, 3.0], [0, 2])
    v.sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 1.0, 0.0]
    assert mt.topk(mt.tensor([4.0, 1.0, 3.0]), 2, largest=False).indices.tolist() == [1, 2]
    # recorded from torch: topk([1, nan, 2, nan], 2) = values [nan, nan], indices [1, 3]
    assert mt.tensor([1.0, NAN, 2.0, NAN]).topk(2).indices.tolist() == [1, 3]


def test_topk_and_kthvalue_refuse_a_k_out_of_range_naming_it_and_the_shape():
    with pytest.raises(
        ValueError,
        match=r"topk: k=4 is out of range for dim -1 of size 3 "
        r"\(shape \(2, 3\)\)",
    ):
        x_().topk(4)
    with pytest.raises(ValueError, match=r"kthvalue: k=0 is out of range for dim 0 of size 2"):
        x_().kthvalue(0, 0)


def test_kthvalue_picks_the_kth_smallest_and_keeps_its_dim_if_asked():
    v, i = x_().kthvalue(2, 1, keepdim=True)
    assert (v.tolist(), i.tolist()) == ([[3.0], [0.0]], [[1], [1]])  # by hand


def test_median_is_the_lower_median_and_nan_where_there_is_one_as_pytorch():
    # recorded from torch: median([4, 1, 3, 2]) = 2 (the lower one); median([1, nan, 2]) = nan;
    # median([[1, nan, 2, nan]], 1) = (nan, index 1); the median of nothing is nan
    assert mt.tensor([4.0, 1.0, 3.0, 2.0]).median().item() == 2.0
    assert math.isnan(mt.tensor([1.0, NAN, 2.0]).median().item())
    v, i = mt.tensor([[1.0, NAN, 2.0, NAN]]).median(1)
    assert math.isnan(v.item()) and i.tolist() == [1]
    assert math.isnan(mt.median(mt.tensor([])).item())
    assert mt.tensor(3.0).median(0).indices.shape == ()


def test_median_of_all_shares_its_gradient_among_ties_and_along_a_dim_gives_it_to_one():
    # recorded from torch: grad of median([1, 2, 2, 3, 2]) = [0, 1/3, 1/3, 0, 1/3]
    x = leaf([1.0, 2.0, 2.0, 3.0, 2.0])
    x.median().backward()
    np.testing.assert_allclose(x.grad.numpy(force=True), [0.0, 1 / 3, 1 / 3, 0.0, 1 / 3])
    x = leaf([1.0, 2.0, 2.0, 3.0, 2.0])
    x.median(0).values.backward()
    assert x.grad.tolist().count(1.0) == 1 and sum(x.grad.tolist()) == 1.0


def test_unique_sorts_and_counts_and_gives_where_each_element_went_without_gradient():
    # recorded from torch: unique([3, 1, 3, 2], sorted=False, return_inverse=True,
    # return_counts=True) = ([1, 2, 3], [2, 0, 2, 1], [1, 1, 2])
    out, inverse, counts = mt.unique(
        mt.tensor([3, 1, 3, 2]), sorted=False, return_inverse=True, return_counts=True
    )
    assert (out.tolist(), inverse.tolist(), counts.tolist()) == ([1, 2, 3], [2, 0, 2, 1], [1, 1, 2])
    assert inverse.dtype == counts.dtype == mt.int64
    assert mt.unique(mt.tensor([3, 1, 3])).tolist() == [1, 3]
    # recorded from torch: unique([[1, 2], [1, 2], [0, 1]], dim=0, ...) = ([[0, 1], [1, 2]],
    # [1, 1, 0], [1, 2]); NaNs stay apart: unique([1, nan, nan]) counts [1, 1, 1]
    rows, inverse, counts = mt.unique(
        mt.tensor([[1, 2], [1, 2], [0, 1]]), dim=0, return_inverse=True, return_counts=True
    )
    assert (rows.tolist(), inverse.tolist(), counts.tolist()) == (
        [[0, 1], [1, 2]],
        [1, 1, 0],
        [1, 2],
    )
    assert mt.unique(mt.tensor([1.0, NAN, NAN]), return_counts=True)[1].tolist() == [1, 1, 1]
    assert not mt.unique(leaf([1.0, 1.0])).requires_grad


# ------------------------------------------------------------ count_nonzero, aminmax
def test_count_nonzero_over_dims_and_aminmax_of_all_or_along_a_dim():
    # recorded from torch: count_nonzero(X, dim=(0, 1)) = 5; aminmax(X, dim=1) =
    # (min [1, -2], max [3, 2]) for X's second row [2, 0, -2]
    assert x_().count_nonzero((0, 1)).item() == 5
    assert x_().count_nonzero(1).tolist() == [3, 2]
    lo, hi = mt.aminmax(x_(), dim=1)
    assert (lo.tolist(), hi.tolist()) == ([1.0, -2.0], [3.0, 2.0])
    assert mt.aminmax(x_()).max.item() == 3.0


def test_aminmax_ties_share_the_gradient_evenly():
    # recorded from torch: grad of sum(aminmax([1, 3, 3, 1])) = [0.5, 0.5, 0.5, 0.5]
    x = leaf([1.0, 3.0, 3.0, 1.0])
    lo, hi = x.aminmax()
    (lo + hi).backward()
    assert x.grad.tolist() == [0.5, 0.5, 0.5, 0.5]


# ------------------------------------------------------------------------- norms
def test_mt_linalg_is_a_module_with_the_three_norms():
    from microtensor import linalg

    assert mt.linalg is linalg
    assert {"norm", "vector_norm", "matrix_norm"} <= set(linalg.__all__)


@pytest.mark.parametrize(
    "call, expected",
    [
        # recorded from torch, for X = [[1, 3, 3], [2, 0, -2]]
        (lambda x: x.norm(), 5.196152),
        (lambda x: mt.norm(x, p=1, dim=(0, 1)), 11.0),
        (lambda x: mt.norm(x, p=math.inf, dim=(0, 1)), 3.0),
        (lambda x: x.norm(2, 1, True), [[4.358899], [2.828427]]),
        (lambda x: mt.norm(x, "fro", dim=(0,)), [2.236068, 3.0, 3.605551]),
        (lambda x: mt.linalg.norm(x), 5.196152),
        (lambda x: mt.linalg.norm(x, ord=1), 5.0),
        (lambda x: mt.linalg.norm(x, math.inf), 7.0),
        (lambda x: mt.linalg.vector_norm(x, 0, 1), [3.0, 2.0]),
        (lambda x: mt.linalg.vector_norm(x, -1), 0.0),
        (lambda x: mt.linalg.vector_norm(x, 3, dim=1, keepdim=True), [[3.802952], [2.519842]]),
        (lambda x: mt.linalg.matrix_norm(x, -1, keepdim=True), [[3.0]]),
        (lambda x: mt.linalg.matrix_norm(x, 1, dim=(1, 0)), 7.0),
        (lambda x: mt.linalg.vector_norm(x[0, 0]), 1.0),
        (lambda x: mt.linalg.vector_norm(x[:0]), 0.0),
    ],
    ids=[
        "norm",
        "p1-two-dims",
        "pinf-two-dims",
        "p2-keepdim",
        "fro-one-dim",
        "linalg",
        "linalg-ord-1",
        "linalg-ord-inf",
        "ord-0",
        "ord--1",
        "ord-3",
        "matrix-ord--1",
        "matrix-dims-swapped",
        "0d",
        "empty",
    ],
)
def test_norms_match_pytorchs_values(call, expected):
    out = call(mt.tensor([[1.0, 3.0, 3.0], [2.0, 0.0, -2.0]]))
    assert out.dtype == mt.float32
    np.testing.assert_allclose(out.numpy(force=True), expected, rtol=1e-6)


@pytest.mark.parametrize(
    "ord, values, expected",
    [
        # recorded from torch: gradients of linalg.vector_norm(x, ord) at zeros and ties
        (2, [0.0, 0.0], [0.0, 0.0]),
        (1, [0.0, 1.0], [0.0, 1.0]),
        (3, [0.0, 0.0], [0.0, 0.0]),
        (3, [0.0, 2.0], [0.0, 1.0]),
        (0.5, [0.0, 2.0], [0.0, 1.0]),
        (-1, [0.0, 2.0], [0.0, 0.0]),
        (math.inf, [2.0, -2.0, 1.0], [0.5, -0.5, 0.0]),
        (-math.inf, [2.0, -1.0, 1.0], [0.0, -0.5, 0.5]),
    ],
    ids=[
        "2-at-0",
        "1-at-0",
        "3-at-0",
        "3-one-0",
        "half-one-0",
        "-1-one-0",
        "inf-ties",
        "-inf-ties",
    ],
)
def test_vector_norm_gradients_at_zeros_and_ties_are_pytorchs(ord, values, expected):
    x = leaf(values)
    mt.linalg.vector_norm(x, ord).backward()
    np.testing.assert_allclose(x.grad.numpy(force=True), expected, atol=1e-12)


def test_matrix_norm_ties_share_the_gradient_and_frobenius_at_0_has_gradient_0():
    # recorded from torch: grad of matrix_norm([[1, -2], [2, 1]], 1) = [[.5, -.5], [.5, .5]]
    x = leaf([[1.0, -2.0], [2.0, 1.0]])
    mt.linalg.matrix_norm(x, 1).backward()
    assert x.grad.tolist() == [[0.5, -0.5], [0.5, 0.5]]
    x = leaf([[0.0, 0.0], [0.0, 0.0]])
    x.norm().backward()
    assert x.grad.tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_norms_refuse_what_they_cannot_do_naming_the_op_and_the_argument():
    with pytest.raises(
        NotImplementedError,
        match=r"linalg.matrix_norm: ord='nuc' needs the "
        r"singular values",
    ):
        mt.linalg.norm(x_(), "nuc")
    with pytest.raises(NotImplementedError, match="ord=2"):
        mt.linalg.matrix_norm(x_(), 2)
    with pytest.raises(ValueError, match="linalg.matrix_norm: ord must be 'fro', 'nuc'.*got 3"):
        mt.linalg.matrix_norm(x_(), 3)
    with pytest.raises(
        ValueError,
        match=r"linalg.matrix_norm: needs a tensor of at least 2 "
        r"dims, got shape \(2,\)",
    ):
        mt.linalg.matrix_norm(mt.ones(2))
    with pytest.raises(
        TypeError, match="linalg.vector_norm: needs a floating tensor, got dtype int64"
    ):
        mt.norm(mt.tensor([1, 2]))
    with pytest.raises(TypeError, match="linalg.vector_norm: ord must be a number, got 'fro'"):
        mt.linalg.vector_norm(x_(), "fro")
    with pytest.raises(
        ValueError,
        match=r"linalg.norm: with ord and no dim the input must be "
        r"1-D or 2-D, got shape \(2, 2, 2\)",
    ):
        mt.linalg.norm(mt.ones(2, 2, 2), 1)
    with pytest.raises(ValueError, match=r"norm: p='fro' takes one or two dims"):
        mt.norm(mt.ones(2, 2, 2), "fro", dim=(0, 1, 2))


def test_norms_take_a_dtype():
    out = mt.linalg.vector_norm(mt.tensor([3, 4]), dtype=mt.float64)
    assert out.dtype == mt.float64 and out.item() == 5.0


# -------------------------------------------------------------------- var and std
def test_var_and_std_take_unbiased_and_var_mean_and_std_mean_give_both():
    # recorded from torch: std(X, unbiased=False) = 1.0672; var_mean(X, 1) =
    # ([1.3333, 1.3333]... for X's rows; std_mean(X, axis=0, correction=0)
    x = mt.tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]])
    np.testing.assert_allclose(x.std(unbiased=False).item(), 1.067187, rtol=1e-6)
    np.testing.assert_allclose(x.var(unbiased=True).item(), x.var().item())
    v, m = var_mean(x, 1)
    np.testing.assert_allclose(v.numpy(force=True), [4 / 3, 4 / 3], rtol=1e-6)
    np.testing.assert_allclose(m.numpy(force=True), [7 / 3, 4 / 3], rtol=1e-6)
    s, m = std_mean(x, axis=0, correction=0)
    np.testing.assert_allclose(s.numpy(force=True), [0.5, 1.5, 0.5])
    np.testing.assert_allclose(m.numpy(force=True), [1.5, 1.5, 2.5])


# ----------------------------------------------------------------------- compile
def test_a_compiled_step_of_these_ops_replays_what_eager_mode_computes():
    w = leaf(np.random.default_rng(0).standard_normal((4, 5)))

    def step(x):
        y = x @ w
        loss = (
            y.sort(1).values[:, :2].sum()
            + y.cummax(1).values.mean()
            + y.prod()
            + y.cumprod(0).sum()
            + y.logcumsumexp(1).sum()
            + y.median()
            + y.norm()
            + mt.linalg.vector_norm(y, 3)
            + y.topk(2).values.sum()
        )
        loss.backward()
        return loss

    compiled = mt.compile(step)
    for seed in range(2):
        x = mt.tensor(np.random.default_rng(seed).standard_normal((3, 4)))
        w.grad = None
        got, got_grad = compiled(x).item(), w.grad.numpy(force=True).copy()
        w.grad = None
        assert (got, got_grad.tolist()) == (step(x).item(), w.grad.tolist())
    assert (compiled.records, compiled.replays, compiled.eager_calls) == (1, 1, 0)


def test_the_linalg_modules_example_runs():
    import doctest

    assert doctest.testmod(mt.linalg).failed == 0
