"""Optimizer: parameter groups, per-parameter state and the update loop shared by every
optimizer (as torch.optim.Optimizer).

A subclass declares its state (`_state_spec`: name -> initial value) and writes its
update equations once, in `_update`, on bare numpy arrays, in place, leaving the step to
subtract from the parameters in a scratch array. The loop here runs that one function
two ways. Parameters of up to `_FLAT_MAX` elements that share a group and a dtype are
updated together: their gradients (and their values, when the update reads them: weight
decay) are copied into one flat array and updated there by a fixed number of numpy
calls, because on the tiny arrays of a small network each numpy call costs far more
than its arithmetic. Larger parameters, and a group where some gradients are missing or
the step counts differ, are updated one parameter at a time. State arrays are views into
the flat buffers, so both ways read and write the same state, and since every operation
is elementwise they give the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..autograd import bump_version, enable_grad
from ..backend import ndarray, xp
from ..tensor import Tensor, _wrap

__all__ = ["Optimizer"]

_FLAT_MAX = 1 << 14  # elements: parameters up to this size are updated as one flat array


def _clear_grads(params: Iterable[Tensor], set_to_none: bool) -> None:
    """Drop each parameter's gradient (set_to_none) or fill it with zeros in place; a
    gradient that is part of a graph (create_graph=True) is replaced, cutting it off."""
    for p in params:
        g = p.grad
        if g is None:
            continue
        if set_to_none:
            p.grad = None
        elif g.requires_grad:
            p.grad = _wrap(xp.zeros_like(g._data))
        else:
            g._data.fill(0)
            bump_version(g)


class _Chunk:
    """The small parameters of one group and dtype, with flat copies of their values and
    gradients, a scratch array and their state arrays laid end to end."""

    __slots__ = ("params", "states", "pviews", "gviews", "p", "g", "tmp", "tviews", "st")

    def __init__(self, params: list, states: list, spec: dict) -> None:
        dtype = params[0].dtype
        bounds = [0]
        for p in params:
            bounds.append(bounds[-1] + p._data.size)

        def flat_and_views():
            flat = xp.empty(bounds[-1], dtype)
            return flat, [flat[a:b].reshape(p.shape) for p, a, b in zip(params, bounds, bounds[1:])]

        self.params, self.states = params, states
        self.p, self.pviews = flat_and_views()
        self.g, self.gviews = flat_and_views()
        self.tmp, self.tviews = flat_and_views()
        self.st = {}
        for name, init in spec.items():
            self.st[name], views = flat_and_views()
            for st, view in zip(states, views):
                old = st.get(name)
                if old is None:
                    view.fill(init)
                else:
                    xp.copyto(view, old)
                st[name] = view


class _Plan:
    """How one parameter group is stepped: its flat chunks and its lone parameters."""

    __slots__ = ("params", "count", "spec", "states", "chunks", "singles")

    def __init__(self, params: list, spec: dict, states: list, chunks: list, singles: list) -> None:
        self.params, self.count, self.spec = params, len(params), spec
        self.states, self.chunks, self.singles = states, chunks, singles


class Optimizer:
    """Base class of optimizers: holds `param_groups` (dicts of parameters and options)
    and `state` (per-parameter dicts), and updates parameters in place on step()."""

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], defaults: dict) -> None:
        self.defaults = dict(defaults)
        self.state: dict = {}
        self.param_groups: list[dict] = []
        self._plans: list = []
        if isinstance(params, Tensor):
            raise TypeError(
                f"{self._name}: params must be an iterable of tensors or of "
                f"dicts; got a single Tensor (wrap it in a list)"
            )
        self._check_ordered(params)
        groups: list = list(params)
        if not groups:
            raise ValueError(f"{self._name}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    @property
    def _name(self) -> str:
        return type(self).__name__

    # -- groups -----------------------------------------------------------------------
    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters (tensors, or (name, tensor) pairs) with its own
        options (the rest from the defaults), e.g. a layer being unfrozen while
        training."""
        if not isinstance(param_group, dict):
            raise TypeError(
                f"{self._name}: a parameter group must be a dict, got {type(param_group).__name__}"
            )
        group = dict(param_group)
        params = group.get("params")
        if isinstance(params, Tensor):
            params = [params]
        self._check_ordered(params)
        params = list(params) if params is not None else []
        if not params:
            raise ValueError(f"{self._name}: got an empty parameter list")
        named = [isinstance(p, tuple) for p in params]
        if any(named):  # model.named_parameters(): the names are kept, as PyTorch keeps them
            if not all(named):
                raise ValueError(
                    f"{self._name}: give every parameter with a name (as "
                    f"named_parameters() does) or none"
                )
            group["param_names"] = [name for name, _ in params]
            params = [p for _, p in params]
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"{self._name}: parameter {i} is a {type(p).__name__}, not a Tensor"
                )
            if not p.is_leaf:
                raise ValueError(
                    f"{self._name}: parameter {i} (shape {p.shape}) is not a "
                    f"leaf tensor; optimize the tensors you created (or "
                    f"their .detach().requires_grad_())"
                )
            if id(p) in seen:
                raise ValueError(
                    f"{self._name}: parameter {i} (shape {p.shape}) appears "
                    f"more than once; each parameter belongs to one group, once"
                )
            seen.add(id(p))
        group["params"] = params
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._check(group)
        self.param_groups.append(group)
        self._plans.append(None)

    def _check_ordered(self, params) -> None:
        """Sets have no fixed order, and state_dict numbers parameters by their order."""
        if isinstance(params, (set, frozenset)):
            raise TypeError(
                f"{self._name}: parameters must be given in a fixed order (a list), not as a set"
            )

    def _check(self, group: dict) -> None:
        """Raise if the group's options are out of range (extended by subclasses)."""
        self._require(group, "lr", group["lr"] >= 0)

    def _require(self, group: dict, option: str, ok: bool, rule: str = ">= 0") -> None:
        if not ok:
            raise ValueError(
                f"{self._name}: invalid {option} {group[option]!r} (it must be {rule})"
            )

    # -- gradients and steps ----------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient before the next backward: drop it (None, the
        default, cheapest) or fill it with zeros."""
        _clear_grads((p for group in self.param_groups for p in group["params"]), set_to_none)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; `closure` (optional) recomputes
        the loss, with grad mode on, before the update, and its value is returned."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for i, group in enumerate(self.param_groups):
            plan = self._plan(i, group)
            for chunk in plan.chunks:
                self._step_chunk(group, chunk)
            for p, st in plan.singles:
                if p.grad is not None:
                    self._step_one(group, p, st)
        return loss

    def _step_chunk(self, group: dict, chunk: _Chunk) -> None:
        """One flat update of the chunk when every parameter has a gradient and all are
        at the same step; otherwise one update per parameter that has a gradient."""
        params, states = chunk.params, chunk.states
        step = states[0]["step"]
        reads_values = self._update_reads_params(group)
        copyto = xp.copyto
        for p, st, pv, gv in zip(params, states, chunk.pviews, chunk.gviews):
            if p.grad is None or st["step"] != step:
                for q, st_q in zip(params, states):
                    if q.grad is not None:
                        self._step_one(group, q, st_q)
                return
            if reads_values:
                copyto(pv, p._data)
            copyto(gv, p.grad._data)
        step += 1
        # values not copied in are stale: the update gets None, never a stale buffer
        p_values = chunk.p if reads_values else None  # None: this update never reads p
        self._update(group, p_values, chunk.g, chunk.tmp, chunk.st, step)  # type: ignore[arg-type]
        if reads_values:
            chunk.p -= chunk.tmp
        for p, pv, tv, st in zip(params, chunk.pviews, chunk.tviews, states):
            if reads_values:
                copyto(p._data, pv)
            else:
                p._data -= tv
            st["step"] = step
        bump_version(*params)

    def _step_one(self, group: dict, p: Tensor, st: dict) -> None:
        grad = p.grad
        assert grad is not None  # the callers step only the parameters that have one
        step = st["step"] = st["step"] + 1
        data = p._data
        tmp = xp.empty_like(data)
        self._update(group, data, grad._data.astype(data.dtype), tmp, st, step)
        data -= tmp
        bump_version(p)

    def _update(
        self, group: dict, p: ndarray, g: ndarray, tmp: ndarray, st: dict, step: int
    ) -> None:
        """The update equations, in place on arrays of one shape, leaving in `tmp` the
        step that the caller subtracts from the values: `p` the values (None on the
        flat path when _update_reads_params says they are not read), `g` a copy of the gradient
        (free to overwrite), `st` the state arrays named in _state_spec, `step` this
        update's number (from 1)."""
        raise NotImplementedError(f"{self._name} must define _update")

    @staticmethod
    def _ascent_and_l2(group: dict, p: ndarray, g: ndarray, tmp: ndarray) -> None:
        """g as the update equations read it: negated when maximizing, plus
        weight_decay * p (L2 decay; AdamW's decoupled decay is its own)."""
        if group["maximize"]:
            xp.negative(g, out=g)
        if group["weight_decay"] != 0:
            xp.multiply(p, group["weight_decay"], out=tmp)
            g += tmp

    def _update_reads_params(self, group: dict) -> bool:
        """Whether `_update` reads or writes `p` for this group: only then does a flat
        chunk copy the values in and out (otherwise `p` is None). True unless a subclass
        says otherwise, so a new optimizer is always handed its values."""
        return True

    def _state_spec(self, group: dict) -> dict:
        """The state arrays each parameter of `group` keeps: name -> initial value."""
        return {}

    # -- plans: how each group is stepped, rebuilt when what it was built from changes --
    def _plan(self, i: int, group: dict) -> _Plan:
        plan = self._plans[i]
        params = group["params"]
        spec = self._state_spec(group)
        if (
            plan is not None
            and plan.params is params
            and plan.count == len(params)
            and plan.spec == spec
            and self._states_unchanged(plan)
        ):
            return plan
        plan = self._plans[i] = self._build_plan(params, spec)
        return plan

    def _states_unchanged(self, plan: _Plan) -> bool:
        state = self.state
        for p, st in zip(plan.params, plan.states):
            if state.get(p) is not st:
                return False
        return True

    def _build_plan(self, params: list, spec: dict) -> _Plan:
        states: list = []
        small: dict = {}
        singles: list = []
        for p in params:
            st = self.state.get(p)
            if st is None:
                st = self.state[p] = {}
            st.setdefault("step", 0)
            states.append(st)
            if p._data.size <= _FLAT_MAX:
                small.setdefault(p.dtype, []).append((p, st))
            else:
                singles.append((p, st))
        chunks = []
        for members in small.values():
            if len(members) == 1:
                singles.extend(members)
            else:
                chunks.append(_Chunk([p for p, _ in members], [st for _, st in members], spec))
        for p, st in singles:
            for name, init in spec.items():
                if name not in st:
                    st[name] = xp.full(p.shape, init, p.dtype)
        return _Plan(params, spec, states, chunks, singles)

    # -- saving and restoring ---------------------------------------------------------
    def state_dict(self) -> dict:
        """A snapshot in PyTorch's layout: {"state": {index: {name: Tensor or number}},
        "param_groups": [{options..., "params": [indices]}]}, parameters numbered in
        group order. The tensors are copies: later steps do not change the snapshot."""
        index: dict = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                st = self.state.get(p)
                if st:
                    state[index[id(p)]] = {
                        k: Tensor(v) if isinstance(v, ndarray) else v for k, v in st.items()
                    }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a state_dict() of an optimizer of the same kind over parameters of the
        same shapes. Everything is checked before anything is changed, so a state dict
        that does not fit raises and leaves this optimizer as it was."""
        where = f"{self._name}.load_state_dict"
        for key in ("state", "param_groups"):
            if key not in state_dict:
                raise ValueError(f"{where}: the state dict has no {key!r} entry")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{where}: the state dict has {len(saved_groups)} parameter "
                f"groups, the optimizer has {len(self.param_groups)}"
            )
        by_index: dict = {}
        for gi, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"{where}: parameter group {gi} has {len(saved['params'])} "
                    f"parameters in the state dict, {len(group['params'])} in "
                    f"the optimizer"
                )
            missing = [k for k in self.defaults if k not in saved]
            if missing:
                raise ValueError(
                    f"{where}: parameter group {gi} of the state dict lacks the "
                    f"options {missing} of {self._name}; was it saved by "
                    f"another optimizer?"
                )
            by_index.update(zip(saved["params"], group["params"]))
        new_state = {}
        for index, saved_st in state_dict["state"].items():
            p = by_index.get(index)
            if p is None:
                raise ValueError(
                    f"{where}: the state dict has state for parameter {index!r}, "
                    f"which is in none of its parameter groups"
                )
            new_state[p] = {
                name: self._restored(where, index, p, name, value)
                for name, value in saved_st.items()
            }
        self.state.clear()
        self.state.update(new_state)
        for group, saved in zip(self.param_groups, saved_groups):
            group.update((k, v) for k, v in saved.items() if k != "params")
        self._plans = [None] * len(self.param_groups)

    @staticmethod
    def _restored(where: str, index, p: Tensor, name: str, value):
        """A state entry as the optimizer keeps it: a fresh array of the parameter's dtype
        for a tensor, an int for the step count, other values as they are."""
        if isinstance(value, (Tensor, ndarray)):
            arr = value._data if isinstance(value, Tensor) else value
            if name == "step" and arr.size == 1:
                return int(arr.item())
            if arr.shape != p.shape:
                raise ValueError(
                    f"{where}: state {name!r} of parameter {index} has shape "
                    f"{arr.shape}, but the parameter has shape {p.shape}"
                )
            return arr.astype(p.dtype if arr.dtype.kind == "f" else arr.dtype, copy=True)
        if name == "step":
            return int(value)
        return value
