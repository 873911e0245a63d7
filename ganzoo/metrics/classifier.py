"""A small classifier trained on a dataset's own labelled data, whose features give an FID that
works offline and on CPU in seconds (Inception features need a download and 299x299 inputs).

It learns from one part of the data only (:func:`classifier_split`); the other part, which it never
sees, gives its reported accuracy and every reference set in its feature space. A classifier trained on
the reference images maps them tighter than new images of the same kind, so a generator that
reproduced its training images would score a better FID than fresh real images do.

It is trained once per dataset content and cached under ``<cache>/classifiers/`` keyed by dataset,
split and content hash; weights are written atomically and loaded with ``weights_only=True``.
It is registered with torch-fidelity as the feature extractor ``ganzoo-classifier`` so the Fréchet
distance itself comes from torch-fidelity.
"""

from __future__ import annotations

import hashlib
import math
import re
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_fidelity.feature_extractor_base import FeatureExtractorBase
from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY, register_feature_extractor

from ganzoo.data import Data
from ganzoo.results import atomic_torch_save

EXTRACTOR_NAME = "ganzoo-classifier"
ARCH_VERSION = 3  # bump when the architecture or training recipe changes: invalidates caches
HELD_OUT_MAX = 5000  # held-out images: half the data, at most this many (the FID reference size)
FEATURES = 128


class FeatureClassifier(nn.Module):
    """Conv net for images, MLP for points; ``features`` is the penultimate layer."""

    def __init__(self, *, shape: tuple[int, ...], num_classes: int) -> None:
        super().__init__()
        self.shape, self.num_classes = tuple(shape), num_classes
        if len(shape) == 3:
            c = shape[0]
            self.body = nn.Sequential(
                nn.Conv2d(c, 32, 3, padding=1),
                nn.ReLU(),  # -> 32 x H x W
                nn.Conv2d(32, 64, 3, stride=2, padding=1),
                nn.ReLU(),  # -> 64 x H/2 x W/2
                nn.Conv2d(64, 64, 3, stride=2, padding=1),
                nn.ReLU(),  # -> 64 x H/4 x W/4
                nn.Flatten(),  # -> 64 * ceil(H/4) * ceil(W/4): keeps where strokes are
                nn.Linear(64 * math.ceil(shape[1] / 4) * math.ceil(shape[2] / 4), FEATURES),
                nn.ReLU(),
            )
        else:
            self.body = nn.Sequential(
                nn.Linear(math.prod(shape), 128),
                nn.ReLU(),
                nn.Linear(128, FEATURES),
                nn.ReLU(),
            )
        self.head = nn.Linear(FEATURES, num_classes)

    def features(self, x: Tensor) -> Tensor:
        return self.body(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.body(x))


class CacheWarning(UserWarning):
    """A cached file could not be used and is being rebuilt."""


def classifier_split(data: Data) -> tuple[Tensor, Tensor]:
    """(training indices, held-out indices): the dataset's own held-out part where it has one (MNIST's
    test split), else a permutation with seed 0 holds out half the data, at most :data:`HELD_OUT_MAX`."""
    if data.held_out is not None:
        if data.classifier_pool is not None:
            return data.classifier_pool.cpu(), data.held_out.cpu()
        mask = torch.ones(len(data), dtype=torch.bool)
        mask[data.held_out.cpu()] = False
        return torch.nonzero(mask).flatten(), data.held_out.cpu()
    perm = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))
    held = min(HELD_OUT_MAX, len(data) // 2)
    return perm[held:], perm[:held]


def _train(
    data: Data, device: torch.device, train: Tensor, test: Tensor, *, epochs: int = 20, batch_size: int = 128
) -> tuple[FeatureClassifier, float]:
    """Train on the ``train`` indices for about ``epochs`` passes (400 to 1500 steps); report accuracy on ``test``."""
    assert data.y is not None
    steps = min(1500, max(400, epochs * len(train) // batch_size))
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(0)
        gen = torch.Generator().manual_seed(0)
        moved = data.to(device)
        x, y = moved.floats(), moved.y
        model = FeatureClassifier(shape=data.info.shape, num_classes=data.info.num_classes).to(device)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        model.train()
        for _ in range(steps):
            idx = train[torch.randint(len(train), (batch_size,), generator=gen)].to(device)
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            pred = predict_logits(model, x[test.to(device)], device).argmax(1)
            acc = (pred == y[test.to(device)].cpu()).float().mean().item()
    return model.cpu(), acc


def safe_name(name: str) -> str:
    """A dataset name as a file name on any OS (``celeba:Black_Hair,Blond_Hair`` has ':' and ',')."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


@torch.no_grad()
def predict_logits(model: nn.Module, x: Tensor, device: torch.device, batch_size: int = 500) -> Tensor:
    """Logits of ``x`` on the CPU, computed on ``device`` in chunks."""
    return torch.cat([model(c.to(device)).cpu() for c in x.split(batch_size)])


def classifier_path(data: Data, cache_dir: Path, held_out: Tensor | None = None) -> Path:
    """Keyed by dataset, split, content and which images were held out (and which it trained on, where the
    dataset names them)."""
    h = hashlib.sha256((held_out if held_out is not None else classifier_split(data)[1]).numpy().tobytes())
    if data.classifier_pool is not None:
        h.update(data.classifier_pool.cpu().numpy().tobytes())
    held = h.hexdigest()[:8]
    return (
        cache_dir
        / "classifiers"
        / f"{safe_name(data.name)}-{data.split}-{data.content_hash[:16]}-h{held}-v{ARCH_VERSION}.pt"
    )


def load_classifier(path: Path) -> tuple[FeatureClassifier, dict]:
    blob = torch.load(path, map_location="cpu", weights_only=True)
    model = FeatureClassifier(shape=tuple(blob["shape"]), num_classes=int(blob["num_classes"]))
    model.load_state_dict(blob["state_dict"])
    return model.eval(), {"accuracy": float(blob["accuracy"])}


def ensure_classifier(
    data: Data, cache_dir: Path, device: torch.device, split: tuple[Tensor, Tensor] | None = None
) -> tuple[Path, float]:
    """Path to the cached classifier for ``data`` (trained now if missing) and its accuracy on images it
    never saw. ``split``: (training, held-out) indices; :func:`classifier_split` by default."""
    if data.y is None or data.info.num_classes < 2:
        raise ValueError(f"dataset {data.name!r} has no class labels to train a feature classifier on")
    train, test = split if split is not None else classifier_split(data)
    path = classifier_path(data, cache_dir, test)
    if path.exists():
        try:
            model, meta = load_classifier(path)
            if model.shape == tuple(data.info.shape) and model.num_classes == data.info.num_classes:
                return path, meta["accuracy"]
            problem = f"it is for {model.shape} x {model.num_classes} classes"
        except Exception as exc:  # truncated, corrupt, or not ganzoo's: never trusted, rebuilt
            problem = f"{type(exc).__name__}: {exc}"
        warnings.warn(
            f"cached classifier {path} cannot be used ({problem}); training it again", CacheWarning, stacklevel=2
        )
    model, acc = _train(data, device, train, test)
    blob = {
        "shape": list(data.info.shape),
        "num_classes": data.info.num_classes,
        "accuracy": acc,
        "trained_on": len(train),
        "held_out": len(test),
        "state_dict": model.state_dict(),
    }
    atomic_torch_save(blob, path)
    return path, acc


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class ClassifierExtractor(FeatureExtractorBase):
    """torch-fidelity view of :class:`FeatureClassifier`: inputs are ganzoo samples (float, [-1, 1])."""

    def __init__(
        self, name: str, features_list: list[str], feature_extractor_weights_path: str | None = None, **kwargs
    ) -> None:
        super().__init__(name, features_list)
        if feature_extractor_weights_path is None:
            raise ValueError(f"{EXTRACTOR_NAME} needs feature_extractor_weights_path (a classifier trained by ganzoo)")
        self.model, _ = load_classifier(Path(feature_extractor_weights_path))
        self.requires_grad_(False)

    @staticmethod
    def get_provided_features_list() -> tuple[str, ...]:
        return ("features", "logits")

    @staticmethod
    def get_default_feature_layer_for_metric(metric: str) -> str:
        return "logits" if metric == "isc" else "features"

    @staticmethod
    def can_be_compiled() -> bool:
        return False

    @staticmethod
    def get_dummy_input_for_compile() -> Tensor:
        raise NotImplementedError

    def forward(self, x: Tensor) -> tuple[Tensor, ...]:
        feats = self.model.features(x.float())
        out = {"features": feats, "logits": self.model.head(feats)}
        return tuple(out[name] for name in self.features_list)


if EXTRACTOR_NAME not in FEATURE_EXTRACTORS_REGISTRY:
    register_feature_extractor(EXTRACTOR_NAME, ClassifierExtractor)
