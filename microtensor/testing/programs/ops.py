"""The ops a program applies out of place: arithmetic, unary functions, reductions,
softmax, shape ops and views, basic and advanced indexing, cat/stack, split/chunk and
matmul; each one draws its arguments, keeps its values clear of kinks and domain edges,
and emits its statement. A mixin of `_Builder` (builder.py), whose state it uses."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from .values import _MARGIN, _SCALARS, _UNARY, _absmax, _absmin, _amin, _fmt

if TYPE_CHECKING:
    from .builder import _Drawn, _Seeded
    from .values import _Var


class _Ops:
    """The out-of-place ops of `_Builder` (and the indices and shapes they draw)."""

    if TYPE_CHECKING:  # the state and helpers of _Builder (builder.py), which mixes this in
        c: _Seeded | _Drawn
        ns: dict
        vars: list
        features: set

        def chance(self, percent: int) -> bool: ...
        def pick(self, items: Any) -> Any: ...
        def data(self, var: _Var) -> np.ndarray: ...
        def emit(
            self,
            expr: str,
            inputs: list,
            saves: str = ...,
            view: bool = ...,
            sure: bool | None = ...,
        ) -> bool: ...
        def emit_multi(self, expr: str, src: _Var) -> bool: ...

    def threshold(self, a: np.ndarray) -> float | None:
        """A value at least _MARGIN from every element of `a` (for clamp and masks)."""
        vals = np.unique(a)
        if vals.size == 0:
            return None
        cands = [round(float(vals[0]) - 0.5, 2), round(float(vals[-1]) + 0.5, 2)]
        cands += [
            round(float(lo + hi) / 2, 3)
            for lo, hi in zip(vals[:-1], vals[1:])
            if hi - lo >= 3 * _MARGIN
        ]
        t = cands[self.c.int(0, len(cands) - 1)]
        return t if np.abs(vals - t).min() >= _MARGIN else None

    def op_unary(self) -> bool:
        x = self.pick(self.vars)
        a = self.data(x)
        template, domain, saves = _UNARY[self.c.int(0, len(_UNARY) - 1)]
        if self.chance(15):
            lo, hi = self.threshold(a), self.threshold(a)
            if lo is None or hi is None or lo == hi:
                return False
            lo, hi = min(lo, hi), max(lo, hi)
            bounds = [f"min={_fmt(lo)}", f"max={_fmt(hi)}"]
            bounds = bounds[self.c.int(0, 1) :] if self.chance(50) else bounds[:1]
            return self.emit(f"{x.name}.clamp({', '.join(bounds)})", [x])
        if not domain(a):
            return False
        return self.emit(template.format(x.name), [x], saves=saves)

    def op_scalar(self) -> bool:
        x = self.pick(self.vars)
        s = _fmt(_SCALARS[self.c.int(0, len(_SCALARS) - 1)])
        forms = [f"{x.name} * {s}", f"{x.name} + {s}", f"{s} - {x.name}", f"{x.name} / {s}"]
        if _absmin(self.data(x)) >= 0.3:
            forms.append(f"{s} / {x.name}")
        return self.emit(forms[self.c.int(0, len(forms) - 1)], [x])

    def op_binary(self) -> bool:
        a = self.pick(self.vars)

        def fits(b):
            try:
                return math.prod(np.broadcast_shapes(self.data(a).shape, self.data(b).shape)) <= 64
            except ValueError:
                return False

        b = self.pick(v for v in self.vars if fits(v))
        if self.chance(50):
            a, b = b, a
        da, db = self.data(a), self.data(b)
        ops = ["+", "*"] if a is b else ["+", "-", "*"]  # x - x and x / x are constants
        if _absmin(db) >= 0.3 and a is not b:
            ops.append("/")
        if _amin(da) >= 0.2 and _absmax(db) <= 2:
            ops.append("**")
        op = ops[self.c.int(0, len(ops) - 1)]
        return self.emit(f"{a.name} {op} {b.name}", [a, b], saves="both" if op == "**" else "input")

    def dims(self, ndim: int) -> int | tuple | None:
        """A dim or a tuple of dims (negative sometimes), or None for all."""
        if ndim == 0:
            return (None, 0, -1)[self.c.int(0, 2)]
        k = self.c.int(0, min(ndim, 2))
        if k == 0:
            return None
        dims = sorted(set(self.c.int(0, ndim - 1) for _ in range(k)))
        dims = [d - ndim if self.chance(30) else d for d in dims]
        return dims[0] if len(dims) == 1 else tuple(dims)

    def op_reduce(self) -> bool:
        x = self.pick(self.vars)
        a = self.data(x)
        fn = ("sum", "mean", "amax", "logsumexp")[self.c.int(0, 3)]
        dim = self.dims(a.ndim)
        if fn == "logsumexp" and dim is None:
            dim = tuple(range(a.ndim)) if a.ndim else 0
        axes = (
            tuple(range(a.ndim))
            if dim is None or a.ndim == 0
            else (tuple(d % a.ndim for d in dim) if isinstance(dim, tuple) else (dim % a.ndim,))
        )
        count = math.prod(a.shape[d] for d in axes)
        if (fn != "sum" and count == 0) or (fn == "amax" and a.size == 0):  # mt.amax refuses
            return False
        if fn == "amax" and count > 1 and a.size:  # no ties: the top two stay apart
            rows = np.sort(np.moveaxis(a, axes, range(-len(axes), 0)).reshape(-1, count), 1)
            if (rows[:, -1] - rows[:, -2]).min() < 4 * _MARGIN:
                return False
        args = [] if dim is None else [f"dim={dim}"]
        if dim is not None and self.chance(50):
            args.append("keepdim=True")
        return self.emit(
            f"{x.name}.{fn}({', '.join(args)})",
            [x],
            saves="both" if fn in ("amax", "logsumexp") else "input",
        )

    def op_softmax(self) -> bool:
        x = self.pick(v for v in self.vars if self.data(v).size)  # numpy's max needs one
        if x is None:
            return False
        shape = self.data(x).shape
        dims = [d for d, n in enumerate(shape) if n > 1]  # over one element: a constant
        if not dims:
            return False
        d = self.pick(dims) - (len(shape) if self.chance(30) else 0)
        fn = ("softmax", "log_softmax")[self.c.int(0, 1)]
        return self.emit(f"{x.name}.{fn}({d})", [x], saves="output")

    def permutation(self, n: int) -> tuple:
        """Of n >= 2 dims: a rotation (a cycle, not its own inverse) or a shuffle."""
        if self.chance(50):
            k = self.c.int(1, n - 1)
            return tuple(range(k, n)) + tuple(range(k))
        perm = list(range(n))
        for i in range(n - 1, 0, -1):
            j = self.c.int(0, i)
            perm[i], perm[j] = perm[j], perm[i]
        return tuple(perm)

    def new_shape(self, shape: tuple) -> tuple:
        n = math.prod(shape)
        if n == 0:
            return tuple(reversed(shape)) if self.chance(50) else (0,)
        divisors = [d for d in range(1, n + 1) if n % d == 0]
        d = divisors[self.c.int(0, len(divisors) - 1)]
        forms = [(n,), (-1,), (d, n // d), (d, -1), (1, n), (n // d, 1, d)]
        return forms[self.c.int(0, len(forms) - 1)]

    def op_shape(self) -> bool:
        x = self.pick(self.vars)
        a = self.data(x)
        n, kind = a.ndim, self.c.int(0, 6)
        if kind == 0 and x.sure:  # reshape / flatten: a view exactly when numpy's is one
            if n >= 2 and self.chance(40):
                s = self.c.int(0, n - 2)
                expr = f"{x.name}.flatten({s}, {self.c.int(s + 1, n - 1)})"
            else:
                expr = f"{x.name}.reshape{self.new_shape(a.shape)}".replace(",)", ")")
            out = eval(expr, self.ns)
            view = out._data.size == 0 or np.shares_memory(out._data, a)
            return self.emit(expr, [x], view=view, sure=True)
        if kind == 1 and n >= 2:
            d0, d1 = self.c.int(-n, n - 1), self.c.int(-n, n - 1)
            return self.emit(f"{x.name}.transpose({d0}, {d1})", [x], view=True)
        if kind == 2 and n >= 2:
            return self.emit(f"{x.name}.permute{self.permutation(n)}", [x], view=True)
        if kind == 3:
            return self.emit(f"{x.name}.unsqueeze({self.c.int(-n - 1, n)})", [x], view=True)
        if kind == 4 and 1 in a.shape:
            ones = [i for i, s in enumerate(a.shape) if s == 1]
            arg = "" if self.chance(30) else str(ones[self.c.int(0, len(ones) - 1)])
            return self.emit(f"{x.name}.squeeze({arg})", [x], view=True)
        if kind == 5:  # expand: size-1 dims grow, sometimes a new leading dim
            sizes = [self.c.int(2, 3) if s == 1 and self.chance(70) else -1 for s in a.shape]
            if self.chance(30):
                sizes.insert(0, 2)
            grown = [s if s != -1 else a.shape[i - len(sizes) + n] for i, s in enumerate(sizes)]
            if all(s == -1 for s in sizes) or math.prod(grown) > 64:
                return False
            return self.emit(f"{x.name}.expand({', '.join(map(str, sizes))})", [x], view=True)
        if kind == 6:
            return self.emit(f"{x.name}.clone()", [x], sure=x.sure and a.flags.c_contiguous)
        return False

    def basic_index(self, shape: tuple, nonempty: bool = False) -> str | None:
        """ints, slices (with steps), None and ..., e.g. `0, 1:3, ::2` or `..., None, 1`."""
        if not shape:
            return ("None", "...", "None, ...")[self.c.int(0, 2)]
        k = self.c.int(1, len(shape))
        ellipsis = k < len(shape) and self.chance(30)
        dims = shape[len(shape) - k :] if ellipsis else shape[:k]
        items = []
        for n in dims:
            form = self.c.int(0, 5)
            if form == 0 and n:
                items.append(str(self.c.int(-n, n - 1)))
            elif form == 1:
                items.append(":")
            elif form == 2:
                items.append(f"{self.c.int(0, max(n - 1, 0))}:")
            elif form == 3:
                items.append(f":{self.c.int(1, max(n, 1))}")
            elif form == 4:
                items.append(f"::{self.c.int(2, 3)}")
            else:
                lo = self.c.int(0, max(n - 1, 0))
                items.append(f"{lo}:{self.c.int(lo + 1, max(n, lo + 1))}:{self.c.int(1, 2)}")
        if self.chance(20):
            items.insert(self.c.int(0, len(items)), "None")
        if ellipsis:
            items.insert(0, "...")
        index = ", ".join(items)
        if nonempty:
            probe = np.empty(shape)[eval(f"np.s_[{index}]")]
            if np.size(probe) == 0:
                return None
        return index

    def array_index(self, shape: tuple, unique: bool = False) -> tuple | None:
        """(index, kind): an integer list on one dim ("list"), a boolean mask ("mask"),
        an int, slices and a list ("mixed", e.g. `0, :, [0, 1, 2]`, where numpy and
        PyTorch disagree) or two lists ("pair"). `unique`: no element twice (setitem)."""
        dims = [i for i, n in enumerate(shape) if n > 0]
        if not dims:
            return None
        d = dims[self.c.int(0, len(dims) - 1)]
        n = shape[d]
        form = self.c.int(0, 3)
        lead = [":"] * d
        if form == 0:
            m = self.c.int(1, 4)
            ints = (
                self.c.distinct(min(m, n), n - 1)
                if unique
                else [self.c.int(-n, n - 1) for _ in range(m)]
            )
            return ", ".join(lead + [str(ints)]), "list"
        if form == 1:
            mask = [self.chance(60) for _ in range(n)]
            return ", ".join(lead + [f"mt.tensor({mask})"]), "mask"
        if form == 2 and len(shape) >= 2:
            i, j = (
                (0, len(shape) - 1)
                if self.chance(60)
                else sorted(self.c.distinct(2, len(shape) - 1))
            )
            if shape[i] == 0 or shape[j] == 0:
                return None
            items = [":"] * (j + 1)
            items[i] = str(self.c.int(0, shape[i] - 1))
            items[j] = str(sorted(self.c.distinct(min(shape[j], self.c.int(1, 3)), shape[j] - 1)))
            return ", ".join(items), "mixed"
        if form == 3 and len(shape) >= 2 and shape[0] and shape[1] and not unique:
            m = self.c.int(1, 3)
            rows = [self.c.int(0, shape[0] - 1) for _ in range(m)]
            cols = [self.c.int(0, shape[1] - 1) for _ in range(m)]
            return f"{rows}, {cols}", "pair"
        return None

    def op_index(self) -> bool:
        x = self.pick(self.vars)
        a = self.data(x)
        if self.chance(50):
            index = self.basic_index(a.shape)
            return index is not None and self.emit(f"{x.name}[{index}]", [x], view=True)
        if self.chance(20) and a.size:  # a mask made from the values themselves
            t = self.threshold(a)
            return t is not None and self.emit(f"{x.name}[{x.name} > {_fmt(t)}]", [x], sure=False)
        found = self.array_index(a.shape)
        if found is None or not self.emit(f"{x.name}[{found[0]}]", [x], sure=False):
            return False
        self.features.add(f"advanced index: {found[1]}")
        return True

    def op_cat(self) -> bool:
        x = self.pick(v for v in self.vars if self.data(v).ndim >= 1)
        if x is None:
            return False
        a = self.data(x)
        if self.chance(50):  # stack: the same shape
            others = [v for v in self.vars if self.data(v).shape == a.shape]
            parts = [x, self.pick(others)]
            d = self.c.int(-a.ndim - 1, a.ndim)
            fn = "stack"
        else:
            d = self.c.int(-a.ndim, a.ndim - 1)
            rest = a.shape[: d % a.ndim] + a.shape[d % a.ndim + 1 :]
            others = [
                v
                for v in self.vars
                if self.data(v).ndim == a.ndim
                and self.data(v).shape[: d % a.ndim] + self.data(v).shape[d % a.ndim + 1 :] == rest
            ]
            parts = [x] + [self.pick(others) for _ in range(self.c.int(1, 2))]
            fn = "cat"
        if sum(self.data(p).size for p in parts) > 64:
            return False
        return self.emit(f"mt.{fn}([{', '.join(p.name for p in parts)}], {d})", parts)

    def op_split(self) -> bool:
        x = self.pick(v for v in self.vars if any(n >= 2 for n in self.data(v).shape))
        if x is None:
            return False
        a = self.data(x)
        d = self.pick(i for i, n in enumerate(a.shape) if n >= 2)
        fn = ("split", "chunk")[self.c.int(0, 1)]
        k = self.c.int(1, a.shape[d] - 1) if fn == "split" else self.c.int(2, a.shape[d])
        if self.chance(30):
            d -= a.ndim
        return self.emit_multi(f"{x.name}.{fn}({k}, {d})", x)

    def op_matmul(self) -> bool:
        def inner(a, b):
            if a.ndim == 0 or b.ndim == 0:
                return False
            if a.shape[-1] != (b.shape[-2] if b.ndim >= 2 else b.shape[0]):
                return False
            try:
                np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
            except ValueError:
                return False
            return True

        pairs = [(a, b) for a in self.vars for b in self.vars if inner(self.data(a), self.data(b))]
        pair = self.pick(pairs)
        if pair is None:
            x = self.pick(v for v in self.vars if self.data(v).ndim >= 2)
            return x is not None and self.emit(f"{x.name} @ {x.name}.mT", [x], sure=True)
        return self.emit(f"{pair[0].name} @ {pair[1].name}", list(pair), sure=True)
