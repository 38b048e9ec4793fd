"""torch.cuda's questions, answered for a CPU-only framework, so that the common
`device = "cuda" if torch.cuda.is_available() else "cpu"` runs unchanged.

>>> import microtensor as mt
>>> mt.cuda.is_available(), mt.cuda.device_count()
(False, 0)
"""

from __future__ import annotations

__all__ = ["is_available", "device_count", "manual_seed", "manual_seed_all"]


def is_available() -> bool:
    """No CUDA device: microtensor computes with numpy on the CPU."""
    return False


def device_count() -> int:
    return 0


def manual_seed(seed: int) -> None:
    """Seeds the CUDA generators in PyTorch; with none, nothing to seed (as PyTorch does
    silently without a GPU). The CPU generator is mt.manual_seed's."""


manual_seed_all = manual_seed
