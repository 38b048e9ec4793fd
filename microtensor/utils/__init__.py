"""torch.utils's place: `microtensor.utils.data` is `microtensor.data`, so that
`from torch.utils.data import DataLoader` ports as `from microtensor.utils.data import ...`."""

from .. import data  # noqa: F401

__all__ = ["data"]
