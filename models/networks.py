"""The networks of the reports, each a few lines of nn code: MLP (Lab 1's 2-5-5-1 and
its variations), SoftmaxClassifier (reports 002-004) and ConvNet (the MNIST conv net of
reports 002/003). None defines a backward; autodiff does it."""

from __future__ import annotations

from collections.abc import Sequence

import microtensor as mt
from microtensor import nn
from microtensor.nn import functional as F

from . import registry

__all__ = ["MLP", "SoftmaxClassifier", "ConvNet", "activation"]


def activation(spec) -> nn.Module:
    """A module from a name of registry.ACTIVATIONS ("relu", "sigmoid", ...), a module, or
    None / "none" (identity: the reports' "no activation" runs)."""
    if spec is None:
        return nn.Identity()
    if isinstance(spec, nn.Module):
        return spec
    try:
        return registry.ACTIVATIONS[registry.canonical("activation", spec, "activation")]()
    except (ValueError, TypeError):
        raise ValueError(
            f"activation: unknown activation {spec!r}; use one of "
            f"{registry.names('activation')}, None, or an nn.Module"
        ) from None


def _gain_name(spec) -> str:
    name = spec if isinstance(spec, str) else type(spec).__name__.lower()
    return registry.GAINS.get(name, "linear")


def initialise(weight: mt.Tensor, bias, scheme: str | None, act) -> None:
    """Re-initialise a layer by a name of registry.INITS ("xavier": Glorot with the gain
    of the activation, "he": Kaiming, fan_in), or keep PyTorch's ("default" or None)."""
    try:
        init = registry.INITS[registry.canonical("init", scheme or "default", "init")]
    except (ValueError, TypeError):
        raise ValueError(
            f"init must be one of {registry.names('init')} or None, got {scheme!r}"
        ) from None
    if init is None:
        return
    init(weight, _gain_name(act))
    if bias is not None:
        nn.init.zeros_(bias)


class MLP(nn.Module):
    """Fully connected network: Linear layers of `sizes`, an activation after each hidden
    layer (one name for all, or a list with one per hidden layer; None for none) and a
    separate `output` activation.

    >>> import microtensor as mt
    >>> from models import MLP
    >>> net = MLP([2, 5, 5, 1], activations="sigmoid", output="sigmoid")
    >>> net(mt.zeros(4, 2)).shape
    (4, 1)
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activations="sigmoid",
        output=None,
        init: str | None = None,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if len(sizes) < 2 or any(int(s) < 1 for s in sizes):
            raise ValueError(
                f"MLP: sizes must list at least an input and an output size, "
                f"all positive, got {list(sizes)}"
            )
        n_hidden = len(sizes) - 2
        acts = (
            list(activations)
            if isinstance(activations, (list, tuple))
            else [activations] * n_hidden
        )
        if len(acts) != n_hidden:
            raise ValueError(
                f"MLP: {n_hidden} hidden layer(s) need {n_hidden} activation(s), "
                f"got {len(acts)}: {acts}"
            )
        self.sizes = list(sizes)
        self.layers = [nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])]
        self.activations = [activation(a) for a in acts] + [activation(output)]
        self.dropout = nn.Dropout(dropout) if dropout else None
        for layer, act in zip(self.layers, acts + [output]):
            initialise(layer.weight, layer.bias, init, act)

    def forward(self, x: mt.Tensor) -> mt.Tensor:
        last = len(self.layers) - 1
        for i, (layer, act) in enumerate(zip(self.layers, self.activations)):
            x = act(layer(x))
            if self.dropout is not None and i < last:
                x = self.dropout(x)
        return x


class SoftmaxClassifier(MLP):
    """An MLP whose output is class logits; train it with F.cross_entropy, read
    probabilities with predict_proba and labels with predict."""

    def __init__(
        self,
        sizes: Sequence[int],
        activations="relu",
        init: str | None = None,
        dropout: float = 0.0,
    ) -> None:
        super().__init__(sizes, activations, output=None, init=init, dropout=dropout)

    def predict_proba(self, x) -> mt.Tensor:
        with mt.no_grad():
            return F.softmax(self(x if isinstance(x, mt.Tensor) else mt.tensor(x)), dim=-1)

    def predict(self, x):
        return self.predict_proba(x).argmax(dim=-1).numpy()


class ConvNet(nn.Module):
    """The reports' MNIST conv net: conv-pool-act, conv-dropout-pool-act, fc-act-dropout,
    fc, sized from `in_shape` (C, H, W): 5x5 kernels for MNIST-sized images, 3x3 with
    padding for the 8x8 digits."""

    def __init__(
        self,
        in_shape=(1, 28, 28),
        n_classes: int = 10,
        channels=(16, 32),
        hidden: int = 64,
        activation_name="relu",
        init: str | None = "he",
        dropout: float = 0.5,
        kernel_size: int | None = None,
    ) -> None:
        super().__init__()
        c, h, w = in_shape
        k = kernel_size or (5 if min(h, w) >= 16 else 3)
        pad = 0 if k == 5 else k // 2
        size = (h, w)
        for _ in range(2):
            size = tuple(((s + 2 * pad - k + 1) // 2) for s in size)
        if min(size) < 1:
            raise ValueError(
                f"ConvNet: input {in_shape} is too small for two {k}x{k} convolutions and 2x2 pools"
            )
        self.conv1 = nn.Conv2d(c, channels[0], k, padding=pad)
        self.conv2 = nn.Conv2d(channels[0], channels[1], k, padding=pad)
        self.conv2_drop = nn.Dropout(dropout / 2)
        self.fc1 = nn.Linear(channels[1] * size[0] * size[1], hidden)
        self.fc2 = nn.Linear(hidden, n_classes)
        self.act = activation(activation_name)
        self.drop = nn.Dropout(dropout)
        for layer in (self.conv1, self.conv2, self.fc1):
            initialise(layer.weight, layer.bias, init, activation_name)
        initialise(self.fc2.weight, self.fc2.bias, init, None)

    def forward(self, x: mt.Tensor) -> mt.Tensor:
        x = self.act(F.max_pool2d(self.conv1(x), 2))
        x = self.act(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = self.drop(self.act(self.fc1(x.flatten(1))))
        return self.fc2(x)

    def predict(self, x):
        was = self.training
        self.eval()
        with mt.no_grad():
            out = self(x if isinstance(x, mt.Tensor) else mt.tensor(x)).argmax(dim=-1).numpy()
        self.train(was)
        return out
