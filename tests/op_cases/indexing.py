"""The op-case rows of the indexing ops (microtensor/ops/indexing.py)."""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np

import microtensor as mt
from microtensor import ops

MAX_SIDE = 3
MAX_DIMS = 3
KINK_MARGIN = 0.05


from .columns import *
from .samples import *
from .scatter import call

ROWS = [
    # indexing: getitem with PyTorch's rules, and its transposes
    OpCase(
        "getitem-basic-index",
        ops.GetItem,
        lambda x, index: x[index],
        lambda a, index: np.asarray(a[index]),
        attrs=basic_index,
        examples=(ex(shapes=((3, 4),), index=(slice(1, None), slice(None, None, 2))),),
    ),
    OpCase(
        "getitem-integer-index",
        ops.GetItem,
        lambda x, index: x[index],
        lambda a, index: a[numpy_index(index)],
        shapes=same_shape(min_dims=1),
        attrs=integer_index,
        examples=(ex(shapes=((4, 2),), index=[0, 2, 2]),),
    ),
    OpCase(
        "getitem-boolean-mask",
        ops.GetItem,
        lambda x, index: x[index],
        lambda a, index: a[numpy_index(index)],
        attrs=boolean_mask,
        examples=(ex(index=np.array([True, False])),),
    ),
    OpCase(
        "index_add",
        ops.IndexAdd,
        index_add,
        index_add_ref,
        samples=index_add_samples(),
        examples=(ex(shapes=((3, 2),), shape=(4, 2), index=np.array([0, 2, 2])),),
    ),
    OpCase(
        "setitem",
        ops.SetItem,
        setitem,
        setitem_ref,
        broadcasts=True,
        samples=setitem_samples(),
        examples=(ex(shapes=((2, 3), ()), index=(slice(None), 1)),),
    ),
    OpCase(
        "copy_slices",
        ops.CopySlices,
        copy_slices,
        copy_slices_ref,
        samples=copy_slices_samples(),
        examples=(ex(shapes=((2, 3), (2, 2)), index=np.array([[4, 0], [2, 5]])),),
    ),
    OpCase(
        "copy_slices-in-place-on-a-view",
        ops.CopySlices,
        mul_columns_in_place,
        mul_columns_in_place_ref,
        broadcasts=True,
        samples=columns_and_factors(),
        examples=(ex(shapes=((2, 3), (2, 1))),),
    ),
]


# ----------------------------------------------- nonzero, the mask ops and take (rows)
@st.composite
def sparse_arrays(draw, as_tuple: bool = False) -> Sample:
    """Arrays with zeros among their values, of any shape (0-d included)."""
    a = draw(hnp.arrays(np.float64, draw(any_shape()), elements=st.sampled_from([0.0, 1.5, -2.0])))
    return Sample((tensor_of(a),), {"as_tuple": draw(st.booleans())} if as_tuple else {})


def nonzero_ref(a, as_tuple=False):
    return tuple(np.nonzero(np.atleast_1d(a))) if as_tuple else np.argwhere(a)


@st.composite
def mask_samples(draw, tensor_value: bool) -> Sample:
    """x and a bool mask that broadcast together (the mask into x's shape in place); the
    value a 0-d tensor, or a number (the attribute `value`)."""
    inplace = draw(st.booleans())
    if inplace:
        shape = draw(any_shape())
        mask_shape = draw(broadcast_into(shape))
    else:
        shape, mask_shape = draw(broadcastable(2))
    attrs = {"mask": mt.tensor(draw(values(mask_shape, "bool"))), "inplace": inplace}
    if not tensor_value:
        attrs["value"] = draw(st.sampled_from([-1.5, 2.0]))
    return Sample(draw_tensors(draw, (shape, ()) if tensor_value else (shape,)), attrs)


def masked_fill_ref(a, value, mask, inplace=False):
    return np.where(numpy_index(mask), value, a)


def masked_select_ref(a, mask):
    shape = np.broadcast_shapes(a.shape, mask.shape)
    return np.broadcast_to(a, shape)[np.broadcast_to(mask, shape)]


@st.composite
def take_samples(draw) -> Sample:
    shape = draw(any_shape())
    size = int(np.prod(shape))
    index = draw(hnp.arrays(np.int64, draw(any_shape()), elements=st.integers(-size, size - 1)))
    return Sample(draw_tensors(draw, (shape,)), {"index": mt.tensor(index)})


@st.composite
def select_samples(draw) -> Sample:
    """x and a bool mask (an array) that broadcast together."""
    shape, mask_shape = draw(broadcastable(2))
    return Sample(draw_tensors(draw, (shape,)), {"mask": draw(values(mask_shape, "bool"))})


MASK = mt.tensor([[True], [False]])

ROWS += [
    OpCase(
        "nonzero",
        ops.Nonzero,
        lambda x, as_tuple: x.nonzero(as_tuple=as_tuple),
        nonzero_ref,
        samples=sparse_arrays(as_tuple=True),
        examples=(
            ex(values=([[0.0, 1.0], [2.0, 0.0]],), as_tuple=False),
            ex("as-tuple", values=(3.0,), as_tuple=True),
        ),
    ),
    OpCase(
        "argwhere",
        ops.Nonzero,
        lambda x: mt.argwhere(x),
        np.argwhere,
        samples=sparse_arrays(),
        examples=(ex(values=([0.0, 1.0, 2.0],)),),
    ),
    OpCase(
        "masked_fill",
        ops.MaskedFill,
        call("masked_fill", "value"),
        masked_fill_ref,
        broadcasts=True,
        samples=mask_samples(tensor_value=True),
        examples=(
            ex(shapes=((3,), ()), mask=MASK, inplace=False),
            ex("in-place", shapes=((2, 3), ()), mask=MASK, inplace=True),
        ),
    ),
    OpCase(
        "masked_fill-a-number",
        ops.MaskedFill,
        call("masked_fill"),
        masked_fill_ref,
        samples=mask_samples(tensor_value=False),
        examples=(ex(shapes=((2, 3),), mask=MASK, value=-1.5),),
    ),
    OpCase(
        "masked_select",
        ops.GetItem,
        lambda x, mask: x.masked_select(mask),
        masked_select_ref,
        broadcasts=True,
        samples=select_samples(),
        examples=(ex(shapes=((3,),), mask=np.array([[True], [False]])),),
    ),
    OpCase(
        "take",
        ops.GetItem,
        lambda x, index: x.take(index),
        lambda a, index: np.take(a, numpy_index(index)),
        samples=take_samples(),
        examples=(ex(shapes=((2, 3),), index=mt.tensor([[-1, 0], [5, 5]])),),
    ),
]
