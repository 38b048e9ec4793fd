"""Tensors named after the caller's variables, for explain()'s table and viz's graphs:
people read `W1` and `net.layers.0.weight` faster than `(3, 2)`.

Modules are recognised by their `named_parameters` method (autograd does not import
nn); classes have one too, unbound, so only instances count.
"""

from __future__ import annotations

import sys
import types

from ..tensor import Tensor

_PACKAGE = __name__.split(".")[0] + "."


def tensor_names(variables: dict) -> dict:
    """{id(tensor): (name, tensor)} of the tensors among `variables` and, under dotted
    names, of the parameters of the modules among them; the first name given wins."""
    tensors: dict = {}
    for name, v in variables.items():
        if isinstance(v, Tensor):
            tensors.setdefault(id(v), (name, v))
        elif not isinstance(v, (type, types.ModuleType)) and callable(
            getattr(v, "named_parameters", None)
        ):
            for pname, p in v.named_parameters():
                tensors.setdefault(id(p), (f"{name}.{pname}", p))
    return tensors


def caller_variables() -> dict:
    """The variables of the innermost frame outside microtensor: a function's locals,
    then its module's globals (a script's or a notebook's names, where module-level code
    runs), leaving out the globals whose names start with `_` (IPython's `_`, `_3`, ...
    would otherwise name the last output shown)."""
    frame = sys._getframe(1)
    while frame.f_back is not None and frame.f_globals.get("__name__", "").startswith(_PACKAGE):
        frame = frame.f_back
    module_level = frame.f_locals is frame.f_globals
    variables = {} if module_level else dict(frame.f_locals)
    for name, v in frame.f_globals.items():
        if not name.startswith("_"):
            variables.setdefault(name, v)
    return variables
