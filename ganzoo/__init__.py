"""ganzoo: GAN variants made comparable.

The public plugin API is what this module exports; built-in and third-party plugins import only
from here. The names load on first use (PEP 562), so ``import ganzoo`` (and the CLI's start) does not
import torch until something needs it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_HOMES = {
    "ganzoo.config": ("default_cache_dir",),  # where a plugin keeps what it derives (a decoded dataset)
    "ganzoo.data": ("Batch", "BatchSampler", "Data", "DataKind", "Dataset", "DatasetInfo"),
    "ganzoo.divergence": ("Divergence", "Recipe", "check_scores"),
    "ganzoo.metrics.base": ("Metric", "NotApplicable", "Samples"),
    "ganzoo.packing": ("Pack", "Packing", "SplitBatchNorm", "interleave_packs", "pack_samples", "split_noise_batches"),
    "ganzoo.training": ("Training",),
    "ganzoo.variant": ("IncompatibleData", "Progress", "SampleSheet", "StepOutput", "Variant"),
}
_HOME = {name: module for module, names in _HOMES.items() for name in names}

__all__ = [*_HOME, "__version__"]

if TYPE_CHECKING:
    from ganzoo.config import default_cache_dir  # noqa: F401
    from ganzoo.data import Batch, BatchSampler, Data, DataKind, Dataset, DatasetInfo  # noqa: F401
    from ganzoo.divergence import Divergence, Recipe, check_scores  # noqa: F401
    from ganzoo.metrics.base import Metric, NotApplicable, Samples  # noqa: F401
    from ganzoo.packing import Pack, Packing, SplitBatchNorm, interleave_packs, pack_samples, split_noise_batches  # noqa: F401
    from ganzoo.training import Training  # noqa: F401
    from ganzoo.variant import IncompatibleData, Progress, SampleSheet, StepOutput, Variant  # noqa: F401


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'ganzoo' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOME[name]), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
