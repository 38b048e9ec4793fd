"""Sweeps: many independent training runs (settings x seeds x cross-validation folds),
described in a TOML file or the same as a dict, run on all local cores (joblib's process
pool) or on a Dask cluster, recorded as they finish, resumable, summarised and plotted.

A sweep file (report 000's learning rate x width sweep, 5-fold CV; all the keys are
below):

    name = "lab1-lr-width"
    seeds = [0]

    [fixed]                       # settings shared by every run
    dataset = "linear_set"
    activation = "sigmoid"
    output = "sigmoid"
    loss = "l2_loss"
    reduction = "sum"
    epochs = 2000

    [grid]                        # every combination; or [[points]], a list of tables
    lr = [0.01, 0.05, 0.1, 0.5]
    width = [3, 5, 10, 20]

    [cv]                          # optional: stratified k-fold
    folds = 5

Top-level keys: `name`, `seeds` (default [0]), `fixed`, `grid` or `points`, `cv`
(`folds`, `seed` of the split, default 0). The settings, their defaults in brackets:
dataset (a data set of models.registry that returns (X, y), or "package.module:function"),
dataset_args [{}], model ["MLP" | "SoftmaxClassifier"], width [5] and depth [2] of the
hidden layers, activation ["sigmoid"; "none" for none], output ["none"], init
["default" | "xavier" | "he"], dropout [0.0], loss (a loss of the registry),
reduction ["mean" | "sum"], optimizer ["SGD"; an optimizer of the registry], lr, momentum
[0.0], epochs, batch_size ["full" or an int], metrics [["accuracy"]], threshold [0.5].
dataset, loss, lr and epochs have no default. Names are models.registry's; an old
spelling (`xor`, `sgd`) is taken as the new one, with a RenamedWarning.

Each run trains on the whole set (or on k-1 folds) and records `train_loss` (the mean
per sample, whatever `reduction` trained) and `train_<metric>`, and `val_...` on the
held-out fold, by `evaluate` after training.
Runs are keyed by a hash of their settings, seed and fold: a run already recorded in
DIR/runs.csv is not run again, and a run that failed is retried. Every run holds
BLAS to one thread, so parallel runs do not oversubscribe the cores and a run's numbers
are the same to the last digit in any process, on any scheduler.

>>> import tempfile
>>> from models.experiments.sweep import run_sweep, summarize
>>> sweep = {"seeds": [0], "fixed": {"dataset": "xor_easy", "loss": "mse_loss",
...          "output": "sigmoid", "epochs": 20}, "grid": {"lr": [0.1, 1.0]}}
>>> rows = run_sweep(sweep, tempfile.mkdtemp(), progress=False)
>>> [(row["lr"], row["status"]) for row in rows]
[(0.1, 'ok'), (1.0, 'ok')]
>>> [group["runs"] for group in summarize(rows, ["lr"])]
[1, 1]
"""

from __future__ import annotations

import csv
import hashlib
import importlib
import inspect
import itertools
import json
import os
import socket
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import registry

__all__ = [
    "Sweep",
    "SweepError",
    "load_sweep",
    "run_sweep",
    "run_one",
    "summarize",
    "plot_summary",
    "format_table",
    "SETTINGS",
]


class SweepError(ValueError):
    """A sweep description that cannot run; the message names the file and the key."""


# -- the settings of one run ---------------------------------------------------------

_REQUIRED = object()
_SWEPT_NETWORKS = ("MLP", "SoftmaxClassifier")  # sized by width and depth


def _fail(where: str, message: str) -> SweepError:
    return SweepError(f"{where}: {message}")


def _type_name(value) -> str:
    return {
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a float",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int(low: int) -> Callable:
    def check(value, where):
        if not _is_int(value):
            raise _fail(where, f"must be an integer, got {_type_name(value)} ({value!r})")
        if value < low:
            raise _fail(where, f"must be at least {low}, got {value}")
        return value

    return check


def _float(low: float | None = None, high: float | None = None, *, open_low=False) -> Callable:
    def check(value, where):
        if not (_is_int(value) or isinstance(value, float)):
            raise _fail(where, f"must be a number, got {_type_name(value)} ({value!r})")
        value = float(value)  # 1 and 1.0 are one setting (and one hash)
        if low is not None and (value < low or (open_low and value == low)):
            raise _fail(
                where, f"must be {'above' if open_low else 'at least'} {low:g}, got {value:g}"
            )
        if high is not None and value >= high:
            raise _fail(where, f"must be below {high:g}, got {value:g}")
        return value

    return check


def _string(value, where) -> str:
    if not isinstance(value, str):
        raise _fail(where, f"must be a string, got {_type_name(value)} ({value!r})")
    return value


def _choice(*choices: str) -> Callable:
    def check(value, where):
        if _string(value, where) not in choices:
            raise _fail(
                where,
                f"{value!r} is not one of {list(choices)}{registry.did_you_mean(value, choices)}",
            )
        return value

    return check


def _named(kind: str, *only: str) -> Callable:
    """A check for a name of the registry (an old spelling becomes the new one), and one
    of `only` when given."""

    def check(value, where):
        try:
            name = registry.canonical(kind, _string(value, where), where)
        except ValueError as e:
            raise _fail(where, str(e)) from None
        if only and name not in only:
            raise _fail(where, f"{name!r} is not one of {list(only)}")
        return name

    return check


def _table(value, where):
    if not isinstance(value, Mapping):
        raise _fail(where, f"must be a table of keyword arguments, got {_type_name(value)}")
    try:
        _canonical(value)
    except (TypeError, ValueError) as e:
        raise _fail(
            where, f"values must be strings, numbers, booleans, lists or tables, got {value!r}"
        ) from e
    return dict(value)


def _batch_size(value, where):
    if value == "full":
        return value
    if not _is_int(value) or value < 1:
        raise _fail(where, f'must be "full" or a positive integer, got {value!r}')
    return value


def _metrics(value, where):
    from ..training import METRICS

    scalar = METRICS[:-1]
    if not isinstance(value, list) or not value:
        raise _fail(where, f"must be a non-empty list of metric names, got {value!r}")
    for i, m in enumerate(value):
        _choice(*scalar)(m, f"{where}[{i}]")
    return list(value)


def _dataset(value, where):
    if ":" not in _string(value, where):
        pairs = [name for name, d in registry.DATASETS.items() if d.pairs]
        try:
            name = registry.canonical("data set", value, where)
        except ValueError:
            name = None
        if name not in pairs:
            raise _fail(
                where,
                f"{value!r} is neither a data set of models.registry that "
                f"returns (X, y) {pairs} nor 'package.module:function'"
                f"{registry.did_you_mean(value, pairs)}",
            )
        return name
    try:
        _dataset_function(value)
    except (ImportError, AttributeError) as e:
        raise _fail(where, f"cannot load {value!r}: {e}") from e
    return value


SETTINGS: dict[str, tuple[object, Callable]] = {
    "dataset": (_REQUIRED, _dataset),
    "dataset_args": ({}, _table),
    "model": ("MLP", _named("network", *_SWEPT_NETWORKS)),
    "width": (5, _int(1)),
    "depth": (2, _int(0)),
    "activation": ("sigmoid", _named("activation")),
    "output": ("none", _named("activation")),
    "init": ("default", _named("init")),
    "dropout": (0.0, _float(0.0, 1.0)),
    "loss": (_REQUIRED, _named("loss")),
    "reduction": ("mean", _choice("mean", "sum")),
    "optimizer": ("SGD", _named("optimizer")),
    "lr": (_REQUIRED, _float(0.0, open_low=True)),
    "momentum": (0.0, _float(0.0)),
    "epochs": (_REQUIRED, _int(1)),
    "batch_size": ("full", _batch_size),
    "metrics": (["accuracy"], _metrics),
    "threshold": (0.5, _float()),
}
"""Each setting of a run: its default (or _REQUIRED) and the check that validates it."""

_TOP_LEVEL = ("name", "seeds", "fixed", "grid", "points", "cv")
_CV_KEYS = ("folds", "seed")


def _unknown(where: str, key: str, choices: Sequence[str], what: str) -> SweepError:
    return _fail(
        f"{where}{key}",
        f"unknown {what}; expected one of {list(choices)}{registry.did_you_mean(key, choices)}",
    )


def _dataset_function(name: str) -> Callable:
    if ":" in name:
        module, _, function = name.partition(":")
        return getattr(importlib.import_module(module), function)
    return registry.DATASETS[name].load


# -- the sweep -----------------------------------------------------------------------


@dataclass(frozen=True)
class Sweep:
    """A validated sweep: its name, the names of the swept settings, and every run it
    plans (a dict of key, settings, seed, fold and cv), in order."""

    name: str
    swept: tuple[str, ...]
    runs: tuple[dict, ...]

    @classmethod
    def from_dict(cls, description: Mapping, source: str = "sweep") -> Sweep:
        """Validate a sweep given as a dict (the TOML file's layout); every error names
        `source` and the key at fault."""
        if not isinstance(description, Mapping):
            raise _fail(source, f"a sweep is a table of keys, got {_type_name(description)}")
        for key in description:
            if key not in _TOP_LEVEL:
                raise _unknown(f"{source}: ", key, _TOP_LEVEL, "key at the top level")
        name = description.get("name", Path(source).stem if source != "sweep" else "sweep")
        if not isinstance(name, str) or not name:
            raise _fail(f"{source}: name", f"must be a non-empty string, got {name!r}")
        seeds = _seeds(description.get("seeds", [0]), f"{source}: seeds")
        cv = _cv(description.get("cv"), f"{source}: cv")
        fixed = _settings_table(description.get("fixed", {}), f"{source}: fixed")
        if "grid" in description and "points" in description:
            raise _fail(f"{source}: points", "give either [grid] or [[points]], not both")
        if "grid" in description:
            points, swept = _grid(description["grid"], fixed, f"{source}: grid")
        elif "points" in description:
            points, swept = _points(description["points"], fixed, f"{source}: points")
        else:
            raise _fail(source, "nothing to sweep: add a [grid] table or [[points]]")
        runs = []
        for point, origins in points:
            settings = _resolve(point, fixed, origins, source)
            for seed in seeds:
                for fold in range(cv["folds"]) if cv else [None]:
                    runs.append(_plan(settings, seed, fold, cv))
        return cls(name, tuple(swept), tuple(runs))

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> Sweep:
        """Read and validate a TOML sweep file."""
        try:
            import tomllib
        except ModuleNotFoundError:  # Python 3.10
            import tomli as tomllib
        path = Path(path)
        try:
            with open(path, "rb") as f:
                description = tomllib.load(f)
        except FileNotFoundError as e:
            raise SweepError(f"{path}: no such sweep file") from e
        except tomllib.TOMLDecodeError as e:
            raise SweepError(f"{path}: not valid TOML: {e}") from e
        return cls.from_dict(description, str(path))


def load_sweep(sweep: Sweep | Mapping | str | os.PathLike) -> Sweep:
    """A Sweep from a Sweep, a dict, or the path of a TOML file."""
    if isinstance(sweep, Sweep):
        return sweep
    if isinstance(sweep, Mapping):
        return Sweep.from_dict(sweep)
    return Sweep.from_file(sweep)


def _seeds(value, where) -> list[int]:
    if not isinstance(value, list) or not value:
        raise _fail(where, f"must be a non-empty list of integers, got {value!r}")
    for i, seed in enumerate(value):
        _int(0)(seed, f"{where}[{i}]")
    if len(set(value)) != len(value):
        raise _fail(where, f"lists a seed twice: {value}")
    return list(value)


def _cv(value, where) -> dict | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise _fail(where, f"must be a table (folds, seed), got {_type_name(value)}")
    for key in value:
        if key not in _CV_KEYS:
            raise _unknown(f"{where}.", key, _CV_KEYS, "key")
    if "folds" not in value:
        raise _fail(f"{where}.folds", "is required: the number of folds, at least 2")
    return {
        "folds": _int(2)(value["folds"], f"{where}.folds"),
        "seed": _int(0)(value.get("seed", 0), f"{where}.seed"),
    }


def _settings_table(value, where) -> dict:
    if not isinstance(value, Mapping):
        raise _fail(where, f"must be a table of settings, got {_type_name(value)}")
    out = {}
    for key, v in value.items():
        if key not in SETTINGS:
            raise _unknown(f"{where}.", key, list(SETTINGS), "setting")
        out[key] = SETTINGS[key][1](v, f"{where}.{key}")
    return out


def _grid(value, fixed, where):
    if not isinstance(value, Mapping):
        raise _fail(where, f"must be a table of setting = [values], got {_type_name(value)}")
    if not value:
        raise _fail(where, "is empty: give at least one setting and its values")
    axes = {}
    for key, values in value.items():
        if key not in SETTINGS:
            raise _unknown(f"{where}.", key, list(SETTINGS), "setting")
        if key in fixed:
            raise _fail(f"{where}.{key}", "is also in [fixed]; a setting is fixed or swept")
        if not isinstance(values, list) or not values:
            raise _fail(f"{where}.{key}", f"must be a non-empty list of values, got {values!r}")
        checked = [SETTINGS[key][1](v, f"{where}.{key}[{i}]") for i, v in enumerate(values)]
        encoded = [_canonical(v) for v in checked]
        if len(set(encoded)) != len(encoded):
            raise _fail(f"{where}.{key}", f"lists a value twice: {values}")
        axes[key] = checked
    points = []
    for indices in itertools.product(*(range(len(v)) for v in axes.values())):
        point = {k: axes[k][i] for k, i in zip(axes, indices)}
        origins = {k: f"{where}.{k}[{i}]" for k, i in zip(axes, indices)}
        points.append((point, origins))
    return points, list(axes)


def _points(value, fixed, where):
    if not isinstance(value, list) or not value:
        raise _fail(where, f"must be a non-empty list of tables, got {value!r}")
    points, swept, seen = [], [], {}
    for i, point in enumerate(value):
        at = f"{where}[{i}]"
        point = _settings_table(point, at)
        if not point:
            raise _fail(at, "is empty: a point sets at least one setting")
        for key in point:
            if key in fixed:
                raise _fail(f"{at}.{key}", "is also in [fixed]; a setting is fixed or swept")
            if key not in swept:
                swept.append(key)
        encoded = _canonical(point)
        if encoded in seen:
            raise _fail(at, f"repeats {where}[{seen[encoded]}]")
        seen[encoded] = i
        points.append((point, {k: f"{at}.{k}" for k in point}))
    return points, swept


def _resolve(point, fixed, origins, source) -> dict:
    """Defaults, then [fixed], then the point; then the checks that span settings."""
    settings, origin = {}, {}
    for key, (default, _) in SETTINGS.items():
        if key in point:
            settings[key], origin[key] = point[key], origins[key]
        elif key in fixed:
            settings[key], origin[key] = fixed[key], f"{source}: fixed.{key}"
        elif default is _REQUIRED:
            raise _fail(
                f"{source}: {key}", "is required: set it in [fixed], in [grid] or in every point"
            )
        else:
            settings[key], origin[key] = default, f"{source}: {key} (default)"
    function = _dataset_function(settings["dataset"])
    try:
        inspect.signature(function).bind(**settings["dataset_args"])
    except TypeError as e:
        raise _fail(
            origin["dataset_args"],
            f"{settings['dataset']}() cannot be called with {settings['dataset_args']}: {e}",
        ) from e
    if settings["model"] == "SoftmaxClassifier" and settings["output"] != "none":
        raise _fail(
            origin["output"],
            "a SoftmaxClassifier outputs logits; leave output unset (or use model = 'MLP')",
        )
    optimizer = registry.OPTIMIZERS[settings["optimizer"]].cls
    if settings["momentum"] and "momentum" not in inspect.signature(optimizer).parameters:
        raise _fail(origin["momentum"], f"{settings['optimizer']} takes no momentum")
    return settings


def _canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _plan(settings: dict, seed: int, fold: int | None, cv: dict | None) -> dict:
    key = hashlib.sha256(
        _canonical({"settings": settings, "seed": seed, "fold": fold, "cv": cv}).encode()
    ).hexdigest()[:16]
    return {"key": key, "settings": settings, "seed": seed, "fold": fold, "cv": cv}


# -- one run -------------------------------------------------------------------------


def run_one(run: dict) -> dict:
    """Train and score one planned run wherever it lands (this process, a joblib worker,
    a Dask worker), with BLAS on one thread. A failure of the run is returned as its
    error, not raised: {key, status "ok"|"error", metrics, seconds, host, error}."""
    from threadpoolctl import threadpool_limits

    _import_once()
    start = time.perf_counter()
    try:
        with threadpool_limits(limits=1):
            metrics, status, error = _train(run), "ok", ""
    except Exception as e:  # any failure of the run is its result, recorded
        metrics, status, error = {}, "error", f"{type(e).__name__}: {e}"
    return {
        "key": run["key"],
        "status": status,
        "metrics": metrics,
        "seconds": time.perf_counter() - start,
        "host": socket.gethostname(),
        "error": error,
    }


def _import_once() -> None:
    """Import what a run uses before its clock starts: a fresh worker's imports are not
    the run's time."""
    import sklearn.metrics  # noqa: F401  (fit and evaluate score with it)
    import sklearn.model_selection  # noqa: F401

    import microtensor  # noqa: F401


def _train(run: dict) -> dict[str, float]:
    import microtensor as mt

    from ..training import _target_labels, evaluate, fit

    s = run["settings"]
    X, y = _dataset_function(s["dataset"])(**s["dataset_args"])
    X, y = np.asarray(X), np.asarray(y)
    labels = _target_labels(y)
    if s["loss"] in registry.CLASS_INDEX_LOSSES:
        y, n_out = labels, int(labels.max()) + 1
    else:  # a column (or one-hot rows) to regress onto
        y = y.astype(np.float64)[:, None] if y.ndim == 1 else y
        n_out = y.shape[1]
    train = val = None
    if run["cv"] is None:
        train = (X, y)
    else:
        from sklearn.model_selection import StratifiedKFold

        folds = StratifiedKFold(run["cv"]["folds"], shuffle=True, random_state=run["cv"]["seed"])
        train_idx, val_idx = list(folds.split(X, labels))[run["fold"]]
        train, val = (X[train_idx], y[train_idx]), (X[val_idx], y[val_idx])

    mt.manual_seed(run["seed"])
    sizes = [X.shape[1], *[s["width"]] * s["depth"], n_out]
    network = registry.network(s["model"])
    output = {} if s["model"] == "SoftmaxClassifier" else {"output": s["output"]}
    net = network(sizes, s["activation"], init=s["init"], dropout=s["dropout"], **output)
    options = {"lr": s["lr"], **({"momentum": s["momentum"]} if s["momentum"] else {})}
    optimizer = registry.OPTIMIZERS[s["optimizer"]].cls(net.parameters(), **options)
    loss_fn = registry.LOSSES[s["loss"]]
    fit(
        net,
        train,
        loss=lambda out, target: loss_fn(out, target, reduction=s["reduction"]),
        optimizer=optimizer,
        epochs=s["epochs"],
        batch_size=None if s["batch_size"] == "full" else s["batch_size"],
        metrics=(),
        seed=run["seed"],
        progress=False,
        log_every=s["epochs"],
        threshold=s["threshold"],
    )
    metrics = {}
    for prefix, data in (("train_", train), ("val_", val)):
        if data is not None:  # the loss as a mean per sample, whatever reduction trained
            scores = evaluate(net, data, loss_fn, s["metrics"], threshold=s["threshold"])
            metrics.update({prefix + k: v for k, v in scores.items()})
    return metrics


# -- running many: local processes or Dask ---------------------------------------------


def _run_local(runs: list[dict], jobs: int) -> Iterator[dict]:
    if jobs == 1:
        for run in runs:
            yield run_one(run)
        return
    from joblib import Parallel, delayed, parallel_config

    # loky workers start with OMP/OPENBLAS/MKL_NUM_THREADS=1, before numpy loads BLAS
    with parallel_config(backend="loky", n_jobs=jobs, inner_max_num_threads=1):
        parallel = Parallel(return_as="generator_unordered", batch_size=1)
        yield from parallel(delayed(run_one)(run) for run in runs)


def _run_dask(runs: list[dict], jobs: int, address: str | None) -> Iterator[dict]:
    from distributed import Client, LocalCluster, as_completed

    if address is None:
        # worker processes with one thread each; Dask's nanny sets OMP/OPENBLAS/MKL to 1
        cluster = LocalCluster(
            n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=":0"
        )
        client = Client(cluster)
    else:
        cluster, client = None, Client(address)
    try:
        # a worker that dies mid-run has its run rescheduled on another worker, up to the
        # scheduler's distributed.scheduler.allowed-failures (3) times
        futures = client.map(run_one, runs, key=[f"microtensor-run-{r['key']}" for r in runs])
        by_future = dict(zip(futures, runs))
        for future in as_completed(futures):
            try:
                yield future.result()
            except Exception as e:  # the run could not finish: e.g. KilledWorker
                yield {
                    "key": by_future[future]["key"],
                    "status": "error",
                    "metrics": {},
                    "seconds": float("nan"),
                    "host": "",
                    "error": f"{type(e).__name__}: {e}",
                }
            future.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# -- recording: runs.csv, written as runs finish ---------------------------------------

_RUN_COLUMNS = ("key", "seed", "fold")
_TAIL_COLUMNS = ("seconds", "host", "error", "status")  # status last: a cut row has none


def _metric_names(runs: Iterable[dict]) -> list[str]:
    names = []
    for run in runs:
        metrics = ["loss", *run["settings"]["metrics"]]
        prefixes = ("train_", "val_") if run["cv"] else ("train_",)
        for name in (p + m for p in prefixes for m in metrics):
            if name not in names:
                names.append(name)
    return names


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return _canonical(value)
    return repr(value) if isinstance(value, float) else str(value)


class _Journal:
    """runs.csv: one row per finished run, appended and flushed as it finishes. Opening
    it keeps every complete row, drops failed rows of runs about to be retried, and
    rewrites the file with the columns of this sweep added."""

    def __init__(self, path: Path, sweep: Sweep) -> None:
        planned = {run["key"]: run for run in sweep.runs}
        columns = [*_RUN_COLUMNS, *SETTINGS, *_metric_names(sweep.runs), *_TAIL_COLUMNS]
        kept, self.rows = [], {}
        if path.exists():
            with open(path, newline="") as f:
                reader = csv.DictReader(f)
                old = [c for c in reader.fieldnames or [] if c not in _TAIL_COLUMNS]
                columns = [*old, *(c for c in columns if c not in old)]
                seen = set()
                for row in reader:
                    if None in row or None in row.values() or row["status"] not in ("ok", "error"):
                        continue  # cut short when a sweep was interrupted
                    key = row["key"]
                    if key in seen or (key in planned and row["status"] == "error"):
                        continue
                    seen.add(key)
                    kept.append(row)
                    if key in planned:
                        self.rows[key] = self._typed(planned[key], row)
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, columns, restval="")
            writer.writeheader()
            writer.writerows(kept)
        os.replace(tmp, path)
        self.file = open(path, "a", newline="")
        self.writer = csv.DictWriter(self.file, columns, restval="")

    @staticmethod
    def _typed(run: dict, cells: dict) -> dict:
        metrics = {
            k: float(v) for k, v in cells.items() if k.startswith(("train_", "val_")) and v != ""
        }
        result = {
            "key": run["key"],
            "status": cells["status"],
            "metrics": metrics,
            "seconds": float(cells["seconds"]),
            "host": cells["host"],
            "error": cells["error"],
        }
        return _row(run, result)

    def record(self, run: dict, result: dict) -> dict:
        row = _row(run, result)
        self.writer.writerow({k: _cell(v) for k, v in row.items()})
        self.file.flush()
        self.rows[run["key"]] = row
        return row

    def close(self) -> None:
        self.file.close()


def _row(run: dict, result: dict) -> dict:
    """The flat record of a run: key, seed, fold, its settings, metrics, seconds, host,
    error, status."""
    return {
        "key": run["key"],
        "seed": run["seed"],
        "fold": run["fold"],
        **run["settings"],
        **result["metrics"],
        "seconds": result["seconds"],
        "host": result["host"],
        "error": result["error"],
        "status": result["status"],
    }


# -- the sweep, end to end -----------------------------------------------------------


def run_sweep(
    sweep: Sweep | Mapping | str | os.PathLike,
    out: str | os.PathLike,
    *,
    jobs: int = 1,
    scheduler: str = "local",
    address: str | None = None,
    progress: bool = True,
) -> list[dict]:
    """Run every run of `sweep` not yet recorded in `out`/runs.csv, on `jobs` local
    processes (joblib) or on Dask (a LocalCluster of `jobs` worker processes, or the
    cluster at `address`); then write runs.json, summary.csv/.json and plots/*.png.
    Returns the sweep's rows (one flat dict per run, in the sweep's order)."""
    sweep = load_sweep(sweep)
    if not _is_int(jobs) or jobs < 1:
        raise ValueError(f"run_sweep: jobs must be a positive integer, got {jobs!r}")
    if scheduler not in ("local", "dask"):
        raise ValueError(f"run_sweep: scheduler must be 'local' or 'dask', got {scheduler!r}")
    if address is not None and scheduler != "dask":
        raise ValueError("run_sweep: an address is for scheduler='dask'")
    from tqdm.auto import tqdm

    from ..training import _progress_enabled

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    journal = _Journal(out / "runs.csv", sweep)
    todo = [run for run in sweep.runs if run["key"] not in journal.rows]
    by_key = {run["key"]: run for run in todo}
    finished, failed = len(journal.rows), 0  # failed runs of earlier invocations are retried
    bar = tqdm(
        total=len(sweep.runs),
        initial=len(journal.rows),
        desc=sweep.name,
        unit="run",
        file=sys.stderr,
        dynamic_ncols=True,
        disable=not _progress_enabled(progress),
    )
    bar.set_postfix(finished=finished, failed=failed)
    try:
        if todo:
            results = (
                _run_local(todo, jobs) if scheduler == "local" else _run_dask(todo, jobs, address)
            )
            for result in results:
                row = journal.record(by_key[result["key"]], result)
                failed += row["status"] == "error"
                finished += row["status"] == "ok"
                bar.set_postfix(finished=finished, failed=failed, refresh=False)
                bar.update(1)
    finally:
        bar.close()
        journal.close()
    rows = [journal.rows[run["key"]] for run in sweep.runs]
    _write_json(out / "runs.json", rows)
    summary = summarize(rows, sweep.swept)
    _write_csv(out / "summary.csv", summary)
    _write_json(out / "summary.json", summary)
    plot_summary(summary, sweep.swept, out / "plots", title=sweep.name)
    return rows


def _write_json(path: Path, data) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, allow_nan=True) + "\n")
    os.replace(tmp, path)


def _write_csv(path: Path, rows: list[dict]) -> None:
    columns = list(dict.fromkeys(k for row in rows for k in row))
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, columns, restval="")
        writer.writeheader()
        writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)


# -- summary and plots ---------------------------------------------------------------


def summarize(rows: Sequence[dict], swept: Sequence[str]) -> list[dict]:
    """One row per point of the sweep (its swept settings), over its seeds and folds:
    runs (that finished), failed, and `<metric>_mean` / `<metric>_std` (population std,
    as numpy's) of each metric, and seconds_mean."""
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(_canonical([row[k] for k in swept]), []).append(row)
    metrics = list(
        dict.fromkeys(k for row in rows for k in row if k.startswith(("train_", "val_")))
    )
    summary = []
    for members in groups.values():
        ok = [r for r in members if r["status"] == "ok"]
        entry = {k: members[0][k] for k in swept}
        entry.update(runs=len(ok), failed=len(members) - len(ok))
        for m in metrics:
            values = [r[m] for r in ok if m in r]
            entry[f"{m}_mean"] = float(np.mean(values)) if values else float("nan")
            entry[f"{m}_std"] = float(np.std(values)) if values else float("nan")
        entry["seconds_mean"] = float(np.mean([r["seconds"] for r in ok])) if ok else float("nan")
        summary.append(entry)
    return summary


def _is_number(value) -> bool:
    return _is_int(value) or isinstance(value, float)


def _label(value) -> str:
    return _canonical(value) if isinstance(value, (dict, list)) else str(value)


def plot_summary(
    summary: Sequence[dict], swept: Sequence[str], directory: str | os.PathLike, *, title: str = ""
) -> list[Path]:
    """One PNG per metric in `directory`: its mean (error bars: std over seeds and folds)
    against the first numeric swept setting (log scale when it spans 20x or more; the
    first swept setting, as categories, when none is numeric), one line per combination
    of the other swept settings; a loss that spans more than 50x on a log scale."""
    from ..plots import _CURVE_COLORS, _figure, _save

    x_key = next((k for k in swept if all(_is_number(s[k]) for s in summary)), swept[0])
    numeric = all(_is_number(s[x_key]) for s in summary)
    others = [k for k in swept if k != x_key]
    categories = list(dict.fromkeys(_label(s[x_key]) for s in summary))
    lines: dict[str, list[dict]] = {}
    for s in summary:
        lines.setdefault(", ".join(f"{k}={_label(s[k])}" for k in others), []).append(s)
    metrics = [
        k[: -len("_mean")]
        for k in (summary[0] if summary else {})
        if k.endswith("_mean") and k != "seconds_mean"
    ]
    xs = [s[x_key] for s in summary] if numeric else []
    log_x = numeric and min(xs) > 0 and max(xs) / min(xs) >= 20
    paths = []
    for metric in metrics:
        fig = _figure(5.6, 4.0)
        ax = fig.subplots()
        for i, (label, points) in enumerate(lines.items()):
            points = sorted(points, key=lambda s: s[x_key]) if numeric else points
            x = (
                [s[x_key] for s in points]
                if numeric
                else [categories.index(_label(s[x_key])) for s in points]
            )
            ax.errorbar(
                x,
                [s[f"{metric}_mean"] for s in points],
                yerr=[s[f"{metric}_std"] for s in points],
                marker="o",
                capsize=3,
                color=_CURVE_COLORS[i % len(_CURVE_COLORS)],
                label=label or None,
            )
        if log_x:
            ax.set_xscale("log")
        means = np.array([s[f"{metric}_mean"] for s in summary], dtype=np.float64)
        means = means[np.isfinite(means)]
        if (
            metric.endswith("loss")
            and means.size
            and means.min() > 0
            and means.max() / means.min() > 50
        ):
            ax.set_yscale("log")
        if numeric:
            ax.set_xticks(sorted(set(xs)), [f"{x:g}" for x in sorted(set(xs))])
            ax.minorticks_off()
        else:
            ax.set_xticks(range(len(categories)), categories)
        ax.set(
            xlabel=x_key,
            ylabel=f"{metric} (mean ± std)",
            title=f"{title}: {metric}" if title else metric,
        )
        ax.grid(alpha=0.3)
        if len(lines) > 1:
            ax.legend(fontsize=8)
        paths.append(_save(fig, Path(directory) / f"{metric}.png"))
    return paths


def format_table(summary: Sequence[dict], swept: Sequence[str]) -> str:
    """The summary as aligned text: swept settings, runs, then mean ± std per metric."""
    metrics = [
        k[: -len("_mean")]
        for k in (summary[0] if summary else {})
        if k.endswith("_mean") and k != "seconds_mean"
    ]
    header = [*swept, "runs", *metrics]
    body = [
        [_label(s[k]) for k in swept]
        + [f"{s['runs']}" + (f" ({s['failed']} failed)" if s["failed"] else "")]
        + [f"{s[m + '_mean']:.4g} ± {s[m + '_std']:.2g}" for m in metrics]
        for s in summary
    ]
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in [header, *body]
    )
