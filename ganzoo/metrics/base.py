"""The metric interface: prepared once per bench on the real data, then computed at each evaluation."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import torch
from torch import Tensor

from ganzoo.data import Data, DatasetInfo


@dataclass(frozen=True)
class EvalOptions:
    """Choices a bench makes for its metrics (``--features``, ``--inception-weights``)."""

    features: str = "classifier"
    inception_weights: Path | None = None
    metrics: tuple[str, ...] | None = None  # --metrics: the metric plugins to compute; None: every one that applies


@dataclass
class Samples:
    """Generated samples on the CPU, with the condition each was asked for (None when unconditional).

    For translation variants ``x`` holds translations, ``y`` their target domains, and the source
    fields what each was translated from: the real image, its domain, its content label (where the
    dataset knows it) and the translation mapped back to the source domain.
    """

    x: Tensor
    y: Tensor | None = None
    source: Tensor | None = None
    source_y: Tensor | None = None
    source_content: Tensor | None = None
    reconstruction: Tensor | None = None


LOWER, HIGHER = "lower", "higher"


def direction(directions: dict[str, str], metric: str) -> str | None:
    """"lower", "higher" or None (undeclared) for a value name such as ``fid`` or ``fid/inverted``."""
    return directions.get(metric, directions.get(metric.split("/", 1)[0]))


class Metric(abc.ABC):
    """Base class of metric plugins.

    ``__init__`` does the expensive, per-dataset work (train a feature classifier, compute real
    statistics) and caches it under ``cache_dir``; ``compute`` is called at every evaluation point.
    """

    description: ClassVar[str] = ""
    # which way is better for each value compute() returns: "lower" or "higher". Keys are names, or the
    # part before "/" for families of values (``fid/<domain>``). Tables rank and star only declared values.
    directions: ClassVar[dict[str, str]] = {}

    @classmethod
    def applies_to(cls, info: DatasetInfo) -> bool:
        return True

    def __init__(self, *, data: Data, device: torch.device, cache_dir: Path, options: EvalOptions | None = None) -> None:
        self.data, self.device, self.cache_dir = data, device, cache_dir
        self.options = options or EvalOptions()

    @property
    def num_samples(self) -> int:
        """How many generated samples this metric wants per evaluation."""
        return 2000

    @abc.abstractmethod
    def compute(self, samples: Samples) -> dict[str, float]:
        """Metric name -> value for one set of generated samples."""

    def provenance(self) -> dict[str, object]:
        """Facts a reader needs to compare the numbers, written as columns beside each value:
        any of ``features, features_sha256, reference, reference_images, generated_images, resize``."""
        return {"generated_images": self.num_samples}
