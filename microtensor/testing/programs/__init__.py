"""Random programs of ops, in-place ops and views, decided by finite differences.

An engine's rules for in-place ops and views (what a view shares, what an in-place op
rebases, what backward may still read) are proven here on programs nobody wrote by
hand. A `Program` is Python source: leaves that require grad, and a function of them
that applies 3-12 ops drawn from the op table (arithmetic, unary functions, reductions,
softmax, shape ops, cat/stack/split/chunk, matmul, basic and advanced indexing) and
in-place ops (add_, mul_, clamp_, copy_, fill_, setitem, +=, ...) on intermediates, on
constants made inside it and on views of both, then returns a weighted sum of what it
made. The same source runs in PyTorch with `mt` bound to `torch`. A program is run
as it is drawn, so its values stay away from kinks, ties and domain edges, where finite
differences would mean nothing.

`check_program` decides one: the gradients of one run through `backward()` and of one
through `grad(create_graph=True)` match finite differences (and check_grads passes,
to the second order), or a RuntimeError that names an in-place change, a view or a leaf
is raised where the program allows one.

>>> from microtensor.testing import Program, check_program
>>> p = Program({"x": [1.0, 2.0]}, ["y = x * 2", "y[0:1].mul_(3)"], "(y * y).sum()")
>>> check_program(p)
'gradients match'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .builder import _Builder, _Drawn, _Seeded
from .check import check_program
from .program import EITHER, RAISES, REFUSED, SUCCEEDS, Program

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

__all__ = [
    "Program",
    "programs",
    "random_program",
    "check_program",
    "SUCCEEDS",
    "RAISES",
    "REFUSED",
    "EITHER",
]


def random_program(seed: int, min_ops: int = 3, max_ops: int = 12) -> Program:
    """The program drawn from a seeded generator: reproducible without hypothesis, for
    fuzzing loops and comparisons with other engines.

    >>> random_program(7).source == random_program(7).source
    True
    """
    return _Builder(_Seeded(seed)).program(min_ops, max_ops)


def programs(min_ops: int = 3, max_ops: int = 12) -> SearchStrategy[Program]:
    """A hypothesis strategy of Programs (failing ones shrink to few, simple ops).

    >>> from hypothesis import given, settings
    >>> from microtensor.testing import programs
    >>> @settings(max_examples=3)
    ... @given(programs())
    ... def test_a_program_is_source(program):
    ...     assert program.source.startswith("import microtensor as mt")
    >>> test_a_program_is_source()
    """
    import hypothesis.strategies as st

    @st.composite
    def draw_program(draw):
        return _Builder(_Drawn(draw)).program(min_ops, max_ops)

    return draw_program()
