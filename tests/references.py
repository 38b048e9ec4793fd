"""Naive numpy references for the windowed ops, read by the op-case table (unfold, fold,
max_pool2d) and by the nn tests (conv2d, avg_pool2d).

Plain nested loops over n, c, oh, ow, kh, kw, with the window bounds tested element by
element; the number of output positions is counted by the loops, not computed with the
library's formula."""

from __future__ import annotations

import numpy as np


def positions(size, kernel, stride, padding, dilation):
    """Start offsets (in padded coordinates) of every window that fits along one axis."""
    span = dilation * (kernel - 1) + 1
    starts, start = [], 0
    while start + span <= size + 2 * padding:
        starts.append(start)
        start += stride
    return starts


def windows(x, kernel, stride, padding, dilation):
    """Yield (n, c, i, j, values): the in-bounds values of every window (its taps that
    fall in the padding are left out)."""
    n, c, h, w = x.shape
    rows = positions(h, kernel[0], stride[0], padding[0], dilation[0])
    cols = positions(w, kernel[1], stride[1], padding[1], dilation[1])
    for ni in range(n):
        for ci in range(c):
            for i, r0 in enumerate(rows):
                for j, c0 in enumerate(cols):
                    values = []
                    for ki in range(kernel[0]):
                        for kj in range(kernel[1]):
                            r = r0 - padding[0] + ki * dilation[0]
                            q = c0 - padding[1] + kj * dilation[1]
                            if 0 <= r < h and 0 <= q < w:
                                values.append(x[ni, ci, r, q])
                    yield ni, ci, i, j, values


def out_hw(x_shape, kernel, stride, padding, dilation):
    return (
        len(positions(x_shape[2], kernel[0], stride[0], padding[0], dilation[0])),
        len(positions(x_shape[3], kernel[1], stride[1], padding[1], dilation[1])),
    )


def conv2d_reference(x, weight, bias, stride, padding, dilation):
    n, c, h, w = x.shape
    o, _, kh, kw = weight.shape
    oh, ow = out_hw(x.shape, (kh, kw), stride, padding, dilation)
    out = np.zeros((n, o, oh, ow))
    for ni in range(n):
        for oi in range(o):
            for i in range(oh):
                for j in range(ow):
                    acc = 0.0 if bias is None else bias[oi]
                    for ci in range(c):
                        for ki in range(kh):
                            for kj in range(kw):
                                r = i * stride[0] - padding[0] + ki * dilation[0]
                                q = j * stride[1] - padding[1] + kj * dilation[1]
                                if 0 <= r < h and 0 <= q < w:
                                    acc += x[ni, ci, r, q] * weight[oi, ci, ki, kj]
                    out[ni, oi, i, j] = acc
    return out


def max_pool2d_reference(x, kernel, stride, padding, dilation):
    """Max over the in-bounds taps: padding is -inf, so it never wins (a dilated window
    whose every tap falls in the padding is -inf, as in PyTorch)."""
    oh, ow = out_hw(x.shape, kernel, stride, padding, dilation)
    out = np.zeros(x.shape[:2] + (oh, ow))
    for ni, ci, i, j, values in windows(x, kernel, stride, padding, dilation):
        out[ni, ci, i, j] = max(values, default=-np.inf)
    return out


def avg_pool2d_reference(x, kernel, stride, padding):
    """Sum of the in-bounds taps over kh*kw: padded zeros are counted (count_include_pad)."""
    oh, ow = out_hw(x.shape, kernel, stride, padding, (1, 1))
    out = np.zeros(x.shape[:2] + (oh, ow))
    for ni, ci, i, j, values in windows(x, kernel, stride, padding, (1, 1)):
        out[ni, ci, i, j] = sum(values) / (kernel[0] * kernel[1])
    return out


def _taps(x_shape, kernel, stride, padding, dilation):
    """(ni, ci, r, q, row, col): input position (r, q) read into column entry [row, col]."""
    n, c, h, w = x_shape
    kh, kw = kernel
    oh, ow = out_hw(x_shape, kernel, stride, padding, dilation)
    for ni in range(n):
        for ci in range(c):
            for ki in range(kh):
                for kj in range(kw):
                    for i in range(oh):
                        for j in range(ow):
                            r = i * stride[0] - padding[0] + ki * dilation[0]
                            q = j * stride[1] - padding[1] + kj * dilation[1]
                            if 0 <= r < h and 0 <= q < w:
                                yield ni, ci, r, q, (ci * kh + ki) * kw + kj, i * ow + j


def unfold_reference(x, kernel, stride, padding, dilation):
    n, c = x.shape[:2]
    oh, ow = out_hw(x.shape, kernel, stride, padding, dilation)
    cols = np.zeros((n, c * kernel[0] * kernel[1], oh * ow))
    for ni, ci, r, q, row, col in _taps(x.shape, kernel, stride, padding, dilation):
        cols[ni, row, col] = x[ni, ci, r, q]
    return cols


def fold_reference(cols, size, kernel, stride, padding, dilation):
    """unfold_reference's transpose: every column entry added back where it was read."""
    n = cols.shape[0]
    c = cols.shape[1] // (kernel[0] * kernel[1])
    out = np.zeros((n, c) + tuple(size))
    for ni, ci, r, q, row, col in _taps(out.shape, kernel, stride, padding, dilation):
        out[ni, ci, r, q] += cols[ni, row, col]
    return out
