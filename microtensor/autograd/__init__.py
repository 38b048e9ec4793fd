"""The engine: recording (graph), views and in-place ops (views), reverse mode
(backward), grad and anomaly modes (grad_mode), and user-defined ops (function).

Each file reads in one sitting; this one gathers the names the rest of the package uses."""

from .backward import backward, grad
from .explain import BackwardTrace, explain
from .function import Function, FunctionCtx, _FunctionOp  # noqa: F401  (viz draws it)
from .grad_mode import (
    detect_anomaly,
    enable_grad,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from .graph import Node, _ArrayNS, _clock, _TensorNS, apply, binary, bump_version, record, unary  # noqa: F401
from .views import Alias, apply_inplace, apply_view, input_edge, link_view, share_version, version

__all__ = [
    "Node",
    "apply",
    "unary",
    "binary",
    "record",
    "apply_view",
    "apply_inplace",
    "link_view",
    "backward",
    "grad",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "detect_anomaly",
    "is_anomaly_enabled",
    "Function",
    "FunctionCtx",
    "Alias",
    "bump_version",
    "version",
    "input_edge",
    "share_version",
    "explain",
    "BackwardTrace",
]
