"""The op-case rows of the shape ops (microtensor/ops/shape.py)."""

from __future__ import annotations

import numpy as np

import microtensor as mt
from microtensor import ops

MAX_SIDE = 3
MAX_DIMS = 3
KINK_MARGIN = 0.05


from .columns import *
from .samples import *

ROWS = [
    # shape
    OpCase(
        "reshape-and-view",
        ops.Reshape,
        lambda x, shape: (x.reshape(shape), x.view(*shape)),
        lambda a, shape: (a.reshape(shape),) * 2,
        attrs=new_shapes,
        examples=(ex(shape=(3, 2)),),
    ),
    OpCase(
        "flatten",
        ops.Reshape,
        lambda x, start_dim, end_dim: mt.flatten(x, start_dim, end_dim),
        flatten_ref,
        shapes=same_shape(min_dims=1),
        attrs=flatten_span,
        examples=(ex(shapes=((2, 3, 2),), start_dim=0, end_dim=-2),),
    ),
    OpCase("flatten-all", ops.Reshape, lambda x: x.flatten(), lambda a: a.reshape(-1)),
    OpCase(
        "transpose",
        ops.Permute,
        lambda x, dim0, dim1: x.transpose(dim0, dim1),
        lambda a, dim0, dim1: np.swapaxes(a, dim0, dim1),
        shapes=same_shape(min_dims=1),
        attrs=two_dims,
        examples=(ex(dim0=0, dim1=-1),),
    ),
    OpCase(
        "permute",
        ops.Permute,
        lambda x, dims: (mt.permute(x, dims), x.permute(*dims)),
        lambda a, dims: (np.transpose(a, dims),) * 2,
        attrs=a_permutation,
        examples=(ex(shapes=((2, 3, 2),), dims=(2, 0, 1)),),
    ),
    OpCase("T", ops.Permute, lambda x: x.T, lambda a: a.T, examples=(ex(shapes=((2, 3, 2),)),)),
    OpCase(
        "squeeze",
        ops.Reshape,
        lambda x, dim: x.squeeze(dim),
        squeeze_ref,
        attrs=squeeze_dims,
        examples=(ex(shapes=((2, 1, 3),), dim=None),),
    ),
    OpCase(
        "unsqueeze",
        ops.Reshape,
        lambda x, dim: mt.unsqueeze(x, dim),
        lambda a, dim: np.expand_dims(a, dim),
        attrs=new_dim,
        examples=(ex(dim=-1),),
    ),
    OpCase(
        "broadcast_to",
        ops.BroadcastTo,
        lambda x, shape: mt.broadcast_to(x, shape),
        lambda a, shape: np.broadcast_to(a, shape),
        attrs=broadcast_target,
        examples=(ex(shapes=((3, 1),), shape=(2, 3, 4), broadcasts=True),),
    ),
    OpCase(
        "expand",
        ops.BroadcastTo,
        lambda x, sizes: x.expand(*sizes),
        expand_ref,
        attrs=expand_sizes,
        examples=(ex(shapes=((3, 1),), sizes=(2, -1, 4), broadcasts=True),),
    ),
    OpCase(
        "sum_to",
        ops.SumTo,
        lambda x, shape: mt.sum_to(x, shape),
        sum_to_ref,
        attrs=sum_to_target,
        examples=(ex(shapes=((2, 3, 4),), shape=(3, 1)),),
    ),
    OpCase(
        "cat",
        ops.Cat,
        lambda *parts, dim: mt.cat(list(parts), dim),
        lambda *arrays, dim: np.concatenate(arrays, axis=dim),
        samples=cat_samples(),
        examples=(ex(shapes=((2, 2), (2, 3)), dim=1),),
    ),
    OpCase(
        "stack",
        None,
        lambda *parts, dim: mt.stack(parts, dim),
        lambda *arrays, dim: np.stack(arrays, axis=dim),
        samples=stack_samples(),
        examples=(ex(shapes=((2, 3), (2, 3)), dim=-1),),
    ),
    OpCase(
        "split",
        ops.Split,
        mt.split,
        split_ref,
        shapes=splittable(),
        attrs=split_sections,
        examples=(ex(shapes=((5, 2),), split_size_or_sections=[2, 3], dim=0),),
    ),
    OpCase(
        "split-one-piece-used",
        ops.Split,
        lambda x, split_size_or_sections, dim, piece: (
            x.split(split_size_or_sections, dim)[piece] * 2.0
        ),
        lambda a, split_size_or_sections, dim, piece: (
            split_ref(a, split_size_or_sections, dim)[piece] * 2.0
        ),
        shapes=splittable(),
        attrs=lambda shapes: split_sections(shapes, one_piece=True),
        examples=(ex(shapes=((5, 2),), split_size_or_sections=[2, 3], dim=0, piece=1),),
    ),
    OpCase(
        "chunk",
        ops.Split,
        mt.chunk,
        chunk_ref,
        shapes=splittable(),
        attrs=chunk_count,
        examples=(ex(shapes=((2, 5),), chunks=2, dim=1),),
    ),
    OpCase(
        "chunk-last-piece",
        ops.Split,
        lambda x, chunks, dim: x.chunk(chunks, dim)[-1],
        lambda a, chunks, dim: chunk_ref(a, chunks, dim)[-1],
        shapes=splittable(),
        attrs=chunk_count,
        examples=(ex(shapes=((5, 2),), chunks=3, dim=0),),
    ),
    OpCase(
        "pad",
        ops.Pad,
        mt.pad,
        pad_ref,
        shapes=same_shape(min_dims=1),
        attrs=pad_widths,
        examples=(ex(pad=(1, 2), value=0.0),),
    ),
]
