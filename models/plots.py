"""The figures of the reports, written as PNG files without a display: learning curves,
several runs' curves on one axis, ground truth vs prediction, decision boundaries of 2-D
sets, confusion matrices, bar charts for sweeps, and gradient flow (per-layer gradient
norms). Each function takes the output path, writes the PNG (making missing folders)
and returns the path.

Figures are drawn on matplotlib's Agg canvas directly (matplotlib.figure.Figure, not
pyplot), so no backend is chosen for the caller's process, nothing opens a window, and
no figure is left in pyplot's registry.

>>> import tempfile, pathlib
>>> from models import plots
>>> path = plots.bar_chart(["sgd", "adam"], {"accuracy": [0.88, 1.0]},
...                        pathlib.Path(tempfile.mkdtemp()) / "sweep.png")
>>> path.read_bytes()[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
True
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

__all__ = [
    "learning_curves",
    "curves",
    "prediction_scatter",
    "decision_boundary",
    "confusion_matrix",
    "bar_chart",
    "gradient_flow",
]

# class 0 red and class 1 blue, as the reports draw them; then the rest of tab10
_CLASS_COLORS = [
    "#d62728",
    "#1f77b4",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
]
_CURVE_COLORS = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
]


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: str | os.PathLike) -> Path:
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"plots write PNG files; name the output *.png, got {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    return path


def _class_cmap(n_classes: int) -> ListedColormap:
    if n_classes > len(_CLASS_COLORS):
        raise ValueError(
            f"plots: at most {len(_CLASS_COLORS)} classes can be told apart "
            f"by colour, got {n_classes}"
        )
    return ListedColormap(_CLASS_COLORS[: max(n_classes, 2)])


def _points(X, where: str) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"{where}: needs 2-D points, X of shape (n, 2), got {X.shape}")
    return X


def _class_labels(y, n: int, where: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:  # one-hot
        y = y.argmax(axis=1)
    y = y.reshape(-1)
    if len(y) != n:
        raise ValueError(f"{where}: {len(y)} labels for {n} points")
    if y.dtype.kind == "f":
        y = np.rint(y)
    return y.astype(np.int64)


def learning_curves(history, path: str | os.PathLike, *, title: str | None = None) -> Path:
    """Loss (log scale when it falls by more than 50x) and each metric per epoch, training
    solid and validation dashed, and the learning rate when a scheduler changed it.
    `history` is a fit() History or a mapping of name -> per-epoch values with "epoch"."""
    from .training import History

    values = history.records if isinstance(history, History) else dict(history)
    if "loss" not in values or "epoch" not in values:
        raise ValueError(
            f"learning_curves: the history needs 'epoch' and 'loss', got {sorted(values)}"
        )
    epochs = values["epoch"]
    metrics = [k for k in values if k not in ("epoch", "lr", "loss") and not k.startswith("val_")]
    lr = values.get("lr", [])
    show_lr = len(set(lr)) > 1
    panels = 1 + bool(metrics) + show_lr
    fig = _figure(4.8 * panels, 3.8)
    axes = fig.subplots(1, panels, squeeze=False)[0]
    ax = axes[0]
    ax.plot(epochs, values["loss"], color=_CURVE_COLORS[0], label="train")
    if "val_loss" in values:
        ax.plot(epochs, values["val_loss"], color=_CURVE_COLORS[1], ls="--", label="validation")
    losses = np.asarray(values["loss"] + values.get("val_loss", []), dtype=np.float64)
    if losses.size and losses.min() > 0 and losses.max() / losses.min() > 50:
        ax.set_yscale("log")
    ax.set(title="loss", xlabel="epoch")
    ax.grid(alpha=0.3)
    ax.legend()
    if metrics:
        ax = axes[1]
        for color, m in zip(_CURVE_COLORS * 2, metrics):
            ax.plot(epochs, values[m], color=color, label=m)
            if f"val_{m}" in values:
                ax.plot(epochs, values[f"val_{m}"], color=color, ls="--", label=f"val {m}")
        ax.set(title="metrics", xlabel="epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    if show_lr:
        ax = axes[-1]
        ax.plot(epochs, lr, color="#444444", drawstyle="steps-pre")
        ax.set(title="learning rate", xlabel="epoch")
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def curves(
    series: Mapping[str, tuple[Sequence, Sequence]],
    path: str | os.PathLike,
    *,
    title: str,
    ylabel: str = "loss",
    log: bool = True,
) -> Path:
    """Several curves on one axis (the reports' "training loss for different learning
    rates" figures): `series` maps a label to (epochs, values); log y when asked and all
    values are positive."""
    fig = _figure(6.4, 4.2)
    ax = fig.subplots()
    positive = all(np.min(v) > 0 for _, v in series.values() if len(v))
    for i, (label, (x, y)) in enumerate(series.items()):
        ax.plot(x, y, color=_CURVE_COLORS[i % len(_CURVE_COLORS)], label=label)
    if log and positive:
        ax.set_yscale("log")
    ax.set(title=title, xlabel="epoch", ylabel=ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def prediction_scatter(
    X, y_true, y_pred, path: str | os.PathLike, *, title: str | None = None
) -> Path:
    """The reports' figure: the 2-D points coloured by their true class (left) and by the
    predicted class (right), with the wrongly predicted points ringed in black."""
    X = _points(X, "prediction_scatter")
    y_true = _class_labels(y_true, len(X), "prediction_scatter")
    y_pred = _class_labels(y_pred, len(X), "prediction_scatter")
    n_classes = int(max(y_true.max(initial=0), y_pred.max(initial=0))) + 1
    cmap = _class_cmap(n_classes)
    fig = _figure(9, 4.2)
    left, right = fig.subplots(1, 2, sharex=True, sharey=True)
    for ax, labels, name in ((left, y_true, "Ground truth"), (right, y_pred, "Prediction")):
        points = ax.scatter(
            X[:, 0],
            X[:, 1],
            c=labels,
            cmap=cmap,
            vmin=-0.5,
            vmax=cmap.N - 0.5,
            s=28,
            edgecolors="white",
            linewidths=0.4,
        )
        ax.set_title(name)
        ax.grid(alpha=0.3)
    left.legend(*points.legend_elements(), title="class", loc="best")
    wrong = y_true != y_pred
    if wrong.any():
        right.scatter(
            X[wrong, 0],
            X[wrong, 1],
            s=90,
            facecolors="none",
            edgecolors="black",
            linewidths=1.2,
            label=f"wrong ({wrong.sum()})",
        )
        right.legend(loc="best")
    right.set_title(f"Prediction (accuracy {np.mean(~wrong):.1%})")
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def decision_boundary(
    model,
    X,
    y,
    path: str | os.PathLike,
    *,
    title: str | None = None,
    threshold: float = 0.5,
    resolution: int = 300,
) -> Path:
    """The class a model predicts at every point of the plane around the 2-D set X
    (shaded regions, on a resolution x resolution grid), with the points of X coloured
    by their label y. `model` is an nn.Module (labels by training.predict, with
    `threshold` for one output) or a function from points (m, 2) to labels (m,)."""
    from microtensor import nn

    X = _points(X, "decision_boundary")
    y = _class_labels(y, len(X), "decision_boundary")
    if isinstance(model, nn.Module):
        from .training import predict

        classify: Callable = lambda pts: predict(model, pts, threshold=threshold)
    else:
        classify = model
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = 0.1 * np.maximum(hi - lo, 1e-3)
    gx, gy = np.meshgrid(
        np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution),
        np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution),
    )
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    z = np.asarray(classify(grid)).reshape(gx.shape)
    n_classes = int(max(y.max(initial=0), z.max(initial=0))) + 1
    cmap = _class_cmap(n_classes)
    fig = _figure(5.6, 4.8)
    ax = fig.subplots()
    ax.contourf(gx, gy, z, levels=np.arange(cmap.N + 1) - 0.5, cmap=cmap, alpha=0.25)
    ax.contour(gx, gy, z, levels=np.arange(cmap.N) + 0.5, colors="black", linewidths=0.8)
    points = ax.scatter(
        X[:, 0],
        X[:, 1],
        c=y,
        cmap=cmap,
        vmin=-0.5,
        vmax=cmap.N - 0.5,
        s=24,
        edgecolors="black",
        linewidths=0.5,
    )
    ax.legend(*points.legend_elements(), title="class", loc="best", framealpha=0.8)
    ax.set(xlim=(gx.min(), gx.max()), ylim=(gy.min(), gy.max()))
    ax.set_title(title or "decision boundary")
    return _save(fig, path)


def confusion_matrix(
    cm, path: str | os.PathLike, *, labels: Sequence | None = None, title: str | None = None
) -> Path:
    """A confusion matrix (rows true class, columns predicted, as sklearn's) as a heat
    map with each count written in its cell."""
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"confusion_matrix: needs a square matrix, got shape {cm.shape}")
    n = cm.shape[0]
    labels = [str(c) for c in (range(n) if labels is None else labels)]
    if len(labels) != n:
        raise ValueError(f"confusion_matrix: {len(labels)} labels for a {n}x{n} matrix")
    side = 2.6 + 0.45 * n
    fig = _figure(side + 0.8, side)
    ax = fig.subplots()
    image = ax.imshow(cm, cmap="Blues", vmin=0)
    fig.colorbar(image, ax=ax, shrink=0.8)
    dark = cm.max() * 0.6
    for i in range(n):
        for j in range(n):
            value = cm[i, j]
            text = f"{value:.3g}" if cm.dtype.kind == "f" else str(value)
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize=9 if n > 6 else 11,
                color="white" if value > dark else "black",
            )
    ax.set_xticks(range(n), labels)
    ax.set_yticks(range(n), labels)
    ax.set(xlabel="predicted", ylabel="true", title=title or "confusion matrix")
    return _save(fig, path)


def bar_chart(
    categories: Sequence,
    series,
    path: str | os.PathLike,
    *,
    ylabel: str = "",
    title: str | None = None,
) -> Path:
    """Bars for a sweep: one group per category (e.g. each learning rate), one bar per
    series in the group (e.g. {"microtensor": [...], "report": [...]}; a plain list is
    one series), each bar labelled with its value; None leaves a gap (a value the report
    does not give). Values all in [0, 1] (accuracies) get a 0-1 axis."""
    categories = [str(c) for c in categories]
    if not isinstance(series, Mapping):
        series = {"": series}
    for name, values in series.items():
        if len(values) != len(categories):
            raise ValueError(
                f"bar_chart: series {name!r} has {len(values)} values for "
                f"{len(categories)} categories"
            )
    fig = _figure(max(4.5, 1.0 + 0.9 * len(categories) * max(1, len(series)) ** 0.5), 3.8)
    ax = fig.subplots()
    width = 0.8 / len(series)
    x = np.arange(len(categories))
    known = []
    for k, (name, values) in enumerate(series.items()):
        v = np.array([np.nan if a is None else float(a) for a in values])
        known.extend(v[~np.isnan(v)])
        bars = ax.bar(
            x + (k - (len(series) - 1) / 2) * width,
            v,
            width,
            color=_CURVE_COLORS[k % len(_CURVE_COLORS)],
            label=name or None,
        )
        ax.bar_label(
            bars, labels=["" if np.isnan(a) else f"{a:.3g}" for a in v], fontsize=8, padding=2
        )
    ax.set_xticks(x, categories)
    if known and 0 <= min(known) and max(known) <= 1:
        ax.set_ylim(0, 1.1)
    ax.set(ylabel=ylabel, title=title or "")
    ax.grid(axis="y", alpha=0.3)
    if len(series) > 1:  # below the axis, clear of the bars and their labels
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=len(series), frameon=False)
    return _save(fig, path)


def _gradient_runs(history) -> dict:
    from .training import History

    runs = {"": history} if isinstance(history, History) else dict(history)
    if not runs:
        raise ValueError("gradient_flow: no runs to draw")
    for label, h in runs.items():
        if not isinstance(h, History) or not h.gradients:
            raise ValueError(
                f"gradient_flow: run {label or 'history'!r} has no gradients; "
                f"train it with fit(..., track_gradients=True)"
            )
    return runs


def _layers(per_param: Mapping[str, list], include_bias: bool) -> list[str]:
    names = list(per_param)
    weights = [n for n in names if n.rsplit(".", 1)[-1] != "bias"]
    return names if include_bias or not weights else weights


def _log_positive(values) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    return np.log10(np.where(v > 0, v, np.nan))


def _log_range(arrays) -> tuple[float, float]:
    finite = np.concatenate([a[np.isfinite(a)] for a in arrays] or [np.empty(0)])
    return (float(finite.min()), float(finite.max())) if finite.size else (-1.0, 0.0)


def gradient_flow(
    history, path: str | os.PathLike, *, include_bias: bool = False, title: str | None = None
) -> Path:
    """How the gradient reaches each layer: per parameter (weights only unless
    `include_bias`), its gradient norm per epoch (log scale), its update/weight ratio
    (log scale) and a layer-by-epoch heat map of log10 of the norm, first layer at the
    top. `history` is a fit(track_gradients=True) History, or a mapping of label ->
    History drawn as one row each on shared scales, so that runs side by side compare
    at a glance (a vanishing gradient: a first layer orders of magnitude below the
    last)."""
    runs = _gradient_runs(history)
    logs = {
        label: {
            stat: {
                n: _log_positive(h.gradients[stat][n])
                for n in _layers(h.gradients["grad_norm"], include_bias)
            }
            for stat in ("grad_norm", "update_ratio")
        }
        for label, h in runs.items()
    }
    ranges = {
        stat: _log_range([a for run in logs.values() for a in run[stat].values()])
        for stat in ("grad_norm", "update_ratio")
    }
    fig = _figure(15, 3.9 * len(runs))
    axes = fig.subplots(len(runs), 3, squeeze=False)
    for row, (label, h) in zip(axes, runs.items()):
        epochs, run = h.records["epoch"], logs[label]
        layers = list(run["grad_norm"])
        prefix = f"{label}: " if label else ""
        for ax, stat, name in (
            (row[0], "grad_norm", "gradient norm"),
            (row[1], "update_ratio", "update / weight"),
        ):
            for i, layer in enumerate(layers):
                ax.plot(
                    epochs,
                    10 ** run[stat][layer],
                    label=layer,
                    color=_CURVE_COLORS[i % len(_CURVE_COLORS)],
                )
            lo, hi = ranges[stat]
            ax.set_yscale("log")
            ax.set_ylim(10 ** (lo - 0.3), 10 ** (hi + 0.3))
            ax.set(title=prefix + name, xlabel="epoch")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(alpha=0.3)
        lo, hi = ranges["grad_norm"]
        image = row[2].imshow(
            np.vstack(list(run["grad_norm"].values())),
            aspect="auto",
            cmap="viridis",
            vmin=lo,
            vmax=hi,
            interpolation="nearest",
            extent=(epochs[0] - 0.5, epochs[-1] + 0.5, len(layers) - 0.5, -0.5),
        )
        row[2].set_yticks(range(len(layers)), layers, fontsize=7)
        row[2].set(title=prefix + "log10 gradient norm", xlabel="epoch")
        fig.colorbar(image, ax=row[2], shrink=0.9)
    handles = {}  # one legend below the rows: layer -> its first line
    for ax in axes[:, 0]:
        for line in ax.get_lines():
            handles.setdefault(line.get_label(), line)
    fig.legend(
        handles.values(),
        handles.keys(),
        loc="outside lower center",
        ncols=min(len(handles), 6),
        fontsize=8,
        frameon=False,
    )
    if title:
        fig.suptitle(title)
    return _save(fig, path)
