"""The suite's workloads: what each one trains, on what, in which dtype, which
implementations run it and the targets microtensor is held to. Plain data, no numpy:
the runner process imports only this, so the processes it starts inherit a small RSS.
How each implementation runs a workload is in runners.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Workload", "WORKLOADS", "IMPLS", "PEERS"]

IMPLS = ("numpy", "microtensor", "compiled", "torch", "autograd")
PEERS = {"torch": "torch", "autograd": "autograd"}  # impl -> module it needs


@dataclass(frozen=True)
class Workload:
    name: str
    kind: str  # "mlp", "conv", "digits" or "chain"
    title: str
    dtype: str = "float64"
    sizes: tuple = ()
    hidden: str = "relu"
    loss: str = "ce"
    batch: int = 0
    lr: float = 0.1
    n_ops: int = 0
    impls: tuple = ("numpy", "microtensor", "compiled", "torch", "autograd")
    unit: str = "step"
    targets: dict = field(default_factory=dict)


def _mlp(name, sizes, batch, dtype, hidden, loss, lr, targets, title_extra=""):
    act = "sigmoid after every layer, MSE" if hidden == "sigmoid" else "relu, cross-entropy"
    title = f"MLP {'-'.join(map(str, sizes))}, batch {batch}, {act}, SGD, {dtype}"
    return Workload(
        name,
        "mlp",
        title + title_extra,
        dtype,
        tuple(sizes),
        hidden,
        loss,
        batch,
        lr,
        targets=targets,
    )


WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in [
        _mlp(
            "mlp-2-5-5-1",
            (2, 5, 5, 1),
            100,
            "float64",
            "sigmoid",
            "mse",
            0.1,
            {"numpy": 1.5, "compiled": 0.8},
        ),
        _mlp(
            "mlp-64-256-256-10-f32",
            (64, 256, 256, 10),
            256,
            "float32",
            "relu",
            "ce",
            0.01,
            {"numpy": 1.1, "torch": 1.0, "compiled": 0.9},
        ),
        _mlp(
            "mlp-64-256-256-10-f64",
            (64, 256, 256, 10),
            256,
            "float64",
            "relu",
            "ce",
            0.01,
            {"numpy": 1.1, "torch": 1.0, "compiled": 0.9},
        ),
        _mlp(
            "mlp-784-1024-1024-10-f32",
            (784, 1024, 1024, 10),
            512,
            "float32",
            "relu",
            "ce",
            0.01,
            {"numpy": 1.05, "compiled": 1.0},
        ),
        _mlp(
            "mlp-784-1024-1024-10-f64",
            (784, 1024, 1024, 10),
            512,
            "float64",
            "relu",
            "ce",
            0.01,
            {"numpy": 1.05, "compiled": 1.0},
        ),
        Workload(
            "conv-b64-f32",
            "conv",
            "conv net: conv 1->8 3x3, pool 2, relu, conv 8->16 "
            "3x3, pool 2, relu, fc 400->10; batch 64 of 28x28, cross-entropy, SGD, float32",
            "float32",
            batch=64,
            lr=0.01,
            impls=("numpy", "microtensor", "compiled", "torch"),
            targets={"numpy": 1.0, "torch": 1.5, "compiled": 0.9},
        ),
        *[
            Workload(
                f"chain-1e{e}",
                "chain",
                f"chain of 1e{e} ops `x = x * 1.0001` on a (100,) "
                f"float64 tensor that requires grad, then backward",
                "float64",
                n_ops=10**e,
                impls=("numpy", "microtensor", "compiled", "torch"),
                unit="op",
                targets={"overhead_us": 1.0},
            )
            for e in (3, 4, 5)
        ],
        Workload(
            "digits-epoch",
            "digits",
            "one epoch of models.ConvNet((1, 8, 8), dropout=0.2) "
            "on the 8x8 digits (1437 images, batches of 32), cross-entropy, Adam lr 3e-3, "
            "float32",
            "float32",
            batch=32,
            lr=3e-3,
            impls=("numpy", "microtensor", "compiled", "torch"),
            unit="epoch",
        ),
    ]
}
