"""Recurrent layers, as torch.nn's: RNN (tanh or relu), LSTM and GRU over sequences
(num_layers, bidirectional, batch_first, dropout between layers, initial states), and
the cells RNNCell, LSTMCell and GRUCell. The same parameter names (weight_ih_l0,
weight_hh_l0_reverse, ...), shapes, gate order (LSTM: input, forget, cell, output; GRU:
reset, update, new) and initialisation U(-1/sqrt(hidden), 1/sqrt(hidden)).

Built from tensor ops: the input projections of a whole sequence are one matmul per
layer and direction; each time step then adds the hidden projection and applies the
gates. The step functions are shared by the sequence layers and the cells."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

from ...creation import zeros
from ...functional import stack
from ...ops import cat, linear, relu, sigmoid, tanh
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..module import Module
from .linear import new_parameter

__all__ = ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"]


def _gates(t: Tensor, n: int) -> list:
    """The n gates side by side in the last dim of (N, n*H): basic slices, cheaper than
    chunk."""
    h = t.shape[-1] // n
    return [t[:, i * h : (i + 1) * h] for i in range(n)]


def _rnn_tanh(gi: Tensor, h: Tensor, w_hh: Tensor, b_hh) -> Tensor:
    return tanh(gi + linear(h, w_hh, b_hh))


def _rnn_relu(gi: Tensor, h: Tensor, w_hh: Tensor, b_hh) -> Tensor:
    return relu(gi + linear(h, w_hh, b_hh))


def _lstm(gi: Tensor, state: tuple, w_hh: Tensor, b_hh) -> tuple:
    """c' = f c + i g, h' = o tanh(c'); gates i, f, g, o in PyTorch's order."""
    h, c = state
    i, f, g, o = _gates(gi + linear(h, w_hh, b_hh), 4)
    c = sigmoid(f) * c + sigmoid(i) * tanh(g)
    return sigmoid(o) * tanh(c), c


def _gru(gi: Tensor, h: Tensor, w_hh: Tensor, b_hh) -> Tensor:
    """n = tanh(i_n + r (W_hn h + b_hn)), h' = (1 - z) n + z h; gates r, z, n."""
    i_r, i_z, i_n = _gates(gi, 3)
    h_r, h_z, h_n = _gates(linear(h, w_hh, b_hh), 3)
    r, z = sigmoid(i_r + h_r), sigmoid(i_z + h_z)
    n = tanh(i_n + r * h_n)
    return n + z * (h - n)


_STEPS: dict[str, Callable] = {
    "RNN_TANH": _rnn_tanh,
    "RNN_RELU": _rnn_relu,
    "LSTM": _lstm,
    "GRU": _gru,
}
_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _mode(nonlinearity: str, where: str) -> str:
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"{where}: unknown nonlinearity {nonlinearity!r} (use 'tanh' or 'relu')")
    return f"RNN_{nonlinearity.upper()}"


def _reset(module: _RNNBase | _CellBase) -> None:
    bound = 1 / math.sqrt(module.hidden_size) if module.hidden_size > 0 else 0
    for p in module.parameters():
        init.uniform_(p, -bound, bound)


def _check_state(h: Tensor, shape: tuple, where: str) -> None:
    if tuple(h.shape) != shape:
        raise ValueError(f"{where}: expected hidden size {shape}, got {tuple(h.shape)}")


class _RNNBase(Module):
    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        where = type(self).__name__
        if proj_size:
            raise NotImplementedError(f"{where}: proj_size is not supported")
        if not 0 <= dropout <= 1:
            raise ValueError(f"{where}: dropout should be a number in [0, 1], got {dropout}")
        if hidden_size < 1 or num_layers < 1:
            raise ValueError(
                f"{where}: hidden_size ({hidden_size}) and num_layers "
                f"({num_layers}) must be positive"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                f"{where}: dropout option adds dropout after all but last recurrent "
                f"layer, so non-zero dropout expects num_layers greater than 1, but "
                f"got dropout={dropout} and num_layers={num_layers}",
                stacklevel=3,
            )
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional, self.proj_size = dropout, bidirectional, proj_size
        directions = 2 if bidirectional else 1
        gates = _GATES[mode] * hidden_size
        self._names = []
        for layer in range(num_layers):
            size = input_size if layer == 0 else hidden_size * directions
            for suffix in ("", "_reverse")[:directions]:
                shapes: dict[str, tuple] = {
                    "weight_ih": (gates, size),
                    "weight_hh": (gates, hidden_size),
                }
                if bias:
                    shapes.update(bias_ih=(gates,), bias_hh=(gates,))
                names = []
                for kind, shape in shapes.items():
                    name = f"{kind}_l{layer}{suffix}"
                    setattr(
                        self, name, new_parameter(*shape, device=device, dtype=dtype, where=where)
                    )
                    names.append(name)
                self._names.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset(self)

    def flatten_parameters(self) -> None:
        """Nothing to do: PyTorch packs the weights for cuDNN here; they stay apart."""

    def _weights(self, index: int) -> tuple:
        """(w_ih, w_hh, b_ih, b_hh) of layer-and-direction `index`."""
        ws = [getattr(self, n) for n in self._names[index]]
        return tuple(ws) if self.bias else (ws[0], ws[1], None, None)

    def _initial(self, hx, n: int, dtype) -> list:
        """The initial state of each layer-and-direction (a pair for LSTM)."""
        where = type(self).__name__
        shape = (self.num_layers * (2 if self.bidirectional else 1), n, self.hidden_size)
        if hx is None:
            h = zeros(shape, dtype=dtype)
            return [(h[i], h[i]) if self.mode == "LSTM" else h[i] for i in range(shape[0])]
        if self.mode == "LSTM":
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise ValueError(f"{where}: hx must be a tuple (h_0, c_0)")
            for t in hx:
                _check_state(t, shape, where)
            return list(zip(hx[0].unbind(0), hx[1].unbind(0)))
        _check_state(hx, shape, where)
        return list(hx.unbind(0))

    def forward(self, input: Tensor, hx=None) -> tuple:
        where = type(self).__name__
        if input.ndim not in (2, 3) or input.shape[-1] != self.input_size:
            raise ValueError(
                f"{where}: expected input (L, N, {self.input_size}) (or batch "
                f"first, or unbatched (L, {self.input_size})), got "
                f"{tuple(input.shape)}"
            )
        batched = input.ndim == 3
        if not batched:
            input = input.unsqueeze(1)
            hx = (
                None
                if hx is None
                else (tuple(h.unsqueeze(1) for h in hx) if self.mode == "LSTM" else hx.unsqueeze(1))
            )
        elif self.batch_first:
            input = input.transpose(0, 1)
        states = self._initial(hx, input.shape[1], input.dtype)
        step, lstm = _STEPS[self.mode], self.mode == "LSTM"
        directions = 2 if self.bidirectional else 1
        x, finals = input, []
        for layer in range(self.num_layers):
            outs = []
            for d in range(directions):
                w_ih, w_hh, b_ih, b_hh = self._weights(layer * directions + d)
                # one matmul for the whole sequence, on 2-D rows (numpy's dot is BLAS there)
                gis = (
                    linear(x.reshape(-1, x.shape[-1]), w_ih, b_ih)
                    .reshape(x.shape[0], x.shape[1], -1)
                    .unbind(0)
                )
                state, hs = states[layer * directions + d], [None] * len(gis)
                for t in range(len(gis)) if d == 0 else reversed(range(len(gis))):
                    state = step(gis[t], state, w_hh, b_hh)
                    hs[t] = state[0] if lstm else state
                outs.append(stack(hs))
                finals.append(state)
            x = outs[0] if directions == 1 else cat(outs, 2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        if batched and self.batch_first:
            x = x.transpose(0, 1)
        h_n = stack([s[0] for s in finals]) if lstm else stack(finals)
        c_n = stack([s[1] for s in finals]) if lstm else None
        if not batched:
            x, h_n, c_n = x[:, 0], h_n[:, 0], (None if c_n is None else c_n[:, 0])
        return (x, (h_n, c_n)) if lstm else (x, h_n)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        for name, default in (
            ("num_layers", 1),
            ("bias", True),
            ("batch_first", False),
            ("dropout", 0.0),
            ("bidirectional", False),
        ):
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)}"
        return s


class RNN(_RNNBase):
    """h_t = tanh(x_t W_ihᵀ + b_ih + h_(t-1) W_hhᵀ + b_hh) (or relu), as torch.nn.RNN.
    Returns (output (L, N, D*H), h_n (D*num_layers, N, H))."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(
            _mode(nonlinearity, "RNN"),
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            0,
            device,
            dtype,
        )
        self.nonlinearity = nonlinearity


class LSTM(_RNNBase):
    """Long short-term memory, as torch.nn.LSTM. Returns (output, (h_n, c_n)).

    >>> import microtensor as mt
    >>> from microtensor.nn.layers import LSTM
    >>> lstm = LSTM(8, 16, num_layers=2, batch_first=True)
    >>> out, (h, c) = lstm(mt.randn(4, 10, 8))       # 4 sequences of 10 steps
    >>> out.shape, h.shape
    (microtensor.Size([4, 10, 16]), microtensor.Size([2, 4, 16]))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(
            "LSTM",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            proj_size,
            device,
            dtype,
        )


class GRU(_RNNBase):
    """Gated recurrent unit, as torch.nn.GRU. Returns (output, h_n)."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(
            "GRU",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            0,
            device,
            dtype,
        )


# ------------------------------------------------------------------------------ cells
class _CellBase(Module):
    def __init__(
        self, mode: str, input_size: int, hidden_size: int, bias: bool, device, dtype
    ) -> None:
        super().__init__()
        where = type(self).__name__
        self.mode, self.input_size, self.hidden_size, self.bias = (
            mode,
            input_size,
            hidden_size,
            bias,
        )
        gates = _GATES[mode] * hidden_size
        self.weight_ih = new_parameter(gates, input_size, device=device, dtype=dtype, where=where)
        self.weight_hh = new_parameter(gates, hidden_size, dtype=dtype)
        self.bias_ih = new_parameter(gates, dtype=dtype) if bias else None
        self.bias_hh = new_parameter(gates, dtype=dtype) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset(self)

    def forward(self, input: Tensor, hx=None):
        where = type(self).__name__
        if input.ndim not in (1, 2) or input.shape[-1] != self.input_size:
            raise ValueError(
                f"{where}: expected input (N, {self.input_size}) or "
                f"({self.input_size},), got {tuple(input.shape)}"
            )
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        lstm = self.mode == "LSTM"
        if hx is None:
            h = zeros((x.shape[0], self.hidden_size), dtype=x.dtype)
            hx = (h, h) if lstm else h
        elif not batched:
            hx = tuple(h.unsqueeze(0) for h in hx) if lstm else hx.unsqueeze(0)
        for h in hx if lstm else (hx,):
            _check_state(h, (x.shape[0], self.hidden_size), where)
        out = _STEPS[self.mode](
            linear(x, self.weight_ih, self.bias_ih), hx, self.weight_hh, self.bias_hh
        )
        if batched:
            return out
        return tuple(o[0] for o in out) if lstm else out[0]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")
        return s + (", nonlinearity=relu" if self.mode == "RNN_RELU" else "")


class RNNCell(_CellBase):
    """One step of RNN: h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh) (or relu)."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(
            _mode(nonlinearity, "RNNCell"), input_size, hidden_size, bias, device, dtype
        )
        self.nonlinearity = nonlinearity


class LSTMCell(_CellBase):
    """One step of LSTM: (h, c) -> (h', c')."""

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None
    ) -> None:
        super().__init__("LSTM", input_size, hidden_size, bias, device, dtype)


class GRUCell(_CellBase):
    """One step of GRU: h -> h'."""

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None
    ) -> None:
        super().__init__("GRU", input_size, hidden_size, bias, device, dtype)
