"""Activation layers, as torch.nn's. Most only hold their options and call their
function of nn.functional, so they are made from one table (name, function, options in
PyTorch's order with their defaults); PReLU (a parameter), RReLU (train mode) and
Softmax2d are written out."""

from __future__ import annotations

import inspect
import operator

from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..module import Module
from .linear import new_parameter

_REQUIRED = inspect.Parameter.empty


def _activation(name: str, function, doc: str, *options: tuple) -> type:
    """A Module class `name` whose forward is function(input, *options): its __init__
    takes the options (name, default) positionally or by keyword, as PyTorch's does."""
    names = tuple(o for o, _ in options)
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    signature = inspect.Signature(
        [inspect.Parameter("self", kind)]
        + [inspect.Parameter(o, kind, default=d) for o, d in options]
    )

    def __init__(self, *args, **kwargs) -> None:
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        Module.__init__(self)
        for o in names:
            setattr(self, o, bound.arguments[o])

    __init__.__signature__ = signature  # type: ignore[attr-defined]  # inspect reads it
    if not names:

        def forward(self, input: Tensor) -> Tensor:
            return function(input)
    elif len(names) == 1:
        get = operator.attrgetter(names[0])

        def forward(self, input: Tensor) -> Tensor:
            return function(input, get(self))
    else:
        get = operator.attrgetter(*names)

        def forward(self, input: Tensor) -> Tensor:
            return function(input, *get(self))

    def extra_repr(self) -> str:
        """Each option as name=value; inplace only when set, as PyTorch prints them."""
        shown = [
            f"{o}={getattr(self, o)!r}"
            if isinstance(getattr(self, o), str)
            else f"{o}={getattr(self, o)}"
            for o in names
            if o != "inplace"
        ]
        return ", ".join(shown + (["inplace=True"] if getattr(self, "inplace", False) else []))

    return type(
        name,
        (Module,),
        {
            "__init__": __init__,
            "forward": forward,
            "extra_repr": extra_repr,
            "__doc__": doc,
            "__module__": __name__,
        },
    )


_INPLACE = ("inplace", False)
_TABLE: list[tuple] = [
    ("ReLU", F.relu, "max(x, 0).", _INPLACE),
    ("ReLU6", F.relu6, "min(max(x, 0), 6).", _INPLACE),
    (
        "LeakyReLU",
        F.leaky_relu,
        "x, or negative_slope * x below 0.",
        ("negative_slope", 0.01),
        _INPLACE,
    ),
    ("ELU", F.elu, "x, or alpha (exp(x) - 1) below 0.", ("alpha", 1.0), _INPLACE),
    ("CELU", F.celu, "max(0, x) + min(0, alpha (exp(x / alpha) - 1)).", ("alpha", 1.0), _INPLACE),
    ("SELU", F.selu, "scale * elu(x, alpha), self-normalizing.", _INPLACE),
    ("GELU", F.gelu, "x Phi(x), or its tanh approximation.", ("approximate", "none")),
    ("SiLU", F.silu, "x sigmoid(x).", _INPLACE),
    ("Mish", F.mish, "x tanh(softplus(x)).", _INPLACE),
    (
        "Hardtanh",
        F.hardtanh,
        "x clipped to [min_val, max_val].",
        ("min_val", -1.0),
        ("max_val", 1.0),
        _INPLACE,
    ),
    ("Hardswish", F.hardswish, "x relu6(x + 3) / 6.", _INPLACE),
    ("Hardsigmoid", F.hardsigmoid, "relu6(x + 3) / 6.", _INPLACE),
    (
        "Sigmoid",
        F.sigmoid,
        "1 / (1 + exp(-x)).",
    ),
    (
        "Tanh",
        F.tanh,
        "tanh(x).",
    ),
    (
        "LogSigmoid",
        F.logsigmoid,
        "log(sigmoid(x)), stable for any x.",
    ),
    (
        "Softsign",
        F.softsign,
        "x / (1 + |x|).",
    ),
    (
        "Softplus",
        F.softplus,
        "log(1 + exp(beta x)) / beta, linear above threshold.",
        ("beta", 1.0),
        ("threshold", 20.0),
    ),
    ("Softshrink", F.softshrink, "x -+ lambd outside [-lambd, lambd], 0 inside.", ("lambd", 0.5)),
    ("Hardshrink", F.hardshrink, "x outside [-lambd, lambd], 0 inside.", ("lambd", 0.5)),
    (
        "Tanhshrink",
        F.tanhshrink,
        "x - tanh(x).",
    ),
    (
        "Threshold",
        F.threshold,
        "x above threshold, else value.",
        ("threshold", _REQUIRED),
        ("value", _REQUIRED),
        _INPLACE,
    ),
    ("GLU", F.glu, "a * sigmoid(b) for the halves a, b of dim.", ("dim", -1)),
    ("Softmax", F.softmax, "exp(x) / sum exp(x) along dim.", ("dim", None)),
    ("LogSoftmax", F.log_softmax, "log(softmax(x)) along dim, stable.", ("dim", None)),
    ("Softmin", F.softmin, "softmax(-x) along dim.", ("dim", None)),
]
for _name, _function, _doc, *_options in _TABLE:
    globals()[_name] = _activation(_name, _function, f"{_doc} As torch.nn.{_name}.", *_options)


class Softmax2d(Module):
    """Softmax over the channels (dim -3) of (N, C, H, W) or (C, H, W)."""

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in (3, 4):
            raise ValueError(
                f"Softmax2d: expected a 3-D or 4-D input, got shape {tuple(input.shape)}"
            )
        return F.softmax(input, -3)


class PReLU(Module):
    """max(0, x) + a min(0, x) with a learned slope a (one, or one per channel),
    initialised to `init`, as torch.nn.PReLU."""

    def __init__(
        self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None
    ) -> None:
        super().__init__()
        self.num_parameters, self.init = num_parameters, init
        self.weight = new_parameter(num_parameters, device=device, dtype=dtype, where="PReLU")
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.constant_(self.weight, self.init)

    def forward(self, input: Tensor) -> Tensor:
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class RReLU(Module):
    """leaky_relu with random slopes from U(lower, upper) in train mode, their mean in
    eval, as torch.nn.RReLU."""

    def __init__(self, lower: float = 1 / 8, upper: float = 1 / 3, inplace: bool = False) -> None:
        super().__init__()
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}" + (
            ", inplace=True" if self.inplace else ""
        )


__all__ = [name for name, *_ in _TABLE] + ["Softmax2d", "PReLU", "RReLU"]
