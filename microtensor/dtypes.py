"""dtypes: the default floating dtype, PyTorch's type promotion, and the names PyTorch gives
dtypes (mt.float, mt.long, ...). A dtype is a numpy dtype (`mt.float32 is x.dtype` for a
float32 tensor); numpy has no bfloat16, so `mt.bfloat16` exists only to say so when used."""

from __future__ import annotations

from .backend import ndarray, xp

__all__ = [
    "set_default_dtype",
    "get_default_dtype",
    "promote_result",
    "finfo",
    "iinfo",
    "bfloat16",
    "dtype_name",
    "TENSOR_TYPES",
]

_default = {"dtype": xp.dtype(xp.float32)}


def set_default_dtype(dtype) -> None:
    """The floating dtype given to Python floats and lists (float32 unless changed)."""
    dtype = xp.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: only floating dtypes are allowed, got {dtype}")
    _default["dtype"] = dtype


def get_default_dtype():
    return _default["dtype"]


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def _promote_types(a, b):
    """PyTorch's promote_types: the higher category wins whole (float32 with int64 is
    float32); within a category, the wider type."""
    ca, cb = _CATEGORY[a.kind], _CATEGORY[b.kind]
    return xp.promote_types(a, b) if ca == cb else a if ca > cb else b


def promote_result(out: ndarray, inputs) -> ndarray:
    """`out`, which numpy made float64, in the dtype PyTorch gives the same inputs.

    numpy promotes an integer tensor with a Python float, two integer tensors divided, a
    float32 tensor with an integer tensor, and a float32 tensor with a 0-d float64 one to
    float64. PyTorch keeps the dimensioned tensors' dtype unless a 0-d tensor or a Python
    scalar is of a higher category (bool < integer < float), and gives integer inputs of
    a floating op the default dtype."""
    dims = zeros = None
    scalar = -1
    for a in inputs:
        if isinstance(a, ndarray):
            if a.ndim:
                dims = a.dtype if dims is None else _promote_types(dims, a.dtype)
            else:
                zeros = a.dtype if zeros is None else _promote_types(zeros, a.dtype)
        elif isinstance(a, (bool, int, float, complex)):
            scalar = max(
                scalar,
                0
                if isinstance(a, bool)
                else 1
                if isinstance(a, int)
                else 2
                if isinstance(a, float)
                else 3,
            )
    res = dims
    if zeros is not None and (res is None or _CATEGORY[zeros.kind] > _CATEGORY[res.kind]):
        res = zeros
    if res is None or scalar > _CATEGORY[res.kind]:
        res = _default["dtype"] if scalar <= 2 else xp.dtype(xp.complex128)
    if res.kind in "biu":  # a floating result of integer inputs (true division, exp)
        res = _default["dtype"]
    return out if res == out.dtype else out.astype(res)


def finfo(type=None):
    """numpy's finfo (eps, max, min, tiny, smallest_normal, resolution, bits) of a floating
    dtype, the default dtype if none is given, as torch.finfo."""
    dtype = _default["dtype"] if type is None else xp.dtype(type)
    if dtype.kind != "f":
        raise TypeError(
            f"finfo: {dtype_name(dtype)} is not a floating dtype; use "
            f"microtensor.iinfo for integers"
        )
    return xp.finfo(dtype)


def iinfo(type):
    """numpy's iinfo (max, min, bits) of an integer dtype, as torch.iinfo."""
    dtype = xp.dtype(type)
    if dtype.kind not in "iu":
        raise TypeError(
            f"iinfo: {dtype_name(dtype)} is not an integer dtype; use "
            f"microtensor.finfo for floating dtypes"
        )
    return xp.iinfo(dtype)


class _BFloat16:
    """Stands in for torch.bfloat16: naming it is fine, using it as a dtype is an error
    (numpy, and so microtensor, has no bfloat16)."""

    @property
    def dtype(self):  # numpy reads this wherever it is given a dtype
        raise TypeError(
            "bfloat16 is not available: numpy has no bfloat16, so microtensor "
            "computes in float16, float32 or float64; use microtensor.float32 "
            "(or microtensor.float16 to halve the memory)"
        )

    def __repr__(self) -> str:
        return "microtensor.bfloat16"


bfloat16 = _BFloat16()

# numpy's name of a dtype -> the class name PyTorch's Tensor.type() gives it
TENSOR_TYPES = {
    "float16": "HalfTensor",
    "float32": "FloatTensor",
    "float64": "DoubleTensor",
    "uint8": "ByteTensor",
    "int8": "CharTensor",
    "int16": "ShortTensor",
    "int32": "IntTensor",
    "int64": "LongTensor",
    "bool": "BoolTensor",
}


def dtype_name(dtype) -> str:
    """How PyTorch prints a dtype, under microtensor's name: 'microtensor.float32'."""
    return f"microtensor.{xp.dtype(dtype).name}"
