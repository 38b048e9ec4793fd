"""Products of tensors beyond matmul, as PyTorch has them: the checked matmul forms (mm,
bmm, mv, dot), outer, kron, addmm, cross, cdist, and einsum with tensordot on it. An
einsum's VJP for each operand is itself an einsum, so its gradients of every order come
from one op."""

from __future__ import annotations

import functools
import math
import string
import warnings
from collections import Counter

from ..autograd import apply
from ..backend import ndarray, quiet, xp
from ..tensor import Tensor
from .arithmetic import matmul
from .base import Op, _dim, _t, method
from .elementwise import where
from .shape import reshape, unsqueeze

__all__ = [
    "mm",
    "bmm",
    "mv",
    "dot",
    "outer",
    "kron",
    "addmm",
    "cross",
    "cdist",
    "einsum",
    "tensordot",
]


# --------------------------------------------------------------------- matmul forms
_FORMS = {"mm": (2, 2), "bmm": (3, 3), "mv": (2, 1), "dot": (1, 1), "outer": (1, 1)}
_DIMS = {1: "1-D", 2: "2-D", 3: "3-D"}


def _operands(op: str, a, b) -> tuple:
    """a and b as tensors of the dims `op` takes, whose inner sizes align (but outer's)."""
    a, b = _t(a), _t(b)
    na, nb = _FORMS[op]
    if (a.ndim, b.ndim) != (na, nb):
        raise ValueError(
            f"{op}: expected {_DIMS[na]} and {_DIMS[nb]} tensors, got shapes "
            f"{a.shape} and {b.shape}"
        )
    ka, kb = a.shape[-1], b.shape[-2 if nb > 1 else 0]
    if op != "outer" and ka != kb:
        raise ValueError(f"{op}: shapes {a.shape} and {b.shape} do not align ({ka} != {kb})")
    if op == "bmm" and a.shape[0] != b.shape[0]:
        raise ValueError(
            f"bmm: shapes {a.shape} and {b.shape} have different batch sizes "
            f"({a.shape[0]} != {b.shape[0]})"
        )
    return a, b


def _checked_matmul(op: str, doc: str):
    """matmul for the operands of one of PyTorch's matmul forms, checked first."""

    def form(a: Tensor, b: Tensor) -> Tensor:
        return matmul(*_operands(op, a, b))

    form.__name__ = form.__qualname__ = op
    form.__doc__ = doc
    return method(form)


mm = _checked_matmul("mm", "The product of two matrices: (n, k) @ (k, m).")
bmm = _checked_matmul("bmm", "Batched matrix products, no broadcasting: (b, n, k) @ (b, k, m).")
mv = _checked_matmul("mv", "A matrix times a vector: (n, k) @ (k,).")
dot = _checked_matmul("dot", "The inner product of two vectors of one length: a 0-d tensor.")


@method
def outer(a: Tensor, b: Tensor) -> Tensor:
    """The outer product of two vectors: out[i, j] = a[i] * b[j]."""
    a, b = _operands("outer", a, b)
    return unsqueeze(a, 1) * b


@method
def kron(a: Tensor, b: Tensor) -> Tensor:
    """The Kronecker product: a block of b scaled by each element of a; the shorter shape
    gets leading 1s, and out.shape[i] = a.shape[i] * b.shape[i]."""
    a, b = _t(a), _t(b)
    n = max(a.ndim, b.ndim)
    sa, sb = (1,) * (n - a.ndim) + a.shape, (1,) * (n - b.ndim) + b.shape
    blocks = reshape(a, sum(((s, 1) for s in sa), ())) * reshape(b, sum(((1, s) for s in sb), ()))
    return reshape(blocks, tuple(p * q for p, q in zip(sa, sb)))


@method
def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:  # noqa: A002
    """beta * input + alpha * (mat1 @ mat2), input broadcast to the product's shape. With
    beta = 0 input is not read (its NaNs do not spread) and its gradient is zero, as in
    PyTorch."""
    product, input = mm(mat1, mat2), _t(input)
    if input.ndim > 2 or any(
        n not in (1, m) for n, m in zip(input.shape[::-1], product.shape[::-1])
    ):
        raise ValueError(
            f"addmm: input of shape {input.shape} does not broadcast to the "
            f"shape {product.shape} of the product of shapes {mat1.shape} and "
            f"{mat2.shape}"
        )
    if alpha != 1:
        product = product * alpha
    if beta == 0:
        return where(xp.zeros((), bool), input, product) if input.requires_grad else product
    return product + (input if beta == 1 else input * beta)


# ---------------------------------------------------------------------------- cross
class Cross(Op):
    """a x b along `dim`, batch dims broadcast; a's gradient is b x g, b's is g x a."""

    b_name = "cross"
    saves = (0, 1)

    def forward(a, b, dim):
        return xp.cross(a, b, axis=dim)

    def vjp(B, g, out, args, needs, dim):
        a, b = args
        return (
            B.cross(b, g, dim=dim) if needs[0] else None,
            B.cross(g, a, dim=dim) if needs[1] else None,
        )


@method
def cross(a: Tensor, b: Tensor, dim: int | None = None) -> Tensor:
    """The cross product of 3-vectors along `dim`. Without dim, as torch.cross (with its
    deprecation warning), the first dim of size 3; linalg.cross's default is -1."""
    a, b = _t(a), _t(b)
    if a.ndim != b.ndim:
        raise ValueError(
            f"cross: shapes {a.shape} and {b.shape} must have the same number of dimensions"
        )
    if dim is None:
        warnings.warn(
            "cross: without dim the first dim of size 3 is used, as in PyTorch, "
            "whose default will become -1; pass dim",
            UserWarning,
            stacklevel=2,
        )
        dim = next((d for d, n in enumerate(xp.broadcast_shapes(a.shape, b.shape)) if n == 3), None)
        if dim is None:
            raise ValueError(f"cross: no dim of size 3 in shapes {a.shape} and {b.shape}")
    d = _dim(dim, a.ndim, "cross")
    if (a.shape[d], b.shape[d]) != (3, 3):
        raise ValueError(f"cross: dim {d} of shapes {a.shape} and {b.shape} must have size 3")
    return apply(Cross, a, b, dim=d)


# ---------------------------------------------------------------------------- cdist
class Cdist(Op):
    """The p-norm distance between each row of x1 (..., P, M) and each of x2 (..., R, M).
    The gradient at a zero difference is 0 for every p, as PyTorch's (p = 2 at x1 = x2
    included); for p = inf every tied largest difference takes the whole gradient."""

    saves = (0, 1)
    save_output = True

    @quiet
    def forward(x1, x2, p):
        diff = xp.abs(x1[..., :, None, :] - x2[..., None, :, :])
        if p == 0:
            return (diff != 0).sum(-1).astype(diff.dtype)
        if p == 1:
            return diff.sum(-1)
        if p == 2:
            return xp.sqrt((diff * diff).sum(-1))
        if p == math.inf:
            return diff.max(-1, initial=0)
        return (diff**p).sum(-1) ** (1 / p)

    @quiet
    def vjp(B, g, out, args, needs, p):
        x1, x2 = args
        diff = B.unsqueeze(x1, x1.ndim - 1) - B.unsqueeze(x2, x2.ndim - 2)  # (..., P, R, M)
        g, d = B.unsqueeze(g, g.ndim), B.unsqueeze(out, out.ndim)
        if p == 0:
            each = diff * 0
        elif p == 1:
            each = g * B.sign(diff)
        elif p == 2:
            each = g * diff / B.where(d > 0, d, 1)
        elif p == math.inf:
            each = B.where(abs(diff) == d, g * B.sign(diff), 0)
        else:  # g * sign * (|diff| / d) ** (p - 1), and 0 where diff is 0 (for p < 1 too)
            ratio = abs(diff) / B.where(d > 0, d, 1)
            each = B.where(diff == 0, 0, g * B.sign(diff) * ratio ** (p - 1))
        n = each.ndim
        return (
            B.sum(each, dim=(n - 2,), keepdim=False) if needs[0] else None,
            -B.sum(each, dim=(n - 3,), keepdim=False) if needs[1] else None,
        )


def cdist(
    x1: Tensor,
    x2: Tensor,
    p: float = 2.0,
    compute_mode: str = "use_mm_for_euclid_dist_if_necessary",
) -> Tensor:
    """Distances between the rows of x1 (..., P, M) and of x2 (..., R, M): (..., P, R),
    batch dims broadcast. Every compute_mode computes the differences directly (PyTorch
    may use x1 @ x2.T for p = 2, which is faster and less exact)."""
    x1, x2 = _t(x1), _t(x2)
    if compute_mode not in (
        "use_mm_for_euclid_dist_if_necessary",
        "use_mm_for_euclid_dist",
        "donot_use_mm_for_euclid_dist",
    ):
        raise ValueError(f"cdist: unknown compute_mode {compute_mode!r}")
    if x1.ndim < 2 or x2.ndim < 2 or x1.shape[-1] != x2.shape[-1]:
        raise ValueError(
            f"cdist: expected shapes (..., P, M) and (..., R, M), got {x1.shape} and {x2.shape}"
        )
    if x1.dtype.kind != "f" or x2.dtype.kind != "f":
        raise TypeError(f"cdist: needs floating tensors, got {x1.dtype} and {x2.dtype}")
    if not p >= 0:
        raise ValueError(f"cdist: p must be non-negative, got {p}")
    try:
        xp.broadcast_shapes(x1.shape[:-2], x2.shape[:-2])
    except ValueError:
        raise ValueError(
            f"cdist: batch dimensions of shapes {x1.shape} and {x2.shape} do not broadcast"
        ) from None
    return apply(Cdist, x1, x2, p=float(p))


# --------------------------------------------------------------------------- einsum
class Einsum(Op):
    """numpy's einsum on an equation whose every subscript has one size (see einsum).
    The gradient of operand i is the einsum of g with the other operands, giving i's
    subscripts; a subscript i repeats (a diagonal) is put back with an identity matrix,
    and one that appears nowhere else (summed over in i alone) with a vector of ones."""

    b_name = "einsum"

    def forward(*arrays, equation):
        # numpy's path optimizer costs ~10 us a call, but contracts pairs with BLAS: numpy's
        # own loop takes ~130 us for a (32, 64) @ (64, 16) that BLAS does in 5
        out = xp.einsum(equation, *arrays, optimize=len(arrays) > 1)
        if (
            isinstance(out, ndarray)
            and out.base is not None
            and any(xp.may_share_memory(out, a) for a in arrays)
        ):
            out = out.copy()  # numpy gives a view for 'ij->ji' or 'ii->i': a copy, always
        return out

    def vjp(B, g, out, args, needs, equation):
        lhs, result = equation.split("->")
        terms = lhs.split(",")
        fresh = _fresh(equation)
        grads = []
        for i, term in enumerate(terms):
            if not needs[i]:
                grads.append(None)
                continue
            subs = [result] + [t for j, t in enumerate(terms) if j != i]
            operands = [g] + [a for j, a in enumerate(args) if j != i]
            seen, target, dtype = set("".join(subs)), "", args[i].dtype
            for c, n in zip(term, args[i].shape):
                if c in target:  # a diagonal: spread the gradient over it with eye(n)
                    target += next(fresh)
                    subs.append(c + target[-1])
                    operands.append(xp.eye(n, dtype=dtype))
                    continue
                if c not in seen:  # summed over in this operand alone: broadcast back
                    subs.append(c)
                    operands.append(xp.ones(n, dtype=dtype))
                    seen.add(c)
                target += c
            grads.append(B.einsum(*operands, equation=",".join(subs) + "->" + target))
        return tuple(grads)


def _fresh(used: str):
    """Subscripts not in `used`, one at a time; an error when the 52 letters run out."""
    for c in string.ascii_letters:
        if c not in used:
            yield c
    raise ValueError("einsum: the equation needs more than 52 distinct subscripts")


def einsum(equation: str, *operands) -> Tensor:
    """Einstein summation, as torch.einsum: `einsum("ij,jk->ik", a, b)` (operands also as
    one list). Subscripts are letters; a subscript repeated in an operand takes its
    diagonal; '...' stands for the dims no letter names, which broadcast; without '->'
    the output is '...' and then the subscripts used once, sorted; size-1 dims broadcast
    against a subscript's size. Always a new tensor (PyTorch may give a view)."""
    if not isinstance(equation, str):
        raise TypeError(
            "einsum: the sublist form einsum(a, [0, 1], b, [1, 2]) is not "
            "supported; give the equation as a string, e.g. 'ij,jk->ik'"
        )
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    tensors = [_t(o) for o in operands]
    return apply(Einsum, *tensors, equation=_explicit(equation, tuple(t.shape for t in tensors)))


@functools.lru_cache(maxsize=256)  # a model calls the same few equations on the same shapes
def _explicit(equation: str, shapes: tuple) -> str:
    """The equation as numpy reads it with PyTorch's meaning: '...' and an implicit
    output written out, and a size-1 dim that broadcasts given a subscript of its own."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    bad = next(
        (c for c in eq.replace("->", "").replace("...", "") if c not in string.ascii_letters + ","),
        None,
    )
    if bad is not None or (arrow and "-" in rhs) or rhs.count("...") > 1:
        raise ValueError(
            f"einsum: invalid equation {equation!r}: subscripts are letters, "
            f"with one '...' at most per operand and one '->'"
        )
    if len(terms) != len(shapes):
        raise ValueError(
            f"einsum: the equation {equation!r} names {len(terms)} operands, got {len(shapes)}"
        )
    fresh = _fresh(eq)
    spans = []  # how many dims each operand's '...' covers
    for i, (term, shape) in enumerate(zip(terms, shapes)):
        named = len(term.replace("...", ""))
        if term.count("...") > 1 or (
            len(shape) != named if "..." not in term else len(shape) < named
        ):
            raise ValueError(
                f"einsum: operand {i} has shape {shape}, which the subscripts "
                f"{term!r} of {equation!r} do not fit"
            )
        spans.append(len(shape) - named)
    ell = "".join(next(fresh) for _ in range(max(spans, default=0)))
    terms = [term.replace("...", ell[len(ell) - k :]) for term, k in zip(terms, spans)]
    if arrow:
        out = rhs.replace("...", ell)
        lost = next((c for c in out if c not in lhs + ell or out.count(c) > 1), None)
        if lost is not None:
            raise ValueError(
                f"einsum: output subscript {lost} of {equation!r} appears in "
                f"no operand, or twice in the output"
            )
    else:
        once = Counter(lhs.replace("...", "").replace(",", ""))
        out = ell + "".join(sorted(c for c, k in once.items() if k == 1))
    size: dict = {}
    for i, (term, shape) in enumerate(zip(terms, shapes)):
        for j, (c, n) in enumerate(zip(term, shape)):
            if term.index(c) < j and shape[term.index(c)] != n:
                raise ValueError(
                    f"einsum: subscript {c} repeats in operand {i} of shape "
                    f"{shape} with sizes {shape[term.index(c)]} and {n}"
                )
            if size.get(c, 1) == 1:
                size[c] = n
            elif n not in (1, size[c]):
                raise ValueError(
                    f"einsum: subscript {c} has size {n} in operand {i} of shape "
                    f"{shape}, which does not broadcast with its size {size[c]} "
                    f"elsewhere (shapes {', '.join(map(str, shapes))})"
                )
    for i, (term, shape) in enumerate(zip(terms, shapes)):
        own: dict = {}  # a broadcast size-1 dim: a subscript of this operand alone
        terms[i] = "".join(
            own.setdefault(c, next(fresh)) if n == 1 != size[c] else c for c, n in zip(term, shape)
        )
    return ",".join(terms) + "->" + out


def tensordot(a: Tensor, b: Tensor, dims=2) -> Tensor:
    """Sum over the last `dims` dims of a and the first of b, or over the dims listed in
    `dims = (dims_a, dims_b)`; the remaining dims of a, then of b."""
    a, b = _t(a), _t(b)
    if isinstance(dims, int):
        if not 0 <= dims <= min(a.ndim, b.ndim):
            raise ValueError(f"tensordot: dims={dims} does not fit shapes {a.shape} and {b.shape}")
        da, db = tuple(range(a.ndim - dims, a.ndim)), tuple(range(dims))
    else:
        da, db = ((d,) if isinstance(d, int) else tuple(d) for d in dims)
        da = tuple(_dim(d, a.ndim, "tensordot") for d in da)
        db = tuple(_dim(d, b.ndim, "tensordot") for d in db)
    if (
        len(da) != len(db)
        or len(set(da)) != len(da)
        or len(set(db)) != len(db)
        or any(a.shape[i] != b.shape[j] for i, j in zip(da, db))
    ):
        raise ValueError(
            f"tensordot: dims {da} of shape {a.shape} and {db} of shape "
            f"{b.shape} do not pair up dims of equal sizes"
        )
    letters = string.ascii_letters
    sa = letters[: a.ndim]
    sb = [letters[a.ndim + j] for j in range(b.ndim)]
    for i, j in zip(da, db):
        sb[j] = sa[i]
    out = "".join(c for i, c in enumerate(sa) if i not in da) + "".join(
        c for j, c in enumerate(sb) if j not in db
    )
    return apply(Einsum, a, b, equation=f"{sa},{''.join(sb)}->{out}")
