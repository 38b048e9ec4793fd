"""The suite's workloads: what each one trains, on what, in which dtype, which
implementations run it and the targets microtensor is held to. Plain data, no numpy:
the runner process imports only this, so the processes it starts inherit a small RSS.
How each implementation runs a workload is in runners.py.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Workload", "WORKLOADS", "IMPLS", "LABELS", "PEERS", "NOT_WRITTEN"]

IMPLS = ("numpy", "eager", "eager-raw", "compiled", "torch", "jax-jit", "autograd")
LABELS = {
    "numpy": "hand-written numpy",
    "eager": "microtensor eager, idiomatic (nn modules, F losses, optim)",
    "eager-raw": "microtensor eager, raw ops (`h @ W + b`, the loss from ops, the update by hand)",
    "compiled": "mt.compile of the idiomatic step",
    "torch": "PyTorch eager",
    "jax-jit": "jax.jit of value_and_grad and the update",
    "autograd": "HIPS autograd",
}
PEERS = {"torch": "torch", "jax-jit": "jax", "autograd": "autograd"}  # impl -> module it needs
STEP_IMPLS = ("numpy", "eager", "eager-raw", "compiled", "torch", "jax-jit")
# why a workload kind has no version of an implementation, for the report
NOT_WRITTEN = {
    ("autograd", "conv"): "HIPS autograd has no strided-window primitive",
    ("autograd", "digits"): "HIPS autograd has no strided-window primitive",
    ("eager-raw", "digits"): "models.ConvNet's Adam and dropout are library code, not raw ops",
    ("eager-raw", "chain"): "the chain is raw ops already (its eager row)",
    ("jax-jit", "chain"): "jit compiles the whole chain into one call: no per-op cost",
}


@dataclass(frozen=True)
class Workload:
    """targets: (implementation, against, limit) rows; `against` is "numpy" (ratio to
    hand-written numpy <= limit), a peer (ratio to it <= limit; < 1 for limit 1, faster),
    or "overhead_us" (forward per op above bare numpy, in µs)."""

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
    impls: tuple = (*STEP_IMPLS, "autograd")
    unit: str = "step"
    targets: tuple = ()


def _step_targets(compiled, eager, raw=None) -> tuple:
    """Each mode's ratio to hand-written numpy, and compiled ahead of PyTorch and JAX."""
    rows = [("compiled", "numpy", compiled), ("eager", "numpy", eager)]
    if raw is not None:
        rows.append(("eager-raw", "numpy", raw))
    return (*rows, ("compiled", "torch", 1.0), ("compiled", "jax-jit", 1.0))


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
            _step_targets(0.8, 1.3, 1.5),
        ),
        _mlp(
            "mlp-64-256-256-10-f32",
            (64, 256, 256, 10),
            256,
            "float32",
            "relu",
            "ce",
            0.01,
            _step_targets(0.9, 1.05, 1.1) + (("eager", "torch", 1.0),),
        ),
        _mlp(
            "mlp-64-256-256-10-f64",
            (64, 256, 256, 10),
            256,
            "float64",
            "relu",
            "ce",
            0.01,
            _step_targets(0.9, 1.05, 1.1) + (("eager", "torch", 1.0),),
        ),
        _mlp(
            "mlp-784-1024-1024-10-f32",
            (784, 1024, 1024, 10),
            512,
            "float32",
            "relu",
            "ce",
            0.01,
            _step_targets(1.0, 1.02, 1.05),
        ),
        _mlp(
            "mlp-784-1024-1024-10-f64",
            (784, 1024, 1024, 10),
            512,
            "float64",
            "relu",
            "ce",
            0.01,
            _step_targets(1.0, 1.02, 1.05),
        ),
        Workload(
            "conv-b64-f32",
            "conv",
            "conv net: conv 1->8 3x3, pool 2, relu, conv 8->16 "
            "3x3, pool 2, relu, fc 400->10; batch 64 of 28x28, cross-entropy, SGD, float32",
            "float32",
            batch=64,
            lr=0.01,
            impls=STEP_IMPLS,
            targets=_step_targets(0.9, 1.0) + (("eager", "torch", 1.5),),
        ),
        *[
            Workload(
                f"chain-1e{e}",
                "chain",
                f"chain of 1e{e} ops `x = x * 1.0001` on a (100,) "
                f"float64 tensor that requires grad, then backward",
                "float64",
                n_ops=10**e,
                impls=("numpy", "eager", "compiled", "torch"),
                unit="op",
                targets=(("eager", "overhead_us", 0.8),),
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
            impls=("numpy", "eager", "compiled", "torch", "jax-jit"),
            unit="epoch",
        ),
    ]
}
