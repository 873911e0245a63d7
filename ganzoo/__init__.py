"""ganzoo: GAN variants made comparable.

The public plugin API is what this module exports; built-in and third-party plugins import only
from here.
"""

from ganzoo.data import Batch, BatchSampler, Data, DataKind, Dataset, DatasetInfo
from ganzoo.divergence import Divergence, Recipe, check_scores
from ganzoo.metrics.base import Metric, NotApplicable, Samples
from ganzoo.variant import (IncompatibleData, Pack, Progress, SampleSheet, SplitBatchNorm, StepOutput, Variant, interleave_packs,
                            pack_samples, split_noise_batches)

__version__ = "0.1.0"

__all__ = [
    "Batch", "BatchSampler", "Data", "DataKind", "Dataset", "DatasetInfo",
    "Divergence", "Recipe", "check_scores", "Metric", "NotApplicable", "Samples",
    "IncompatibleData", "Pack", "Progress", "SampleSheet", "SplitBatchNorm", "StepOutput", "Variant", "interleave_packs",
    "pack_samples", "split_noise_batches", "__version__",
]
