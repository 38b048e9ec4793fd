"""The shaping ops and products of PyTorch's API beyond what the op-case table checks
(tests/op_cases/rearrange.py and products.py): aliases, which results are views and
which copies, in-place changes through the views, gradients where finite differences
cannot go (cdist at zero distance, beta = 0), and errors that name the op and shapes.
Values marked "PyTorch 2.13" were recorded from torch 2.13 (CPU) on the same inputs;
the others are written from the formula in the comment."""

import math

import numpy as np
import pytest
from helpers import leaf

import microtensor as mt

X = np.arange(24.0).reshape(2, 3, 4)


# ---------------------------------------------------------------------------- aliases
def test_moveaxis_swapaxes_and_swapdims_are_movedim_and_transpose():
    assert mt.moveaxis is mt.movedim and mt.Tensor.moveaxis is mt.Tensor.movedim
    assert mt.swapaxes is mt.transpose and mt.swapdims is mt.transpose
    assert mt.Tensor.swapaxes is mt.Tensor.transpose is mt.Tensor.swapdims


def test_t_transposes_a_matrix_and_keeps_a_vector_or_scalar():
    assert mt.tensor(X[0]).t().shape == (4, 3)
    assert mt.ones(3).t().shape == (3,) and mt.tensor(2.0).t().shape == ()


def test_movedim_of_a_0_d_tensor_keeps_it():
    assert mt.tensor(2.0).movedim(0, -1).shape == ()


def test_squeeze_takes_a_tuple_of_dims_and_keeps_those_not_of_size_1():
    assert mt.zeros(1, 2, 1, 1).squeeze((0, -1, 1)).shape == (2, 1)


def test_tile_and_repeat_take_sizes_as_arguments_or_as_a_tuple():
    x = mt.tensor(X[0])
    assert x.tile(2).shape == mt.tile(x, (2,)).shape == (3, 8)  # fewer sizes: last dims
    assert x.repeat(2, 1, 1).shape == x.repeat((2, 1, 1)).shape == (2, 3, 4)


def test_flip_takes_dims_as_arguments_or_as_a_tuple():
    x = mt.tensor(X)
    np.testing.assert_array_equal(x.flip(0, 2).numpy(force=True), X[::-1, :, ::-1])
    np.testing.assert_array_equal(mt.flip(x, [-1]).numpy(force=True), X[..., ::-1])


def test_roll_without_dims_rolls_the_flattened_tensor():
    np.testing.assert_array_equal(
        mt.tensor(X).roll(-7).numpy(force=True),
        np.concatenate([X.ravel()[7:], X.ravel()[:7]]).reshape(X.shape),
    )


def test_repeat_interleave_of_counts_alone_gives_the_repeated_indices():
    out = mt.repeat_interleave(mt.tensor([1, 2, 0, 1]))
    np.testing.assert_array_equal(out.numpy(force=True), [0, 1, 1, 3])
    assert out.dtype == np.int64


def test_repeat_interleave_with_counts_along_a_dim_and_its_gradient():
    x = leaf([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    y = x.repeat_interleave(mt.tensor([2, 0, 1]), dim=1)
    np.testing.assert_array_equal(y.numpy(force=True), [[1, 1, 3], [4, 4, 6]])  # PyTorch 2.13
    (y * mt.tensor(np.arange(6.0).reshape(2, 3))).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(force=True), [[1, 0, 2], [7, 0, 5]])  # PyTorch 2.13


def test_hstack_vstack_dstack_and_column_stack_grow_0_d_and_1_d_tensors_as_numpy():
    a, b = mt.tensor(1.0), mt.tensor(2.0)
    assert mt.hstack([a, b]).shape == (2,) and mt.vstack([a, b]).shape == (2, 1)
    assert mt.dstack([a, b]).shape == (1, 1, 2) and mt.column_stack([a, b]).shape == (1, 2)
    assert mt.column_stack([mt.ones(3), mt.ones(3, 2)]).shape == (3, 3)


def test_products_keep_an_integer_dtype():
    assert mt.mm(mt.tensor([[1, 2]]), mt.tensor([[3], [4]])).dtype == np.int64
    assert mt.tensor([1, 2]).flip(0).dtype == mt.tensor([1, 2]).repeat(2).dtype == np.int64


def test_kron_puts_a_scaled_copy_of_b_at_each_element_of_a():
    out = mt.kron(mt.tensor([[1.0, 2.0]]), mt.tensor([[0.0, 1.0], [1.0, 0.0]]))
    np.testing.assert_array_equal(
        out.numpy(force=True), [[0, 1, 0, 2], [1, 0, 2, 0]]
    )  # PyTorch 2.13


def test_cross_of_the_x_and_y_unit_vectors_is_the_z_unit_vector():
    ex, ey = mt.tensor([1.0, 0.0, 0.0]), mt.tensor([0.0, 1.0, 0.0])
    np.testing.assert_array_equal(mt.cross(ex, ey, dim=0).numpy(force=True), [0, 0, 1])


def test_cross_without_dim_uses_the_first_dim_of_size_3_and_warns_as_pytorch():
    a, b = mt.tensor(np.eye(3)), mt.tensor(np.roll(np.eye(3), 1, axis=0))
    with pytest.warns(UserWarning, match="cross: without dim"):
        out = mt.cross(a, b)
    np.testing.assert_array_equal(
        out.numpy(force=True), np.cross(a.numpy(force=True), b.numpy(force=True), axis=0)
    )


# ------------------------------------------------------------------------------ einsum
def test_einsum_sums_the_dims_of_an_ellipsis_the_output_leaves_out():
    out = mt.einsum("...ij->ij", mt.tensor(X))  # numpy refuses this equation
    np.testing.assert_array_equal(out.numpy(force=True), X.sum(0))  # PyTorch 2.13 gives the same


def test_einsum_implicit_output_sorts_upper_case_before_lower_case():
    a, b = mt.ones(2, 3), mt.ones(3, 4)
    assert mt.einsum("Ab,ba", a, b).shape == (2, 4)  # "Aa", as PyTorch 2.13


def test_einsum_takes_its_operands_as_a_list_and_spaces_in_the_equation():
    a, b = mt.ones(2, 2, 3), mt.ones(2, 3, 4)
    assert mt.einsum("b ij, bjk -> bik", [a, b]).shape == (2, 2, 4)


def test_the_gradient_of_a_trace_by_einsum_is_the_identity():
    a = leaf([[1.0, 2.0], [3.0, 4.0]])
    mt.einsum("ii->", a).backward()
    np.testing.assert_array_equal(a.grad.numpy(force=True), np.eye(2))


def test_einsum_and_its_second_derivative_through_a_diagonal():
    a = leaf([[1.0, 2.0], [3.0, 4.0]])
    (g,) = mt.autograd.grad(mt.einsum("ii->", a * a), [a], create_graph=True)
    np.testing.assert_array_equal(
        g.numpy(force=True), [[2, 0], [0, 8]]
    )  # d/da sum(a_ii^2) = 2 a_ii
    (gg,) = mt.autograd.grad(g.sum(), [a])
    np.testing.assert_array_equal(gg.numpy(force=True), 2 * np.eye(2))


def test_tensordot_pairs_the_dims_listed():
    a, b = np.arange(24.0).reshape(2, 3, 4), np.arange(24.0).reshape(4, 3, 2)
    out = mt.tensordot(mt.tensor(a), mt.tensor(b), dims=([1, 2], [1, 0]))
    np.testing.assert_array_equal(out.numpy(force=True), np.tensordot(a, b, ([1, 2], [1, 0])))


# ----------------------------------------------------------------------- views, copies
VIEWS = {  # name: (the view of a (2, 3, 4) tensor, the same view of a numpy array)
    "narrow": (lambda x: x.narrow(1, -2, 2), lambda a: a[:, 1:]),
    "movedim": (lambda x: x.movedim(0, -1), lambda a: np.moveaxis(a, 0, -1)),
    "swapaxes": (lambda x: x.swapaxes(0, 1), lambda a: a.swapaxes(0, 1)),
    "unflatten": (lambda x: x.unflatten(2, (2, 2)), lambda a: a.reshape(2, 3, 2, 2)),
    "unbind": (lambda x: x.unbind(1)[2], lambda a: a[:, 2]),
    "t": (lambda x: x[1].t(), lambda a: a[1].T),
    "view_as": (lambda x: x.view_as(mt.zeros(6, 4)), lambda a: a.reshape(6, 4)),
    "expand_as": (lambda x: x[:1].expand_as(mt.zeros(3, 3, 4)), lambda a: a[:1]),
}


@pytest.mark.parametrize("name", VIEWS)
def test_a_view_shares_the_memory_of_its_base(name):
    x = mt.tensor(X)
    assert np.shares_memory(VIEWS[name][0](x).numpy(force=True), x.numpy(force=True))


@pytest.mark.parametrize("name", [n for n in VIEWS if n != "expand_as"])
def test_an_in_place_change_through_a_view_reaches_the_base_and_its_gradient(name):
    view, numpy_view = VIEWS[name]
    x = leaf(X)
    y = x * 1.0
    view(y)[0].mul_(3.0)  # the first slice of the view, tripled in y
    y.sum().backward()
    expected = np.ones_like(X)
    numpy_view(expected)[0] *= 3.0
    np.testing.assert_array_equal(y.numpy(force=True), X * expected)
    np.testing.assert_array_equal(x.grad.numpy(force=True), expected)


@pytest.mark.parametrize(
    "copy",
    [
        lambda x: x.flip(0),
        lambda x: x.roll(1, 2),
        lambda x: x.repeat(1, 1, 1),
        lambda x: x.tile(1),
        lambda x: x.repeat_interleave(1, dim=0),
        lambda x: mt.einsum("ijk->kji", x),
        lambda x: mt.einsum("ijk->ijk", x),
    ],
)
def test_flip_roll_repeat_tile_repeat_interleave_and_einsum_give_new_memory(copy):
    x = mt.tensor(X)
    assert not np.shares_memory(copy(x).numpy(force=True), x.numpy(force=True))


# -------------------------------------------------------------------- cdist and addmm
X1, X2 = [[0.0, 0.0], [1.0, 2.0]], [[0.0, 0.0], [3.0, 2.0], [2.0, 4.0]]
CDIST = {  # p: (distances, x1.grad, x2.grad) of cdist(X1, X2, p).sum(), PyTorch 2.13
    2.0: (
        [[0.0, 3.6056, 4.4721], [2.2361, 2.0, 2.2361]],
        [[-1.2792638898378017, -1.4491273872251451], [-1.0, 0.0]],
        [
            [-0.4472135954999579, -0.8944271909999159],
            [1.8320502943378436, 0.5547001962252291],
            [0.8944271909999159, 1.7888543819998317],
        ],
    ),
    1.0: (
        [[0.0, 5.0, 6.0], [3.0, 2.0, 3.0]],
        [[-2.0, -2.0], [-1.0, 0.0]],
        [[-1.0, -1.0], [2.0, 1.0], [2.0, 2.0]],
    ),
    3.0: (
        [[0.0, 3.2711, 4.1602], [2.0801, 2.0, 2.0801]],
        [[-1.0722517616891822, -1.2983178488700184], [-1.0, 0.0]],
        [
            [-0.2311204247835449, -0.9244816991341795],
            [1.8411313369056375, 0.37383614973583884],
            [0.4622408495670898, 1.848963398268359],
        ],
    ),
    0.0: (
        [[0.0, 2.0, 2.0], [2.0, 1.0, 2.0]],
        [[0.0, 0.0], [0.0, 0.0]],
        [[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]],
    ),
    0.5: (
        [[0.0, 9.899, 11.6569], [5.8284, 2.0, 5.8284]],
        [[-4.230710143300821, -3.9318516525781364], [-1.0, 0.0]],
        [
            [-2.414213562373095, -1.7071067811865475],
            [2.8164965809277263, 2.224744871391589],
            [4.82842712474619, 3.414213562373095],
        ],
    ),
    math.inf: (
        [[0.0, 3.0, 4.0], [2.0, 2.0, 2.0]],
        [[-1.0, -1.0], [-1.0, 0.0]],
        [[0.0, -1.0], [2.0, 0.0], [0.0, 2.0]],
    ),
}


@pytest.mark.parametrize("p", CDIST)
def test_cdist_and_its_gradient_are_pytorchs_with_zero_distances_and_differences(p):
    """X1[0] == X2[0] (distance 0: gradient 0), and zero differences in one coordinate
    (X1[1] and X2[1]: gradient 0 there even for p < 1); for p = inf, the ties."""
    x1, x2 = leaf(X1), leaf(X2)
    d = mt.cdist(x1, x2, p=p)
    d.sum().backward()
    distances, g1, g2 = CDIST[p]
    np.testing.assert_allclose(d.numpy(force=True), distances, atol=5e-5)
    np.testing.assert_allclose(x1.grad.numpy(force=True), g1, rtol=1e-12)
    np.testing.assert_allclose(x2.grad.numpy(force=True), g2, rtol=1e-12)


def test_cdist_of_a_point_to_itself_has_a_zero_gradient_at_every_order():
    x = leaf([[1.0, 2.0]])
    (g,) = mt.autograd.grad(mt.cdist(x, x.detach()).sum(), [x], create_graph=True)
    np.testing.assert_array_equal(g.numpy(force=True), [[0.0, 0.0]])


def test_addmm_with_beta_0_ignores_the_input_nans_and_gives_it_a_zero_gradient():
    a, inp = leaf([[1.0, 2.0], [3.0, 4.0]]), leaf([[math.nan, 1.0]])
    y = mt.addmm(inp, a, a, beta=0, alpha=2)
    np.testing.assert_array_equal(y.numpy(force=True), [[14, 20], [30, 44]])  # PyTorch 2.13
    y.sum().backward()
    np.testing.assert_array_equal(inp.grad.numpy(force=True), [[0, 0]])  # PyTorch 2.13
    np.testing.assert_array_equal(a.grad.numpy(force=True), [[14, 22], [18, 26]])  # PyTorch 2.13


# ------------------------------------------------------------------------------ errors
M23, M45, V3 = mt.ones(2, 3), mt.ones(4, 5), mt.ones(3)
ERRORS = [
    (lambda: mt.mm(M23, M45), r"mm: shapes \(2, 3\) and \(4, 5\) do not align \(3 != 4\)"),
    (lambda: mt.mm(M23, V3), r"mm: expected 2-D and 2-D tensors, got shapes \(2, 3\) and \(3,\)"),
    (
        lambda: mt.bmm(mt.ones(2, 2, 3), mt.ones(3, 3, 1)),
        r"bmm: shapes \(2, 2, 3\) and \(3, 3, 1\) have different batch sizes \(2 != 3\)",
    ),
    (lambda: mt.mv(M23, mt.ones(2)), r"mv: shapes \(2, 3\) and \(2,\) do not align"),
    (lambda: mt.dot(V3, mt.ones(4)), r"dot: shapes \(3,\) and \(4,\) do not align"),
    (lambda: mt.outer(M23, V3), r"outer: expected 1-D and 1-D tensors, got shapes \(2, 3\)"),
    (
        lambda: mt.addmm(mt.ones(5, 2, 5), M23, mt.ones(3, 5)),
        r"addmm: input of shape \(5, 2, 5\) does not broadcast to the shape \(2, 5\)",
    ),
    (lambda: mt.cross(M23, M23, dim=0), r"cross: dim 0 of shapes \(2, 3\) and \(2, 3\) must"),
    (lambda: mt.cross(V3, mt.ones(2, 3), dim=-1), r"cross: shapes \(3,\) and \(2, 3\) must have"),
    (
        lambda: mt.cdist(M23, mt.ones(2, 4)),
        r"cdist: expected shapes \(\.\.\., P, M\) and "
        r"\(\.\.\., R, M\), got \(2, 3\) and \(2, 4\)",
    ),
    (lambda: mt.cdist(M23, M23, p=-1), "cdist: p must be non-negative, got -1"),
    (lambda: mt.cdist(M23, M23, compute_mode="fast"), "cdist: unknown compute_mode 'fast'"),
    (lambda: mt.einsum("ij,jk", M23), "einsum: the equation 'ij,jk' names 2 operands, got 1"),
    (
        lambda: mt.einsum("ij,jk", M23, M45),
        r"einsum: subscript j has size 4 in operand 1 of shape \(4, 5\), which does not "
        r"broadcast with its size 3",
    ),
    (
        lambda: mt.einsum("ii", M23),
        r"einsum: subscript i repeats in operand 0 of shape "
        r"\(2, 3\) with sizes 2 and 3",
    ),
    (
        lambda: mt.einsum("ijk", M23),
        r"einsum: operand 0 has shape \(2, 3\), which the "
        r"subscripts 'ijk'",
    ),
    (lambda: mt.einsum("ij->iz", M23), "einsum: output subscript z of 'ij->iz' appears in no"),
    (lambda: mt.einsum("i1", M23), r"einsum: invalid equation 'i1'"),
    (
        lambda: mt.tensordot(M23, M45, dims=1),
        r"tensordot: dims \(1,\) of shape \(2, 3\) and "
        r"\(0,\) of shape \(4, 5\) do not pair up",
    ),
    (
        lambda: mt.t(mt.tensor(X)),
        r"t: expects a tensor of at most 2 dimensions, got shape "
        r"\(2, 3, 4\)",
    ),
    (
        lambda: mt.tensor(X).repeat(2, 2),
        r"repeat: sizes \(2, 2\) must be non-negative and at "
        r"least as many as the 3 dims of shape \(2, 3, 4\)",
    ),
    (
        lambda: mt.tensor(X).narrow(1, 2, 2),
        r"narrow: start 2 \+ length 2 exceeds the size 3 "
        r"of dim 1 \(shape \(2, 3, 4\)\)",
    ),
    (lambda: mt.tensor(X).flip(0, 0), r"flip: dim \(0, 0\) names a dimension twice"),
    (lambda: mt.tensor(X).roll((1, 2), 0), r"roll: shifts \(1, 2\) and dims \(0,\) must"),
    (
        lambda: mt.tensor(X).unflatten(2, (3, -1)),
        r"unflatten: sizes \(3, -1\) do not multiply up to the size 4 of dim 2",
    ),
    (
        lambda: mt.tensor(X).movedim((0, 0), (1, 2)),
        r"movedim: source \(0, 0\) names a "
        r"dimension twice",
    ),
    (lambda: V3.fliplr(), r"fliplr: needs a tensor of at least 2 dimensions, got shape \(3,\)"),
    (lambda: mt.tensor(1.0).unbind(), "unbind: a 0-d tensor has no dim to unbind"),
    (lambda: mt.tensor(1.0).unflatten(0, (1,)), "unflatten: a 0-d tensor has no dim"),
    (lambda: mt.tensor(1.0).narrow(0, 0, 1), "narrow: a 0-d tensor has no dim to narrow"),
    (
        lambda: mt.tensor(X).repeat_interleave(mt.tensor([1, 2]), dim=1),
        "repeat_interleave: 2 repeats for the 3 elements along the dim",
    ),
    (lambda: V3.repeat_interleave(-1), "repeat_interleave: repeats must be non-negative"),
    (
        lambda: V3.repeat_interleave(2, output_size=5),
        "repeat_interleave: output_size is 5, but the repeats give 6 elements",
    ),
    (lambda: mt.vstack([]), "vstack: expected a non-empty list of tensors"),
]


@pytest.mark.parametrize("call, message", ERRORS, ids=lambda v: v if isinstance(v, str) else "")
def test_a_bad_argument_is_an_error_naming_the_op_and_shapes(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: mt.einsum(M23, [0, 1]), "einsum: the sublist form"),
        (lambda: mt.cdist(mt.ones(2, 3, dtype=mt.int64), M23), "cdist: needs floating tensors"),
        (
            lambda: V3.repeat_interleave(mt.tensor([1.0, 2.0, 1.0])),
            "repeat_interleave: repeats must be an integer tensor",
        ),
    ],
)
def test_an_argument_of_the_wrong_type_is_a_type_error_naming_the_op(call, message):
    with pytest.raises(TypeError, match=message):
        call()
