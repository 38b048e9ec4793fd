"""Report 000 (Lab 1): a 2-5-5-1 sigmoid network, L2 loss summed over the set, full-batch
gradient descent with lr 0.1, on the generated linear set (100 points) and the 21-point
XOR-easy set; sweeps of learning rate and hidden units; no activation; SGD vs Adam;
sigmoid/tanh/ReLU; a convolutional variant."""

from __future__ import annotations

import numpy as np

import microtensor as mt
from microtensor import nn

from ... import plots
from ...datasets import linear_set, xor_easy
from ...networks import activation as make_activation
from ...training import predict
from .common import Reproduction, keep, lab1_mlp, num, pct, same_order, train_lab1, within

TITLE = "Lab 1: back-propagation with a 2-5-5-1 sigmoid network"
SOURCE = "shared/seeds/000_3f08d565ec137f92.txt"

# (accuracy, final loss) as the report prints them; its loss is the mean squared error
REPORT = {
    "main": {"linear": (1.0, 3.4907e-06), "xor": (1.0, 1.9741075e-05)},
    "lr": {
        "linear": {
            0.01: (1.0, 0.004586824924178942),
            0.05: (1.0, 0.0006019188915593869),
            0.1: (1.0, 0.0001733321686487683),
            0.5: (1.0, 1.2816842010983653e-05),
        },
        "xor": {
            0.01: (0.9047619047619048, 0.10505482146976779),
            0.05: (1.0, 0.0006879595818460072),
            0.1: (1.0, 0.00022480598810870633),
            0.5: (1.0, 3.6959905340741546e-05),
        },
    },
    "hidden": {
        "linear": {
            3: (1.0, 0.00017665160583931638),
            5: (1.0, 0.00017113793049810752),
            10: (1.0, 0.00016523825933427043),
            20: (1.0, 0.00015697992778381488),
        },
        "xor": {
            3: (1.0, 0.0003344252655832893),
            5: (1.0, 0.0002934011844768291),
            10: (1.0, 0.00025018082626211387),
            20: (1.0, 0.00018257290067721544),
        },
    },
    "no_activation": {
        "linear": (0.88, 0.09542922275533261),
        "xor": (0.3333333333333333, 0.2887139107611549),
    },
    "optimizers": {"sgd": (1.0, 0.005538515725124356), "adam": (1.0, 7.693262328713195e-07)},
    "activations": {
        "sigmoid": (1.0, 0.0053130012637674),
        "tanh": (1.0, 0.0032075458939290597),
        "relu": (0.90, 0.08799288611066064),
    },
    "conv": {"sigmoid": 0.92, "tanh": 0.85, "relu": 0.92},
}
NAMES = {"linear": "linear", "xor": "XOR-easy"}
ACC_TOL = 0.025  # 2.5 points: 2 of the 100 linear points; exact on the 21 XOR points
RUN_KEYS = ("accuracy", "mse", "first_100_epoch", "epochs", "seconds")


class ConvLab1(nn.Module):
    """Lab 1's network with a convolution as its first layer: the point (x1, x2) is a
    1x2 image, 5 filters of 1x2 slide over it, then the 5-5-1 layers; no biases, N(0, 1)
    weights and a sigmoid output, as the Lab-1 network. The report describes its conv
    layer only by eq. (26), so this is our reading of it."""

    def __init__(self, activation: str, seed: int) -> None:
        super().__init__()
        mt.manual_seed(seed)
        self.conv = nn.Conv2d(1, 5, (1, 2), bias=False, dtype=mt.float64)
        self.fc1 = nn.Linear(5, 5, bias=False, dtype=mt.float64)
        self.fc2 = nn.Linear(5, 1, bias=False, dtype=mt.float64)
        self.layers = [self.conv, self.fc1, self.fc2]
        for layer in self.layers:
            nn.init.normal_(layer.weight, 0.0, 1.0)
        self.act = make_activation(activation)

    def forward(self, x: mt.Tensor) -> mt.Tensor:
        h = self.act(self.conv(x.reshape(len(x), 1, 1, 2)).flatten(1))
        return self.fc2(self.act(self.fc1(h))).sigmoid()


def _acc_row(
    ctx: Reproduction, section: str, quantity: str, ours: float, theirs: float, why_differs: str
) -> bool:
    ok = within(ours, theirs, ACC_TOL)
    ctx.compare(
        section,
        quantity,
        pct(ours),
        pct(theirs),
        ok,
        "same accuracy (within 2.5 points)" if ok else why_differs,
    )
    return ok


def _loss_row(
    ctx: Reproduction,
    section: str,
    quantity: str,
    ours: float,
    theirs: float,
    epochs: int,
    report_epochs: int | None,
) -> bool:
    ok = same_order(ours, theirs)
    if ok:
        why = "within 10x (a final loss depends on the unseeded random start)"
    elif ctx.fast and report_epochs and epochs < report_epochs:
        why = f"fast run: {epochs:,} epochs instead of {report_epochs:,}"
    elif ctx.fast:
        why = f"fast run: {epochs:,} epochs instead of the full run's"
    else:
        why = (
            "more than 10x apart: the report gives neither this run's epochs nor its "
            "seed, and a final loss depends on both (and, on the linear set, on the "
            "100 drawn points)"
        )
    ctx.compare(section, quantity, num(ours), num(theirs), ok, why)
    return ok


def _claim(
    ctx: Reproduction, section: str, claim: str, ours: str, ok: bool, why_differs: str
) -> None:
    ctx.compare(section, claim, ours, "stated", ok, "holds on our numbers" if ok else why_differs)


def run(ctx: Reproduction) -> None:
    data = {"linear": linear_set(100, seed=0), "xor": xor_easy()}
    main_epochs = ctx.pick(100_000, 5_000)
    sweep_epochs = ctx.pick(10_000, 2_000)
    extra_epochs = ctx.pick(5_000, 2_000)
    lrs = ctx.pick([0.01, 0.05, 0.1, 0.5], [0.1, 0.5])
    widths = ctx.pick([3, 5, 10, 20], [3, 20])
    no_act_lr = 1e-3
    ctx.data = {
        "linear": "100 points uniform in the unit square, label 0 where x > y "
        "(models.linear_set(100, seed=0))",
        "XOR-easy": "the 21 points of shared/seeds/README.md (models.xor_easy())",
    }
    ctx.settings = {
        "network": "2-5-5-1, sigmoid after every layer, no biases, weights N(0, 1), float64",
        "loss": "L2, 1/2 sum (y - p)^2 over the set",
        "optimizer": "SGD, full batch",
        "lr": 0.1,
        "main_epochs": main_epochs,
        "sweep_epochs": sweep_epochs,
        "extra_epochs": extra_epochs,
        "learning_rates": lrs,
        "hidden_units": widths,
        "no_activation_lr": no_act_lr,
        "seed": 0,
    }
    ctx.note(
        "The network is the report's: weights N(0, 1) (np.random.randn), no biases "
        "(our MLP's biases are set to 0 and left out of the optimizer), sigmoid after "
        "every layer, the L2 loss 1/2 sum (y - p)^2 summed over the set (the report's "
        "delta has no 1/n), full-batch gradient descent, float64. Seed 0 for every "
        "run; the report's runs were unseeded, so its exact losses cannot be "
        "re-drawn: accuracies are compared within 2.5 points, losses within 10x."
    )
    ctx.note(
        '"loss" is the mean squared error mean (y - p)^2 of the trained network, '
        "eq. (1) of the report, which is what its printed losses are."
    )
    ctx.note(
        "The report trained its main runs for 100,000 epochs and does not say how "
        "long its sweeps ran; the full run trains the learning-rate, hidden-unit and "
        "no-activation sweeps for 10,000 epochs and the optimizer and activation "
        "comparisons for 5,000 epochs at lr 0.01: with these the losses land near "
        "the report's (at 100,000 epochs they would be far lower)."
        + (
            f" This fast run: {main_epochs:,} epochs for the main runs, "
            f"{sweep_epochs:,} for the rest, so losses are higher."
            if ctx.fast
            else ""
        )
    )
    ctx.note(
        f"No activation: at lr 0.1 the summed loss of a linear network overflows "
        f"for us; we use lr {no_act_lr}, which converges to the least-squares "
        f"weights. A bias-free linear network can only fit p = x w, whose best mean "
        f"squared error is the least-squares one, computed here with "
        f"numpy.linalg.lstsq as a check."
    )
    results = ctx.results

    # ---- main runs
    results["main"] = {}
    for key, (X, y) in data.items():
        r = train_lab1(
            lab1_mlp([2, 5, 5, 1], "sigmoid", "sigmoid", 0),
            (X, y),
            lr=0.1,
            epochs=main_epochs,
            log_points=500,
        )
        ctx.tick(f"main {key}")
        results["main"][key] = keep(r, *RUN_KEYS)
        ctx.say(
            f"000 {NAMES[key]}: accuracy {pct(r['accuracy'])}, loss {num(r['mse'])} "
            f"after {main_epochs:,} epochs"
        )
        acc, loss = REPORT["main"][key]
        section = f"Main run on {NAMES[key]} (lr 0.1, hidden 5, {main_epochs:,} epochs)"
        _acc_row(ctx, section, "accuracy", r["accuracy"], acc, "fewer points right")
        _loss_row(ctx, section, "final loss (MSE)", r["mse"], loss, main_epochs, 100_000)
        first = r["first_100_epoch"]
        ok = first is not None and first <= 3000
        ctx.compare(
            section,
            "first epoch at 100% accuracy",
            f"{first:,}" if first else "never",
            "converges within the first 3,000 epochs",
            ok,
            "holds on our numbers" if ok else "slower start from our random weights",
        )
        model = r["model"]
        plots.prediction_scatter(
            X,
            y,
            predict(model, X),
            ctx.figure(f"{key}_prediction", f"{NAMES[key]}: ground truth vs prediction"),
            title=f"{NAMES[key]}: ground truth vs prediction",
        )
        plots.learning_curves(
            r["history"],
            ctx.figure(f"{key}_learning_curve", f"{NAMES[key]}: learning curve"),
            title=f"{NAMES[key]}: L2 loss (summed) and accuracy per epoch",
        )
        plots.decision_boundary(
            model,
            X,
            y,
            ctx.figure(f"{key}_decision_boundary", f"{NAMES[key]}: decision boundary"),
            title=f"{NAMES[key]}: decision boundary",
        )

    # ---- learning rates and hidden units
    for sweep, values, label in (("lr", lrs, "learning rate"), ("hidden", widths, "hidden units")):
        results[f"{sweep}_sweep"] = {}
        for key, (X, y) in data.items():
            runs, series = {}, {}
            for v in values:
                size = v if sweep == "hidden" else 5
                lr = v if sweep == "lr" else 0.1
                r = train_lab1(
                    lab1_mlp([2, size, size, 1], "sigmoid", "sigmoid", 0),
                    (X, y),
                    lr=lr,
                    epochs=sweep_epochs,
                )
                ctx.tick(f"{sweep} {v} {key}")
                runs[str(v)] = keep(r, *RUN_KEYS)
                series[f"{label} {v}"] = (r["history"]["epoch"], r["history"]["loss"])
                section = f"{label.capitalize()} sweep on {NAMES[key]}"
                acc, loss = REPORT[sweep][key][v]
                _acc_row(
                    ctx,
                    section,
                    f"{label} {v}: accuracy",
                    r["accuracy"],
                    acc,
                    "not converged yet"
                    if r["accuracy"] < acc
                    else "ours converged where the report's had not",
                )
                _loss_row(
                    ctx, section, f"{label} {v}: loss (MSE)", r["mse"], loss, sweep_epochs, None
                )
            results[f"{sweep}_sweep"][key] = runs
            plots.curves(
                series,
                ctx.figure(f"{sweep}_sweep_{key}", f"{label} sweep, {NAMES[key]}"),
                title=f"{NAMES[key]}: training loss for different {label}s",
                ylabel="L2 loss (summed)",
            )
            mse = [runs[str(v)]["mse"] for v in values]
            if sweep == "lr":
                _claim(
                    ctx,
                    section,
                    f"lr {values[-1]} gives the lowest loss",
                    f"lowest at lr {values[int(np.argmin(mse))]}",
                    int(np.argmin(mse)) == len(values) - 1,
                    "another learning rate ends lower",
                )
            else:
                _claim(
                    ctx,
                    section,
                    "more hidden units, lower loss",
                    " > ".join(num(m) for m in mse),
                    mse[-1] < mse[0],
                    "the widest network does not end lower than the narrowest",
                )

    # ---- no activation
    results["no_activation"], series = {}, {}
    section = f"No activation (linear network, lr {no_act_lr})"
    for key, (X, y) in data.items():
        r = train_lab1(
            lab1_mlp([2, 5, 5, 1], None, None, 0), (X, y), lr=no_act_lr, epochs=sweep_epochs
        )
        ctx.tick(f"no activation {key}")
        series[NAMES[key]] = (r["history"]["epoch"], r["history"]["loss"])
        w, *_ = np.linalg.lstsq(X, y, rcond=None)
        lstsq_mse = float(np.mean((X @ w - y) ** 2))
        lstsq_acc = float(np.mean(((X @ w) > 0.5) == (y > 0.5)))
        results["no_activation"][key] = {
            **keep(r, *RUN_KEYS),
            "least_squares_mse": lstsq_mse,
            "least_squares_accuracy": lstsq_acc,
        }
        acc, loss = REPORT["no_activation"][key]
        why_data = (
            "our 100 random points are not the report's: the least-squares line "
            f"of ours gets {pct(lstsq_acc)} (MSE {num(lstsq_mse)})"
        )
        _acc_row(ctx, section, f"{NAMES[key]}: accuracy", r["accuracy"], acc, why_data)
        ok = within(r["mse"], loss, 1e-3 * loss)
        ctx.compare(
            section,
            f"{NAMES[key]}: loss (MSE)",
            f"{r['mse']:.6g}",
            f"{loss:.6g}",
            ok,
            "equal to 3 significant digits: both are the least-squares optimum "
            f"of p = x w (lstsq: {lstsq_mse:.6g})"
            if ok
            else why_data,
        )
    plots.curves(
        series,
        ctx.figure("no_activation", "training loss without activations"),
        title="training loss without activation functions",
        ylabel="L2 loss (summed)",
    )

    # ---- optimizers and activations on the linear set
    X, y = data["linear"]
    results["optimizers"], series = {}, {}
    section = f"SGD vs Adam on linear (lr 0.01, {extra_epochs:,} epochs)"
    for opt, optimizer in (("sgd", "SGD"), ("adam", "Adam")):
        r = train_lab1(
            lab1_mlp([2, 5, 5, 1], "sigmoid", "sigmoid", 0),
            (X, y),
            lr=0.01,
            epochs=extra_epochs,
            optimizer=optimizer,
        )
        ctx.tick(f"optimizer {opt}")
        results["optimizers"][opt] = keep(r, *RUN_KEYS)
        series[opt] = (r["history"]["epoch"], r["history"]["loss"])
        acc, loss = REPORT["optimizers"][opt]
        _acc_row(ctx, section, f"{opt}: accuracy", r["accuracy"], acc, "not converged")
        _loss_row(ctx, section, f"{opt}: loss (MSE)", r["mse"], loss, extra_epochs, None)
    sgd, adam = results["optimizers"]["sgd"]["mse"], results["optimizers"]["adam"]["mse"]
    _claim(
        ctx,
        section,
        "Adam ends far lower than SGD",
        f"{num(adam)} vs {num(sgd)}",
        adam < sgd / 10,
        "Adam is not 10x lower here",
    )
    plots.curves(
        series,
        ctx.figure("optimizers", "SGD vs Adam, linear"),
        title="linear: training loss, SGD vs Adam",
        ylabel="L2 loss (summed)",
    )

    results["activations"], series = {}, {}
    section = f"Hidden activations on linear (lr 0.01, {extra_epochs:,} epochs)"
    for act in ("sigmoid", "tanh", "relu"):
        r = train_lab1(
            lab1_mlp([2, 5, 5, 1], act, "sigmoid", 0), (X, y), lr=0.01, epochs=extra_epochs
        )
        ctx.tick(f"activation {act}")
        results["activations"][act] = keep(r, *RUN_KEYS)
        series[act] = (r["history"]["epoch"], r["history"]["loss"])
        acc, loss = REPORT["activations"][act]
        _acc_row(
            ctx,
            section,
            f"{act}: accuracy",
            r["accuracy"],
            acc,
            "ours separates the set where the report's did not"
            if r["accuracy"] > acc
            else "not converged",
        )
        _loss_row(ctx, section, f"{act}: loss (MSE)", r["mse"], loss, extra_epochs, None)
    mse = {a: results["activations"][a]["mse"] for a in ("sigmoid", "tanh", "relu")}
    _claim(
        ctx,
        section,
        "tanh lowest loss, then sigmoid, ReLU worst",
        " < ".join(sorted(mse, key=mse.get)),
        mse["tanh"] < mse["sigmoid"] < mse["relu"],
        "a different order on our numbers",
    )
    plots.curves(
        series,
        ctx.figure("activations", "sigmoid/tanh/ReLU, linear"),
        title="linear: training loss per hidden activation",
        ylabel="L2 loss (summed)",
    )

    # ---- a convolutional first layer
    results["conv"], series = {}, {}
    section = f"Convolutional first layer on linear (lr 0.1, {extra_epochs:,} epochs)"
    for act in ("sigmoid", "tanh", "relu"):
        r = train_lab1(ConvLab1(act, 0), (X, y), lr=0.1, epochs=extra_epochs)
        ctx.tick(f"conv {act}")
        results["conv"][act] = keep(r, *RUN_KEYS)
        series[act] = (r["history"]["epoch"], r["history"]["loss"])
        why = (
            "the report does not describe its conv layer enough to rebuild it; ours "
            "(five 1x2 filters over the point seen as a 1x2 image) "
        )
        why += (
            "is a linear layer in disguise and separates the set like the fully connected network"
            if r["accuracy"] > REPORT["conv"][act]
            else "ends lower: it stalls from this random start"
        )
        _acc_row(ctx, section, f"{act}: accuracy", r["accuracy"], REPORT["conv"][act], why)
    plots.curves(
        series,
        ctx.figure("conv", "conv variant, linear"),
        title="linear: training loss with a convolutional first layer",
        ylabel="L2 loss (summed)",
    )
