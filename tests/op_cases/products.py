"""The op-case rows of the products (microtensor/ops/products.py): the matmul forms,
outer, kron, addmm, cross, cdist, einsum and tensordot."""

from __future__ import annotations

import math

import hypothesis.strategies as st
import numpy as np
from hypothesis import assume

import microtensor as mt
from microtensor import ops

from .columns import (
    MAX_SIDE,
    OpCase,
    Sample,
    any_shape,
    broadcast_into,
    broadcastable,
    draw_tensors,
    ex,
)


# ------------------------------------------------------------- references in numpy
def cdist_ref(x1, x2, p):
    diff = np.abs(x1[..., :, None, :] - x2[..., None, :, :])
    if p == 0:
        return (diff != 0).sum(-1).astype(diff.dtype)
    if p == math.inf:
        return diff.max(-1)
    return (diff**p).sum(-1) ** (1 / p)


def tensordot_ref(a, b, dims):
    return np.tensordot(a, b, dims)


# ------------------------------------------------------------------------ operands
@st.composite
def operands_of(draw, subscripts: str) -> Sample:
    """Tensors whose shapes follow `subscripts` ("nk,km"): one drawn size per letter."""
    sizes = {c: draw(st.integers(1, MAX_SIDE)) for c in sorted(set(subscripts) - {","})}
    return Sample(
        draw_tensors(draw, [tuple(sizes[c] for c in term) for term in subscripts.split(",")])
    )


def product_row(name: str, subscripts: str, fn, reference, example):
    return OpCase(
        name, None, fn, reference, samples=operands_of(subscripts), examples=(ex(shapes=example),)
    )


EQUATIONS = [
    "ij,jk->ik",
    "ij,jk",
    "ii->i",
    "ii",
    "iij->j",
    "i,i->",
    "i,j->ij",
    "ij->ji",
    "bij,bjk->bik",
    "ij->",
    "i,->i",
    "ijk,ikl,j->li",
    "Ab,bA->A",
    "ij,j",
]


@st.composite
def einsum_operands(draw) -> Sample:
    """An equation of EQUATIONS (diagonals, sums, implicit outputs, scalars) whose
    operands have some dims of size 1 that broadcast against a subscript's size, or a
    batched matmul with '...' batch dims that broadcast."""
    if draw(st.booleans()):
        batch_a, batch_b = draw(broadcastable(2, max_dims=2))
        n, k, m = (draw(st.integers(1, MAX_SIDE)) for _ in range(3))
        return Sample(
            draw_tensors(draw, (batch_a + (n, k), batch_b + (k, m))),
            {"equation": "...ij,...jk->...ik"},
        )
    equation = draw(st.sampled_from(EQUATIONS))
    terms = equation.split("->")[0].split(",")
    sizes = {c: draw(st.integers(2, MAX_SIDE)) for c in set("".join(terms))}
    shapes = [
        tuple(1 if term.count(c) == 1 and draw(st.integers(0, 4)) == 0 else sizes[c] for c in term)
        for term in terms
    ]
    return Sample(draw_tensors(draw, shapes), {"equation": equation})


@st.composite
def tensordot_operands(draw) -> Sample:
    """a and b with 0 to 2 dims paired up: as a count of a's last (b's first) dims, or as
    lists of dims in any order."""
    k = draw(st.integers(0, 2))
    paired = [draw(st.integers(1, MAX_SIDE)) for _ in range(k)]
    a_rest, b_rest = draw(any_shape(max_dims=2)), draw(any_shape(max_dims=1))
    if draw(st.booleans()):
        return Sample(
            draw_tensors(draw, (a_rest + tuple(paired), tuple(paired) + b_rest)), {"dims": k}
        )
    a_dims = draw(st.permutations(range(len(a_rest) + k)))[:k]
    b_dims = draw(st.permutations(range(len(b_rest) + k)))[:k]
    a_shape, b_shape = list(a_rest), list(b_rest)
    for d, n in sorted(zip(a_dims, paired)):
        a_shape.insert(d, n)
    for d, n in sorted(zip(b_dims, paired)):
        b_shape.insert(d, n)
    return Sample(
        draw_tensors(draw, (tuple(a_shape), tuple(b_shape))), {"dims": (list(a_dims), list(b_dims))}
    )


@st.composite
def addmm_operands(draw) -> Sample:
    """input broadcasting to the product's shape, mat1, mat2, and the scales (beta = 0
    included: input is then not read)."""
    n, k, m = (draw(st.integers(1, MAX_SIDE)) for _ in range(3))
    inp = draw(broadcast_into((n, m)))
    return Sample(
        draw_tensors(draw, (inp, (n, k), (k, m))),
        {"beta": draw(st.sampled_from([1, 0, 0.5])), "alpha": draw(st.sampled_from([1, -2.0]))},
    )


@st.composite
def two_of_any_shape(draw) -> Sample:
    return Sample(draw_tensors(draw, (draw(any_shape(max_dims=2)), draw(any_shape(max_dims=2)))))


@st.composite
def cross_operands(draw) -> Sample:
    """Two tensors of one ndim with size 3 at `dim`, their other dims broadcasting (a
    size-1 dim in either)."""
    shape = draw(any_shape(max_dims=2))
    pairs = [draw(st.sampled_from([(n, n), (1, n), (n, 1)])) for n in shape]
    dim = draw(st.integers(0, len(shape)))
    pairs.insert(dim, (3, 3))
    signed = dim - len(pairs) if draw(st.booleans()) else dim
    return Sample(draw_tensors(draw, tuple(zip(*pairs))), {"dim": signed})


@st.composite
def cdist_operands(draw) -> Sample:
    """x1 (..., P, M) and x2 (..., R, M) with batch dims that broadcast, distinct values
    (no zero difference: |d|'s kink, nor a tie of the inf-norm), and p."""
    batch_a, batch_b = draw(broadcastable(2, max_dims=1))
    p_, r, m = (draw(st.integers(1, MAX_SIDE)) for _ in range(3))
    x1, x2 = draw_tensors(draw, (batch_a + (p_, m), batch_b + (r, m)), distinct=True)
    p = draw(st.sampled_from([2.0, 1.0, 3.0, 1.5, math.inf, 0.0]))
    if p == math.inf and m > 1:  # the largest difference of each pair is not tied
        diff = np.sort(
            np.abs(x1.numpy(force=True)[..., :, None, :] - x2.numpy(force=True)[..., None, :, :]),
            -1,
        )
        assume((diff[..., -1] - diff[..., -2] > 1e-3).all())
    return Sample((x1, x2), {"p": p})


ROWS = [
    product_row("mm", "nk,km", lambda a, b: a.mm(b), np.matmul, ((2, 3), (3, 4))),
    product_row("bmm", "bnk,bkm", lambda a, b: a.bmm(b), np.matmul, ((2, 2, 3), (2, 3, 1))),
    product_row("mv", "nk,k", lambda a, v: a.mv(v), np.matmul, ((2, 3), (3,))),
    product_row("dot", "k,k", lambda a, b: a.dot(b), np.dot, ((3,), (3,))),
    product_row("outer", "n,m", lambda a, b: a.outer(b), np.outer, ((2,), (3,))),
    OpCase(
        "kron",
        None,
        lambda a, b: a.kron(b),
        np.kron,
        samples=two_of_any_shape(),
        examples=(ex(shapes=((2, 1), (3,))),),
    ),
    OpCase(
        "addmm",
        None,
        lambda inp, m1, m2, beta, alpha: inp.addmm(m1, m2, beta=beta, alpha=alpha),
        lambda inp, m1, m2, beta, alpha: beta * inp + alpha * (m1 @ m2),
        samples=addmm_operands(),
        examples=(ex(shapes=((3,), (2, 4), (4, 3)), beta=0.5, alpha=2.0),),
    ),
    OpCase(
        "cross",
        ops.Cross,
        lambda a, b, dim: a.cross(b, dim),
        lambda a, b, dim: np.cross(a, b, axis=dim),
        broadcasts=True,
        samples=cross_operands(),
        examples=(
            ex(shapes=((2, 3), (1, 3)), dim=-1),
            ex("dim-0", shapes=((3, 2), (3, 2)), dim=0, broadcasts=False),
        ),
    ),
    OpCase(
        "cdist",
        ops.Cdist,
        mt.cdist,
        cdist_ref,
        distinct=True,
        broadcasts=True,
        samples=cdist_operands(),
        examples=(
            ex(shapes=((2, 3), (4, 3)), p=2.0, broadcasts=False),
            ex("batched-p3", shapes=((2, 1, 2, 2), (3, 1, 2)), p=3.0),
            ex(
                "inf",
                values=([[0.5, -1.0], [2.0, 0.25]], [[1.5, 1.75], [-2.5, 0.0]]),
                p=math.inf,
                broadcasts=False,
            ),
        ),
    ),
    OpCase(
        "einsum",
        ops.Einsum,
        lambda *operands, equation: mt.einsum(equation, *operands),
        lambda *arrays, equation: np.einsum(equation, *arrays),
        samples=einsum_operands(),
        examples=(
            ex(shapes=((2, 3), (3, 4)), equation="ij,jk->ik"),
            ex("diagonal", shapes=((3, 3, 2),), equation="iij->j"),
            ex("broadcast", shapes=((2, 1, 2, 3), (4, 3, 2)), equation="...ij,...jk->...ik"),
            ex("three", shapes=((2, 3, 1), (2, 2, 2), (3,)), equation="ijk,ikl,j->li"),
        ),
    ),
    OpCase(
        "tensordot",
        None,
        mt.tensordot,
        tensordot_ref,
        samples=tensordot_operands(),
        examples=(ex(shapes=((2, 3, 4), (4, 3, 2)), dims=([1, 2], [1, 0])),),
    ),
]
