"""torch.utils.data's names: the same objects as microtensor.data's."""

from ..data import DataLoader, TensorDataset  # noqa: F401

__all__ = ["DataLoader", "TensorDataset"]
