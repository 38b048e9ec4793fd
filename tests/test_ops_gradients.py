"""Every differentiable primitive's gradient, proven against finite differences.

Each property test draws shapes (0-d and size-1 dims included) and values from
`microtensor.testing.strategies`, then checks the analytic Jacobian (`gradcheck`) and the
Jacobian of the gradient itself (`gradgradcheck`, order 2, through create_graph=True).
Values come from domains that keep finite differences meaningful: away from kinks, poles
and ties. The kinks and ties themselves are pinned by the golden tests at the end.
"""
import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import example, given

import microtensor as mt
from microtensor import ops
from microtensor.testing import strategies as mst

MAX_SIDE = 3
MAX_DIMS = 3


def assert_gradients_match(fn, *inputs, **tolerances):
    """First and second derivatives of `fn` at `inputs` agree with finite differences."""
    assert mt.testing.gradcheck(fn, inputs, **tolerances)
    assert mt.testing.gradgradcheck(fn, inputs, **tolerances)


def leaf(values):
    return mt.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def shapes(min_dims=0, max_dims=MAX_DIMS, max_side=MAX_SIDE):
    return mst.shapes(min_dims=min_dims, max_dims=max_dims, max_side=max_side)


def tensors(domain="real", shape=None, distinct=False, min_dims=0):
    return mst.tensors(shape=shapes(min_dims) if shape is None else shape, domain=domain,
                       distinct=distinct)


@st.composite
def broadcast_pairs(draw, domain_a="real", domain_b="real"):
    """Two tensors whose shapes broadcast together, e.g. (3, 1) and (2,), or () and (2, 2)."""
    shape_a, shape_b = draw(mst.broadcastable_shapes(2, max_dims=MAX_DIMS, max_side=MAX_SIDE))
    return (draw(mst.tensors(shape=shape_a, domain=domain_a)),
            draw(mst.tensors(shape=shape_b, domain=domain_b)))


@st.composite
def distinct_broadcast_pairs(draw):
    """Two broadcastable tensors with no value shared between them (no ties)."""
    shape_a, shape_b = draw(mst.broadcastable_shapes(2, max_dims=MAX_DIMS, max_side=MAX_SIDE))
    size_a, size_b = int(np.prod(shape_a)), int(np.prod(shape_b))
    values = draw(mst.arrays((size_a + size_b,), distinct=True))
    return leaf(values[:size_a].reshape(shape_a)), leaf(values[size_a:].reshape(shape_b))


def _signed(draw, dim, ndim):
    """`dim` as given or counted from the end (negative), hypothesis's choice."""
    return dim - ndim if draw(st.booleans()) else dim


@st.composite
def a_dim(draw, ndim):
    """One dim of an ndim-dimensional tensor, negative dims included."""
    return _signed(draw, draw(st.integers(0, ndim - 1)), ndim)


@st.composite
def reduction_dims(draw, ndim):
    """None (all dims), one dim, or a tuple of distinct dims; negative dims included."""
    if ndim == 0:
        return draw(st.sampled_from([None, 0, -1]))
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        return None
    if kind == "int":
        return draw(a_dim(ndim))
    dims = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(_signed(draw, d, ndim) for d in dims)


def reduced_size(shape, dim):
    """How many elements each output of a reduction over `dim` gathers."""
    if dim is None or not shape:
        return int(np.prod(shape))
    dims = dim if isinstance(dim, tuple) else (dim,)
    return int(np.prod([shape[d] for d in dims]))


# ---------------------------------------------------------------------------- arithmetic
@given(broadcast_pairs())
def test_add_gradient_matches_finite_differences_for_broadcast_shapes(pair):
    assert_gradients_match(mt.add, *pair)


@given(broadcast_pairs())
def test_sub_gradient_matches_finite_differences_for_broadcast_shapes(pair):
    assert_gradients_match(lambda a, b: a - b, *pair)


@given(broadcast_pairs())
def test_mul_gradient_matches_finite_differences_for_broadcast_shapes(pair):
    assert_gradients_match(mt.mul, *pair)


@given(broadcast_pairs("real", "nonzero"))
def test_div_gradient_matches_finite_differences_for_broadcast_shapes_and_nonzero_divisor(pair):
    assert_gradients_match(lambda a, b: a / b, *pair)


@given(tensors())
def test_neg_gradient_matches_finite_differences(x):
    assert_gradients_match(lambda a: -a, x)


@given(tensors("positive"), st.floats(-2.0, 3.0))
def test_pow_of_positive_tensor_to_a_real_scalar_matches_finite_differences(x, exponent):
    assert_gradients_match(lambda a: a ** exponent, x)


@given(tensors("nonzero"), st.integers(-2, 3))
def test_pow_of_signed_tensor_to_an_integer_scalar_matches_finite_differences(x, exponent):
    assert_gradients_match(lambda a: a ** exponent, x)


@given(tensors(), st.floats(0.2, 4.0))
def test_pow_of_positive_scalar_to_a_tensor_matches_finite_differences(x, base):
    assert_gradients_match(lambda b: base ** b, x)


@given(broadcast_pairs("positive", "real"))
def test_pow_of_tensor_to_tensor_matches_finite_differences_for_broadcast_shapes(pair):
    assert_gradients_match(mt.pow, *pair)


# -------------------------------------------------------------------------------- matmul
@st.composite
def matmul_operands(draw, batched):
    """Operands of every matmul form: 1-D or 2-D, or batched with broadcast batch dims."""
    n, k, m = (draw(st.integers(1, MAX_SIDE)) for _ in range(3))
    batch_a, batch_b = ((), ()) if not batched else draw(
        mst.broadcastable_shapes(2, min_dims=1, max_dims=2, max_side=MAX_SIDE))
    a_is_vector, b_is_vector = draw(st.booleans()), draw(st.booleans())
    if batched and a_is_vector and b_is_vector:
        a_is_vector = False
    shape_a = (k,) if a_is_vector else batch_a + (n, k)
    shape_b = (k,) if b_is_vector else batch_b + (k, m)
    return draw(mst.tensors(shape=shape_a)), draw(mst.tensors(shape=shape_b))


@given(matmul_operands(batched=False))
def test_matmul_gradient_matches_finite_differences_for_vector_and_matrix_operands(pair):
    assert_gradients_match(mt.matmul, *pair)


@given(matmul_operands(batched=True))
@example((leaf(np.linspace(-2.0, 2.0, 24).reshape(2, 1, 3, 4)),
          leaf(np.linspace(2.0, -1.0, 40).reshape(5, 4, 2))))
def test_matmul_gradient_matches_finite_differences_for_batched_broadcast_shapes(pair):
    assert_gradients_match(lambda a, b: a @ b, *pair)


@st.composite
def linear_operands(draw):
    """x of shape (..., in), weight (out, in), and a bias of shape (out,) or () or none."""
    n_in, n_out = draw(st.integers(1, MAX_SIDE)), draw(st.integers(1, MAX_SIDE))
    batch = draw(shapes(max_dims=2))
    x = draw(mst.tensors(shape=batch + (n_in,)))
    weight = draw(mst.tensors(shape=(n_out, n_in)))
    bias_shape = draw(st.sampled_from([(n_out,), (), None]))
    return (x, weight) if bias_shape is None else (x, weight, draw(mst.tensors(shape=bias_shape)))


@given(linear_operands())
def test_linear_gradient_matches_finite_differences_with_and_without_bias(operands):
    assert_gradients_match(ops.linear, *operands)


# --------------------------------------------------------------------------- elementwise
ELEMENTWISE = {
    "exp_on_reals": (mt.exp, "real"),
    "log_on_positive_inputs": (mt.log, "positive"),
    "log1p_on_inputs_in_minus_0_9_to_0_9": (mt.log1p, "unit"),
    "sqrt_on_positive_inputs": (mt.sqrt, "positive"),
    "abs_away_from_zero": (mt.abs, "nonzero"),
    "sin_on_reals": (mt.sin, "real"),
    "cos_on_reals": (mt.cos, "real"),
    "tanh_on_reals": (mt.tanh, "real"),
    "sigmoid_on_reals": (mt.sigmoid, "real"),
    "relu_away_from_zero": (mt.relu, "nonzero"),
    "leaky_relu_with_default_slope_away_from_zero": (mt.leaky_relu, "nonzero"),
    "elu_with_default_alpha_away_from_zero": (mt.elu, "nonzero"),
    "softplus_with_default_beta": (mt.softplus, "real"),
    "clone": (lambda a: a.clone(), "real"),
}


@pytest.mark.parametrize("case", sorted(ELEMENTWISE))
@given(data=st.data())
def test_elementwise_gradient_matches_finite_differences(case, data):
    fn, domain = ELEMENTWISE[case]
    assert_gradients_match(fn, data.draw(tensors(domain), label="x"))


@given(tensors("nonzero"), st.floats(0.0, 2.0))
def test_leaky_relu_gradient_matches_finite_differences_for_a_custom_negative_slope(x, slope):
    assert_gradients_match(lambda a: mt.leaky_relu(a, negative_slope=slope), x)


@given(tensors("nonzero"), st.floats(0.1, 2.0))
def test_elu_gradient_matches_finite_differences_for_a_custom_alpha(x, alpha):
    assert_gradients_match(lambda a: mt.elu(a, alpha=alpha), x)


@given(tensors(), st.sampled_from([0.5, 2.0, 3.0]))
def test_softplus_gradient_matches_finite_differences_for_a_custom_beta(x, beta):
    assert_gradients_match(lambda a: mt.softplus(a, beta=beta), x)


@st.composite
def softplus_threshold_cases(draw):
    """x, beta and a low threshold, so that many elements take the linear branch; no
    element within 0.05 of the threshold, where the two branches meet with a jump."""
    beta = draw(st.sampled_from([1.0, 2.0]))
    threshold = draw(st.floats(-2.0, 2.0))
    elements = st.floats(-3.0, 3.0).filter(lambda v: abs(beta * v - threshold) > 0.05)
    return leaf(draw(hnp.arrays(np.float64, draw(shapes()), elements=elements))), beta, threshold


@given(softplus_threshold_cases())
def test_softplus_gradient_matches_finite_differences_on_both_sides_of_the_threshold(case):
    x, beta, threshold = case
    assert_gradients_match(lambda a: mt.softplus(a, beta=beta, threshold=threshold), x)


@st.composite
def clamp_cases(draw):
    """(x, min, max) with one or both bounds, every element at least 0.05 from a bound."""
    which = draw(st.sampled_from(["min", "max", "both"]))
    lo, hi = sorted(draw(st.lists(st.floats(-2.5, 2.5), min_size=2, max_size=2)))
    low = lo if which in ("min", "both") else None
    high = hi if which in ("max", "both") else None
    bounds = [b for b in (low, high) if b is not None]
    elements = st.floats(-3.0, 3.0).filter(lambda v: all(abs(v - b) > 0.05 for b in bounds))
    x = draw(hnp.arrays(np.float64, draw(shapes()), elements=elements))
    return leaf(x), low, high


@given(clamp_cases())
def test_clamp_gradient_matches_finite_differences_with_min_max_or_both(case):
    x, low, high = case
    assert_gradients_match(lambda a: mt.clamp(a, min=low, max=high), x)


@given(distinct_broadcast_pairs())
def test_maximum_gradient_matches_finite_differences_for_broadcast_shapes(pair):
    assert_gradients_match(mt.maximum, *pair)


@given(distinct_broadcast_pairs())
def test_minimum_gradient_matches_finite_differences_for_broadcast_shapes(pair):
    assert_gradients_match(mt.minimum, *pair)


@st.composite
def where_cases(draw):
    """A bool condition and two branches, all three of shapes that broadcast together."""
    shape_c, shape_a, shape_b = draw(
        mst.broadcastable_shapes(3, max_dims=MAX_DIMS, max_side=MAX_SIDE))
    condition = draw(hnp.arrays(np.bool_, shape_c))
    if draw(st.booleans()):
        condition = mt.tensor(condition)
    return condition, draw(mst.tensors(shape=shape_a)), draw(mst.tensors(shape=shape_b))


@given(where_cases())
def test_where_gradient_matches_finite_differences_for_a_broadcast_condition(case):
    condition, x, y = case
    assert_gradients_match(lambda a, b: mt.where(condition, a, b), x, y)


# ---------------------------------------------------------------------------- reductions
@st.composite
def reduction_cases(draw, distinct=False):
    """A tensor, the dims to reduce over, and keepdim."""
    x = draw(tensors(distinct=distinct))
    return x, draw(reduction_dims(x.ndim)), draw(st.booleans())


@given(reduction_cases())
def test_sum_gradient_matches_finite_differences_over_any_dims(case):
    x, dim, keepdim = case
    assert_gradients_match(lambda a: mt.sum(a, dim, keepdim), x)


@given(reduction_cases())
def test_mean_gradient_matches_finite_differences_over_any_dims(case):
    x, dim, keepdim = case
    assert_gradients_match(lambda a: a.mean(dim, keepdim=keepdim), x)


@given(reduction_cases(distinct=True))
def test_amax_gradient_matches_finite_differences_over_any_dims(case):
    x, dim, keepdim = case
    assert_gradients_match(lambda a: mt.amax(a, dim, keepdim), x)


@given(reduction_cases(distinct=True))
def test_amin_gradient_matches_finite_differences_over_any_dims(case):
    x, dim, keepdim = case
    assert_gradients_match(lambda a: a.amin(dim, keepdim), x)


@given(tensors(distinct=True))
def test_max_and_min_without_dim_gradients_match_finite_differences(x):
    assert_gradients_match(lambda a: mt.max(a), x)
    assert_gradients_match(lambda a: a.min(), x)


@given(data=st.data())
def test_max_and_min_values_along_a_dim_gradients_match_finite_differences(data):
    x = data.draw(tensors(distinct=True, min_dims=1), label="x")
    dim = data.draw(a_dim(x.ndim), label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")
    assert_gradients_match(lambda a: mt.max(a, dim, keepdim).values, x)
    assert_gradients_match(lambda a: a.min(dim, keepdim=keepdim).values, x)


@given(reduction_cases(distinct=True), st.sampled_from([0, 1]))
def test_var_gradient_matches_finite_differences_for_either_correction(case, correction):
    x, dim, keepdim = case
    correction = min(correction, reduced_size(x.shape, dim) - 1)  # keep a degree of freedom
    assert_gradients_match(
        lambda a: mt.var(a, dim, correction=correction, keepdim=keepdim), x)


@given(data=st.data())
def test_std_gradient_matches_finite_differences_for_either_correction(data):
    x = data.draw(tensors(distinct=True, shape=shapes(min_dims=1).filter(
        lambda s: max(s) > 1)), label="x")
    dim = data.draw(reduction_dims(x.ndim).filter(
        lambda d: reduced_size(x.shape, d) > 1), label="dim")
    correction = data.draw(st.sampled_from([0, 1]), label="correction")
    keepdim = data.draw(st.booleans(), label="keepdim")
    assert_gradients_match(
        lambda a: mt.std(a, dim, correction=correction, keepdim=keepdim), x)


@given(reduction_cases())
def test_logsumexp_gradient_matches_finite_differences_over_any_dims(case):
    x, dim, keepdim = case
    assert_gradients_match(lambda a: mt.logsumexp(a, dim, keepdim), x)


@given(data=st.data())
def test_softmax_gradient_matches_finite_differences_along_any_dim(data):
    x = data.draw(tensors(min_dims=1), label="x")
    dim = data.draw(a_dim(x.ndim), label="dim")
    assert_gradients_match(lambda a: mt.softmax(a, dim), x)


@given(data=st.data())
def test_log_softmax_gradient_matches_finite_differences_along_any_dim(data):
    x = data.draw(tensors(min_dims=1), label="x")
    dim = data.draw(a_dim(x.ndim), label="dim")
    assert_gradients_match(lambda a: a.log_softmax(dim), x)


# --------------------------------------------------------------------------------- shape
@given(data=st.data())
def test_reshape_and_view_gradients_match_finite_differences(data):
    x = data.draw(tensors(), label="x")
    sides = data.draw(st.permutations(list(x.shape)), label="sides") + [1] * data.draw(
        st.integers(0, 2), label="ones")
    sides = data.draw(st.permutations(sides), label="order")
    if sides and data.draw(st.booleans(), label="infer one side"):
        sides[data.draw(st.integers(0, len(sides) - 1), label="inferred")] = -1
    assert_gradients_match(lambda a: a.reshape(tuple(sides)), x)
    assert_gradients_match(lambda a: a.view(*sides), x)


@given(data=st.data())
def test_flatten_gradient_matches_finite_differences_for_any_start_and_end_dims(data):
    x = data.draw(tensors(min_dims=1), label="x")
    start, end = sorted(data.draw(st.lists(st.integers(0, x.ndim - 1), min_size=2,
                                           max_size=2), label="span"))
    start, end = data.draw(st.sampled_from([start, start - x.ndim])), data.draw(
        st.sampled_from([end, end - x.ndim]))
    assert_gradients_match(lambda a: mt.flatten(a, start, end), x)


@given(tensors())
def test_flatten_of_any_tensor_with_default_dims_matches_finite_differences(x):
    assert_gradients_match(lambda a: a.flatten(), x)


@given(data=st.data())
def test_transpose_gradient_matches_finite_differences_for_any_pair_of_dims(data):
    x = data.draw(tensors(min_dims=1), label="x")
    dim0, dim1 = data.draw(a_dim(x.ndim), label="dim0"), data.draw(a_dim(x.ndim), label="dim1")
    assert_gradients_match(lambda a: a.transpose(dim0, dim1), x)


@given(data=st.data())
def test_permute_gradient_matches_finite_differences_for_any_permutation(data):
    x = data.draw(tensors(), label="x")
    dims = [_signed(data.draw, d, x.ndim) for d in
            data.draw(st.permutations(range(x.ndim)), label="dims")]
    assert_gradients_match(lambda a: mt.permute(a, dims), x)
    assert_gradients_match(lambda a: a.permute(*dims), x)


@given(tensors())
def test_T_gradient_matches_finite_differences(x):
    assert_gradients_match(lambda a: a.T, x)


@given(data=st.data())
def test_squeeze_gradient_matches_finite_differences_for_all_or_chosen_dims(data):
    x = data.draw(tensors(), label="x")
    dim = data.draw(reduction_dims(x.ndim), label="dim")
    assert_gradients_match(lambda a: a.squeeze(dim), x)


@given(data=st.data())
def test_unsqueeze_gradient_matches_finite_differences_at_any_position(data):
    x = data.draw(tensors(), label="x")
    dim = data.draw(st.integers(-x.ndim - 1, x.ndim), label="dim")
    assert_gradients_match(lambda a: mt.unsqueeze(a, dim), x)


@st.composite
def broadcast_targets(draw, shape):
    """A shape `shape` broadcasts to: new leading dims, and size-1 dims grown."""
    lead = tuple(draw(st.lists(st.integers(1, MAX_SIDE), max_size=2)))
    return lead + tuple(draw(st.integers(1, MAX_SIDE)) if n == 1 else n for n in shape)


@given(data=st.data())
def test_broadcast_to_gradient_matches_finite_differences(data):
    x = data.draw(tensors(), label="x")
    target = data.draw(broadcast_targets(x.shape), label="target")
    assert_gradients_match(lambda a: mt.broadcast_to(a, target), x)


@given(data=st.data())
def test_expand_gradient_matches_finite_differences_with_kept_dims_written_as_minus_one(data):
    x = data.draw(tensors(), label="x")
    target = list(data.draw(broadcast_targets(x.shape), label="target"))
    lead = len(target) - x.ndim
    for i, n in enumerate(x.shape):
        if target[lead + i] == n and data.draw(st.booleans(), label=f"keep {i} as -1"):
            target[lead + i] = -1
    assert_gradients_match(lambda a: a.expand(*target), x)


@given(data=st.data())
def test_sum_to_gradient_matches_finite_differences_for_any_broadcast_source_shape(data):
    x = data.draw(tensors(), label="x")
    drop = data.draw(st.integers(0, x.ndim), label="leading dims dropped")
    target = tuple(1 if data.draw(st.booleans(), label=f"collapse {i}") else n
                   for i, n in enumerate(x.shape[drop:]))
    assert_gradients_match(lambda a: mt.sum_to(a, target), x)


@st.composite
def cat_cases(draw):
    """2 or 3 tensors that agree outside `dim`, with their own sizes along it. (One tensor
    alone hits a known bug: test_cat_of_a_single_tensor_has_a_correct_second_derivative.)"""
    base = list(draw(shapes(min_dims=1)))
    dim = draw(a_dim(len(base)))
    parts = []
    for _ in range(draw(st.integers(2, 3))):
        base[dim] = draw(st.integers(1, MAX_SIDE))
        parts.append(draw(mst.tensors(shape=tuple(base))))
    return parts, dim


@given(cat_cases())
def test_cat_gradient_matches_finite_differences_along_any_dim(case):
    parts, dim = case
    assert_gradients_match(lambda *ts: mt.cat(list(ts), dim), *parts)


@given(data=st.data())
def test_stack_gradient_matches_finite_differences_along_any_new_dim(data):
    shape = data.draw(shapes(), label="shape")
    parts = [data.draw(mst.tensors(shape=shape), label=f"part {i}")
             for i in range(data.draw(st.integers(2, 3), label="count"))]
    dim = data.draw(st.integers(-len(shape) - 1, len(shape)), label="dim")
    assert_gradients_match(lambda *ts: mt.stack(ts, dim), *parts)


@st.composite
def tensor_and_splittable_dim(draw):
    """A tensor and one of its dims of size 2 or more (so that it can give two pieces)."""
    x = draw(tensors(shape=shapes(min_dims=1).filter(lambda s: max(s) >= 2)))
    dim = draw(st.sampled_from([d for d, n in enumerate(x.shape) if n >= 2]))
    return x, _signed(draw, dim, x.ndim)


@st.composite
def split_cases(draw):
    """A tensor, a dim, and either an int piece size or a list of section sizes (empty
    sections included), giving at least two pieces. (One piece hits a known bug:
    test_split_into_a_single_piece_passes_the_gradient_through.)"""
    x, dim = draw(tensor_and_splittable_dim())
    n = x.shape[dim]
    if draw(st.booleans()):
        return x, draw(st.integers(1, n - 1)), dim
    cuts = sorted(draw(st.lists(st.integers(0, n), min_size=1, max_size=3)))
    return x, [int(s) for s in np.diff([0] + cuts + [n])], dim


@given(split_cases())
def test_split_gradient_matches_finite_differences_for_all_pieces_as_a_tuple(case):
    x, size_or_sections, dim = case
    assert_gradients_match(lambda a: mt.split(a, size_or_sections, dim), x)


@given(split_cases(), st.data())
def test_split_gives_zero_gradient_to_the_pieces_that_are_not_used(case, data):
    x, size_or_sections, dim = case
    pieces = mt.split(x, size_or_sections, dim)
    k = data.draw(st.integers(0, len(pieces) - 1), label="piece used")
    assert_gradients_match(lambda a: a.split(size_or_sections, dim)[k] * 2.0, x)
    start = sum(p.shape[dim] for p in pieces[:k])
    expected = np.zeros(x.shape)
    np.moveaxis(expected, dim, 0)[start:start + pieces[k].shape[dim]] = 1.0
    (g,) = mt.autograd.grad(pieces[k].sum(), x)
    np.testing.assert_array_equal(g.data, expected)


@given(tensor_and_splittable_dim(), st.integers(2, 4))
def test_chunk_gradient_matches_finite_differences_for_all_pieces_and_for_one(case, chunks):
    x, dim = case
    assert_gradients_match(lambda a: mt.chunk(a, chunks, dim), x)
    assert_gradients_match(lambda a: a.chunk(chunks, dim)[-1], x)


@given(data=st.data())
def test_pad_gradient_matches_finite_differences_for_constant_padding_with_a_value(data):
    x = data.draw(tensors(min_dims=1), label="x")
    padded_dims = data.draw(st.integers(1, x.ndim), label="padded dims")
    widths = tuple(data.draw(st.lists(st.integers(0, 2), min_size=2 * padded_dims,
                                      max_size=2 * padded_dims), label="widths"))
    value = data.draw(st.floats(-3.0, 3.0), label="value")
    assert_gradients_match(lambda a: mt.pad(a, widths, value=value), x)


@given(tensors())
def test_cast_to_float64_gradient_matches_finite_differences(x):
    assert_gradients_match(lambda a: a.to(mt.float64), x)


@given(tensors())
def test_float32_round_trip_passes_the_gradient_through_both_casts(x):
    # float32 rounding (~1e-7) swamps a 1e-6 step; the function is linear, so a 1e-2 step
    # has no truncation error and keeps the rounding error far below the tolerance.
    assert_gradients_match(lambda a: a.to(mt.float32).double(), x, eps=1e-2, atol=1e-4)


# ------------------------------------------------------------------------------ indexing
@given(data=st.data())
def test_getitem_gradient_matches_finite_differences_for_basic_indices(data):
    """Ints, slices with (negative) steps, None and Ellipsis."""
    x = data.draw(tensors(), label="x")
    index = data.draw(hnp.basic_indices(x.shape, allow_newaxis=True), label="index")
    assert_gradients_match(lambda a: a[index], x)


@st.composite
def integer_index_cases(draw):
    """Integer arrays (negative entries included) that repeat at least one index, alone,
    as a Tensor, in a pair, or beside a slice."""
    x = draw(tensors(min_dims=1))
    n = x.shape[0]
    rows = draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=4))
    rows = np.asarray(rows + [rows[0]])
    kind = draw(st.sampled_from(["array", "list", "tensor", "2d array", "pair", "slice after"]
                                if x.ndim > 1 else ["array", "list", "tensor", "2d array"]))
    if kind == "array":
        return x, rows
    if kind == "list":
        return x, rows.tolist()
    if kind == "tensor":
        return x, mt.tensor(rows)
    if kind == "2d array":
        return x, np.stack([rows, rows[::-1]])
    if kind == "pair":
        m = x.shape[1]
        cols = np.asarray(draw(st.lists(st.integers(-m, m - 1), min_size=len(rows),
                                        max_size=len(rows))))
        return x, (rows, cols)
    return x, (rows, slice(None, None, draw(st.sampled_from([1, -1, 2]))))


@given(integer_index_cases())
def test_getitem_gradient_accumulates_over_repeated_integer_indices(case):
    x, index = case
    assert_gradients_match(lambda a: a[index], x)


@st.composite
def boolean_mask_cases(draw):
    """A bool mask over all or the leading dims of x, as an array or a Tensor."""
    x = draw(tensors())
    masked = draw(st.integers(0, x.ndim))
    mask = draw(hnp.arrays(np.bool_, x.shape[:masked]))
    return x, mt.tensor(mask) if draw(st.booleans()) else mask


@given(boolean_mask_cases())
def test_getitem_gradient_matches_finite_differences_for_boolean_masks(case):
    x, mask = case
    assert_gradients_match(lambda a: a[mask], x)


# ---------------------------------------------------------------------- sliding windows
@st.composite
def window_cases(draw):
    """(N, C, H, W) and unfold's kernel, dilation, padding and stride, with H and W just
    big enough for at least one window."""
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(2))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(2))
    padding = tuple(draw(st.integers(0, 1)) for _ in range(2))
    stride = tuple(draw(st.integers(1, 2)) for _ in range(2))
    size = tuple(max(1, dilation[i] * (kernel[i] - 1) + 1 - 2 * padding[i])
                 + draw(st.integers(0, 1)) for i in range(2))
    batch = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    return batch + size, dict(kernel_size=kernel, dilation=dilation, padding=padding,
                              stride=stride)


@given(window_cases(), st.data())
def test_unfold_gradient_matches_finite_differences_for_any_kernel_stride_padding_dilation(
        case, data):
    shape, window = case
    x = data.draw(mst.tensors(shape=shape), label="x")
    assert_gradients_match(lambda a: mt.unfold(a, **window), x)


@given(window_cases(), st.data())
def test_fold_gradient_matches_finite_differences_for_any_kernel_stride_padding_dilation(
        case, data):
    shape, window = case
    cols_shape = mt.unfold(mt.zeros(*shape, dtype=mt.float64), **window).shape
    cols = data.draw(mst.tensors(shape=cols_shape), label="cols")
    assert_gradients_match(lambda c: mt.fold(c, shape[2:], **window), cols)


@given(window_cases(), st.data())
def test_fold_is_the_transpose_of_unfold(case, data):
    """<unfold(x), c> == <x, fold(c)> for every x and c: the pair are adjoint."""
    shape, window = case
    x = data.draw(mst.arrays(shape), label="x")
    cols = mt.unfold(mt.tensor(x), **window)
    c = data.draw(mst.arrays(cols.shape), label="c")
    folded = mt.fold(mt.tensor(c), shape[2:], **window)
    np.testing.assert_allclose(np.sum(cols.data * c), np.sum(x * folded.data), rtol=1e-10,
                               atol=1e-10)


# ------------------------------------------------------------- kinks and ties (golden)
def grad_of(fn, *inputs):
    """d sum(fn(inputs)) / d inputs, by one backward pass."""
    return [g.data for g in mt.autograd.grad(fn(*inputs).sum(), list(inputs))]


def test_relu_gradient_at_zero_is_zero():
    (g,) = grad_of(mt.relu, leaf([-1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(g, [0.0, 0.0, 1.0])


def test_abs_gradient_at_zero_is_zero():
    (g,) = grad_of(mt.abs, leaf([-2.0, 0.0, 3.0]))
    np.testing.assert_array_equal(g, [-1.0, 0.0, 1.0])


def test_leaky_relu_gradient_at_zero_is_the_negative_slope():
    (g,) = grad_of(lambda a: mt.leaky_relu(a, negative_slope=0.2), leaf([-1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(g, [0.2, 0.2, 1.0])


def test_elu_gradient_at_zero_is_alpha():
    (g,) = grad_of(lambda a: mt.elu(a, alpha=0.5), leaf([0.0, 1.0]))
    np.testing.assert_array_equal(g, [0.5, 1.0])


def test_maximum_of_equal_values_gives_half_the_gradient_to_each_side():
    ga, gb = grad_of(mt.maximum, leaf([1.0, 2.0, 3.0]), leaf([1.0, 5.0, 3.0]))
    np.testing.assert_array_equal(ga, [0.5, 0.0, 0.5])
    np.testing.assert_array_equal(gb, [0.5, 1.0, 0.5])


def test_minimum_of_equal_values_gives_half_the_gradient_to_each_side():
    ga, gb = grad_of(mt.minimum, leaf([1.0, 2.0, 3.0]), leaf([1.0, 5.0, 3.0]))
    np.testing.assert_array_equal(ga, [0.5, 1.0, 0.5])
    np.testing.assert_array_equal(gb, [0.5, 0.0, 0.5])


def test_maximum_of_a_tensor_with_itself_has_gradient_one():
    (g,) = grad_of(lambda a: mt.maximum(a, a), leaf([-1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(g, [1.0, 1.0, 1.0])


def test_amax_splits_the_gradient_evenly_between_tied_maxima():
    (g,) = grad_of(mt.amax, leaf([1.0, 3.0, 3.0]))
    np.testing.assert_array_equal(g, [0.0, 0.5, 0.5])


def test_max_along_a_dim_splits_the_gradient_evenly_between_tied_maxima():
    (g,) = grad_of(lambda a: mt.max(a, 1).values, leaf([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]))
    np.testing.assert_allclose(g, [[0.0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-15)


def test_amin_splits_the_gradient_evenly_between_tied_minima():
    (g,) = grad_of(mt.amin, leaf([1.0, 1.0, 3.0]))
    np.testing.assert_array_equal(g, [0.5, 0.5, 0.0])


def test_clamp_passes_the_gradient_at_exactly_the_boundaries():
    x = leaf([-1.0, -0.5, 0.0, 0.5, 1.0])
    (g,) = grad_of(lambda a: mt.clamp(a, -0.5, 0.5), x)
    np.testing.assert_array_equal(g, [0.0, 1.0, 1.0, 1.0, 0.0])
    (g,) = grad_of(lambda a: mt.clamp(a, min=-0.5), x)
    np.testing.assert_array_equal(g, [0.0, 1.0, 1.0, 1.0, 1.0])
    (g,) = grad_of(lambda a: mt.clamp(a, max=0.5), x)
    np.testing.assert_array_equal(g, [1.0, 1.0, 1.0, 1.0, 0.0])


def test_getitem_with_a_repeated_index_accumulates_the_gradient():
    (g,) = grad_of(lambda a: a[[0, 0, 1]], leaf([10.0, 20.0, 30.0]))
    np.testing.assert_array_equal(g, [2.0, 1.0, 0.0])


# ------------------------------------------- edge cases that once broke (0-d, single pieces)
def test_var_and_std_methods_have_the_gradient_of_the_functions():
    x = leaf([[1.0, 2.0, 4.0], [0.5, -1.0, 3.0]])
    assert_gradients_match(lambda a: a.var(1, correction=0), x)
    assert_gradients_match(lambda a: a.std(), x)


@pytest.mark.parametrize("fn", [mt.softmax, mt.log_softmax], ids=["softmax", "log_softmax"])
def test_softmax_of_a_0d_tensor_has_zero_gradient(fn):
    (g,) = grad_of(lambda a: fn(a, 0), leaf(1.5))
    assert g == 0.0


def test_transpose_of_a_0d_tensor_is_the_identity():
    assert_gradients_match(lambda a: a.transpose(0, -1), leaf(1.5))


@pytest.mark.parametrize("fn", [lambda a: mt.split(a, 2, 0)[0],
                                lambda a: mt.split(a, [2], 0)[0],
                                lambda a: mt.chunk(a, 1)[0]],
                         ids=["split_size_covering_the_dim", "one_section", "one_chunk"])
def test_split_into_a_single_piece_passes_the_gradient_through(fn):
    (g,) = grad_of(fn, leaf([[1.0], [2.0]]))
    np.testing.assert_array_equal(g, [[1.0], [1.0]])


def test_cat_of_a_single_tensor_has_a_correct_second_derivative():
    assert mt.testing.gradgradcheck(lambda a: mt.cat([a], 0), (leaf([[1.0], [2.0]]),))
