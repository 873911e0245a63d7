"""FID in the feature space of ganzoo's dataset classifier (Heusel et al. 2017, "GANs Trained by a
Two Time-Scale Update Rule Converge to a Local Nash Equilibrium").

The Fréchet distance and the cached real statistics come from torch-fidelity; ganzoo only supplies
the feature extractor. Values are comparable between runs on the same dataset content (the cache key
and provenance carry its hash), not with Inception FIDs from papers.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch_fidelity
from torch import Tensor
from torch.utils.data import Dataset as TorchDataset

from ganzoo.data import Data, DatasetInfo
from ganzoo.metrics.base import Metric, Samples
from ganzoo.metrics.classifier import EXTRACTOR_NAME, ensure_classifier, file_sha256


class _Tensors(TorchDataset):
    def __init__(self, x: Tensor) -> None:
        self.x = x.detach().cpu().float()

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> Tensor:
        return self.x[i]


class ClassifierFID(Metric):
    """FID between real data and generated samples, in the dataset classifier's feature space."""

    description = "Fréchet distance in the features of a classifier trained on the dataset (torch-fidelity)"
    max_samples = 5000

    @classmethod
    def applies_to(cls, info: DatasetInfo) -> bool:
        return info.num_classes >= 2

    def __init__(self, *, data: Data, device: torch.device, cache_dir: Path) -> None:
        super().__init__(data=data, device=device, cache_dir=cache_dir)
        self.weights, self.accuracy = ensure_classifier(data, cache_dir, device)
        self.weights_sha = file_sha256(self.weights)
        n = min(len(data), self.max_samples)
        self.real = data.x[torch.randperm(len(data), generator=torch.Generator().manual_seed(0))[:n]].cpu()
        self._cache_name = f"{data.name}-{data.split}-{data.content_hash[:12]}-n{n}-clf{self.weights_sha[:12]}"

    @property
    def num_samples(self) -> int:
        return len(self.real)

    def compute(self, samples: Samples) -> dict[str, float]:
        scores = torch_fidelity.calculate_metrics(
            input1=_Tensors(samples.x),
            input2=_Tensors(self.real),
            fid=True,
            feature_extractor=EXTRACTOR_NAME,
            feature_extractor_weights_path=str(self.weights),
            cuda=self.device.type == "cuda",
            batch_size=500,
            save_cpu_ram=True,
            verbose=False,
            cache=True,
            cache_root=str(self.cache_dir / "fidelity"),
            input2_cache_name=self._cache_name,
        )
        return {"fid": float(scores[torch_fidelity.KEY_METRIC_FID])}

    def provenance(self) -> dict[str, object]:
        return {
            "features": EXTRACTOR_NAME,
            "features_sha256": self.weights_sha,
            "classifier_heldout_accuracy": self.accuracy,
            "reference": f"{self.data.name}/{self.data.split}",
            "reference_images": len(self.real),
            "generated_images": len(self.real),
        }
