"""Hand-written numpy training steps: the baselines every ratio of the suite is taken
against, written in the reports' style (forward, then the chain rule backwards by hand)
and the way a careful engineer would write them: in-place updates where nothing else
reads the array, one BLAS call per layer and pass, no Python loop over the batch.

Weights are in the reports' layout, W of shape (in, out) for a dense layer, so a layer
is `a @ W + b`; `from_canonical` / `to_canonical` convert from and to PyTorch's layout
(out, in), in which the suite hands the same initial weights to every implementation
and compares gradients.

The conv net keeps its activations as (C, N, H, W): im2col then puts all the windows of
the batch in one (C*k*k, N*oh*ow) matrix, and each convolution, forward or backward, is
one matrix product instead of one per image.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "sigmoid",
    "softmax_cross_entropy",
    "MLPSigmoidMSE",
    "MLPReluCE",
    "ConvNetRef",
    "SGD",
    "Adam",
]


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def softmax_cross_entropy(z, y):
    """Mean cross-entropy of logits z (N, C) against class indices y (N,), and its
    gradient with respect to z: (softmax(z) - onehot(y)) / N."""
    n = z.shape[0]
    rows = np.arange(n)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    s = e.sum(axis=1, keepdims=True)
    loss = np.mean(np.log(s[:, 0]) - z[rows, y])
    e /= s
    e[rows, y] -= 1
    e *= 1.0 / n  # a Python float: the dtype stays the array's
    return loss, e


# ----------------------------------------------------------------------------- optimizers
class SGD:
    """p -= lr * g, in place."""

    def __init__(self, params, lr):
        self.params, self.lr = params, lr

    def step(self, grads):
        lr = self.lr
        for p, g in zip(self.params, grads):
            g *= lr  # the gradient is not used again: scale it in place
            p -= g


class Adam:
    """PyTorch's Adam (no weight decay, no amsgrad), in place."""

    def __init__(self, params, lr, betas=(0.9, 0.999), eps=1e-8):
        self.params, self.lr, self.betas, self.eps = params, lr, betas, eps
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, grads):
        self.t += 1
        b1, b2 = self.betas
        step_size = self.lr / (1 - b1**self.t)
        root_bc2 = (1 - b2**self.t) ** 0.5
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            g *= g
            g *= 1 - b2
            v += g
            denom = np.sqrt(v)
            denom /= root_bc2
            denom += self.eps
            np.divide(m, denom, out=denom)
            denom *= step_size
            p -= denom


# ------------------------------------------------------------------------------------ MLPs
def from_canonical(params):
    """PyTorch-layout [W (out, in), b, ...] -> reports-layout copies [W (in, out), b, ...]."""
    return [np.ascontiguousarray(p.T) if p.ndim == 2 else p.copy() for p in params]


def to_canonical(grads):
    return [g.T if g.ndim == 2 else g for g in grads]


class MLPSigmoidMSE:
    """The reports' network: sigmoid after every layer (output included), MSE loss (mean
    over the batch), so the output delta carries 2/n. Lab 1's 2-5-5-1 is this."""

    def __init__(self, params, lr):
        self.params = from_canonical(params)
        self.opt = SGD(self.params, lr)

    def grads(self, X, Y):
        p = self.params
        acts = [X]
        a = X
        for W, b in zip(p[0::2], p[1::2]):
            a = sigmoid(np.dot(a, W) + b)
            acts.append(a)
        loss = np.mean((a - Y) ** 2)
        delta = (2.0 / Y.size) * (a - Y) * a * (1 - a)
        grads = [None] * len(p)
        for i in range(len(p) // 2 - 1, -1, -1):
            a_prev = acts[i]
            grads[2 * i] = np.dot(a_prev.T, delta)
            grads[2 * i + 1] = delta.sum(axis=0)
            if i:
                delta = np.dot(delta, p[2 * i].T) * a_prev * (1 - a_prev)
        return loss, grads

    def step(self, X, Y):
        loss, grads = self.grads(X, Y)
        self.opt.step(grads)
        return loss


class MLPReluCE:
    """ReLU hidden layers, linear output, softmax cross-entropy (mean over the batch)."""

    def __init__(self, params, lr):
        self.params = from_canonical(params)
        self.opt = SGD(self.params, lr)

    def grads(self, X, y):
        p = self.params
        n_layers = len(p) // 2
        acts = [X]
        a = X
        for i in range(n_layers):
            z = a @ p[2 * i]
            z += p[2 * i + 1]
            if i < n_layers - 1:
                np.maximum(z, 0, out=z)
                acts.append(z)
            a = z
        loss, delta = softmax_cross_entropy(a, y)
        grads = [None] * len(p)
        for i in range(n_layers - 1, -1, -1):
            a_prev = acts[i]
            grads[2 * i] = a_prev.T @ delta
            grads[2 * i + 1] = delta.sum(axis=0)
            if i:
                delta = delta @ p[2 * i].T
                delta *= a_prev > 0
        return loss, grads

    def step(self, X, y):
        loss, grads = self.grads(X, y)
        self.opt.step(grads)
        return loss


# -------------------------------------------------------------------------------- conv net
def im2col(x, k, pad):
    """(C, N, H, W) -> (C*k*k, N*oh*ow): every k x k window of the batch as a column."""
    c, n, h, w = x.shape
    if pad:
        xp = np.zeros((c, n, h + 2 * pad, w + 2 * pad), x.dtype)
        xp[:, :, pad : pad + h, pad : pad + w] = x
        x = xp
    oh, ow = x.shape[2] - k + 1, x.shape[3] - k + 1
    cols = np.empty((c, k, k, n, oh, ow), x.dtype)
    for i in range(k):
        for j in range(k):
            cols[:, i, j] = x[:, :, i : i + oh, j : j + ow]
    return cols.reshape(c * k * k, n * oh * ow), oh, ow


def col2im(dcols, shape, k, pad):
    """im2col's transpose: (C*k*k, N*oh*ow) -> (C, N, H, W), summing overlapping windows."""
    c, n, h, w = shape
    hp, wp = h + 2 * pad, w + 2 * pad
    oh, ow = hp - k + 1, wp - k + 1
    d = dcols.reshape(c, k, k, n, oh, ow)
    dx = np.zeros((c, n, hp, wp), dcols.dtype)
    for i in range(k):
        for j in range(k):
            dx[:, :, i : i + oh, j : j + ow] += d[:, i, j]
    return dx[:, :, pad : pad + h, pad : pad + w] if pad else dx


def _quarters(x, h2, w2):
    """The four strided views of 2x2 pooling windows over (C, N, H, W)."""
    return [x[:, :, i : 2 * h2 : 2, j : 2 * w2 : 2] for i in (0, 1) for j in (0, 1)]


def maxpool2_forward(x):
    h2, w2 = x.shape[2] // 2, x.shape[3] // 2
    a, b, c, d = _quarters(x, h2, w2)
    return np.maximum(np.maximum(a, b), np.maximum(c, d))


def maxpool2_backward(dout, x, out):
    """Tied maxima share the gradient evenly (microtensor's documented rule)."""
    h2, w2 = out.shape[2:]
    hits = [q == out for q in _quarters(x, h2, w2)]
    count = hits[0] + hits[1].astype(np.uint8) + hits[2] + hits[3]
    share = dout / count
    dx = np.zeros_like(x)
    for dq, hit in zip(_quarters(dx, h2, w2), hits):
        np.multiply(share, hit, out=dq)
    return dx


class ConvNetRef:
    """A conv net from a layer list, forward and backward by hand, activations (C, N, H, W):
      ("conv", pad)   k x k convolution (its weights from the parameter list), stride 1
      ("pool",)       2x2 max pooling, stride 2 (floor)
      ("relu",)       ("dropout", p)   ("flatten",)   ("fc",)   dense layer
    The loss is softmax cross-entropy; `optimizer` is SGD or Adam (PyTorch's). Parameters
    come in PyTorch's layout: conv (O, C, k, k) and (O,), dense (out, in) and (out,)."""

    def __init__(self, layers, params, lr, optimizer="sgd", seed=0):
        self.layers = layers
        self.params = []
        self.shapes = []
        for p in params:
            self.shapes.append(p.shape)
            if p.ndim == 4:  # conv weight -> (O, C*k*k)
                self.params.append(p.reshape(p.shape[0], -1).copy())
            elif p.ndim == 2:  # dense weight -> (in, out)
                self.params.append(np.ascontiguousarray(p.T))
            else:
                self.params.append(p.copy())
        self.opt = SGD(self.params, lr) if optimizer == "sgd" else Adam(self.params, lr)
        self.rng = np.random.default_rng(seed)
        self.training = True

    def grads(self, X, y):
        dtype = X.dtype
        a = np.ascontiguousarray(X.transpose(1, 0, 2, 3))  # (N, C, H, W) -> (C, N, H, W)
        tape = []
        pi = 0
        owned = False  # whether `a` is a fresh array that backward does not read
        for layer in self.layers:
            kind = layer[0]
            if kind == "conv":
                W, b = self.params[pi], self.params[pi + 1]
                k = self.shapes[pi][2]
                cols, oh, ow = im2col(a, k, layer[1])
                out = W @ cols
                out += b[:, None]
                tape.append((kind, pi, cols, a.shape, k, layer[1]))
                a = out.reshape(W.shape[0], a.shape[1], oh, ow)
                pi += 2
                owned = True
            elif kind == "pool":
                out = maxpool2_forward(a)
                tape.append((kind, a, out))
                a = out
                owned = False  # pool's backward reads its output
            elif kind == "relu":
                a = np.maximum(a, 0, out=a if owned else None)
                tape.append((kind, a))
                owned = False
            elif kind == "dropout":
                p = layer[1]
                if self.training and p:
                    mask = (self.rng.random(a.shape, dtype=np.float32) >= p).astype(dtype)
                    mask *= 1.0 / (1 - p)
                    a = a * mask
                    tape.append((kind, mask))
                    owned = True
            elif kind == "flatten":
                tape.append((kind, a.shape))
                a = a.transpose(1, 0, 2, 3).reshape(a.shape[1], -1)
                owned = True
            elif kind == "fc":
                W, b = self.params[pi], self.params[pi + 1]
                tape.append((kind, pi, a))
                a = a @ W
                a += b
                pi += 2
                owned = True
        loss, d = softmax_cross_entropy(a, y)
        grads = [None] * len(self.params)
        for entry in reversed(tape):
            kind = entry[0]
            if kind == "fc":
                _, pi, x = entry
                grads[pi] = x.T @ d
                grads[pi + 1] = d.sum(axis=0)
                d = d @ self.params[pi].T if pi else None
            elif kind == "flatten":
                c, n, h, w = entry[1]
                d = d.reshape(n, c, h, w).transpose(1, 0, 2, 3)
            elif kind == "dropout":
                d = d * entry[1]
            elif kind == "relu":
                d = d * (entry[1] > 0)
            elif kind == "pool":
                d = maxpool2_backward(d, entry[1], entry[2])
            elif kind == "conv":
                _, pi, cols, in_shape, k, pad = entry
                W = self.params[pi]
                d2 = d.reshape(W.shape[0], -1)
                grads[pi] = d2 @ cols.T
                grads[pi + 1] = d2.sum(axis=1)
                d = col2im(W.T @ d2, in_shape, k, pad) if pi else None
        return loss, grads

    def to_canonical(self, grads):
        out = []
        for g, shape in zip(grads, self.shapes):
            out.append(g.reshape(shape) if len(shape) == 4 else g.T if g.ndim == 2 else g)
        return out

    def step(self, X, y):
        loss, grads = self.grads(X, y)
        self.opt.step(grads)
        return loss
