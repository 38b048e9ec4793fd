"""How every implementation runs each workload of workloads.py.

A workload fixes the network, batch, dtype, data and initial weights (drawn once with
numpy from the seed, in PyTorch's layout); every implementation starts from copies of
the same arrays. `build(name, impl, ...)` makes a runner:
  step()       one unit of work: a training step (forward, loss, backward, optimizer
               step), or for "digits-epoch" one epoch;
  grads()      (loss, gradients in PyTorch's layout) on the first batch, for the check;
  weights()    the parameters in PyTorch's layout (MLPs and the conv net), to check the
               update after a few steps;
and, for the op chains, block(chains) -> (forward seconds, backward seconds, ops).

Implementations: "numpy" (the hand-written references in references.py); microtensor
three ways: "eager" (idiomatic: models.MLP / nn modules, nn.functional losses,
mt.optim), "eager-raw" (what a from-scratch user writes: weights as leaf tensors,
`(h @ W + b).sigmoid()`, the loss from tensor ops, `loss.backward()`, then `W -= lr *
W.grad` and `W.grad = None` under `mt.no_grad()`), "compiled" (the eager step under
mt.compile: recorded on the first call, replayed after; for the op chains, forward and
backward are one compiled call, timed as forward); and the optional peers "torch"
(PyTorch CPU eager, the same thread count as numpy's BLAS), "jax-jit" (jax.jit of
value_and_grad and the SGD or Adam update, one call per step, its results waited for;
one CPU when numpy's BLAS has one thread) and "autograd" (HIPS autograd). Only the
chosen implementation's library is imported, so a process pays only for its own.
"""

from __future__ import annotations

import math
import os
import time

import numpy as np

from . import references as ref
from .workloads import WORKLOADS, Workload

__all__ = ["build", "blas_threads", "problem", "Runner"]

CONV_LAYERS = [
    ("conv", 0),
    ("pool",),
    ("relu",),
    ("conv", 0),
    ("pool",),
    ("relu",),
    ("flatten",),
    ("fc",),
]
CONV_SHAPES = [(8, 1, 3, 3), (8,), (16, 8, 3, 3), (16,), (10, 400), (10,)]
# models.ConvNet((1, 8, 8), dropout=0.2): 3x3 kernels with padding 1, channels (16, 32),
# hidden 64, relu, dropout 0.1 after conv2 and 0.2 after fc1
DIGITS_LAYERS = [
    ("conv", 1),
    ("pool",),
    ("relu",),
    ("conv", 1),
    ("dropout", 0.1),
    ("pool",),
    ("relu",),
    ("flatten",),
    ("fc",),
    ("relu",),
    ("dropout", 0.2),
    ("fc",),
]
DIGITS_SHAPES = [(16, 1, 3, 3), (16,), (32, 16, 3, 3), (32,), (64, 128), (64,), (10, 64), (10,)]
CHAIN_FACTOR = 1.0001
CHAIN_SIZE = 100


# ------------------------------------------------------------------------ data and weights
def init_params(shapes, dtype, rng) -> list:
    """PyTorch's default init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases."""
    params = []
    fan_in = 1
    for shape in shapes:
        if len(shape) > 1:
            fan_in = math.prod(shape[1:])
        bound = 1 / math.sqrt(fan_in)
        params.append(rng.uniform(-bound, bound, shape).astype(dtype))
    return params


def mlp_shapes(sizes) -> list:
    shapes = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        shapes += [(b, a), (b,)]
    return shapes


def problem(w: Workload, seed: int, data_path: str | None = None):
    """(X, targets, initial parameters) of a workload, from the seed (and for the digits,
    the arrays models.digits() gave, saved at data_path by the runner)."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(w.dtype)
    if w.kind == "mlp":
        if w.loss == "mse":  # the reports' linear set: uniform points, label x0 > x1
            X = rng.uniform(0.0, 1.0, (w.batch, w.sizes[0]))
            Y = (X[:, 0] > X[:, 1]).astype(np.float64).reshape(w.batch, 1)
            X, Y = X.astype(dtype), Y.astype(dtype)
        else:
            X = rng.standard_normal((w.batch, w.sizes[0])).astype(dtype)
            Y = rng.integers(0, w.sizes[-1], w.batch)
        return X, Y, init_params(mlp_shapes(w.sizes), dtype, rng)
    if w.kind == "conv":
        X = rng.random((w.batch, 1, 28, 28), dtype=np.float32).astype(dtype)
        Y = rng.integers(0, 10, w.batch)
        return X, Y, init_params(CONV_SHAPES, dtype, rng)
    if w.kind == "digits":
        with np.load(data_path) as f:
            X, Y = f["X"].astype(dtype), f["y"].astype(np.int64)
        return X, Y, init_params(DIGITS_SHAPES, dtype, rng)
    if w.kind == "chain":
        return rng.standard_normal(CHAIN_SIZE), None, []
    raise ValueError(f"unknown workload kind {w.kind!r}")


def epoch_batches(n: int, rng, batch: int) -> list:
    """The test suite's digits loop: a permutation split into n // batch batches."""
    return np.array_split(rng.permutation(n), n // batch)


def blas_threads() -> dict:
    """numpy's BLAS threads as threadpoolctl sees them (or the environment's guess)."""
    info = {"source": "threadpoolctl"}
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        info["source"] = "environment"
        env = os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS")
        info["num_threads"] = int(env) if env else os.cpu_count()
        return info
    pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    numpy_pools = [p for p in pools if "numpy" in p.get("filepath", "")] or pools
    info["num_threads"] = numpy_pools[0]["num_threads"] if numpy_pools else os.cpu_count()
    info["pools"] = pools
    return info


# ------------------------------------------------------------------------------- runners
class Runner:
    """step() and grads() over fixed data; subclasses fill them in."""

    meta: dict = {}


def build(name: str, impl: str, seed: int = 0, data_path: str | None = None) -> Runner:
    w = WORKLOADS[name]
    if impl not in w.impls:
        raise ValueError(f"{name}: no {impl} implementation (has {w.impls})")
    X, Y, params = problem(w, seed, data_path)
    maker = {"mlp": _MLP, "conv": _CONV, "digits": _DIGITS, "chain": _CHAIN}[w.kind][impl]
    runner = maker(w, X, Y, params, seed)
    runner.workload = w
    return runner


# -- numpy ----------------------------------------------------------------------------
class NumpyMLP(Runner):
    def __init__(self, w, X, Y, params, seed):
        cls = ref.MLPSigmoidMSE if w.loss == "mse" else ref.MLPReluCE
        self.net, self.X, self.Y = cls(params, w.lr), X, Y

    def step(self):
        return self.net.step(self.X, self.Y)

    def grads(self):
        loss, g = self.net.grads(self.X, self.Y)
        return float(loss), ref.to_canonical(g)

    def weights(self):
        return ref.to_canonical(self.net.params)


class NumpyConv(Runner):
    layers = CONV_LAYERS

    def __init__(self, w, X, Y, params, seed):
        self.net = ref.ConvNetRef(
            self.layers, params, w.lr, "adam" if w.kind == "digits" else "sgd", seed
        )
        self.X, self.Y, self.w, self.rng = X, Y, w, np.random.default_rng(seed)

    def step(self):
        return self.net.step(self.X, self.Y)

    def grads(self, X=None, Y=None):
        training, self.net.training = self.net.training, False  # no dropout in the check
        loss, g = self.net.grads(self.X if X is None else X, self.Y if Y is None else Y)
        self.net.training = training
        return float(loss), self.net.to_canonical(g)

    def weights(self):
        return self.net.to_canonical(self.net.params)


class NumpyDigits(NumpyConv):
    layers = DIGITS_LAYERS

    def step(self):
        X, Y, net = self.X, self.Y, self.net
        for b in epoch_batches(len(X), self.rng, self.w.batch):
            net.step(X[b], Y[b])

    def grads(self):
        return super().grads(self.X[: self.w.batch], self.Y[: self.w.batch])


class NumpyChain(Runner):
    def __init__(self, w, x0, _, __, seed):
        self.x0, self.n = x0, w.n_ops

    def block(self, chains):
        perf, n, c = time.perf_counter, self.n, CHAIN_FACTOR
        t = 0.0
        for _ in range(chains):
            a = self.x0.copy()
            t0 = perf()
            for _ in range(n):
                a = a * c
            t += perf() - t0
        return t, 0.0, chains * n

    def grads(self):
        """The hand-written backward of the chain: d sum(x c^n) / dx, one multiply per op."""
        g = np.ones_like(self.x0)
        for _ in range(self.n):
            g = g * CHAIN_FACTOR
        return 0.0, [g]


# -- microtensor, eager ---------------------------------------------------------------------
def _mt(dtype):
    import microtensor as mt

    mt.set_default_dtype(dtype)
    return mt


def _load_mt(module, params) -> None:
    """Copy the workload's initial weights into a module's parameters (same order)."""
    ps = list(module.parameters())
    if [p.shape for p in ps] != [a.shape for a in params]:
        raise AssertionError(
            f"parameter shapes {[p.shape for p in ps]} != {[a.shape for a in params]}"
        )
    for p, a in zip(ps, params):
        p.numpy(force=True)[...] = a


class EagerBase(Runner):
    def grads(self):
        self.net.eval()
        for p in self.params:
            p.grad = None
        loss = self.loss_of(self.Xb, self.Yb)
        loss.backward()
        grads = [p.grad.numpy(force=True).copy() for p in self.params]
        for p in self.params:
            p.grad = None
        self.net.train()
        return float(loss.item()), grads

    def weights(self):
        return [p.numpy(force=True) for p in self.params]


class EagerMLP(EagerBase):
    def __init__(self, w, X, Y, params, seed):
        mt = _mt(w.dtype)
        from microtensor.nn import functional as F
        from models import MLP

        mt.manual_seed(seed)
        self.net = MLP(
            list(w.sizes), activations=w.hidden, output="sigmoid" if w.loss == "mse" else None
        )
        _load_mt(self.net, params)
        self.params = list(self.net.parameters())
        self.opt = mt.optim.SGD(self.params, lr=w.lr)
        self.Xb, self.Yb = mt.tensor(X), mt.tensor(Y)
        loss_fn = F.mse_loss if w.loss == "mse" else F.cross_entropy
        net = self.net
        self.loss_of = lambda x, y: loss_fn(net(x), y)

    def step(self):
        opt = self.opt
        opt.zero_grad()
        loss = self.loss_of(self.Xb, self.Yb)
        loss.backward()
        opt.step()
        return loss


def _mt_small_convnet():
    """The conv workload's network, written as a user would in microtensor."""
    from microtensor import nn
    from microtensor.nn import functional as F

    class SmallConvNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 8, 3)
            self.conv2 = nn.Conv2d(8, 16, 3)
            self.fc = nn.Linear(16 * 5 * 5, 10)

        def forward(self, x):
            x = F.relu(F.max_pool2d(self.conv1(x), 2))
            x = F.relu(F.max_pool2d(self.conv2(x), 2))
            return self.fc(x.flatten(1))

    return SmallConvNet()


class EagerConv(EagerMLP):
    def __init__(self, w, X, Y, params, seed):
        mt = _mt(w.dtype)
        from microtensor.nn import functional as F

        mt.manual_seed(seed)
        self.net = _mt_small_convnet()
        _load_mt(self.net, params)
        self.params = list(self.net.parameters())
        self.opt = mt.optim.SGD(self.params, lr=w.lr)
        self.Xb, self.Yb = mt.tensor(X), mt.tensor(Y)
        net = self.net
        self.loss_of = lambda x, y: F.cross_entropy(net(x), y)


class EagerDigits(EagerBase):
    def __init__(self, w, X, Y, params, seed):
        mt = _mt(w.dtype)
        from microtensor.nn import functional as F
        from models import ConvNet

        mt.manual_seed(seed)
        self.mt, self.F = mt, F
        self.net = ConvNet((1, 8, 8), dropout=0.2)
        _load_mt(self.net, params)
        self.params = list(self.net.parameters())
        self.opt = mt.optim.Adam(self.params, lr=w.lr)
        self.X, self.Y, self.w = X, Y, w
        self.rng = np.random.default_rng(seed)
        self.Xb, self.Yb = mt.tensor(X[: w.batch]), Y[: w.batch]
        net = self.net
        self.loss_of = lambda x, y: F.cross_entropy(net(x), y)

    def step(self):
        mt, F, net, opt, X, Y = self.mt, self.F, self.net, self.opt, self.X, self.Y
        net.train()
        for b in epoch_batches(len(X), self.rng, self.w.batch):
            opt.zero_grad()
            F.cross_entropy(net(mt.tensor(X[b])), Y[b]).backward()
            opt.step()


class EagerChain(Runner):
    def __init__(self, w, x0, _, __, seed):
        self.mt = _mt(w.dtype)
        self.x0, self.n = x0, w.n_ops
        self.seed = np.ones_like(x0)

    def block(self, chains):
        perf, mt, n, c, seed = time.perf_counter, self.mt, self.n, CHAIN_FACTOR, self.seed
        tf = tb = 0.0
        for _ in range(chains):
            x = mt.tensor(self.x0, requires_grad=True)
            t0 = perf()
            for _ in range(n):
                x = x * c
            t1 = perf()
            x.backward(seed)
            del x  # graph teardown counts as backward
            t2 = perf()
            tf += t1 - t0
            tb += t2 - t1
        return tf, tb, chains * n

    def grads(self):
        x0 = self.mt.tensor(self.x0, requires_grad=True)
        x = x0
        for _ in range(self.n):
            x = x * CHAIN_FACTOR
        x.backward(self.seed)
        return 0.0, [x0.grad.numpy(force=True).copy()]


# -- microtensor, compiled ---------------------------------------------------------------
def _train_step(opt, loss_of):
    """The eager runners' training step as a function of the batch, for mt.compile."""

    def train_step(x, y):
        opt.zero_grad()
        loss = loss_of(x, y)
        loss.backward()
        opt.step()
        return loss

    return train_step


class _Compiled:
    """A microtensor runner whose training step runs under mt.compile."""

    def compile_step(self) -> None:
        import microtensor as mt

        self.train_step = mt.compile(_train_step(self.opt, self.loss_of))

    def step(self):
        return self.train_step(self.Xb, self.Yb)

    def grads(self):
        """The gradients a replay (not the recording call) leaves in .grad."""
        import microtensor as mt

        loss_of = self.loss_of

        def loss_and_grads(x, y):
            loss = loss_of(x, y)
            loss.backward()
            return loss

        compiled = mt.compile(loss_and_grads)
        self.net.eval()
        for _ in range(2):
            for p in self.params:
                p.grad = None
            loss = compiled(self.Xb, self.Yb)
        if compiled.replays != 1:
            raise AssertionError(
                f"the gradient step ran eagerly ({compiled.eager_calls} "
                f"eager calls); see the CompileWarning"
            )
        grads = [p.grad.numpy(force=True).copy() for p in self.params]
        for p in self.params:
            p.grad = None
        self.net.train()
        return float(loss.item()), grads


class CompiledMLP(_Compiled, EagerMLP):
    def __init__(self, w, X, Y, params, seed):
        super().__init__(w, X, Y, params, seed)
        self.compile_step()


class CompiledConv(_Compiled, EagerConv):
    def __init__(self, w, X, Y, params, seed):
        super().__init__(w, X, Y, params, seed)
        self.compile_step()


class CompiledDigits(_Compiled, EagerDigits):
    """One epoch of compiled batch steps: the targets are an input of the recording and
    dropout's mask is drawn again by each replay, so each batch shape (the full batches,
    the last smaller one) is recorded once and replayed after."""

    def __init__(self, w, X, Y, params, seed):
        super().__init__(w, X, Y, params, seed)
        self.Yb = self.mt.tensor(self.Yb)
        self.compile_step()

    def step(self):
        mt, X, Y = self.mt, self.X, self.Y
        self.net.train()
        for b in epoch_batches(len(X), self.rng, self.w.batch):
            self.train_step(mt.tensor(X[b]), mt.tensor(Y[b]))


class CompiledChain(EagerChain):
    """The chain and its backward as one compiled call, timed as forward."""

    def __init__(self, w, x0, _, __, seed):
        super().__init__(w, x0, _, __, seed)
        n, c, seed = self.n, CHAIN_FACTOR, self.seed

        def chain(x):
            for _ in range(n):
                x = x * c
            x.backward(seed)

        self.chain = self.mt.compile(chain)

    def block(self, chains):
        perf, mt, run = time.perf_counter, self.mt, self.chain
        t = 0.0
        for _ in range(chains):
            x = mt.tensor(self.x0, requires_grad=True)
            t0 = perf()
            run(x)
            t += perf() - t0
        return t, 0.0, chains * self.n

    def grads(self):
        replays = self.chain.replays
        for _ in range(2):
            x0 = self.mt.tensor(self.x0, requires_grad=True)
            self.chain(x0)
        if self.chain.replays == replays:
            raise AssertionError("the chain ran eagerly; see the CompileWarning")
        return 0.0, [x0.grad.numpy(force=True).copy()]


# -- microtensor, eager, raw ops ---------------------------------------------------------
def _raw_cross_entropy(logits, y, rows):
    """Mean softmax cross-entropy from tensor ops: a stable log-softmax, then the targets'
    entries."""
    z = logits - logits.max(dim=1, keepdim=True).values
    logp = z - z.exp().sum(dim=1, keepdim=True).log()
    return -logp[rows, y].mean()


class RawBase(Runner):
    """Weights as leaf tensors, dense ones in the reports' layout (in, out); the SGD
    update written by hand under no_grad."""

    def leaves(self, w, X, Y, params) -> None:
        mt = self.mt = _mt(w.dtype)
        self.params = [mt.tensor(p, requires_grad=True) for p in ref.from_canonical(params)]
        self.Xb, self.Yb, self.rows, self.lr = mt.tensor(X), mt.tensor(Y), mt.arange(len(X)), w.lr

    def step(self):
        loss = self.loss_of(self.Xb, self.Yb)
        loss.backward()
        lr = self.lr
        with self.mt.no_grad():
            for p in self.params:
                p -= lr * p.grad
                p.grad = None
        return loss

    def grads(self):
        loss = self.loss_of(self.Xb, self.Yb)
        loss.backward()
        grads = [p.grad.numpy(force=True).copy() for p in self.params]
        for p in self.params:
            p.grad = None
        return float(loss.item()), ref.to_canonical(grads)

    def weights(self):
        return ref.to_canonical([p.numpy(force=True) for p in self.params])


class RawMLP(RawBase):
    def __init__(self, w, X, Y, params, seed):
        self.leaves(w, X, Y, params)
        Ws, bs, rows = self.params[0::2], self.params[1::2], self.rows
        last = len(Ws) - 1

        def mse_sigmoid(x, y):
            h = x
            for W, b in zip(Ws, bs):
                h = (h @ W + b).sigmoid()
            return ((h - y) ** 2).mean()

        def ce_relu(x, y):
            h = x
            for i, (W, b) in enumerate(zip(Ws, bs)):
                h = h @ W + b
                if i < last:
                    h = h.relu()
            return _raw_cross_entropy(h, y, rows)

        self.loss_of = mse_sigmoid if w.loss == "mse" else ce_relu


class RawConv(RawBase):
    """The conv net through F.conv2d and F.max_pool2d (no modules), its dense layer as
    `h @ W + b`."""

    def __init__(self, w, X, Y, params, seed):
        from microtensor.nn import functional as F

        self.leaves(w, X, Y, params)
        W1, b1, W2, b2, W3, b3 = self.params
        rows = self.rows

        def loss_of(x, y):
            h = F.max_pool2d(F.conv2d(x, W1, b1), 2).relu()
            h = F.max_pool2d(F.conv2d(h, W2, b2), 2).relu()
            return _raw_cross_entropy(h.flatten(1) @ W3 + b3, y, rows)

        self.loss_of = loss_of


# -- PyTorch ------------------------------------------------------------------------------
def _torch(dtype):
    import torch

    torch.set_num_threads(max(1, int(blas_threads()["num_threads"])))
    return torch, {"float32": torch.float32, "float64": torch.float64}[dtype]


def _load_torch(torch, module, params) -> None:
    ps = list(module.parameters())
    if [tuple(p.shape) for p in ps] != [a.shape for a in params]:
        raise AssertionError("torch parameter shapes do not match the workload's")
    with torch.no_grad():
        for p, a in zip(ps, params):
            p.copy_(torch.from_numpy(a))


class TorchBase(Runner):
    def grads(self):
        self.net.eval()
        self.opt.zero_grad()
        loss = self.loss_of(self.Xb, self.Yb)
        loss.backward()
        grads = [p.grad.detach().numpy().copy() for p in self.net.parameters()]
        self.opt.zero_grad()
        self.net.train()
        return float(loss.item()), grads

    def weights(self):
        return [p.detach().numpy() for p in self.net.parameters()]

    def step(self):
        opt = self.opt
        opt.zero_grad()
        loss = self.loss_of(self.Xb, self.Yb)
        loss.backward()
        opt.step()
        return loss


class TorchMLP(TorchBase):
    def __init__(self, w, X, Y, params, seed):
        torch, dtype = _torch(w.dtype)
        import torch.nn.functional as F
        from torch import nn

        torch.manual_seed(seed)
        layers = []
        for i, (a, b) in enumerate(zip(w.sizes[:-1], w.sizes[1:])):
            layers.append(nn.Linear(a, b, dtype=dtype))
            if i < len(w.sizes) - 2:
                layers.append(nn.Sigmoid() if w.hidden == "sigmoid" else nn.ReLU())
        if w.loss == "mse":
            layers.append(nn.Sigmoid())
        self.net = nn.Sequential(*layers)
        _load_torch(torch, self.net, params)
        self.opt = torch.optim.SGD(self.net.parameters(), lr=w.lr)
        self.Xb, self.Yb = torch.from_numpy(X), torch.from_numpy(Y)
        loss_fn = F.mse_loss if w.loss == "mse" else F.cross_entropy
        net = self.net
        self.loss_of = lambda x, y: loss_fn(net(x), y)
        self.meta = {"torch_threads": torch.get_num_threads(), "torch": torch.__version__}


def _torch_net(torch, kind, dtype):
    import torch.nn.functional as F
    from torch import nn

    class SmallConvNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 8, 3, dtype=dtype)
            self.conv2 = nn.Conv2d(8, 16, 3, dtype=dtype)
            self.fc = nn.Linear(16 * 5 * 5, 10, dtype=dtype)

        def forward(self, x):
            x = F.relu(F.max_pool2d(self.conv1(x), 2))
            x = F.relu(F.max_pool2d(self.conv2(x), 2))
            return self.fc(x.flatten(1))

    class DigitsConvNet(nn.Module):
        """models.ConvNet((1, 8, 8), dropout=0.2) in PyTorch."""

        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 16, 3, padding=1, dtype=dtype)
            self.conv2 = nn.Conv2d(16, 32, 3, padding=1, dtype=dtype)
            self.conv2_drop = nn.Dropout(0.1)
            self.fc1 = nn.Linear(128, 64, dtype=dtype)
            self.fc2 = nn.Linear(64, 10, dtype=dtype)
            self.drop = nn.Dropout(0.2)

        def forward(self, x):
            x = F.relu(F.max_pool2d(self.conv1(x), 2))
            x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
            x = self.drop(F.relu(self.fc1(x.flatten(1))))
            return self.fc2(x)

    return SmallConvNet() if kind == "conv" else DigitsConvNet()


class TorchConv(TorchBase):
    def __init__(self, w, X, Y, params, seed):
        torch, dtype = _torch(w.dtype)
        import torch.nn.functional as F

        torch.manual_seed(seed)
        self.torch = torch
        self.net = _torch_net(torch, w.kind, dtype)
        _load_torch(torch, self.net, params)
        if w.kind == "digits":
            self.opt = torch.optim.Adam(self.net.parameters(), lr=w.lr)
            self.X, self.Y = torch.from_numpy(X), torch.from_numpy(Y)
            self.Xb, self.Yb = self.X[: w.batch], self.Y[: w.batch]
        else:
            self.opt = torch.optim.SGD(self.net.parameters(), lr=w.lr)
            self.Xb, self.Yb = torch.from_numpy(X), torch.from_numpy(Y)
        self.w, self.rng = w, np.random.default_rng(seed)
        net = self.net
        self.loss_of = lambda x, y: F.cross_entropy(net(x), y)
        self.meta = {"torch_threads": torch.get_num_threads(), "torch": torch.__version__}


class TorchDigits(TorchConv):
    def step(self):
        torch, net, opt, X, Y, loss_of = (
            self.torch,
            self.net,
            self.opt,
            self.X,
            self.Y,
            self.loss_of,
        )
        net.train()
        for b in epoch_batches(len(X), self.rng, self.w.batch):
            b = torch.from_numpy(b)
            opt.zero_grad()
            loss_of(X[b], Y[b]).backward()
            opt.step()


class TorchChain(Runner):
    def __init__(self, w, x0, _, __, seed):
        self.torch, _ = _torch(w.dtype)
        self.x0, self.n = self.torch.from_numpy(x0), w.n_ops
        self.seed = self.torch.ones_like(self.x0)
        self.meta = {"torch_threads": self.torch.get_num_threads()}

    def block(self, chains):
        perf, n, c, seed = time.perf_counter, self.n, CHAIN_FACTOR, self.seed
        tf = tb = 0.0
        for _ in range(chains):
            x = self.x0.clone().requires_grad_(True)
            t0 = perf()
            for _ in range(n):
                x = x * c
            t1 = perf()
            x.backward(seed)
            del x
            t2 = perf()
            tf += t1 - t0
            tb += t2 - t1
        return tf, tb, chains * n

    def grads(self):
        x0 = self.x0.clone().requires_grad_(True)
        x = x0
        for _ in range(self.n):
            x = x * CHAIN_FACTOR
        x.backward(self.seed)
        return 0.0, [x0.grad.numpy().copy()]


# -- JAX ------------------------------------------------------------------------------------
def _jax(dtype):
    """jax, with 64-bit arrays enabled for a float64 workload (in this worker process
    only). XLA sizes its CPU thread pool by the process's CPU affinity, and no flag
    caps it, so when numpy's BLAS has one thread this process is held to one CPU."""
    if blas_threads()["num_threads"] == 1 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    import jax

    if dtype == "float64":
        jax.config.update("jax_enable_x64", True)
    return jax


def _jax_meta(jax) -> dict:
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    return {
        "jax": jax.__version__,
        "jax_enable_x64": bool(jax.config.jax_enable_x64),
        "cpus": len(cpus) if cpus else os.cpu_count(),
    }


def _jax_cross_entropy(jax, logits, y):
    logp = jax.nn.log_softmax(logits)
    return -jax.numpy.take_along_axis(logp, y[:, None], axis=1).mean()


class JaxBase(Runner):
    """A pure loss of (params, x, y); one jitted call per step returns the loss and the
    updated parameters (their old buffers donated), and the step waits for both."""

    def jit(self, jax, loss, params, X, Y, lr):
        value_and_grad = jax.value_and_grad(loss)

        def train_step(params, x, y):
            value, grads = value_and_grad(params, x, y)
            return value, [p - lr * g for p, g in zip(params, grads)]

        self.jax = jax
        self.train_step = jax.jit(train_step, donate_argnums=0)
        self.value_and_grad = jax.jit(value_and_grad)
        self.params = [jax.numpy.asarray(p) for p in params]
        self.Xb, self.Yb = jax.numpy.asarray(X), jax.numpy.asarray(Y)
        self.meta = _jax_meta(jax)

    def step(self):
        loss, self.params = self.train_step(self.params, self.Xb, self.Yb)
        return self.jax.block_until_ready((loss, self.params))[0]

    def grads(self):
        loss, grads = self.value_and_grad(self.params, self.Xb, self.Yb)
        return float(loss), self.to_canonical([np.asarray(g) for g in grads])

    def weights(self):
        return self.to_canonical([np.asarray(p) for p in self.params])


class JaxMLP(JaxBase):
    """Weights in the reports' layout (in, out)."""

    to_canonical = staticmethod(ref.to_canonical)

    def __init__(self, w, X, Y, params, seed):
        jax = _jax(w.dtype)
        n_layers, mse = len(params) // 2, w.loss == "mse"

        def loss(params, x, y):
            a = x
            for i in range(n_layers):
                a = a @ params[2 * i] + params[2 * i + 1]
                if mse:
                    a = jax.nn.sigmoid(a)
                elif i < n_layers - 1:
                    a = jax.nn.relu(a)
            return ((a - y) ** 2).mean() if mse else _jax_cross_entropy(jax, a, y)

        self.jit(jax, loss, ref.from_canonical(params), X, Y, w.lr)


def _jax_convnet(jax, layers):
    """forward(params, x, key, training) of a ConvNetRef layer list, in PyTorch's layouts."""
    lax = jax.lax

    def forward(params, x, key, training):
        i = 0
        for layer in layers:
            kind = layer[0]
            if kind == "conv":
                pad = layer[1]
                x = lax.conv_general_dilated(
                    x,
                    params[i],
                    (1, 1),
                    [(pad, pad)] * 2,
                    dimension_numbers=("NCHW", "OIHW", "NCHW"),
                )
                x = x + params[i + 1][None, :, None, None]
                i += 2
            elif kind == "pool":
                x = lax.reduce_window(x, -np.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")
            elif kind == "relu":
                x = jax.nn.relu(x)
            elif kind == "flatten":
                x = x.reshape(x.shape[0], -1)
            elif kind == "fc":
                x = x @ params[i].T + params[i + 1]
                i += 2
            elif kind == "dropout" and training:
                key, sub = jax.random.split(key)
                keep = jax.random.bernoulli(sub, 1 - layer[1], x.shape)
                x = jax.numpy.where(keep, x / (1 - layer[1]), 0)
        return x

    return forward


class JaxConv(JaxBase):
    to_canonical = staticmethod(list)

    def __init__(self, w, X, Y, params, seed):
        jax = _jax(w.dtype)
        forward = _jax_convnet(jax, CONV_LAYERS)

        def loss(params, x, y):
            return _jax_cross_entropy(jax, forward(params, x, None, False), y)

        self.jit(jax, loss, params, X, Y, w.lr)


class JaxDigits(Runner):
    """One epoch: per batch one jitted call of value_and_grad (dropout keyed by a PRNG
    key the call splits and returns) and PyTorch's Adam update; batches indexed in numpy,
    as a numpy data loader hands them over."""

    def __init__(self, w, X, Y, params, seed):
        jax = self.jax = _jax(w.dtype)
        jnp = jax.numpy
        forward = _jax_convnet(jax, DIGITS_LAYERS)
        lr, (b1, b2), eps = w.lr, (0.9, 0.999), 1e-8

        def loss(params, x, y, key, training):
            return _jax_cross_entropy(jax, forward(params, x, key, training), y)

        value_and_grad = jax.value_and_grad(loss)

        def train_step(state, x, y):
            params, m, v, t, key = state
            key, sub = jax.random.split(key)
            value, grads = value_and_grad(params, x, y, sub, True)
            t = t + 1
            m = [b1 * mi + (1 - b1) * g for mi, g in zip(m, grads)]
            v = [b2 * vi + (1 - b2) * g * g for vi, g in zip(v, grads)]
            step_size, root_bc2 = lr / (1 - b1**t), jnp.sqrt(1 - b2**t)
            params = [
                p - step_size * mi / (jnp.sqrt(vi) / root_bc2 + eps)
                for p, mi, vi in zip(params, m, v)
            ]
            return value, (params, m, v, t, key)

        self.train_step = jax.jit(train_step, donate_argnums=0)
        self.value_and_grad = jax.jit(value_and_grad, static_argnums=4)
        ps = [jnp.asarray(p) for p in params]
        zeros = [jnp.zeros_like(p) for p in ps]
        self.state = (
            ps,
            zeros,
            [jnp.zeros_like(p) for p in ps],
            jnp.zeros((), ps[0].dtype),
            jax.random.key(seed),
        )
        self.X, self.Y, self.w, self.rng = X, Y, w, np.random.default_rng(seed)
        self.meta = _jax_meta(jax)

    def step(self):
        X, Y, state, step = self.X, self.Y, self.state, self.train_step
        for b in epoch_batches(len(X), self.rng, self.w.batch):
            _, state = step(state, X[b], Y[b])
        self.state = self.jax.block_until_ready(state)

    def grads(self):
        n = self.w.batch
        loss, grads = self.value_and_grad(
            self.state[0], self.X[:n], self.Y[:n], self.state[4], False
        )
        return float(loss), [np.asarray(g) for g in grads]


# -- HIPS autograd ------------------------------------------------------------------------
class AutogradMLP(Runner):
    """The network as a numpy function of a parameter list; value_and_grad differentiates
    it. Weights in the reports' layout (in, out)."""

    def __init__(self, w, X, Y, params, seed):
        import autograd.numpy as anp
        from autograd import value_and_grad

        self.params = ref.from_canonical(params)
        self.X, self.Y, self.lr = X, Y, w.lr
        n_layers = len(self.params) // 2
        mse, sig = w.loss == "mse", w.hidden == "sigmoid"

        def loss(params, X, Y):
            a = X
            for i in range(n_layers):
                z = anp.dot(a, params[2 * i]) + params[2 * i + 1]
                if i < n_layers - 1 or mse:
                    a = 1.0 / (1.0 + anp.exp(-z)) if sig else anp.maximum(z, 0.0)
                else:
                    a = z
            if mse:
                return anp.mean((a - Y) ** 2)
            m = anp.max(a, axis=1, keepdims=True)
            lse = anp.log(anp.sum(anp.exp(a - m), axis=1, keepdims=True)) + m
            return -anp.mean((a - lse)[anp.arange(a.shape[0]), Y])

        self.value_and_grad = value_and_grad(loss)

    def step(self):
        loss, grads = self.value_and_grad(self.params, self.X, self.Y)
        lr = self.lr
        for p, g in zip(self.params, grads):
            p -= lr * g
        return loss

    def grads(self):
        loss, grads = self.value_and_grad(self.params, self.X, self.Y)
        return float(loss), ref.to_canonical(list(grads))

    def weights(self):
        return ref.to_canonical(self.params)


_MLP = {
    "numpy": NumpyMLP,
    "eager": EagerMLP,
    "eager-raw": RawMLP,
    "compiled": CompiledMLP,
    "torch": TorchMLP,
    "jax-jit": JaxMLP,
    "autograd": AutogradMLP,
}
_CONV = {
    "numpy": NumpyConv,
    "eager": EagerConv,
    "eager-raw": RawConv,
    "compiled": CompiledConv,
    "torch": TorchConv,
    "jax-jit": JaxConv,
}
_DIGITS = {
    "numpy": NumpyDigits,
    "eager": EagerDigits,
    "compiled": CompiledDigits,
    "torch": TorchDigits,
    "jax-jit": JaxDigits,
}
_CHAIN = {
    "numpy": NumpyChain,
    "eager": EagerChain,
    "compiled": CompiledChain,
    "torch": TorchChain,
}
