"""User-defined differentiable ops: autograd.Function, as torch.autograd.Function."""

from __future__ import annotations

from ..backend import xp
from ..tensor import Tensor, _wrap
from .grad_mode import _grad_on, _GradMode
from .graph import _clock, _TensorNS, record
from .views import version


class FunctionCtx:
    """What a Function's forward leaves for its backward (PyTorch's ctx)."""

    _out_meta: list  # (shape, dtype) of each output, set once forward has run

    def __init__(self, fn_name: str, needs_input_grad: tuple) -> None:
        self.needs_input_grad = needs_input_grad
        self._name = fn_name
        self._saved: tuple = ()
        self._stamp = 0
        self._outputs_saved = False

    def save_for_backward(self, *tensors) -> None:
        """Keep tensors for backward; a later in-place change to one is caught there."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(
                    f"{self._name}.save_for_backward: argument {i} is a "
                    f"{type(t).__name__}; save tensors here and other values "
                    f"as attributes of ctx"
                )
        self._saved = tensors
        self._stamp = next(_clock)

    @property
    def saved_tensors(self) -> tuple:
        for i, t in enumerate(self._saved):
            if t is not None and version(t) > self._stamp:
                raise RuntimeError(
                    f"{self._name}: saved tensor {i} (shape {t.shape}) was modified by an "
                    f"in-place operation after save_for_backward; clone it first"
                )
        return self._saved


class _FunctionOp:
    """Adapts a Function subclass to the engine's op interface (name, vjp, flags)."""

    save_output = False
    saves = ()
    differentiable = True

    def __init__(self, fn, multi: bool) -> None:
        self.fn = fn
        self.multi = multi  # the forward returned a tuple
        self.name = self.__name__ = fn.__name__

    def vjp(self, B, g, out, args, needs, ctx):
        create_graph = B is _TensorNS
        grads_out = g if isinstance(g, list) else [g]
        if ctx._outputs_saved and create_graph:
            raise RuntimeError(
                f"{self.name}: it saved one of its outputs for backward, which a second "
                f"derivative would see as a constant; save the inputs and recompute the "
                f"output in backward to use create_graph=True"
            )
        wrapped = []
        for gi, (shape, dtype) in zip(grads_out, ctx._out_meta):
            if gi is None:
                gi = xp.zeros(shape, dtype)
            wrapped.append(gi if isinstance(gi, Tensor) else _wrap(gi))
        with _GradMode(create_graph):
            result = self.fn.backward(ctx, *wrapped)
        result = result if isinstance(result, tuple) else (result,)
        if len(result) != len(needs):
            raise RuntimeError(
                f"{self.name}.backward returned {len(result)} gradient"
                f"{'s' if len(result) != 1 else ''}, but forward took {len(needs)} input"
                f"{'s' if len(needs) != 1 else ''}; return one per input (None for inputs "
                f"that need none)"
            )
        checked: list = []
        for i, (gi, a, need) in enumerate(zip(result, args, needs)):
            if gi is None or not need:
                checked.append(None)
                continue
            if not isinstance(gi, Tensor):
                raise TypeError(
                    f"{self.name}.backward: gradient {i} is a {type(gi).__name__}, not a Tensor"
                )
            if gi.shape != a.shape:
                raise RuntimeError(
                    f"{self.name}.backward returned a gradient of shape {gi.shape} for "
                    f"input {i}, which has shape {a.shape}; they must match (sum over "
                    f"broadcast dimensions in backward)"
                )
            checked.append(gi if create_graph else gi._data)
        return tuple(checked)


class Function:
    """Base class of a user-defined differentiable op, as torch.autograd.Function.

    >>> import microtensor as mt
    >>> class Cube(mt.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x ** 3
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         (x,) = ctx.saved_tensors
    ...         return grad * 3 * x ** 2
    >>> x = mt.tensor([1.0, 2.0], requires_grad=True)
    >>> Cube.apply(x).sum().backward()
    >>> x.grad
    tensor([ 3., 12.])
    """

    @staticmethod
    def forward(ctx: FunctionCtx, *args):
        raise NotImplementedError("a Function subclass defines forward(ctx, *inputs)")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs):
        raise NotImplementedError("a Function subclass defines backward(ctx, *grad_outputs)")

    @classmethod
    def apply(cls, *args):
        """Run forward without recording, then record one node whose VJP is backward."""
        needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        ctx = FunctionCtx(cls.__name__, needs)
        with _GradMode(False):
            result = cls.forward(ctx, *args)
        outs = result if isinstance(result, tuple) else (result,)
        for i, o in enumerate(outs):
            if not isinstance(o, Tensor):
                raise TypeError(
                    f"{cls.__name__}.forward: output {i} is a {type(o).__name__}; return Tensors"
                )
        if not (any(needs) and _grad_on()):
            return result
        ctx._out_meta = [(o.shape, o.dtype) for o in outs]
        ctx._outputs_saved = any(s is o for s in ctx._saved for o in outs)
        multi = isinstance(result, tuple)
        key = "_op_multi" if multi else "_op"  # its adapter, made once per class and arity
        op = cls.__dict__.get(key)
        if op is None:
            op = _FunctionOp(cls, multi)
            setattr(cls, key, op)
        arrays = tuple(a._data if isinstance(a, Tensor) else a for a in args)
        out = tuple(o._data for o in outs) if multi else outs[0]._data
        return record(op, args, arrays, needs, {"ctx": ctx}, out)
