"""The metric interface: prepared once per bench on the real data, then computed at each evaluation."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import Tensor

from ganzoo.data import Data, DatasetInfo
from ganzoo.params import keyword_params
from ganzoo.results import HIGHER, LOWER, direction  # noqa: F401 (part of the metric contract's vocabulary)


@dataclass(frozen=True)
class EvalOptions:
    """Choices a bench makes for its metrics (``--features``, ``--inception-weights``)."""

    features: str = "classifier"
    inception_weights: Path | None = None
    metrics: tuple[str, ...] | None = (
        None  # the metric plugins to compute (the plan's choice); None: every one that applies
    )
    params: dict[str, dict[str, Any]] = field(default_factory=dict)  # metric -> its constructor parameters (--set)


class NotApplicable(ValueError):
    """A metric cannot score a dataset (or cannot with the chosen options); the message says why."""


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


class Metric(abc.ABC):
    """Base class of metric plugins.

    ``__init__`` does the expensive, per-dataset work (train a feature classifier, compute real
    statistics) and caches it under ``cache_dir``; ``compute`` is called at every evaluation point.
    """

    description: ClassVar[str] = ""
    # which way is better for each value compute() returns: "lower" or "higher". Keys are names, or the
    # part before "/" for families of values (``fid/<domain>``). Tables rank and star only declared values.
    directions: ClassVar[dict[str, str]] = {}
    # the values a bench's closing summary shows; None: every value with a declared direction
    summary: ClassVar[tuple[str, ...] | None] = None
    # declared values compute() returns only under some options, and which (the Inception Score: only in Inception
    # features, whose extractor has class logits); the conformance kit does not expect them everywhere
    conditional_values: ClassVar[dict[str, str]] = {}

    @classmethod
    def applies_to(cls, info: DatasetInfo) -> bool:
        """Whether the metric can score this kind of data (the simple case of :meth:`check_data`)."""
        return True

    @classmethod
    def check_data(cls, info: DatasetInfo, options: EvalOptions) -> None:
        """Raise :class:`NotApplicable` saying why this metric cannot score the dataset with these options
        (the classifier feature space needs labels): the default bench then leaves it out and says why, and
        ``--metrics`` naming it is refused before anything loads."""
        if not cls.applies_to(info):
            raise NotApplicable(f"it does not apply to this dataset ({info.describe()})")

    @classmethod
    def summary_values(cls) -> tuple[str, ...]:
        """The values the closing summary shows: ``summary``, or every value with a declared direction."""
        return tuple(cls.directions) if cls.summary is None else tuple(cls.summary)

    @classmethod
    def constructor_params(cls) -> dict[str, Any]:
        """Keyword-only constructor parameters beyond the bench's own, and their defaults (what ``--set`` can name)."""
        return keyword_params(cls.__init__, skip=("data", "device", "cache_dir", "options"))

    def __init__(
        self, *, data: Data, device: torch.device, cache_dir: Path, options: EvalOptions | None = None
    ) -> None:
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
