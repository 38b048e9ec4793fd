"""Vanishing gradients, seen: the same deep MLP (2-32-32-32-32-32-1) trained on two moons,
once with sigmoid hidden layers and PyTorch's default init, once with ReLU and He init,
both by plain SGD from the same seed; their gradient flow is drawn one above the other.

The sigmoid's derivative is at most 1/4, so each layer the gradient passes back through
shrinks it: the first layer's gradient is orders of magnitude below the last one's and
it barely learns. ReLU (derivative 1 where active) with He init (weights scaled to keep
the signal's variance) passes it back at about the same size.

    python examples/vanishing_gradients.py [--out docs/images/vanishing_gradients.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image  # comes with matplotlib

import microtensor as mt
from microtensor.nn import functional as F
from models import MLP, plots
from models.datasets import moons
from models.training import History, blas_single_thread, fit

HIDDEN = [32] * 5
RUNS = {"sigmoid, default init": ("sigmoid", None), "ReLU, He init": ("relu", "he")}


def train(activation: str, init: str | None, *, epochs: int = 40, seed: int = 0) -> History:
    """One run: SGD lr 0.1, batches of 32, binary cross-entropy on a sigmoid output."""
    mt.manual_seed(seed)
    X, y = moons()
    net = MLP([2, *HIDDEN, 1], activations=activation, output="sigmoid", init=init)
    with blas_single_thread():
        return fit(
            net,
            (X, y[:, None].astype(float)),
            loss=F.binary_cross_entropy,
            optimizer=mt.optim.SGD(net.parameters(), lr=0.1),
            epochs=epochs,
            batch_size=32,
            seed=seed,
            progress=False,
            track_gradients=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parents[1] / "docs" / "images" / "vanishing_gradients.png",
    )
    parser.add_argument("--epochs", type=int, default=40)
    args = parser.parse_args()
    histories = {label: train(act, init, epochs=args.epochs) for label, (act, init) in RUNS.items()}
    for label, h in histories.items():
        norms = h.gradients["grad_norm"]
        first, last = norms["layers.0.weight"], norms[f"layers.{len(HIDDEN)}.weight"]
        print(
            f"{label}: accuracy {h['accuracy'][-1]:.1%}; first/last layer gradient norm "
            f"epoch 1: {first[0]:.2e}/{last[0]:.2e} (x{first[0] / last[0]:.1e}), "
            f"epoch {h['epoch'][-1]}: {first[-1]:.2e}/{last[-1]:.2e} "
            f"(x{first[-1] / last[-1]:.1e})"
        )
    path = plots.gradient_flow(
        histories, args.out, title="2-32x5-1 MLP on two moons, SGD lr 0.1: gradient flow"
    )
    Image.open(path).convert("RGB").quantize(256).save(path, optimize=True)  # 4x smaller
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
