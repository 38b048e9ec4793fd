"""The `microtensor` command (also `python -m models`):

    microtensor demo [--out DIR]                 Lab 1's network on XOR-easy in seconds
    microtensor train --model M --data D --out DIR   train a network of models/ on a data set
                                                 (or a language model on a word list)
    microtensor graph --model M --out FILE.svg   draw a network's computation graph
    microtensor reproduce REPORT --out DIR       re-run a report's experiments (000-004, all)
    microtensor sweep FILE --out DIR             many runs from a TOML file, locally or on Dask

Each command is a `sub.add_parser(...)` block in build_parser and a function below it;
names (networks, data sets, activations, optimizers) are models.registry's, and an old
spelling is taken with a one-line note on stderr. Every subcommand has --help. A bad
argument is an argparse error (exit 2); a problem found while running (a missing data
file, a data set the model cannot take) is one line on stderr and a non-zero exit, never
a traceback.
"""

from __future__ import annotations

import argparse
import inspect
import json
import shutil
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from . import registry

__all__ = ["main", "build_parser"]


class CommandError(Exception):
    """A problem found while running a command: printed as one line; exit `status`."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


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
        raise argparse.ArgumentTypeError(
            f"expected a positive whole number or 'full' (the whole set per step), got {text!r}"
        ) from None


def _sizes(what: str, example: str) -> Callable[[str], list[int]]:
    """A type for positive sizes separated by commas: hidden widths, an input shape."""

    def sizes(text: str) -> list[int]:
        try:
            values = [int(s) for s in text.split(",")]
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected {what} separated by commas, like {example}; got {text!r}"
            ) from None
        if min(values) < 1:
            raise argparse.ArgumentTypeError(f"{what} must be positive, got {text!r}")
        return values

    return sizes


def _name(option: str, *kinds: str) -> Callable[[str], str]:
    """A type for a name of the registry of one of `kinds`: as the registry spells it (an
    old spelling is noted), or argparse's error listing the names."""

    def name(text: str) -> str:
        for kind in kinds:
            try:
                return registry.canonical(kind, text, option)
            except ValueError:
                pass
        raise argparse.ArgumentTypeError(
            f"invalid choice: {text!r} (choose from {', '.join(_names(*kinds))})"
        )

    return name


def _names(*kinds: str) -> list[str]:
    return [name for kind in kinds for name in registry.names(kind)]


def _choices(*kinds: str) -> str:
    return "{" + ",".join(_names(*kinds)) + "}"


_TRAIN_SETS = [name for name, d in registry.DATASETS.items() if not d.from_file]


def _data(text: str) -> str | Path:
    """A data set or word list of the registry, a CSV file (x1, ..., xd, label per row), a
    directory with the four MNIST IDX files, or a text file of words (one per line)."""
    for kind in ("data set", "word list"):
        try:
            name = registry.canonical(kind, text, "--data")
        except ValueError:
            continue
        if name in _TRAIN_SETS or name in registry.WORD_LISTS:
            return name
    if text.endswith((".csv", ".txt")) or "/" in text or "\\" in text or Path(text).exists():
        return Path(text)
    raise argparse.ArgumentTypeError(
        f"unknown data set {text!r}; choose from "
        f"{', '.join(_TRAIN_SETS + list(registry.WORD_LISTS))}, "
        f"or give a CSV file, an MNIST IDX directory or a text "
        f"file of words"
    )


def _graph_file(text: str) -> Path:
    path = Path(text)
    if path.suffix not in (".svg", ".png", ".dot"):
        raise argparse.ArgumentTypeError(f"must end in .svg, .png or .dot, got {text}")
    return path


def _default(cls: type, parameter: str):
    """The default of a parameter of a class, for help that states the class's own."""
    return inspect.signature(cls).parameters[parameter].default


# ------------------------------------------------------------------- the parser
def build_parser() -> argparse.ArgumentParser:
    """The `microtensor` parser: one subparser per command, its function as `func`."""
    parser = argparse.ArgumentParser(
        prog="microtensor",
        description="microtensor: a small autograd framework on numpy, and the networks, "
        "data sets and experiments of the five reports it was built from.",
        epilog="Start with `microtensor demo`. Each command has its own --help.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        help="train Lab 1's network on XOR-easy and draw what it learned",
        description="Train report 000's Lab-1 network (2-5-5-1, sigmoid, L2 loss summed, "
        "gradient descent with lr 0.1) on the 21-point XOR-easy set for "
        "10,000 epochs; print its accuracy; write the loss curve, the decision "
        "boundary and the computation graph (SVG, or DOT text without "
        "Graphviz's `dot`).",
    )
    demo.add_argument(
        "--out",
        type=Path,
        default=Path("microtensor-demo"),
        help="folder for the files (default: ./microtensor-demo)",
    )
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    demo.set_defaults(func=_demo)

    from . import charlm

    train = sub.add_parser(
        "train",
        help="train a network of models/ on a data set, or a language model on a word list",
        description="Train an MLP (one sigmoid output, squared error: two-class data), a "
        "softmax classifier (cross-entropy) or the reports' conv net (images) "
        "and write history.json, the learning curves, the confusion matrix, "
        "the decision boundary (2-D data) and the weights (model.npz). Or "
        "train a character-level language model (makemore's) on a word list: "
        "CharMLP (Bengio 2003: the embeddings of the --block-size previous "
        "characters, one hidden layer) or CharRNN (an LSTM, GRU or RNN over "
        "them), on 90% of the words (split by --seed), with the loss on the "
        "other 10%; it writes loss_curve.png, samples.txt (new words drawn "
        "from the model; the novel ones are counted), metrics.json and the "
        "weights (model.npz). `--model charlm` is CharMLP.",
        epilog="data sets: "
        + "; ".join(f"{k}: {registry.DATASETS[k].description}" for k in _TRAIN_SETS)
        + ". Or a CSV file (each row: the features, then the class label) or a "
        "directory holding the four MNIST IDX files. Word lists (CharMLP, CharRNN): "
        + "; ".join(f"{k}: {d}" for k, d in registry.WORD_LISTS.items())
        + ". Or a text file with one word per line (FILE.txt, or a path with a /): "
        "its characters make the vocabulary, '.' marks the start and end of words.",
    )
    train.add_argument(
        "--model",
        required=True,
        type=_name("--model", "network", "language model"),
        metavar=_choices("network", "language model"),
    )
    train.add_argument(
        "--data",
        required=True,
        type=_data,
        metavar="NAME|FILE.csv|DIR|FILE.txt",
        help="a data set or word list name (below), a CSV file, an MNIST IDX "
        "folder, or a text file of words (CharMLP, CharRNN)",
    )
    train.add_argument(
        "--hidden",
        type=_sizes("layer widths", "16,16"),
        default=None,
        metavar="W1,W2,...",
        help="hidden layer widths (default 16,16; ConvNet: the width of its "
        "fully connected layer, default 64; CharMLP and CharRNN: one "
        f"width, default {_default(charlm.CharMLP, 'hidden')} and "
        f"{_default(charlm.CharRNN, 'hidden')})",
    )
    train.add_argument(
        "--activation",
        type=_name("--activation", "activation"),
        default=None,
        metavar=_choices("activation"),
        help="hidden activation (default: sigmoid for MLP, tanh for CharMLP, relu otherwise)",
    )
    train.add_argument(
        "--optimizer",
        type=_name("--optimizer", "optimizer"),
        default="Adam",
        metavar=_choices("optimizer"),
        help="(default Adam)",
    )
    train.add_argument(
        "--lr",
        type=_positive_float,
        default=None,
        help="learning rate (default: "
        + ", ".join(f"{k} {o.lr:g}" for k, o in registry.OPTIMIZERS.items())
        + ")",
    )
    train.add_argument(
        "--epochs",
        type=_positive_int,
        default=None,
        help="passes over the training set (default 100; CharMLP and "
        "CharRNN count --steps instead)",
    )
    train.add_argument(
        "--batch-size",
        type=_batch_size,
        default=32,
        metavar="N|full",
        help="samples per step, or 'full' for the whole set (default 32)",
    )
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--out", type=Path, required=True, help="folder for the results")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.add_argument(
        "--track-gradients",
        action="store_true",
        help="record each layer's gradient norm and update/weight ratio per "
        "epoch (in history.json) and draw them in gradient_flow.png "
        "(not for CharMLP, CharRNN)",
    )
    train.add_argument(
        "--compile",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run each training step through mt.compile: recorded on the first batch, "
        "replayed after, the same weights to the bit as --no-compile, which runs it "
        "eagerly; a step it cannot replay runs eagerly with a warning saying why "
        "(default: --compile; CharMLP and CharRNN train eagerly)",
    )
    lm = train.add_argument_group("language models (CharMLP, CharRNN)")
    lm.add_argument(
        "--steps",
        type=_positive_int,
        default=None,
        metavar="N",
        help="training steps, one batch each (default: "
        + ", ".join(f"{k} {v}" for k, v in charlm.DEFAULT_STEPS.items())
        + "; with --epochs, that many passes over the training pairs)",
    )
    lm.add_argument(
        "--cell",
        choices=charlm.CELLS,
        default=None,
        help="CharRNN's recurrent layer, as in microtensor.nn (default "
        f"{_default(charlm.CharRNN, 'cell')})",
    )
    lm.add_argument(
        "--block-size",
        type=_positive_int,
        default=None,
        metavar="N",
        help="characters of context (default: CharMLP "
        f"{_default(charlm.CharMLP, 'block_size')}, CharRNN "
        f"{_default(charlm.CharRNN, 'block_size')})",
    )
    lm.add_argument(
        "--embedding-dim",
        type=_positive_int,
        default=None,
        metavar="N",
        help="size of each character's embedding (default: CharMLP "
        f"{_default(charlm.CharMLP, 'embedding_dim')}, CharRNN "
        f"{_default(charlm.CharRNN, 'embedding_dim')})",
    )
    lm.add_argument(
        "--samples",
        type=_positive_int,
        default=None,
        metavar="N",
        help="words to sample after training (default 20)",
    )
    lm.add_argument(
        "--temperature",
        type=_positive_float,
        default=None,
        metavar="T",
        help="sampling temperature: below 1 safer, above 1 wilder (default 1)",
    )
    train.set_defaults(func=_train)

    graph = sub.add_parser(
        "graph",
        help="draw the computation graph of a network of models/",
        description="Draw the computation graph of a network of models/ on an example "
        "input, as SVG or PNG (with Graphviz's `dot`) or as DOT text.",
    )
    graph.add_argument(
        "--model",
        required=True,
        type=_name("--model", "network"),
        metavar=_choices("network"),
        help="MLP: Lab 1's 2-5-5-1 sigmoid MLP (input features from the "
        "shape); SoftmaxClassifier: [features, 16, 10]; ConvNet: the "
        "reports' conv net sized from (C, H, W)",
    )
    graph.add_argument(
        "--input-shape",
        type=_sizes("sizes", "1,2"),
        default=None,
        help="example input shape, with the batch: 1,2 (default per model: "
        + "; ".join(f"{k} {','.join(map(str, v))}" for k, v in _GRAPH_SHAPES.items())
        + ")",
    )
    graph.add_argument(
        "--out",
        required=True,
        type=_graph_file,
        help="FILE.svg, FILE.png or FILE.dot (DOT text, no Graphviz needed)",
    )
    graph.add_argument(
        "--collapse",
        choices=("cluster", "fold"),
        default=None,
        help="draw each module as a box around its ops, or as one node",
    )
    graph.add_argument("--direction", choices=("LR", "TB"), default="TB")
    graph.add_argument(
        "--show-values",
        action="store_true",
        help="label tensors with dtype and min/mean/max (weights seeded 0)",
    )
    graph.set_defaults(func=_graph)

    from .experiments.reproduce import REPORTS

    reproduce = sub.add_parser(
        "reproduce",
        help="re-run a report's experiments and compare with its numbers",
        description="Re-run the experiments of a report in shared/seeds/ (000-004, or "
        "all) and write results.json, figures/*.png and report.md, which puts "
        "each of our numbers beside the report's with a verdict. `all` writes "
        "each report under DIR/000 ... DIR/004 and a combined DIR/report.md; at full "
        "scale it runs the five side by side, and each report's seeds over the cores.",
    )
    reproduce.add_argument(
        "report",
        choices=(*REPORTS, "all"),
        metavar="REPORT",
        help=f"one of {', '.join(REPORTS)}, or all",
    )
    reproduce.add_argument(
        "--fast", action="store_true", help="the reduced version (fewer epochs and sweep points)"
    )
    reproduce.add_argument("--out", type=Path, required=True, help="folder for the results")
    reproduce.add_argument(
        "--seeds",
        type=_positive_int,
        default=None,
        metavar="N",
        help="run every experiment over seeds 0..N-1: mean ± sd (default 5; 1 with --fast)",
    )
    reproduce.add_argument(
        "--mnist",
        type=Path,
        default=None,
        metavar="DIR",
        help="a folder of the MNIST IDX files (train-images-idx3-ubyte[.gz], ...): reports "
        "002/003 train on the real MNIST instead of the offline stand-in",
    )
    reproduce.add_argument(
        "--track-gradients",
        action="store_true",
        help="record each layer's gradient per epoch and draw gradient-flow figures",
    )
    reproduce.add_argument(
        "--reproduction",
        type=Path,
        default=None,
        metavar="FILE",
        help="with `all`: also write the run's record there (command, date, machine, "
        "versions, every report), as models/experiments/reproduce/REPRODUCTION.md",
    )
    reproduce.add_argument(
        "--quiet", action="store_true", help="no progress bar, no per-experiment lines"
    )
    reproduce.set_defaults(func=_reproduce)

    sweep = sub.add_parser(
        "sweep",
        help="run a sweep of training runs described in a TOML file",
        description="Run many training runs (settings x seeds x folds) described in a "
        "TOML file, in parallel, resumable (models.experiments.sweep).",
    )
    sweep.add_argument("file", metavar="FILE", help="the sweep description (TOML)")
    sweep.add_argument(
        "--out",
        metavar="DIR",
        type=Path,
        required=True,
        help="where runs.csv, runs.json, summary.csv/.json and plots/ go; "
        "runs already recorded there are not run again",
    )
    sweep.add_argument(
        "--jobs",
        metavar="N",
        type=_positive_int,
        default=1,
        help="runs at a time: local processes, or the LocalCluster's "
        "worker processes with --scheduler dask (default 1)",
    )
    sweep.add_argument(
        "--scheduler",
        choices=("local", "dask"),
        default="local",
        help="local: joblib's process pool; dask: dask.distributed "
        "(a LocalCluster, or the cluster at --address)",
    )
    sweep.add_argument(
        "--address",
        metavar="tcp://HOST:PORT",
        help="the scheduler of a running Dask cluster (with --scheduler dask)",
    )
    sweep.add_argument("--quiet", action="store_true", help="no progress bar and no summary table")
    sweep.set_defaults(func=_sweep)
    return parser


# ------------------------------------------------------------------- demo
def _demo(args: argparse.Namespace) -> int:
    import microtensor as mt
    from microtensor import viz
    from microtensor.nn import functional as F

    from . import plots
    from .datasets import xor_easy
    from .networks import MLP
    from .training import blas_single_thread, fit

    out = args.out
    _writable_folder(out)
    mt.manual_seed(0)
    X, y = xor_easy()
    net = MLP([2, 5, 5, 1], activations="sigmoid", output="sigmoid")
    loss = lambda p, t: F.l2_loss(p, t, reduction="sum")  # the report's: no 1/n
    print(
        "Training Lab 1's 2-5-5-1 sigmoid network (report 000) on the 21-point XOR-easy "
        "set: L2 loss summed over the set, gradient descent, lr 0.1, 10,000 epochs."
    )
    with blas_single_thread():
        history = fit(
            net,
            (X, y),
            loss=loss,
            optimizer=mt.optim.SGD(net.parameters(), lr=0.1),
            epochs=10_000,
            batch_size=None,
            log_every=50,
            progress=not args.quiet,
        )
    first = next((e for e, a in zip(history["epoch"], history["accuracy"]) if a == 1.0), None)
    print(
        f"accuracy {history['accuracy'][-1]:.1%} after {history['epoch'][-1]:,} epochs "
        f"({history.seconds:.1f} s; 100% first at epoch {first:,}), final loss "
        f"{history['loss'][-1]:.4g}"
        if first
        else f"accuracy {history['accuracy'][-1]:.1%} after {history['epoch'][-1]:,} epochs"
    )
    paths = [
        plots.learning_curves(
            history, out / "loss_curve.png", title="XOR-easy: L2 loss (summed) and accuracy"
        ),
        plots.decision_boundary(
            net, X, y, out / "decision_boundary.png", title="XOR-easy: what the network learned"
        ),
    ]
    with viz.trace_modules(net) as scopes:
        step_loss = loss(net(mt.tensor(X)), mt.tensor(y))
    step_loss.backward(retain_graph=True)
    graph = viz.draw_graph(
        step_loss, params=net, scopes=scopes, collapse="cluster", show_grads=True
    )
    if shutil.which("dot"):
        graph.render(outfile=out / "graph.svg", cleanup=True)
        paths.append(out / "graph.svg")
    else:
        (out / "graph.dot").write_text(graph.source)
        paths.append(out / "graph.dot")
        print(
            "(Graphviz's `dot` program is not installed, so the graph is DOT text; "
            "render it with `dot -Tsvg graph.dot -o graph.svg`)"
        )
    _list_written(paths)
    return 0


# ------------------------------------------------------------------- train
def _load(spec: str | Path, seed: int) -> tuple[tuple, str]:
    """(X_train, X_test, y_train, y_test) with int64 class labels, and a description."""
    from . import datasets

    if isinstance(spec, Path):
        if not spec.exists():
            raise CommandError(f"--data {spec}: no such file or folder")
        if spec.is_dir():
            return datasets.load_mnist_idx(spec), f"MNIST from {spec}"
        X, y = datasets.load_xy_csv(spec)
        return (
            datasets.split(X, y, seed=seed, standardise=True),
            f"{spec} (80/20 split, standardised)",
        )
    entry = registry.DATASETS[spec]
    options = dict(entry.sample)
    if "seed" in inspect.signature(entry.load).parameters:
        options["seed"] = seed
    if entry.test == "given":
        return entry.load(**options), entry.description
    X, y = entry.load(**options)
    if entry.test == "split":
        return (
            datasets.split(X, y, seed=seed, standardise=entry.standardise),
            entry.description + " (80/20 stratified split)",
        )
    X_test, y_test = (X, y) if entry.test == "same" else entry.load(**{**options, "seed": seed + 1})
    labels = [t.reshape(len(t)).astype("int64") for t in (y, y_test)]
    return (X, X_test, *labels), entry.description


def _build_model(args, X_train, n_classes: int):
    """The network `args` asks for, sized from the data, and its loss."""
    import microtensor as mt
    from microtensor.nn import functional as F

    from .networks import MLP, ConvNet, SoftmaxClassifier

    images = X_train.ndim == 4
    act = args.activation or ("sigmoid" if args.model == "MLP" else "relu")
    if args.model == "ConvNet":
        if not images:
            raise CommandError(
                f"--model ConvNet needs images (digits, mnist_sample or an "
                f"MNIST folder); this data has {X_train.shape[1]} features "
                f"per sample: use --model MLP or SoftmaxClassifier"
            )
        if args.hidden is not None and len(args.hidden) != 1:
            raise CommandError(
                "--model ConvNet has one fully connected hidden layer: "
                "give one width, like --hidden 64"
            )
        hidden = args.hidden[0] if args.hidden else 64
        net = ConvNet(
            in_shape=X_train.shape[1:], n_classes=n_classes, activation_name=act, hidden=hidden
        )
        return net, F.cross_entropy
    features = int(mt.tensor(X_train[:1]).flatten(1).shape[1])
    hidden = args.hidden or [16, 16]
    if args.model == "MLP":
        if n_classes != 2:
            raise CommandError(
                f"--model MLP has one sigmoid output (two classes); this data "
                f"has {n_classes} classes: use --model SoftmaxClassifier"
            )
        net = MLP([features, *hidden, 1], activations=act, output="sigmoid")
        return net, F.mse_loss
    return SoftmaxClassifier([features, *hidden, n_classes], activations=act), F.cross_entropy


def _train(args: argparse.Namespace) -> int:
    import numpy as np

    import microtensor as mt

    from . import plots
    from .training import blas_single_thread, evaluate, fit

    if args.model in registry.LANGUAGE_MODELS:
        if args.track_gradients:
            raise CommandError(
                f"--track-gradients: only for the networks trained by fit "
                f"(MLP, SoftmaxClassifier, ConvNet), not {args.model}"
            )
        return _train_language_model(args)
    if args.data in registry.WORD_LISTS:
        raise CommandError(
            f"--data {args.data} is a word list, for --model CharMLP or "
            f"CharRNN; {args.model} trains on a data set"
        )
    given = [option for dest, option in _LM_OPTIONS.items() if getattr(args, dest) is not None]
    if given:
        raise CommandError(f"{', '.join(given)}: only for --model CharMLP and CharRNN")
    epochs = args.epochs or 100
    out = args.out
    _writable_folder(out)
    try:
        (X_train, X_test, y_train, y_test), described = _load(args.data, args.seed)
    except (OSError, ValueError, ImportError) as e:
        raise CommandError(str(e).splitlines()[0]) from None
    n_classes = int(max(y_train.max(), y_test.max())) + 1
    mt.manual_seed(args.seed)
    net, loss = _build_model(args, X_train, n_classes)
    if args.model != "ConvNet":
        X_train = X_train.reshape(len(X_train), -1)
        X_test = X_test.reshape(len(X_test), -1)
    if args.model == "MLP":
        targets = (y_train.astype(np.float64)[:, None], y_test.astype(np.float64)[:, None])
    else:
        targets = (y_train, y_test)
    optimizer = registry.OPTIMIZERS[args.optimizer]
    lr = args.lr or optimizer.lr
    optimizer = optimizer.cls(net.parameters(), lr=lr)
    print(
        f"{args.model} on {described}: {len(X_train):,} train / {len(X_test):,} test, "
        f"{n_classes} classes; {args.optimizer} lr {lr:g}, {epochs} epochs, batch "
        f"{args.batch_size or 'full'}, seed {args.seed}"
    )
    metrics = ["accuracy", "precision", "recall", "f1"]
    with blas_single_thread():
        history = fit(
            net,
            (X_train, targets[0]),
            loss=loss,
            optimizer=optimizer,
            epochs=epochs,
            batch_size=args.batch_size,
            seed=args.seed,
            val_data=(X_test, targets[1]),
            metrics=["accuracy"],
            progress=not args.quiet,
            log_every=max(1, epochs // 200),
            track_gradients=args.track_gradients,
            compile=args.compile,
        )
        test = evaluate(
            net, (X_test, targets[1]), loss=loss, metrics=[*metrics, "confusion_matrix"]
        )
    last = history.last
    print(
        f"train: loss {last['loss']:.4g}, accuracy {last['accuracy']:.2%} ({history.seconds:.1f} s)"
    )
    print(
        "test:  " + ", ".join(f"{m} {test[m]:.2%}" for m in metrics) + f", loss {test['loss']:.4g}"
    )
    record = {
        "model": args.model,
        "data": str(args.data),
        "data_description": described,
        "hidden": args.hidden,
        "activation": args.activation,
        "optimizer": args.optimizer,
        "lr": lr,
        "epochs": epochs,
        "batch_size": args.batch_size,
        "seed": args.seed,
        "compile": args.compile,
        "compiled": history.compiled,
        "history": history.to_dict(),
        "test": {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in test.items()},
    }
    paths = [out / "history.json"]
    paths[0].write_text(json.dumps(record, indent=2) + "\n")
    paths.append(
        plots.learning_curves(
            history, out / "learning_curves.png", title=f"{args.model} on {args.data}"
        )
    )
    paths.append(
        plots.confusion_matrix(
            test["confusion_matrix"],
            out / "confusion_matrix.png",
            title=f"{args.model} on {args.data}: test set",
        )
    )
    if X_train.ndim == 2 and X_train.shape[1] == 2:
        paths.append(
            plots.decision_boundary(
                net,
                X_test,
                y_test,
                out / "decision_boundary.png",
                title=f"{args.model} on {args.data}: test set",
            )
        )
    if args.track_gradients:
        paths.append(
            plots.gradient_flow(
                history,
                out / "gradient_flow.png",
                title=f"{args.model} on {args.data}: gradient flow",
            )
        )
    mt.save(net.state_dict(), out / "model.npz")
    paths.append(out / "model.npz")
    _list_written(paths)
    return 0


_LM_OPTIONS = {
    "steps": "--steps",
    "cell": "--cell",
    "block_size": "--block-size",
    "embedding_dim": "--embedding-dim",
    "samples": "--samples",
    "temperature": "--temperature",
}


def _words(spec: str | Path) -> tuple[list[str], str]:
    """The words a language model trains on, and a description."""
    if isinstance(spec, str) and spec not in registry.WORD_LISTS:
        raise CommandError(
            f"--data {spec} is a data set; CharMLP and CharRNN learn from "
            f"words: --data {' or '.join(registry.WORD_LISTS)}, or a text file "
            f"with one word per line"
        )
    from . import charlm

    try:
        return (
            (registry.word_list(spec), spec)
            if isinstance(spec, str)
            else (charlm.read_words(spec), str(spec))
        )
    except (OSError, ValueError) as e:
        raise CommandError(f"--data {e}") from None


def _language_model(args: argparse.Namespace, vocab_size: int):
    """The CharMLP or CharRNN `args` asks for; the options not given keep its defaults."""
    if args.hidden is not None and len(args.hidden) != 1:
        raise CommandError(
            f"--model {args.model} has one hidden layer: give one width, like --hidden 128"
        )
    options = {
        "hidden": args.hidden and args.hidden[0],
        "block_size": args.block_size,
        "embedding_dim": args.embedding_dim,
    }
    if args.model == "CharMLP":
        if args.cell is not None:
            raise CommandError("--cell: only for --model CharRNN")
        options["activation"] = args.activation
    elif args.activation is not None:
        raise CommandError(
            f"--activation: only for --model CharMLP (CharRNN's {args.cell or 'LSTM'} has its own)"
        )
    else:
        options["cell"] = args.cell
    cls = registry.language_model(args.model)
    return cls(vocab_size, **{k: v for k, v in options.items() if v is not None})


def _train_language_model(args: argparse.Namespace) -> int:
    """Train CharMLP or CharRNN on a word list (90/10 split by --seed), sample words, and
    write the loss curve, the samples, the metrics and the weights."""
    import math

    import microtensor as mt

    from . import charlm
    from .training import blas_single_thread

    words, described = _words(args.data)
    if len(words) < 2:
        raise CommandError(
            f"--data {described}: need at least 2 words (one to train on, "
            f"one to validate on), got {len(words)}"
        )
    out = args.out
    _writable_folder(out)
    train_words, val_words = charlm.split_words(words, seed=args.seed)
    vocab = charlm.Vocabulary(words)
    mt.manual_seed(args.seed)
    net = _language_model(args, len(vocab))
    train_set = charlm.build_dataset(train_words, vocab, net.block_size)
    val_set = charlm.build_dataset(val_words, vocab, net.block_size)
    batch = args.batch_size or len(train_set[0])
    steps = args.steps or (
        args.epochs
        and args.epochs * math.ceil(len(train_set[0]) / batch)
        or charlm.DEFAULT_STEPS[args.model]
    )
    optimizer = registry.OPTIMIZERS[args.optimizer]
    lr = args.lr or optimizer.lr
    cell = type(net.rnn).__name__ if isinstance(net, charlm.CharRNN) else None
    name = args.model + (f" ({cell})" if cell else "")
    print(
        f"{name} on {described}: {len(words):,} words ({len(train_words):,} train / "
        f"{len(val_words):,} validation), {len(vocab)} characters {vocab.chars!r}; "
        f"{args.optimizer} lr {lr:g}, {steps:,} steps of {args.batch_size or 'all'}, "
        f"seed {args.seed}"
    )
    with blas_single_thread():
        log = charlm.train(
            net,
            train_set,
            val_set,
            steps=steps,
            batch_size=args.batch_size,
            optimizer=optimizer.cls(net.parameters(), lr=lr),
            seed=args.seed,
            evaluations=20,
            progress=not args.quiet,
        )
        temperature = args.temperature or 1.0
        samples = charlm.sample(
            net, vocab, args.samples or 20, seed=args.seed, temperature=temperature
        )
    known = set(train_words)
    novel = sum(word not in known for word in samples)
    uniform = math.log(len(vocab))
    print(
        f"loss (nats per character; guessing uniformly: {uniform:.3f}): train "
        f"{log.train_loss[-1]:.3f}, validation {log.val_loss[-1]:.3f} ({log.seconds:.1f} s)"
    )
    print(
        f"samples (temperature {temperature:g}; {novel} of {len(samples)} not training "
        f"words): {', '.join(samples)}"
    )
    record = {
        "model": args.model,
        "cell": cell,
        "data": described,
        "words": len(words),
        "train_words": len(train_words),
        "val_words": len(val_words),
        "vocabulary": vocab.chars,
        "block_size": net.block_size,
        "parameters": sum(p.numel() for p in net.parameters()),
        "optimizer": args.optimizer,
        "lr": lr,
        "steps": steps,
        "batch_size": args.batch_size,
        "seed": args.seed,
        "seconds": round(log.seconds, 2),
        "uniform_loss": uniform,
        "train_loss": log.train_loss[-1],
        "val_loss": log.val_loss[-1],
        "history": {"step": log.eval_steps, "train_loss": log.train_loss, "val_loss": log.val_loss},
        "temperature": temperature,
        "samples": samples,
        "novel_samples": novel,
    }
    paths = [out / "metrics.json", out / "samples.txt", out / "model.npz"]
    paths[0].write_text(json.dumps(record, indent=2) + "\n")
    paths[1].write_text("".join(word + "\n" for word in samples))
    mt.save(net.state_dict(), paths[2])
    paths.append(
        charlm.plot_losses(
            log, out / "loss_curve.png", vocab_size=len(vocab), title=f"{name} on {described}"
        )
    )
    _list_written(paths)
    return 0


# ------------------------------------------------------------------- graph
_GRAPH_SHAPES = {"MLP": (1, 2), "SoftmaxClassifier": (1, 64), "ConvNet": (1, 1, 8, 8)}


def _graph_network(name: str, shape: Sequence[int]):
    from .networks import MLP, ConvNet, SoftmaxClassifier

    if name == "MLP":
        return MLP([shape[-1], 5, 5, 1], activations="sigmoid", output="sigmoid")
    if name == "SoftmaxClassifier":
        return SoftmaxClassifier([shape[-1], 16, 10])
    if len(shape) != 4:
        raise ValueError(f"ConvNet takes inputs of shape N,C,H,W, got {','.join(map(str, shape))}")
    return ConvNet(in_shape=shape[1:])


def _graph(args: argparse.Namespace) -> int:
    """Draw the network on a seeded example input; without the `dot` program the DOT text
    is left next to FILE and the exit status is 1."""
    import microtensor as mt
    from microtensor.viz import DotNotFoundError, draw_graph

    mt.manual_seed(0)
    shape = args.input_shape or _GRAPH_SHAPES[args.model]
    try:
        graph = draw_graph(
            _graph_network(args.model, shape),
            mt.randn(*shape),
            collapse=args.collapse,
            direction=args.direction,
            show_values=args.show_values,
        )
    except ValueError as e:
        raise CommandError(str(e), status=2) from None
    out = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".dot":
        out.write_text(graph.source)
    else:
        try:
            graph.render(outfile=out, cleanup=True)
        except DotNotFoundError as e:
            raise CommandError(str(e)) from None
    print(f"wrote {out}")
    return 0


# ------------------------------------------------------------------- reproduce
def _reproduce(args: argparse.Namespace) -> int:
    """The data and the record's folder are checked before anything runs: a wrong --mnist
    is one line and exit 1 at once, not a traceback some minutes into the run."""
    from .datasets import load_mnist_idx
    from .experiments.reproduce import counts_text, reproduce, reproduce_all

    record = args.reproduction
    if record is not None and args.report != "all":
        raise CommandError("--reproduction records a run of all five reports: use `all`", 2)
    if record is not None and not record.parent.is_dir():
        raise CommandError(f"--reproduction {record}: no such folder {record.parent}")
    if args.mnist is not None:
        try:
            load_mnist_idx(args.mnist)  # every file read once: the errors name the file
        except (OSError, ValueError) as e:
            raise CommandError(f"--mnist {args.mnist}: {e}") from None
    _writable_folder(args.out)
    progress, echo = not args.quiet, not args.quiet
    options = dict(
        fast=args.fast,
        progress=progress,
        echo=echo,
        seeds=args.seeds,
        mnist=args.mnist,
        track_gradients=args.track_gradients,
    )
    start = time.perf_counter()
    if args.report == "all":
        results = reproduce_all(args.out, record=record, **options)["reports"]
    else:
        results = {args.report: reproduce(args.report, args.out, **options)}
    scale = "fast" if args.fast else "full"
    for report, r in results.items():
        seeds = len(r["seeds"])
        print(
            f"report {report} ({scale}, {seeds} seed{'s' * (seeds > 1)}, {r['seconds']} s): "
            f"{counts_text(r)}"
        )
    written = [args.out / "report.md", args.out / "results.json"] + ([record] if record else [])
    print(f"wrote {', '.join(map(str, written))} ({time.perf_counter() - start:.0f} s)")
    return 0


# ------------------------------------------------------------------- sweep
def _sweep(args: argparse.Namespace) -> int:
    """0 when every run finished, 1 when some failed (each recorded with its error), 2 for
    a bad sweep or bad arguments, 130 when interrupted (the same command goes on)."""
    try:
        from .experiments import sweep
    except ModuleNotFoundError as e:
        if e.name != "models.experiments.sweep":
            raise
        raise CommandError(
            "not available: models/experiments/sweep.py is not part of this installation", status=2
        ) from None
    if args.address and args.scheduler != "dask":
        raise CommandError("--address needs --scheduler dask", status=2)
    try:
        plan = sweep.Sweep.from_file(args.file)
    except sweep.SweepError as e:
        raise CommandError(str(e), status=2) from None
    try:
        rows = sweep.run_sweep(
            plan,
            args.out,
            jobs=args.jobs,
            scheduler=args.scheduler,
            address=args.address,
            progress=not args.quiet,
        )
    except KeyboardInterrupt:
        print(
            f"microtensor sweep: interrupted; the finished runs are in "
            f"{args.out / 'runs.csv'}; run the same command again to go on",
            file=sys.stderr,
        )
        return 130
    failed = [row for row in rows if row["status"] == "error"]
    if not args.quiet:
        print(sweep.format_table(sweep.summarize(rows, plan.swept), plan.swept))
        print(f"\n{len(rows) - len(failed)} of {len(rows)} runs finished; results in {args.out}")
    for row in failed[:5]:
        print(
            f"microtensor sweep: run {row['key']} (seed {row['seed']}, fold {row['fold']}) "
            f"failed: {row['error']}",
            file=sys.stderr,
        )
    if len(failed) > 5:
        print(
            f"microtensor sweep: ... and {len(failed) - 5} more failed runs; see runs.csv",
            file=sys.stderr,
        )
    return 1 if failed else 0


# ------------------------------------------------------------------- entry point
def _writable_folder(path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise CommandError(f"--out {path} is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CommandError(f"cannot create the folder {path}: {e.strerror}") from None


def _list_written(paths: Sequence[Path]) -> None:
    print("wrote:")
    for path in paths:
        print(f"  {path}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `microtensor` command line; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    with warnings.catch_warnings():
        shown = warnings.showwarning

        def note(message, category, *rest, **kwargs):
            if issubclass(category, registry.RenamedWarning):
                print(f"microtensor: note: {message}", file=sys.stderr)
            else:
                shown(message, category, *rest, **kwargs)

        warnings.simplefilter("always", registry.RenamedWarning)  # noted on every run
        warnings.showwarning = note
        args = build_parser().parse_args(argv)
        from microtensor.backend import retain_freed_memory

        retain_freed_memory()  # training steps reuse their pages instead of faulting them in
        try:
            return args.func(args)
        except CommandError as e:
            print(f"microtensor {args.command}: error: {e}", file=sys.stderr)
            return e.status
        except KeyboardInterrupt:
            print(f"microtensor {args.command}: interrupted", file=sys.stderr)
            return 130
