"""Train and evaluate a model in a few calls: `fit` runs the epochs (mini-batches, an
optimizer, an optional lr scheduler and early stopping) and returns a `History` of
per-epoch metrics; `evaluate` scores a model on a data set; `predict` gives its labels.

Metrics are scikit-learn's (sklearn.metrics), computed on labels: a model with C > 1
outputs predicts the argmax; a model with one output predicts 1 where the output is
above `threshold` (0.5 for a sigmoid output or a regression onto 0/1; 0 for logits).
Targets become labels the same way: class indices as they are, a float column rounded,
one-hot rows by argmax. Precision, recall and F1 are binary (positive class 1) for two
classes and macro-averaged over C classes otherwise.

Data is an (X, y) pair of arrays or Tensors, or a TensorDataset of the two. Floating
inputs and targets are cast to the dtype of the model's parameters; integer targets
(class indices) stay int64.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

import microtensor as mt
from microtensor import nn
from microtensor.data import DataLoader, TensorDataset
from microtensor.optim.lr_scheduler import ReduceLROnPlateau

__all__ = [
    "fit",
    "evaluate",
    "predict",
    "History",
    "EarlyStopping",
    "METRICS",
    "blas_single_thread",
]

METRICS = ("accuracy", "precision", "recall", "f1", "confusion_matrix")
"""Metric names for fit and evaluate; fit records the scalar ones (not the matrix)."""


def _score(name: str, y_true: np.ndarray, y_pred: np.ndarray, n_classes: int):
    if name == "accuracy":  # sklearn's accuracy_score, without its 5 ms of input checks
        return float(np.mean(y_true == y_pred))
    from sklearn import metrics as skm  # here: importing models stays light

    if name == "confusion_matrix":
        return skm.confusion_matrix(y_true, y_pred, labels=np.arange(n_classes))
    score = {"precision": skm.precision_score, "recall": skm.recall_score, "f1": skm.f1_score}[name]
    if n_classes == 2:
        return float(score(y_true, y_pred, average="binary", pos_label=1, zero_division=0))
    return float(
        score(y_true, y_pred, labels=np.arange(n_classes), average="macro", zero_division=0)
    )


@dataclass(frozen=True)
class EarlyStopping:
    """Stop when `monitor` ("val_loss", "loss", "val_accuracy", ...) has not improved by
    more than `min_delta` for `patience` epochs; losses must fall, other metrics rise.
    With `restore_best`, the model ends with the weights of its best epoch."""

    patience: int = 10
    monitor: str = "val_loss"
    min_delta: float = 0.0
    restore_best: bool = True

    def improves(self, value: float, best: float) -> bool:
        """Whether `value` beats `best` by more than min_delta."""
        if self.monitor.endswith("loss"):
            return value < best - self.min_delta
        return value > best + self.min_delta


@dataclass
class History:
    """What fit recorded: `records[name]` is a list with one number per recorded epoch,
    for "epoch" (1-based), "lr" (of the first parameter group, during that epoch),
    "loss", each metric, and "val_loss"/"val_<metric>" with validation data. The training
    loss and metrics are those of the epoch's batches as they were trained (in train
    mode, weights changing, as Keras reports them); validation ones are measured after
    the epoch in eval mode. `history["loss"]` reads a list. With early stopping,
    `best_epoch` is the epoch of the best monitored value and `stopped_early` says
    whether it cut the run short. `seconds` is the training time (not compared by ==,
    so two runs with the same seed compare equal). With fit(track_gradients=True),
    `gradients["grad_norm"][name]` and `gradients["update_ratio"][name]` hold, for each
    parameter by its dotted name (model.named_parameters()), one number per recorded
    epoch, the mean over that epoch's steps of: the L2 norm of its gradient, and
    ||w_after - w_before|| / ||w_before|| over the optimizer step (the change the step
    made, so it is right for any optimizer). Steps where a parameter had no gradient
    (or, for the ratio, all-zero weights) are left out of its mean; nan when all were.
    With fit(compile=True), `compiled` says what mt.compile did with the training step:
    "records", "replays" and "eager_calls" (steps run eagerly), and "fallbacks", why
    steps ran eagerly (not compared by ==: compiled and eager runs compare equal)."""

    records: dict[str, list[float]] = field(default_factory=dict)
    gradients: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    best_epoch: int | None = None
    stopped_early: bool = False
    seconds: float = field(default=0.0, compare=False)
    compiled: dict = field(default_factory=dict, compare=False)

    def __getitem__(self, name: str) -> list[float]:
        if name not in self.records:
            raise KeyError(f"History: no {name!r}; recorded {sorted(self.records)}")
        return self.records[name]

    def __contains__(self, name: str) -> bool:
        return name in self.records

    @property
    def last(self) -> dict[str, float]:
        """The last recorded value of each name."""
        return {k: v[-1] for k, v in self.records.items() if v}

    def to_dict(self) -> dict:
        """Plain lists and numbers, for json.dump ("gradients" only when tracked)."""
        out = {
            "records": {k: list(v) for k, v in self.records.items()},
            "best_epoch": self.best_epoch,
            "stopped_early": self.stopped_early,
            "seconds": self.seconds,
        }
        if self.gradients:
            out["gradients"] = {
                stat: {k: list(v) for k, v in per.items()} for stat, per in self.gradients.items()
            }
        return out


def _param_dtype(model: nn.Module):
    for p in model.parameters():
        return p.dtype
    return mt.get_default_dtype()


def _as_tensor(a, dtype) -> mt.Tensor:
    arr = a.numpy(force=True) if isinstance(a, mt.Tensor) else np.asarray(a)
    if arr.dtype.kind == "f":
        arr = arr.astype(dtype, copy=False)
    elif arr.dtype.kind in "biu":
        arr = arr.astype(np.int64, copy=False)
    else:
        raise TypeError(f"expected numbers, got an array of dtype {arr.dtype}")
    return mt.Tensor(arr)


def _dataset(data, dtype, where: str) -> TensorDataset:
    if isinstance(data, TensorDataset):
        tensors = data.tensors
    elif isinstance(data, (tuple, list)):
        tensors = tuple(data)
    else:
        raise TypeError(
            f"{where}: data must be an (X, y) pair or a TensorDataset, got {type(data).__name__}"
        )
    if len(tensors) != 2:
        raise ValueError(
            f"{where}: data must hold inputs and targets (2 items), got {len(tensors)}"
        )
    return TensorDataset(*(_as_tensor(t, dtype) for t in tensors))


def _labels(out: np.ndarray, threshold: float) -> np.ndarray:
    """Class labels from model outputs: argmax over C > 1 outputs, else > threshold."""
    if out.ndim == 2 and out.shape[1] > 1:
        return out.argmax(axis=1)
    return (out.reshape(len(out)) > threshold).astype(np.int64)


def _target_labels(y: np.ndarray) -> np.ndarray:
    """Class labels from targets: indices as they are, one-hot by argmax, floats rounded."""
    if y.ndim == 2 and y.shape[1] > 1:
        return y.argmax(axis=1)
    y = y.reshape(len(y))
    return y.astype(np.int64) if y.dtype.kind in "iub" else np.rint(y).astype(np.int64)


def _n_classes(out: np.ndarray) -> int:
    return out.shape[1] if out.ndim == 2 and out.shape[1] > 1 else 2


def _check_metrics(metrics: Sequence[str], where: str, scalar_only: bool) -> list[str]:
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    allowed = METRICS[:-1] if scalar_only else METRICS
    for m in metrics:
        if m not in allowed:
            hint = "; ask evaluate() for the confusion matrix" if m == "confusion_matrix" else ""
            raise ValueError(f"{where}: unknown metric {m!r}; choose from {list(allowed)}{hint}")
    return metrics


def _forward_all(
    model: nn.Module, x: mt.Tensor, batch_size: int | None, loss=None, y: mt.Tensor | None = None
):
    """Eval-mode outputs for all of x (in order) and, with `loss`, its mean over the
    samples (each batch's loss weighted by its size)."""
    was = model.training
    model.eval()
    n = len(x)
    step = batch_size or n
    outs, total = [], 0.0
    with mt.no_grad():
        for s in range(0, n, step):
            out = model(mt.Tensor(x.numpy(force=True)[s : s + step]))
            outs.append(out.numpy(force=True))
            if loss is not None:
                total += float(
                    loss(out, mt.Tensor(y.numpy(force=True)[s : s + step])).item()
                ) * len(out)
    model.train(was)
    return np.concatenate(outs), (total / n if loss is not None else None)


def predict(
    model: nn.Module, X, *, batch_size: int | None = None, threshold: float = 0.5
) -> np.ndarray:
    """The model's class labels (int64, shape (n,)) for inputs X, in eval mode."""
    out, _ = _forward_all(model, _as_tensor(X, _param_dtype(model)), batch_size)
    return _labels(out, threshold)


def evaluate(
    model: nn.Module,
    data,
    loss: Callable | None = None,
    metrics: Sequence[str] = ("accuracy",),
    *,
    batch_size: int | None = None,
    threshold: float = 0.5,
) -> dict:
    """Score a model on (X, y) in eval mode without gradients: {"loss": mean loss (when
    `loss` is given), metric name: value}; "confusion_matrix" is a (C, C) int array
    (rows true labels, columns predictions), the others floats.

    >>> import microtensor as mt
    >>> from models.training import evaluate
    >>> net = mt.nn.Linear(1, 1)  # a logit: predicts 1 where x w + b > 0
    >>> net.weight.data[...], net.bias.data[...] = 1.0, 0.0
    >>> X, y = [[-2.0], [-1.0], [1.0], [2.0]], [0, 1, 1, 1]
    >>> evaluate(net, (X, y), metrics=["accuracy", "recall"], threshold=0.0)
    {'accuracy': 0.75, 'recall': 0.6666666666666666}
    """
    metrics = _check_metrics(metrics, "evaluate", scalar_only=False)
    ds = _dataset(data, _param_dtype(model), "evaluate")
    x, y = ds.tensors
    out, mean_loss = _forward_all(model, x, batch_size, loss, y)
    result = {} if loss is None else {"loss": mean_loss}
    y_true, y_pred = _target_labels(y.numpy(force=True)), _labels(out, threshold)
    for m in metrics:
        result[m] = _score(m, y_true, y_pred, _n_classes(out))
    return result


@contextlib.contextmanager
def blas_single_thread() -> Iterator[None]:
    """One BLAS thread while the block runs. The reports' matrices are small (100 x 32,
    455 x 50, a batch of 50 images): OpenBLAS's threads cost more than they save there,
    2-20x on a 2-core machine (measured), most of all when other processes share it."""
    try:
        from threadpoolctl import threadpool_limits  # comes with scikit-learn
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _step_gradients(named: list[tuple[str, nn.Parameter]], before: list[np.ndarray]) -> np.ndarray:
    """Each parameter's gradient norm and update/weight ratio for the step that just ran
    (`before`: the weights before optimizer.step()), shape (2, parameters); nan for a
    parameter without a gradient, and a ratio of nan for weights that were all zero."""
    stats = np.full((2, len(named)), np.nan)
    for i, ((_, p), w) in enumerate(zip(named, before)):
        if p.grad is not None:
            stats[0, i] = np.linalg.norm(p.grad.numpy(force=True))
            size = np.linalg.norm(w)
            if size > 0:
                stats[1, i] = np.linalg.norm(p.numpy(force=True) - w) / size
    return stats


def _record_gradients(
    history: History, named: list[tuple[str, nn.Parameter]], steps: list[np.ndarray]
) -> None:
    """Append the mean over an epoch's steps (of those with a value) to history.gradients."""
    stats = np.stack(steps)
    counts = (~np.isnan(stats)).sum(axis=0)
    means = np.nansum(stats, axis=0) / np.where(counts > 0, counts, np.nan)
    for stat, row in zip(("grad_norm", "update_ratio"), means):
        for (name, _), value in zip(named, row):
            history.gradients[stat][name].append(float(value))


def _progress_enabled(progress: bool) -> bool:
    """A bar only when asked and when it has somewhere to show: a terminal on stderr (not a
    pipe or a log file), or a Jupyter kernel (tqdm.auto draws a widget there)."""
    return bool(progress) and (sys.stderr.isatty() or _in_jupyter_kernel())


def _in_jupyter_kernel() -> bool:
    """Whether this code runs in a Jupyter kernel: IPython's shell there has a kernel
    (a terminal IPython's has none; importing ipykernel is not enough)."""
    get_ipython = getattr(sys.modules.get("IPython"), "get_ipython", None)
    return get_ipython is not None and hasattr(get_ipython(), "kernel")


def fit(
    model: nn.Module,
    train_data,
    *,
    loss: Callable,
    optimizer: mt.optim.Optimizer,
    epochs: int,
    batch_size: int | None,
    scheduler=None,
    val_data=None,
    metrics: Sequence[str] = ("accuracy",),
    early_stopping: EarlyStopping | None = None,
    seed: int | None = 0,
    progress: bool = True,
    log_every: int = 1,
    threshold: float = 0.5,
    track_gradients: bool = False,
    compile: bool = True,
) -> History:
    """Train `model` on `train_data` and return its History.

    Each epoch runs the batches (`batch_size` samples, reshuffled each epoch; None for
    the whole set in order: full-batch gradient descent, as the reports train), calling
    `loss(model(x), y)`, backward and `optimizer.step()`; then steps `scheduler` (a
    ReduceLROnPlateau steps at recorded epochs only, given val_loss, or the training
    loss without val_data). Every `log_every` epochs (and at the last) it records the
    loss, `metrics`, their val_ versions on `val_data`, and the lr; sklearn's metrics
    (all but accuracy, computed here) cost about a millisecond a call, more than an
    epoch of a small full-batch network, so long runs log sparsely.
    `early_stopping` is checked at recorded epochs. `seed` fixes the shuffling and every
    draw from microtensor's generator (dropout) by mt.manual_seed(seed), so the same
    seed and the same initial model give the same History to the last digit; with
    seed=None the generator is left as it is. A tqdm bar shows the epochs when
    `progress` is true and stderr is a terminal. `track_gradients` records each
    parameter's gradient norm and update/weight ratio, averaged over the steps of each
    recorded epoch (a single mini-batch's are noisy), into `History.gradients`; it costs
    a copy of the weights per step of a recorded epoch, nothing when off.
    plots.gradient_flow draws them.

    With `compile` (the default), the training step (zero_grad, forward, loss, backward,
    optimizer.step) runs through mt.compile: recorded on its first batch (and on a batch
    of another shape, the last smaller one), replayed after, with the same result to the
    bit as compile=False; where mt.compile cannot replay it (a loss that reads values in
    Python, a random draw other than dropout's...), the steps run eagerly, with a
    CompileWarning once and the reason in `History.compiled["fallbacks"]`.

    >>> import microtensor as mt
    >>> from microtensor.nn import functional as F
    >>> from models import MLP, xor_easy
    >>> from models.training import fit
    >>> _ = mt.manual_seed(0)
    >>> net = MLP([2, 5, 5, 1], activations="sigmoid", output="sigmoid")
    >>> history = fit(net, xor_easy(), loss=F.mse_loss, epochs=3000, batch_size=None,
    ...               optimizer=mt.optim.Adam(net.parameters(), lr=0.05), log_every=1000)
    >>> history["epoch"], history["accuracy"][-1]
    ([1000, 2000, 3000], 1.0)
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"fit: epochs must be a positive int, got {epochs!r}")
    if isinstance(log_every, bool) or not isinstance(log_every, int) or log_every < 1:
        raise ValueError(f"fit: log_every must be a positive int, got {log_every!r}")
    if batch_size is not None and (
        isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1
    ):
        raise ValueError(
            f"fit: batch_size must be a positive int or None (full batch), got {batch_size!r}"
        )
    metrics = _check_metrics(metrics, "fit", scalar_only=True)
    dtype = _param_dtype(model)
    train = _dataset(train_data, dtype, "fit")
    if len(train) == 0:
        raise ValueError("fit: train_data holds no samples")
    val = None if val_data is None else _dataset(val_data, dtype, "fit (val_data)")
    names = ["loss", *metrics]
    if val is not None:
        names += [f"val_{n}" for n in names]
    if early_stopping is not None and early_stopping.monitor not in names:
        raise ValueError(
            f"fit: early_stopping monitors {early_stopping.monitor!r}, which "
            f"is not recorded; recorded: {names}"
            + (" (pass val_data for val_ metrics)" if val is None else "")
        )

    if seed is not None:
        mt.manual_seed(seed)
    full = batch_size is None or batch_size >= len(train)
    # the whole set in order each epoch: its tensors themselves (the loader would copy them)
    batches = [train.tensors] if full else DataLoader(train, batch_size, shuffle=True, seed=seed)
    history = History({"epoch": [], "lr": [], **{n: [] for n in names}})
    named = list(model.named_parameters()) if track_gradients else []
    if track_gradients:
        history.gradients = {
            stat: {name: [] for name, _ in named} for stat in ("grad_norm", "update_ratio")
        }
    best, best_state = None, None

    def step(xb: mt.Tensor, yb: mt.Tensor) -> tuple[mt.Tensor, mt.Tensor]:
        optimizer.zero_grad()
        out = model(xb)
        batch_loss = loss(out, yb)
        batch_loss.backward()
        optimizer.step()
        return out, batch_loss

    run = mt.compile(step) if compile else step
    start = time.perf_counter()
    model.train()
    bar = tqdm(
        total=epochs,
        unit="epoch",
        disable=not _progress_enabled(progress),
        file=sys.stderr,
        dynamic_ncols=True,
    )
    try:
        for epoch in range(1, epochs + 1):
            record = epoch % log_every == 0 or epoch == epochs
            lr = optimizer.param_groups[0]["lr"]
            total, outs, targets = 0.0, [], []
            track, steps = track_gradients and record, []
            for xb, yb in batches:
                if track:
                    before = [p.numpy(force=True).copy() for _, p in named]
                out, batch_loss = run(xb, yb)
                if track:
                    steps.append(_step_gradients(named, before))
                total += float(batch_loss.item()) * len(xb)
                if record:
                    outs.append(out.numpy(force=True))
                    targets.append(yb.numpy(force=True))
            epoch_loss = total / len(train)
            val_loss = None
            if track:
                _record_gradients(history, named, steps)
            if record:
                row = {"epoch": epoch, "lr": lr, "loss": epoch_loss}
                out, y = np.concatenate(outs), np.concatenate(targets)
                row.update(_scores(metrics, out, y, threshold, ""))
                if val is not None:
                    val_out, val_loss = _forward_all(
                        model, val.tensors[0], batch_size, loss, val.tensors[1]
                    )
                    row["val_loss"] = val_loss
                    row.update(
                        _scores(
                            metrics, val_out, val.tensors[1].numpy(force=True), threshold, "val_"
                        )
                    )
                for k, v in row.items():
                    history.records[k].append(v)
                bar.set_postfix(
                    {k: f"{v:.4g}" for k, v in row.items() if k not in ("epoch", "lr")},
                    refresh=False,
                )
            if isinstance(scheduler, ReduceLROnPlateau):
                if record:
                    scheduler.step(val_loss if val is not None else epoch_loss)
            elif scheduler is not None:
                scheduler.step()
            bar.update(1)
            if early_stopping is not None and record:
                value = history.records[early_stopping.monitor][-1]
                if best is None or early_stopping.improves(value, best):
                    best, history.best_epoch = value, epoch
                    if early_stopping.restore_best:
                        best_state = {
                            k: v.numpy(force=True).copy() for k, v in model.state_dict().items()
                        }
                elif epoch - history.best_epoch >= early_stopping.patience:
                    history.stopped_early = True
                    break
    finally:
        bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    history.seconds = time.perf_counter() - start
    if compile:
        history.compiled = {
            "records": run.records,
            "replays": run.replays,
            "eager_calls": run.eager_calls,
            "fallbacks": list(run.fallbacks),
        }
    return history


def _scores(metrics, out, y, threshold, prefix) -> dict[str, float]:
    y_true, y_pred = _target_labels(y), _labels(out, threshold)
    return {prefix + m: _score(m, y_true, y_pred, _n_classes(out)) for m in metrics}
