"""mt.save / mt.load: state dicts (and nests of dicts, lists and numbers holding them) as
.npz files, without pickle.

Arrays are stored as npz entries; the structure around them (dict keys of any JSON type,
tuples, numbers, strings, None) goes in a JSON entry, so loading never executes code.
"""

from __future__ import annotations

import json
import os
import uuid
import zipfile
from typing import Any

from .backend import ndarray, xp
from .tensor import Tensor, _wrap

__all__ = ["save", "load"]

_TREE = "__microtensor_tree__"
_FORMAT = 1


def _encode(obj: Any, arrays: dict) -> Any:
    if isinstance(obj, (Tensor, ndarray)):
        name = f"a{len(arrays)}"
        arrays[name] = obj._data if isinstance(obj, Tensor) else obj
        if arrays[name].dtype.kind not in "biuf":
            raise TypeError(f"save: cannot store an array of dtype {arrays[name].dtype}")
        return {"__array__": name}
    if isinstance(obj, dict):
        return {"__dict__": [[_encode_key(k), _encode(v, arrays)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, arrays) for v in obj]}
    if isinstance(obj, list):
        return [_encode(v, arrays) for v in obj]
    if isinstance(obj, xp.generic):
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(
        f"save: cannot store a {type(obj).__name__}; save state dicts (dicts of "
        f"tensors, numbers and strings), e.g. model.state_dict()"
    )


def _encode_key(key):
    if key is None or isinstance(key, (bool, int, float, str)):
        return key
    raise TypeError(f"save: dict keys must be strings or numbers, got {type(key).__name__}")


def _decode(node: Any, arrays) -> Any:
    if isinstance(node, list):
        return [_decode(v, arrays) for v in node]
    if isinstance(node, dict):
        if "__array__" in node:
            return _wrap(arrays[node["__array__"]])
        if "__tuple__" in node:
            return tuple(_decode(v, arrays) for v in node["__tuple__"])
        if "__dict__" in node:
            return {k: _decode(v, arrays) for k, v in node["__dict__"]}
        raise ValueError(f"load: unknown entry {sorted(node)} in the file's structure")
    return node


def save(obj: Any, path: str | os.PathLike) -> None:
    """Write `obj` (a state dict, or dicts/lists/tuples of them and of numbers) to `path`.

    >>> import microtensor as mt, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "w.npz")
    >>> mt.save({"w": mt.ones(2), "step": 3}, path)
    >>> mt.load(path)["step"]
    3
    """
    arrays: dict = {}
    tree = _encode(obj, arrays)
    meta = json.dumps({"format": _FORMAT, "tree": tree})
    # Written beside the target, then renamed over it in one step: a crash or Ctrl-C
    # midway leaves the old file whole, never a truncated one.
    path = os.fspath(path)
    tmp = f"{path}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        with open(tmp, "xb") as f:  # the umask's permissions, as a plain open gives
            xp.savez(f, **{_TREE: xp.array(meta), **arrays})
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load(path: str | os.PathLike) -> Any:
    """Read what `save` wrote; tensors come back as Tensors. Never unpickles."""
    where = os.fspath(path)
    try:
        with xp.load(path, allow_pickle=False) as npz:
            files = set(npz.files)
            meta_text = str(npz[_TREE]) if _TREE in files else None
            arrays = {name: npz[name] for name in files if name != _TREE}
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise ValueError(
            f"load: {where} is not a readable microtensor file ({type(e).__name__}: {e})"
        ) from None
    if meta_text is None:
        raise ValueError(
            f"load: {where} is an .npz file but not one written by "
            f"microtensor.save (no {_TREE} entry)"
        )
    try:
        meta = json.loads(meta_text)
    except json.JSONDecodeError as e:
        raise ValueError(f"load: {where} has a damaged structure entry ({e})") from None
    if meta.get("format") != _FORMAT:
        raise ValueError(
            f"load: {where} has format {meta.get('format')}, this version reads format {_FORMAT}"
        )
    try:
        return _decode(meta["tree"], arrays)
    except KeyError as e:
        raise ValueError(f"load: {where} refers to a missing array {e}") from None
