"""A tensor's repr, laid out as PyTorch lays it out (torch/_tensor_str.py): one width for
every element, a float tensor printed as whole numbers (`1.`), fixed (`0.1000`) or
scientific (`1.0000e+05`) by the same rules, rows wrapped at 80 columns, tensors of more
than 1000 elements summarised with `...`, and the dtype, grad_fn and requires_grad
suffixes."""

from __future__ import annotations

import math

from .backend import ndarray, xp
from .dtypes import dtype_name, get_default_dtype

__all__ = ["tensor_repr"]

PRECISION, THRESHOLD, EDGEITEMS, LINEWIDTH = 4, 1000, 3, 80  # PyTorch's print options


class _Formatter:
    """One element format for the whole tensor, chosen from its (summarised) values."""

    def __init__(self, values: ndarray) -> None:
        self.floating = values.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.width = True, False, 1
        if not self.floating:
            self.width = max((len(str(v)) for v in values.ravel().tolist()), default=1)
            return
        finite = values[xp.isfinite(values) & (values != 0)].astype(xp.float64)
        if not finite.size:
            return
        big, small = float(xp.abs(finite).max()), float(xp.abs(finite).min())
        self.int_mode = bool((finite == xp.ceil(finite)).all())
        self.sci_mode = (
            big / small > 1000.0 or big > 1.0e8 or (not self.int_mode and small < 1.0e-4)
        )
        spec = f".{PRECISION}e" if self.sci_mode else ".0f" if self.int_mode else f".{PRECISION}f"
        extra = 1 if self.int_mode and not self.sci_mode else 0  # the trailing "."
        self.width = max(len(format(v, spec)) + extra for v in finite.tolist())

    def format(self, value) -> str:
        if not self.floating:
            text = str(value)
        elif self.sci_mode:
            text = f"{value:.{PRECISION}e}"
        elif self.int_mode:
            text = f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
        else:
            text = f"{value:.{PRECISION}f}"
        return text.rjust(self.width)


def _summarized(data: ndarray) -> ndarray:
    """The elements a summarised print shows: EDGEITEMS from each end of every dim."""
    if data.ndim == 0:
        return data
    if data.shape[0] > 2 * EDGEITEMS:
        data = xp.concatenate([data[:EDGEITEMS], data[-EDGEITEMS:]])
    if data.ndim == 1:
        return data
    return xp.stack([_summarized(row) for row in data])


def _body(data: ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    if data.ndim == 0:
        return fmt.format(data.item())
    cut = summarize and data.shape[0] > 2 * EDGEITEMS
    if data.ndim == 1:
        per_line = max(1, (LINEWIDTH - indent) // (fmt.width + 2))
        values = [fmt.format(v) for v in data.tolist()]
        if cut:
            values = values[:EDGEITEMS] + [" ..."] + values[-EDGEITEMS:]
        lines = [", ".join(values[i : i + per_line]) for i in range(0, len(values), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    n = data.shape[0]
    rows = [*range(EDGEITEMS), None, *range(n - EDGEITEMS, n)] if cut else range(n)
    parts = ["..." if i is None else _body(data[i], indent + 1, summarize, fmt) for i in rows]
    return "[" + ("," + "\n" * (data.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def tensor_repr(data: ndarray, grad_fn: str | None = None, requires_grad: bool = False) -> str:
    """`tensor([[1., 2.], ...], dtype=..., grad_fn=<AddBackward0>)` for an array and the
    tensor's autograd state (grad_fn: the name of its node)."""
    prefix = "tensor("
    indent = len(prefix)
    suffixes = []
    default = data.dtype in (get_default_dtype(), xp.int64, xp.bool_)
    if data.size == 0:
        body = "[]"
        if data.ndim != 1:
            suffixes.append(f"size={tuple(data.shape)}")
        if data.dtype != get_default_dtype():  # no element to tell an int64 tensor by
            suffixes.append(f"dtype={dtype_name(data.dtype)}")
    else:
        summarize = data.size > THRESHOLD
        fmt = _Formatter(_summarized(data) if summarize else data)
        body = _body(data, indent, summarize, fmt)
        if not default:
            suffixes.append(f"dtype={dtype_name(data.dtype)}")
    if grad_fn is not None:
        suffixes.append(f"grad_fn=<{grad_fn}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")
    text = prefix + body
    last = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:  # on the last line while it fits in LINEWIDTH
        if last + len(suffix) + 2 > LINEWIDTH:
            text += ",\n" + " " * indent + suffix
            last = indent + len(suffix)
        else:
            text += ", " + suffix
            last += len(suffix) + 2
    return text + ")"
