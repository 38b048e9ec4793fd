"""The one seam between microtensor and its array library.

Every array operation in the package reaches numpy through this module, so a
GPU array library with numpy's API (CuPy, for one) can be added here later
without touching an op definition. Besides the library itself (`xp`) it holds
the few array kernels numpy lacks: broadcast reduction, scatter-add and the
im2col/col2im pair used by the convolution layers.
"""

from __future__ import annotations

import ctypes
import functools
import platform

import numpy as xp

ndarray = xp.ndarray

__all__ = [
    "xp",
    "ndarray",
    "silence",
    "restore",
    "quiet",
    "sum_to",
    "broadcast_to",
    "TwoStepIndex",
    "getitem",
    "setitem",
    "index_add",
    "windows",
    "im2col",
    "col2im",
    "pool_hits",
    "unpool",
    "conv_out_size",
    "retain_freed_memory",
]


# numpy's floating-point error mode lives in a context variable: setting it directly
# costs a fraction of numpy.errstate's (a context manager object built per call).
try:
    from numpy._core._ufunc_config import (  # type: ignore[attr-defined]  # private: no stubs
        _extobj_contextvar,
        _make_extobj,
    )

    silence = functools.partial(_extobj_contextvar.set, _make_extobj(all="ignore"))
    restore = _extobj_contextvar.reset
except ImportError:  # another numpy layout: the public, slower way
    silence = functools.partial(xp.seterr, all="ignore")  # gives the old settings

    def restore(token) -> None:
        xp.seterr(**token)


silence.__doc__ = """Turn numpy's floating-point warnings off; returns a token for `restore`."""


def quiet(fn):
    """`fn` with numpy's floating-point warnings off during the call. PyTorch gives inf
    and nan silently (log 0, sqrt -1, 1/0, exp overflow, inf - inf); so do the ops that
    can make them, wearing this. It costs about 0.15 us a call, so the ops that only
    warn on overflow (+, -, *, @) do without it."""
    if isinstance(fn, xp.ufunc) and fn.nin == 1:  # no argument packing: the hot case

        def silent1(a):
            token = silence()
            try:
                return fn(a)
            finally:
                restore(token)

        return functools.update_wrapper(silent1, fn)

    def silent(*args, **kwargs):
        token = silence()
        try:
            return fn(*args, **kwargs)
        finally:
            restore(token)

    return functools.update_wrapper(silent, fn)


_ONES: dict = {}  # (length, dtype) -> a read-only vector of ones, for sum_to
_BLAS_FLOATS = (xp.dtype(xp.float32), xp.dtype(xp.float64))


def _ones(n: int, dtype) -> ndarray:
    ones = _ONES.get((n, dtype))
    if ones is None:
        if len(_ONES) > 64:
            _ONES.clear()
        ones = _ONES[n, dtype] = xp.ones(n, dtype)
        ones.flags.writeable = False
    return ones


def sum_to(a: ndarray, shape: tuple) -> ndarray:
    """Sum `a` down to `shape`, undoing numpy broadcasting (the VJP of broadcast_to)."""
    lead = a.ndim - len(shape)
    if lead == 1 and a.shape[1:] == shape:  # a bias: the common case, one C call
        if a.ndim == 2 and a.dtype in _BLAS_FLOATS:
            # ones @ a: a BLAS matrix-vector product, 2-3x faster than add.reduce over
            # axis 0 on a batch of rows (summed in the array's precision, as BLAS does)
            return xp.dot(_ones(a.shape[0], a.dtype), a)
        return xp.add.reduce(a, axis=0)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and a.shape[i + lead] != 1
    )
    if axes:
        a = a.sum(axis=axes, keepdims=True)
    return a.reshape(shape) if lead or a.shape != shape else a


def broadcast_to(a, shape: tuple) -> ndarray:
    """A writable array of `shape` holding `a` broadcast: one C-level fill, faster than
    numpy.broadcast_to's Python wrapper for the small arrays of a training step."""
    out = xp.empty(shape, dtype=a.dtype if hasattr(a, "dtype") else xp.result_type(a))
    out[...] = a
    return out


class TwoStepIndex:
    """An index with index arrays (or bools) and ints, or arrays an Ellipsis lies between,
    applied in two numpy steps as PyTorch reads it. `basic` (the ints, slices, None and
    Ellipsis; each array a full slice per dim it spans, each bool a new dim) selects a
    view; the arrays then index the view (`advanced`, a full slice for each other dim).
    In one step numpy would count the ints as arrays and, with a slice between them and
    the arrays, move the arrays' dims first (x[0, :, [0, 1]] transposed); and it parts
    arrays that an Ellipsis of no dims lies between, which PyTorch keeps together."""

    __slots__ = ("basic", "advanced", "ellipsis", "spanned")

    def __init__(self, parts: list) -> None:
        basic: list = []  # ints, slices, None and Ellipsis
        advanced: list = []  # index arrays, slices and Ellipsis
        for p in parts:
            if type(p) is int:
                basic.append(p)
            elif type(p) is bool:  # a new dim of 1, indexed by [0] (True) or [] (False)
                basic.append(None)
                advanced.append(xp.zeros(1 if p else 0, dtype=xp.intp))
            elif isinstance(p, ndarray):
                basic.extend([slice(None)] * (p.ndim if p.dtype == xp.bool_ else 1))
                advanced.append(p)
            else:  # a slice, None or Ellipsis: dims the view keeps, left whole
                basic.append(p)
                advanced.append(p if p is Ellipsis else slice(None))
        self.basic = tuple(basic)
        self.advanced = tuple(advanced)
        self.ellipsis = next((i for i, p in enumerate(advanced) if p is Ellipsis), None)
        self.spanned = sum(
            p.ndim if isinstance(p, ndarray) and p.dtype == xp.bool_ else 1
            for p in self.advanced
            if p is not Ellipsis
        )

    def second(self, ndim: int) -> tuple:
        """The advanced step for a view of `ndim` dims, its Ellipsis spelled out as
        slices (numpy would part the arrays on either side of it, even if it spans none)."""
        if self.ellipsis is None:
            return self.advanced
        i = self.ellipsis
        fill = (slice(None),) * (ndim - self.spanned)
        return self.advanced[:i] + fill + self.advanced[i + 1 :]

    def __repr__(self) -> str:
        return f"TwoStepIndex({self.basic!r}, {self.advanced!r})"


def getitem(a: ndarray, index) -> ndarray:
    """a[index] for a numpy index or a TwoStepIndex."""
    if type(index) is TwoStepIndex:
        view = a[index.basic]
        return view[index.second(view.ndim)]
    return a[index]


def setitem(a: ndarray, index, value) -> None:
    """a[index] = value for a numpy index or a TwoStepIndex (its basic step is a view)."""
    if type(index) is TwoStepIndex:
        view = a[index.basic]
        view[index.second(view.ndim)] = value
    else:
        a[index] = value


def index_add(shape: tuple, index, values: ndarray, dtype) -> ndarray:
    """Zeros of `shape` with `values` added at `index`; repeated indices accumulate."""
    out = xp.zeros(shape, dtype=dtype)
    if type(index) is TwoStepIndex:
        view = out[index.basic]  # basic indexing: a view, so adding into it adds into out
        xp.add.at(view, index.second(view.ndim), values)
    elif _is_basic(index):
        out[index] = values  # slices and ints never repeat an element
    else:
        xp.add.at(out, index, values)
    return out


def _is_basic(index) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, slice, xp.integer)) for p in parts)


def conv_out_size(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    """Number of window positions along one spatial axis (PyTorch's formula)."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def windows(x: ndarray, kernel, stride, padding, dilation, fill=0.0) -> ndarray:
    """A strided view (N, C, kh, kw, oh, ow) of every window of x (N, C, H, W) padded
    with `fill`; a copy only when there is padding."""
    n, c, h, w = x.shape
    oh = conv_out_size(h, kernel[0], stride[0], padding[0], dilation[0])
    ow = conv_out_size(w, kernel[1], stride[1], padding[1], dilation[1])
    if padding[0] or padding[1]:
        x = xp.pad(
            x,
            ((0, 0), (0, 0), (padding[0], padding[0]), (padding[1], padding[1])),
            constant_values=fill,
        )
    sn, sc, sh, sw = x.strides
    return xp.lib.stride_tricks.as_strided(
        x,
        shape=(n, c, kernel[0], kernel[1], oh, ow),
        strides=(sn, sc, sh * dilation[0], sw * dilation[1], sh * stride[0], sw * stride[1]),
        writeable=False,
    )


def im2col(x: ndarray, kernel, stride, padding, dilation) -> ndarray:
    """(N, C, H, W) -> (N, C*kh*kw, L) columns of every window, as torch.nn.functional.unfold."""
    cols = windows(x, kernel, stride, padding, dilation)
    n, c, kh, kw, oh, ow = cols.shape
    out = cols.reshape(n, c * kh * kw, oh * ow)
    # a reshape that could keep the windows as a view (a single window row or column)
    # gives a read-only view of x whose elements overlap: PyTorch's unfold is a new tensor
    return out if out.flags.writeable else out.copy()


def col2im(cols: ndarray, size, kernel, stride, padding, dilation) -> ndarray:
    """(N, C*kh*kw, L) -> (N, C, H, W), summing overlaps: the transpose of im2col (fold)."""
    h, w = size
    kh, kw = kernel
    n = cols.shape[0]
    c = cols.shape[1] // (kh * kw)
    oh = conv_out_size(h, kh, stride[0], padding[0], dilation[0])
    ow = conv_out_size(w, kw, stride[1], padding[1], dilation[1])
    hp, wp = h + 2 * padding[0], w + 2 * padding[1]
    out = xp.zeros((n, c, hp, wp), dtype=cols.dtype)
    cols = cols.reshape(n, c, kh, kw, oh, ow)
    # One strided add per kernel offset (kh*kw of them): windows at one offset never overlap.
    for i, j, dst in _offset_views(out, kernel, stride, dilation, (oh, ow)):
        dst += cols[:, :, i, j]
    return out[:, :, padding[0] : padding[0] + h, padding[1] : padding[1] + w]


def _offset_views(out: ndarray, kernel, stride, dilation, out_hw):
    """(i, j, view) for each kernel offset (i, j): the view of the padded (N, C, H, W)
    `out` at which that element of every window lies, one (N, C, oh, ow) grid."""
    oh, ow = out_hw
    for i in range(kernel[0]):
        hi = i * dilation[0]
        for j in range(kernel[1]):
            wj = j * dilation[1]
            yield (
                i,
                j,
                out[
                    :,
                    :,
                    hi : hi + stride[0] * (oh - 1) + 1 : stride[0],
                    wj : wj + stride[1] * (ow - 1) + 1 : stride[1],
                ],
            )


def pool_hits(x: ndarray, m: ndarray, kernel, stride, padding, dilation) -> tuple:
    """Where each window of x (padded with -inf) holds its maximum m (N, C, oh, ow): one
    mask per kernel offset, row-major, and how many per window (in m's dtype). What max
    pooling's VJP shares the gradient by."""
    views = windows(x, kernel, stride, padding, dilation, -xp.inf)
    hits = [views[:, :, i, j] == m for i in range(kernel[0]) for j in range(kernel[1])]
    count = hits[0].astype(m.dtype)
    for hit in hits[1:]:
        count += hit
    return hits, count


def unpool(share: ndarray, hits: list, size, kernel, stride, padding, dilation) -> ndarray:
    """(N, C, oh, ow) values times the mask of each kernel offset (`hits`, kh*kw masks of
    that shape, row-major), added back at every window's places in (N, C, H, W): col2im
    of their product, without building it. The VJP of max pooling."""
    n, c, oh, ow = share.shape
    h, w = size
    out = xp.zeros((n, c, h + 2 * padding[0], w + 2 * padding[1]), dtype=share.dtype)
    overlap = any(s < (k - 1) * d + 1 for k, s, d in zip(kernel, stride, dilation))
    for i, j, dst in _offset_views(out, kernel, stride, dilation, (oh, ow)):
        hit = hits[i * kernel[1] + j]
        if overlap:
            dst += share * hit
        else:
            xp.multiply(share, hit, out=dst)
    return out[:, :, padding[0] : padding[0] + h, padding[1] : padding[1] + w]


def retain_freed_memory(max_bytes: int = 256 << 20) -> bool:
    """Have glibc's malloc serve arrays of up to `max_bytes` from its heap and keep freed
    memory, instead of mapping each large array afresh and unmapping it when freed.

    A training step frees its temporaries and the next step allocates the same sizes
    again; with glibc's defaults each of them is then faulted in page by page (about
    3,000 minor page faults per step of the benchmark's conv net, 2.4x its time). This
    does from inside the process what the environment variables MALLOC_MMAP_THRESHOLD_
    and MALLOC_TRIM_THRESHOLD_ do. The price is that the process keeps its peak memory.
    The `microtensor` command calls it; a library never changes it by itself. Returns
    False, changing nothing, where the C library is not glibc."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    mallopt = ctypes.CDLL(None).mallopt
    m_trim_threshold, m_mmap_threshold = -1, -3  # from glibc's malloc.h
    return bool(
        mallopt(m_mmap_threshold, int(max_bytes)) and mallopt(m_trim_threshold, int(max_bytes))
    )
