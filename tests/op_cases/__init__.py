"""The op-case table: one row per case of the ops in microtensor.ops, one file of rows per
ops family (arithmetic.py ... losses.py, as in microtensor/ops/), the columns and shared
strategies in columns.py, shared references and samplers in samples.py. Read by
  test_ops.py          every case's value against its numpy reference and, where it has
                       a gradient, its first and second derivatives against finite
                       differences, on inputs hypothesis draws (one draw for both);
                       and the table's guards: every op class has a case, every op
                       function that is a Tensor method (ops.METHODS) is called by one;
  test_wrong_vjps.py   a wrong VJP substituted into the op of every case is caught;
  test_nn_functional.py, test_ops_gradients.py: the strategies (window_configs,
                       values, split_sections) of their own hypothesis tests.

A row (OpCase) has these columns:
  name        the case, as test ids show it
  op          the op class whose VJP the case runs; None for a composite (no VJP of its
              own: only its values and derivatives are checked)
  fn          fn(*tensors, **attrs): the call under test
  reference   reference(*arrays, **attrs): the value fn must give, in numpy
  domains     where each input's values are drawn: a domain of
              microtensor.testing.strategies.DOMAINS (real, positive, nonzero, unit...)
              or "bool"; the last one is repeated for the remaining inputs
  broadcasts  the inputs have shapes that broadcast together, so the engine sums a
              gradient down to an input's shape (examples: (3, 1) and (4,))
  kinks       points where fn's derivative jumps, or attrs -> those points: drawn values
              keep KINK_MARGIN away from them
  distinct    ties avoided: all the values of a sample differ (max, min, maximum, ...)
  attrs       shapes -> a strategy of the keyword attributes (dims, sizes, slopes...)
  shapes      a strategy of the inputs' shapes (one tuple per sample), where not "any
              shape, 0-d and size-1 dims included, the same for every input"
  samples     a strategy of whole Samples, for inputs that depend on each other
              (windows, indices); it replaces the columns above
  examples    fixed samples (Example): the wrong-VJP mutants run on them and the
              property test starts from them. By default one, of shape (2, 3) (or (3, 1)
              and (4,) when the row broadcasts) with seeded values from its domains;
              none (`examples=()`) where a mutant would cancel itself
  tolerances  check_grads options (eps, atol) for the finite differences

A new elementwise primitive is one row in elementwise.py, e.g.
    OpCase("expm1", ops.Expm1, mt.expm1, np.expm1),
(real inputs of any shape, an example of shape (2, 3)) and its value check, its
property test of first and second derivatives and its wrong-VJP mutants follow.
"""

from __future__ import annotations

import importlib
import pkgutil

from .columns import Case, OpCase, Sample, values  # noqa: F401
from .samples import split_sections, splittable, window_configs  # noqa: F401

# every module but columns and samples holds one family's rows: a new file is a new family
FAMILIES = tuple(
    importlib.import_module(f".{m.name}", __name__)
    for m in pkgutil.iter_modules(__path__)
    if m.name not in ("columns", "samples")
)
ROWS = [row for family in FAMILIES for row in family.ROWS]
ROW = {row.name: row for row in ROWS}
CASES = [case for row in ROWS for case in row.cases()]
CASE = {case.name: case for case in CASES}
