"""Check analytic gradients against central finite differences, in float64.

`gradcheck` compares the full Jacobian of every output with respect to every input;
`gradgradcheck` does the same for the gradient itself (second order), by checking the
function (inputs, v) -> vᵀJ built with create_graph=True.
"""
from __future__ import annotations

from typing import Callable, Sequence

from ..autograd import grad
from ..backend import xp
from ..tensor import Tensor, _wrap

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError", "numerical_jacobian",
           "analytical_jacobian"]


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with its finite-difference estimate."""


def _outputs(fn: Callable, inputs: Sequence) -> tuple:
    out = fn(*inputs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            raise TypeError(f"gradcheck: output {i} of the function is a "
                            f"{type(o).__name__}, not a Tensor")
    return tuple(outs)


def _as_float64(inputs: Sequence) -> tuple:
    """Copies of the inputs in float64; tensors that required grad still do."""
    out = []
    for x in inputs:
        if isinstance(x, Tensor) and x.dtype.kind == "f":
            t = _wrap(x.data.astype(xp.float64))
            t.requires_grad = x.requires_grad
            out.append(t)
        else:
            out.append(x)
    return tuple(out)


def _values(fn: Callable, inputs: Sequence) -> list:
    """Copies of the outputs' arrays (an output may be a view of an input we nudge)."""
    return [o.data.astype(xp.float64, copy=True) for o in _outputs(fn, inputs)]


def numerical_jacobian(fn: Callable, inputs: Sequence, eps: float = 1e-6) -> list:
    """jac[i][j]: d output j / d input i, shape (input size, output size), by central
    differences (each input element nudged by ±eps in place). Grad mode stays on: the
    function may itself call autograd (as gradgradcheck's does)."""
    base = _outputs(fn, inputs)
    jac = []
    for x in inputs:
        if not (isinstance(x, Tensor) and x.requires_grad):
            jac.append(None)
            continue
        flat = x.data.reshape(-1)  # a view: nudging it nudges x
        cols = [xp.zeros((flat.size, o.data.size)) for o in base]
        for k in range(flat.size):
            orig = flat[k]
            flat[k] = orig + eps
            plus = _values(fn, inputs)
            flat[k] = orig - eps
            minus = _values(fn, inputs)
            flat[k] = orig
            for c, p, m in zip(cols, plus, minus):
                c[k] = (p - m).reshape(-1) / (2 * eps)
        jac.append(cols)
    return jac


def analytical_jacobian(fn: Callable, inputs: Sequence) -> list:
    """The same layout as numerical_jacobian, by one backward pass per output element."""
    wrt = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    outs = _outputs(fn, inputs)
    jac = [[xp.zeros((x.data.size, o.data.size)) for o in outs]
           if isinstance(x, Tensor) and x.requires_grad else None for x in inputs]
    slots = [j for j in jac if j is not None]
    for oi, o in enumerate(outs):
        if not o.requires_grad:
            continue
        for e in range(o.data.size):
            seed = xp.zeros(o.shape, dtype=o.dtype)
            seed.reshape(-1)[e] = 1
            grads = grad(o, wrt, grad_outputs=Tensor(seed), retain_graph=True,
                         allow_unused=True)
            for cols, g, x in zip(slots, grads, wrt):
                if g is not None:
                    if g.shape != x.shape:
                        raise GradcheckError(
                            f"gradcheck: the gradient for an input of shape {x.shape} has "
                            f"shape {g.shape} (a missing broadcast reduction?)")
                    cols[oi][:, e] = g.data.reshape(-1)
    return jac


def _compare(analytic: list, numeric: list, inputs, atol: float, rtol: float,
             what: str) -> None:
    for i, (a_cols, n_cols) in enumerate(zip(analytic, numeric)):
        if a_cols is None:
            continue
        for oi, (a, n) in enumerate(zip(a_cols, n_cols)):
            err = xp.abs(a - n) - (atol + rtol * xp.abs(n))
            if a.size and (err > 0).any() or not xp.isfinite(a).all() and xp.isfinite(n).all():
                k, e = xp.unravel_index(xp.argmax(xp.where(xp.isnan(err), xp.inf, err)), a.shape)
                shape = inputs[i].shape
                idx = xp.unravel_index(k, shape) if shape else ()
                ratio = a[k, e] / n[k, e] if n[k, e] != 0 else float("inf")
                raise GradcheckError(
                    f"{what} mismatch for input {i} (shape {shape}) and output {oi}:\n"
                    f"  worst entry: d output[{e}] / d input{list(int(j) for j in idx)}\n"
                    f"  analytic = {float(a[k, e])!r}, numeric = {float(n[k, e])!r}, ratio = {ratio:.6g}\n"
                    f"  ({int((err > 0).sum())} of {a.size} entries exceed atol={atol}, "
                    f"rtol={rtol})")


def gradcheck(fn: Callable, inputs, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, raise_exception: bool = True) -> bool:
    """True when the analytic Jacobian of `fn` at `inputs` matches finite differences.

    Inputs that are floating tensors are copied to float64 first; only those with
    requires_grad are checked. On a mismatch raises GradcheckError naming the input, the
    output, the worst entry and the analytic and numeric values (or returns False).

    >>> import microtensor as mt
    >>> x = mt.tensor([0.5, -1.0, 2.0], dtype=mt.float64, requires_grad=True)
    >>> mt.testing.gradcheck(lambda t: (t * t.sin()).sum(), (x,))
    True
    """
    inputs = _as_float64((inputs,) if isinstance(inputs, Tensor) else tuple(inputs))
    try:
        _compare(analytical_jacobian(fn, inputs), numerical_jacobian(fn, inputs, eps),
                 inputs, atol, rtol, "gradient")
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def gradgradcheck(fn: Callable, inputs, grad_outputs=None, eps: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-3, seed: int = 0,
                  raise_exception: bool = True) -> bool:
    """Second-order check: gradcheck of (inputs, v) -> grad(fn(inputs), inputs, v) built
    with create_graph=True, so every VJP's own VJP is tested. `v` is drawn at random
    (seeded) unless `grad_outputs` is given."""
    inputs = _as_float64((inputs,) if isinstance(inputs, Tensor) else tuple(inputs))
    outs = _outputs(fn, inputs)
    rng = xp.random.default_rng(seed)
    if grad_outputs is None:
        grad_outputs = [Tensor(rng.standard_normal(o.shape), requires_grad=True)
                        for o in outs]
    else:
        grad_outputs = list(_as_float64(grad_outputs))
    n = len(inputs)
    wrt_pos = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]

    def first_order(*args):
        xs, vs = args[:n], args[n:]
        outs = _outputs(fn, xs)
        diff = [(o, v) for o, v in zip(outs, vs) if o.requires_grad]
        gs = grad([o for o, _ in diff], [xs[i] for i in wrt_pos],
                  grad_outputs=[v for _, v in diff], create_graph=True, allow_unused=True)
        return tuple(g if g is not None else _wrap(xp.zeros(xs[i].shape))
                     for g, i in zip(gs, wrt_pos))

    return gradcheck(first_order, tuple(inputs) + tuple(grad_outputs), eps=eps, atol=atol,
                     rtol=rtol, raise_exception=raise_exception)
