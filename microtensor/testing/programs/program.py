"""What a random program is: `Program` (leaves, body, result, what PyTorch would do with
it) and its source, plus the names of the outcomes a program may expect."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import ModuleType

import numpy as np

# What a program is expected to do (PyTorch's semantics):
SUCCEEDS = "succeeds"  # no error; gradients match finite differences
RAISES = "raises"  # an in-place/view error, at an in-place op or in backward
REFUSED = "refused"  # an in-place op on a leaf that requires grad (or a view of one)
EITHER = "either"  # saved values may have changed: a clear error, or right gradients

_FILENAME = "<microtensor program>"
# a split/chunk piece read after its storage changed in place: PyTorch raises where it is read
_SPLIT_READ = "split piece read after its storage changed"
_WEIGHTS = (
    "def w(t, k):",
    "    return (mt.arange(t.numel(), dtype=mt.float64).reshape(t.shape) * 0.7 + k).sin()",
)


def _literal(name: str, values: np.ndarray) -> str:
    if values.size == 0:
        return f"{name} = mt.zeros({values.shape}, dtype=mt.float64, requires_grad=True)"
    return f"{name} = mt.tensor({values.tolist()}, dtype=mt.float64, requires_grad=True)"


def _inplace_lines(body: Sequence[str]) -> frozenset:
    """Lines that change a tensor in place: x.op_(...), x op= y, x[i] = y."""
    found = set()
    for i, line in enumerate(body):
        for node in ast.walk(ast.parse(line)):
            assign = isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Subscript)
            method = (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr.endswith("_")
                and not node.func.attr.startswith("_")
            )
            if isinstance(node, ast.AugAssign) or assign or method:
                found.add(i)
    return frozenset(found)


@dataclass(frozen=True, eq=False)
class Program:
    """Leaves (name -> values, float64, requiring grad), a body of statements over them
    and `mt`, and the scalar `result`; `expect` is what PyTorch would do with it.

    Its repr is the source, ready to paste into a Python prompt.
    """

    leaves: dict
    body: Sequence[str]  # kept as a tuple
    result: str
    expect: str = SUCCEEDS
    features: frozenset = field(default_factory=frozenset)
    inplace: frozenset = field(init=False, repr=False)  # indices of in-place statements

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "leaves",
            {name: np.array(v, dtype=np.float64) for name, v in dict(self.leaves).items()},
        )
        object.__setattr__(self, "body", tuple(self.body))
        object.__setattr__(self, "inplace", _inplace_lines(self.body))
        if self.expect not in (SUCCEEDS, RAISES, REFUSED, EITHER):
            raise ValueError(
                f"Program: expect must be one of {SUCCEEDS!r}, {RAISES!r}, "
                f"{REFUSED!r}, {EITHER!r}, got {self.expect!r}"
            )

    def _lines(self, trace: bool) -> list:
        names = ", ".join(self.leaves)
        lines = list(_WEIGHTS) + [_literal(n, v) for n, v in self.leaves.items()]
        lines.append(f"def program({names}):")
        lines += ["    " + line for line in self.body]
        lines.append(f"    return {self.result}" + (", dict(locals())" if trace else ""))
        return lines

    @property
    def first_line(self) -> int:
        """The line number of body[0] in the code that `build` compiles."""
        return len(_WEIGHTS) + len(self.leaves) + 2

    @property
    def source(self) -> str:
        names = ", ".join(self.leaves)
        return "\n".join(
            ["import microtensor as mt", ""]
            + self._lines(False)
            + [f"program({names}).backward()  # expect: {self.expect}"]
        )

    def __repr__(self) -> str:
        return self.source

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        """Hypothesis (and IPython) print a program as its source, too."""
        printer.text(self.source)

    def build(self, module: ModuleType | None = None, trace: bool = False) -> tuple:
        """(function, leaves): the program as a function and fresh leaves for it, made by
        `module` (microtensor by default; torch runs it too). With `trace` the function
        returns (result, {name: tensor}) for every variable it made."""
        if module is None:
            import microtensor as module
        ns = {"mt": module}
        exec(compile("\n".join(self._lines(trace)), _FILENAME, "exec"), ns)
        return ns["program"], [ns[name] for name in self.leaves]
