"""Evaluation metrics: one registered class per metric family (entry-point group ``ganzoo.metrics``)."""

from ganzoo.metrics.base import Metric, Samples

__all__ = ["Metric", "Samples"]
