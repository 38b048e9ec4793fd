"""Check analytic gradients against finite differences, in float64 by default.

Two ways to compare, as JAX's check_grads does:
  full         the whole Jacobian, one backward per output element and two function
               evaluations per input element: exact localisation, small inputs only;
  directional  vᵀJu for random directions u (inputs) and v (outputs): one backward and
               two evaluations per direction, whatever the size (a 1000x1000 matmul
               takes a fraction of a second).
Higher orders check the gradient function itself: (x, v) -> vᵀJ(x), built with
create_graph=True, is checked the same way (and its own gradient for order 3).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..autograd import grad
from ..backend import xp
from ..tensor import Tensor, _wrap

__all__ = [
    "check_grads",
    "gradcheck",
    "gradgradcheck",
    "GradcheckError",
    "CheckReport",
    "numerical_jacobian",
    "analytical_jacobian",
]

# eps, atol, rtol by dtype: the step balances truncation against roundoff.
TOLERANCES = {
    xp.dtype(xp.float64): (1e-6, 1e-5, 1e-3),
    xp.dtype(xp.float32): (1e-3, 1e-2, 1e-2),
    xp.dtype(xp.float16): (1e-2, 1e-1, 1e-1),
}


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with its finite-difference estimate."""


def _outputs(fn: Callable, inputs: Sequence) -> tuple:
    out = fn(*inputs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            raise TypeError(
                f"gradcheck: output {i} of the function is a {type(o).__name__}, not a Tensor"
            )
    return tuple(outs)


def _values(fn: Callable, inputs: Sequence) -> list:
    """Copies of the outputs' arrays (an output may be a view of an input we nudge)."""
    return [o._data.astype(xp.float64, copy=True) for o in _outputs(fn, inputs)]


def _cast(inputs: Sequence, dtype) -> tuple:
    """Copies of the inputs (in `dtype` when given); tensors that required grad still do."""
    out = []
    for x in inputs:
        if isinstance(x, Tensor) and x.dtype.kind == "f":
            # C order, so that reshape(-1) in numerical_jacobian is a view we can nudge
            t = _wrap(x._data.astype(dtype or x.dtype, order="C", copy=True))
            t.requires_grad = x.requires_grad
            out.append(t)
        else:
            out.append(x)
    return tuple(out)


def _wrt(inputs: Sequence) -> list:
    return [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]


def _hint(ratio: float, analytic, numeric) -> str:
    """What a typical wrong VJP looks like from the outside."""
    if not xp.isfinite(analytic):
        return "the analytic gradient is not finite: a division by zero or log(0) in the VJP?"
    if analytic == 0 and numeric != 0:
        return "the analytic gradient is zero: a path the VJP drops, or a detached tensor?"
    for target, text in (
        (-1.0, "a ratio of -1 means a flipped sign"),
        (2.0, "a ratio of 2 means a gradient counted twice"),
        (0.5, "a ratio of 0.5 means a missing factor 2 (or half counted)"),
    ):
        if abs(ratio - target) < 0.05 * abs(target):
            return text
    return "compare the VJP's formula with the derivative of the forward"


def numerical_jacobian(fn: Callable, inputs: Sequence, eps: float = 1e-6) -> list:
    """`jac[i][j]`: d output j / d input i, shape (input size, output size), by central
    differences (each input element nudged by ±eps in place). Grad mode stays on: the
    function may itself call autograd (as the higher-order checks' functions do)."""
    base = _outputs(fn, inputs)
    jac: list = []  # None for an input that needs no grad
    for x in inputs:
        if not (isinstance(x, Tensor) and x.requires_grad):
            jac.append(None)
            continue
        flat = x._data.reshape(-1)  # a view: nudging it nudges x
        cols = [xp.zeros((flat.size, o._data.size)) for o in base]
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


def _grads(fn_outputs: tuple, inputs: Sequence, seeds: list) -> list:
    """vᵀJ for each input that requires grad (None where unused), shapes checked."""
    wrt = _wrt(inputs)
    pairs = [(o, s) for o, s in zip(fn_outputs, seeds) if o.requires_grad and s is not None]
    if not pairs:
        return [None] * len(wrt)
    gs = grad(
        [o for o, _ in pairs],
        [inputs[i] for i in wrt],
        grad_outputs=[s for _, s in pairs],
        retain_graph=True,
        allow_unused=True,
    )
    for i, g in zip(wrt, gs):
        if g is not None and g.shape != inputs[i].shape:
            raise GradcheckError(
                f"gradient for input {i} has shape {g.shape}, but the input has shape "
                f"{inputs[i].shape}: a missing broadcast reduction (sum the gradient over "
                f"the dimensions the forward broadcast)"
            )
    return list(gs)


def analytical_jacobian(fn: Callable, inputs: Sequence) -> list:
    """The same layout as numerical_jacobian, by one backward pass per output element."""
    outs = _outputs(fn, inputs)
    wrt = _wrt(inputs)
    jac = [
        [xp.zeros((x._data.size, o._data.size)) for o in outs] if i in wrt else None
        for i, x in enumerate(inputs)
    ]
    for oi, o in enumerate(outs):
        for e in range(o._data.size if o.requires_grad else 0):
            seed = xp.zeros(o.shape, dtype=o.dtype)
            seed.reshape(-1)[e] = 1
            seeds = [Tensor(seed) if j == oi else None for j in range(len(outs))]
            for i, g in zip(wrt, _grads(outs, inputs, seeds)):
                if g is not None:
                    jac[i][oi][:, e] = g._data.reshape(-1)
    return jac


def _compare_full(fn, inputs, eps, atol, rtol, what: str) -> None:
    analytic = analytical_jacobian(fn, inputs)
    numeric = numerical_jacobian(fn, inputs, eps)
    out_shapes = [o.shape for o in _outputs(fn, inputs)]
    for i, (a_cols, n_cols) in enumerate(zip(analytic, numeric)):
        if a_cols is None:
            continue
        for oi, (a, n) in enumerate(zip(a_cols, n_cols)):
            excess = xp.abs(a - n) - (atol + rtol * xp.abs(n))
            excess = xp.where(xp.isfinite(excess), excess, xp.inf)
            if not a.size or not (excess > 0).any():
                continue
            k, e = xp.unravel_index(xp.argmax(excess), a.shape)
            idx = tuple(int(j) for j in xp.unravel_index(k, inputs[i].shape))
            out_idx = tuple(int(j) for j in xp.unravel_index(e, out_shapes[oi]))
            av, nv = float(a[k, e]), float(n[k, e])
            ratio = av / nv if nv != 0 else float("inf")
            raise _wrong(
                what,
                i,
                inputs[i].shape,
                oi,
                out_shapes[oi],
                "",
                f"worst entry: d out{list(out_idx)} / d in{list(idx)}\n"
                f"  analytic = {av!r}, numeric = {nv!r}, ratio = {ratio:.6g}\n"
                f"  {int((excess > 0).sum())} of {a.size} entries exceed "
                f"atol={atol}, rtol={rtol}",
                _hint(ratio, av, nv),
            )


def _wrong(
    what: str, i: int, in_shape, oi: int, out_shape, where: str, detail: str, hint: str
) -> GradcheckError:
    return GradcheckError(
        f"{what}: wrong gradient for input {i} (shape {in_shape}), output "
        f"{oi} (shape {out_shape}){where}\n  {detail}\n  hint: {hint}"
    )


def _compare_directional(fn, inputs, eps, atol, rtol, rng, n_directions: int, what: str) -> None:
    outs = _outputs(fn, inputs)
    wrt = _wrt(inputs)
    for oi, o in enumerate(outs):
        if not o.requires_grad:
            continue
        for _ in range(n_directions):
            v = rng.standard_normal(o.shape)
            seeds = [Tensor(v.astype(o.dtype)) if j == oi else None for j in range(len(outs))]
            gs = _grads(outs, inputs, seeds)
            us = {i: rng.standard_normal(inputs[i].shape) for i in wrt}
            # jointly along all inputs first; per input only to name the one at fault
            for group in [wrt] + ([[i] for i in wrt] if len(wrt) > 1 else []):
                analytic = sum(
                    float((g._data * us[i]).sum())
                    for i, g in zip(wrt, gs)
                    if i in group and g is not None
                )
                numeric = _directional_difference(fn, inputs, group, us, oi, v, eps)
                if abs(analytic - numeric) <= atol + rtol * max(abs(analytic), abs(numeric)):
                    if group is wrt:
                        break
                    continue
                if group is wrt and len(wrt) > 1:
                    continue  # find the input
                i = group[0]
                ratio = analytic / numeric if numeric != 0 else float("inf")
                raise _wrong(
                    what,
                    i,
                    inputs[i].shape,
                    oi,
                    o.shape,
                    ", along a random direction",
                    f"vᵀJu analytic = {analytic!r}, numeric = {numeric!r}, ratio = {ratio:.6g}",
                    f"{_hint(ratio, analytic, numeric)}; check with modes=('full',) "
                    f"on a smaller input to see the worst index",
                )


def _directional_difference(fn, inputs, group, us, oi, v, eps) -> float:
    """(v · f(x + eps u) - v · f(x - eps u)) / 2 eps, moving only the inputs in `group`."""
    originals = {i: inputs[i]._data.copy() for i in group}
    values = []
    for sign in (1, -1):
        for i in group:
            inputs[i]._data[...] = originals[i] + sign * eps * us[i]
        values.append(float((_values(fn, inputs)[oi] * v).sum()))
    for i in group:
        inputs[i]._data[...] = originals[i]
    return (values[0] - values[1]) / (2 * eps)


def _gradient_function(fn: Callable, n: int, wrt: list) -> Callable:
    """(x_1..x_n, v_1..v_k) -> vᵀJ(x) for the inputs in `wrt`, differentiable."""

    def vjp(*args):
        xs, vs = args[:n], args[n:]
        outs = [o for o in _outputs(fn, xs) if o.requires_grad]  # one v for each of these
        gs = grad(
            outs, [xs[i] for i in wrt], grad_outputs=list(vs), create_graph=True, allow_unused=True
        )
        return tuple(
            g if g is not None else _wrap(xp.zeros(xs[i].shape, xs[i].dtype))
            for g, i in zip(gs, wrt)
        )

    vjp.__name__ = f"vjp_of_{getattr(fn, '__name__', 'fn')}"
    return vjp


@dataclass
class CheckReport:
    """What check_grads compared: one line per (order, mode). True when all passed."""

    checks: list = field(default_factory=list)

    def __bool__(self) -> bool:
        return True

    def __str__(self) -> str:
        return "\n".join(self.checks)


def check_grads(
    fn: Callable,
    *inputs,
    order: int = 1,
    modes=("full", "directional"),
    eps: float | None = None,
    atol: float | None = None,
    rtol: float | None = None,
    dtype=xp.float64,
    n_directions: int = 2,
    full_limit: int = 512,
    seed: int = 0,
) -> CheckReport:
    """Check the derivatives of `fn` at `inputs` up to `order` (1, 2 or 3) against finite
    differences; raise GradcheckError explaining the first mismatch.

    Inputs are copied to `dtype` (float64; None keeps theirs, and the tolerances follow
    the dtype); only tensors with requires_grad are differentiated. "full" runs while
    the inputs of that order hold at most `full_limit` elements in all; "directional"
    always runs. Directions are drawn from a generator seeded with `seed`.

    >>> import microtensor as mt
    >>> x = mt.randn(3, 4, requires_grad=True)
    >>> w = mt.randn(4, 2, requires_grad=True)
    >>> print(mt.testing.check_grads(lambda x, w: (x @ w).tanh(), x, w, order=2))
    order 1: full, directional
    order 2: full, directional
    """
    if order not in (1, 2, 3):
        raise ValueError(f"check_grads: order must be 1, 2 or 3, got {order}")
    unknown = set(modes) - {"full", "directional"}
    if unknown or not modes:
        raise ValueError(f"check_grads: modes are 'full' and 'directional', got {modes}")
    inputs = _cast(inputs, dtype)
    if not _wrt(inputs):
        raise ValueError("check_grads: no input requires grad, so there is nothing to check")
    ref = inputs[_wrt(inputs)[0]].dtype
    d_eps, d_atol, d_rtol = TOLERANCES.get(ref, TOLERANCES[xp.dtype(xp.float32)])
    eps = d_eps if eps is None else eps
    atol = d_atol if atol is None else atol
    rtol = d_rtol if rtol is None else rtol
    rng = xp.random.default_rng(seed)
    report = CheckReport()
    f, args = fn, inputs
    for k in range(1, order + 1):
        what = f"order {k}"
        size = sum(args[i]._data.size for i in _wrt(args))
        ran = []
        if "full" in modes and size <= full_limit:
            _compare_full(f, args, eps, atol, rtol, what)
            ran.append("full")
        if "directional" in modes or not ran:
            _compare_directional(f, args, eps, atol, rtol, rng, n_directions, what)
            ran.append("directional")
        report.checks.append(f"{what}: {', '.join(ran)}")
        if k < order:
            outs = _outputs(f, args)
            vs = [
                Tensor(rng.standard_normal(o.shape).astype(o.dtype), requires_grad=True)
                for o in outs
                if o.requires_grad
            ]
            f, args = _gradient_function(f, len(args), _wrt(args)), tuple(args) + tuple(vs)
    return report


def gradcheck(
    fn: Callable,
    inputs,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """True when the full Jacobian of `fn` at `inputs` matches central differences
    (torch.autograd.gradcheck's shape; check_grads does more). Floating inputs are
    copied to float64; only those with requires_grad are checked.

    >>> import microtensor as mt
    >>> x = mt.tensor([0.5, -1.0, 2.0], dtype=mt.float64, requires_grad=True)
    >>> mt.testing.gradcheck(lambda t: (t * t.sin()).sum(), (x,))
    True
    """
    inputs = _cast((inputs,) if isinstance(inputs, Tensor) else tuple(inputs), xp.float64)
    try:
        _compare_full(fn, inputs, eps, atol, rtol, "gradcheck")
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def gradgradcheck(
    fn: Callable,
    inputs,
    grad_outputs=None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
    raise_exception: bool = True,
) -> bool:
    """Second-order check: gradcheck of (inputs, v) -> vᵀJ built with create_graph=True,
    so every VJP's own VJP is tested. `v` is drawn at random (seeded) unless given."""
    inputs = _cast((inputs,) if isinstance(inputs, Tensor) else tuple(inputs), xp.float64)
    if grad_outputs is None:
        rng = xp.random.default_rng(seed)
        grad_outputs = [
            Tensor(rng.standard_normal(o.shape), requires_grad=True)
            for o in _outputs(fn, inputs)
            if o.requires_grad
        ]
    else:
        grad_outputs = list(_cast(grad_outputs, xp.float64))
    f = _gradient_function(fn, len(inputs), _wrt(inputs))
    return gradcheck(
        f,
        tuple(inputs) + tuple(grad_outputs),
        eps=eps,
        atol=atol,
        rtol=rtol,
        raise_exception=raise_exception,
    )
