"""The op-case rows of the indexing ops (microtensor/ops/indexing.py)."""
from __future__ import annotations

import numpy as np

from microtensor import ops

MAX_SIDE = 3
MAX_DIMS = 3
KINK_MARGIN = 0.05


from .columns import *
from .samples import *

ROWS = [
    # indexing: getitem with PyTorch's rules, and its transposes
    OpCase("getitem-basic-index", ops.GetItem, lambda x, index: x[index],
           lambda a, index: np.asarray(a[index]), attrs=basic_index,
           examples=(ex(shapes=((3, 4),), index=(slice(1, None), slice(None, None, 2))),)),
    OpCase("getitem-integer-index", ops.GetItem, lambda x, index: x[index],
           lambda a, index: a[numpy_index(index)], shapes=same_shape(min_dims=1),
           attrs=integer_index, examples=(ex(shapes=((4, 2),), index=[0, 2, 2]),)),
    OpCase("getitem-boolean-mask", ops.GetItem, lambda x, index: x[index],
           lambda a, index: a[numpy_index(index)], attrs=boolean_mask,
           examples=(ex(index=np.array([True, False])),)),
    OpCase("index_add", ops.IndexAdd, index_add, index_add_ref, samples=index_add_samples(),
           examples=(ex(shapes=((3, 2),), shape=(4, 2), index=np.array([0, 2, 2])),)),
    OpCase("setitem", ops.SetItem, setitem, setitem_ref, broadcasts=True,
           samples=setitem_samples(),
           examples=(ex(shapes=((2, 3), ()), index=(slice(None), 1)),)),
    OpCase("copy_slices", ops.CopySlices, copy_slices, copy_slices_ref,
           samples=copy_slices_samples(),
           examples=(ex(shapes=((2, 3), (2, 2)), index=np.array([[4, 0], [2, 5]])),)),
    OpCase("copy_slices-in-place-on-a-view", ops.CopySlices, mul_columns_in_place,
           mul_columns_in_place_ref, broadcasts=True, samples=columns_and_factors(),
           examples=(ex(shapes=((2, 3), (2, 1))),)),
]
