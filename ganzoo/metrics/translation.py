"""How well a translation variant maps images between domains, all from one classifier trained on
the real images' joint label (domain x content, or the domain alone where no content is known):

- ``fid/<domain>``: FID of the translations into a domain against that domain's real images, in the
  bench's feature space (``--features``); ``fid`` is the mean over target domains;
- ``domain_accuracy`` (and ``/<domain>`` per target): the share of translations the classifier puts in
  the target domain (summing its probabilities over content classes);
- ``content_accuracy`` (and ``/<source>><target>`` per pair): the share it reads as the source image's
  content class (the digit), which a translation that collapses or swaps digits fails; only for
  datasets that know the content;
- ``cycle_error``: mean absolute pixel error of source -> target -> source against the source;
- ``truth_error`` (and per pair): mean absolute pixel error against the exact translation, where the
  dataset knows it (the digit domains do; photos do not).

Per-target and per-pair columns are what compares variants that translate different pairs (CycleGAN
one, StarGAN all): the headline values average over each variant's own pairs.

Each target domain gets as many translations as it has real images (at most ``max_samples``), spread
evenly over the domains translated into it, so FIDs compare across variants with different pairs.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor
from torch_fidelity.metric_fid import fid_features_to_statistics

from ganzoo.data import Data, DataKind, DatasetInfo
from ganzoo.metrics.base import EvalOptions, Metric, Samples
from ganzoo.metrics.classifier import ensure_classifier, file_sha256, load_classifier, predict_logits
from ganzoo.metrics.features import feature_space, real_features
from ganzoo.metrics.fidelity import fid_from_features


def joint_view(data: Data) -> Data:
    """The domain data labelled by domain x content, the labels the translation classifier learns."""
    info, k = data.info, data.info.num_classes
    c = info.content_classes if data.content is not None else 0
    y = data.y * c + data.content if c else data.y
    joint = DatasetInfo(
        kind=DataKind.LABELLED, shape=info.shape, num_classes=k * c if c else k, value_range=info.value_range
    )
    return Data(
        name=f"{data.name}-joint",
        info=joint,
        x=data.x,
        y=y,
        split=data.split,
        source=data.source,
        held_out=data.held_out,
    )


def domain_view(data: Data, domain: int, among: Tensor | None = None) -> Data:
    """The images of one domain, only those at indices ``among`` when given."""
    keep = data.y.cpu() == domain
    if among is not None:
        mask = torch.zeros(len(data), dtype=torch.bool)
        mask[among] = True
        keep &= mask
    info = DatasetInfo(kind=DataKind.UNCONDITIONAL, shape=data.info.shape, value_range=data.info.value_range)
    return Data(
        name=f"{data.name}-{data.info.domains[domain]}",
        info=info,
        x=data.x[keep],
        y=None,
        split=data.split,
        source=data.source,
    )


def split_predictions(logits: Tensor, domains: int, content: int) -> tuple[Tensor, Tensor | None]:
    """(predicted domain, predicted content or None) from joint-label logits."""
    if not content:
        return logits.argmax(1), None
    p = logits.softmax(1).view(-1, domains, content)
    return p.sum(2).argmax(1), p.sum(1).argmax(1)


class TranslationMetrics(Metric):
    """FID per target domain, domain and content accuracy, cycle and ground-truth error of translations."""

    description = "translation: fid per target domain, domain/content accuracy, cycle and truth error"
    directions = {
        "fid": "lower",
        "domain_accuracy": "higher",
        "content_accuracy": "higher",
        "cycle_error": "lower",
        "truth_error": "lower",
    }
    summary = ("fid", "domain_accuracy", "content_accuracy", "cycle_error", "truth_error")
    max_samples = 2000

    @classmethod
    def applies_to(cls, info: DatasetInfo) -> bool:
        return info.kind is DataKind.DOMAINS and info.is_image

    def __init__(
        self, *, data: Data, device: torch.device, cache_dir: Path, options: EvalOptions | None = None
    ) -> None:
        super().__init__(data=data, device=device, cache_dir=cache_dir, options=options)
        if data.y is None:
            raise ValueError(f"dataset {data.name!r} is domain data without domain labels")
        self.domains = data.info.domains
        self.content = data.info.content_classes if data.content is not None else 0
        joint = joint_view(data)
        path, self.accuracy = ensure_classifier(joint, cache_dir, device)
        self.sha = file_sha256(path)
        self.model = load_classifier(path)[0].to(device)
        self.space = feature_space(self.options.features, joint, cache_dir, device, self.options.inception_weights)
        pool = self.space.reference_pool  # the classifier's held-out images: never the ones it trained on
        views = [domain_view(data, d, pool) for d in range(len(self.domains))]
        self.per_target = [min(len(v), self.max_samples) for v in views]
        self.real_stats = []
        for view, n in zip(views, self.per_target):
            _, feats = real_features(self.space, view, n, cache_dir, device)
            self.real_stats.append(fid_features_to_statistics(feats))

    @property
    def num_samples(self) -> int:
        """Translations per target domain (the runner caps each target at its real image count)."""
        return self.max_samples

    def compute(self, samples: Samples) -> dict[str, float]:
        if samples.y is None or samples.source_y is None:
            raise ValueError("translation metrics need the target and source domain of every sample")
        x, target = samples.x, samples.y.cpu()
        logits = predict_logits(self.model, x, self.device)
        dom_pred, content_pred = split_predictions(logits, len(self.domains), self.content)
        out: dict[str, float] = {"domain_accuracy": float((dom_pred == target).double().mean())}
        if content_pred is not None and samples.source_content is not None:
            out["content_accuracy"] = float((content_pred == samples.source_content.cpu()).double().mean())
        fids = []
        for t in torch.unique(target).tolist():
            name, mine = self.domains[t], target == t
            out[f"domain_accuracy/{name}"] = float((dom_pred[mine] == t).double().mean())
            fids.append(fid_from_features(self.space.extract(x[mine], self.device), self.real_stats[t]))
            out[f"fid/{name}"] = fids[-1]
        out["fid"] = sum(fids) / len(fids)
        if samples.reconstruction is not None and samples.source is not None:
            out["cycle_error"] = float((samples.reconstruction - samples.source).abs().mean())
        if self.data.true_translation is not None and samples.source is not None:
            out.update(_truth_errors(self.data, samples, self.domains))
        if content_pred is not None and samples.source_content is not None:
            kept = content_pred == samples.source_content.cpu()
            for s, t, mine in _pairs(samples):
                out[f"content_accuracy/{self.domains[s]}>{self.domains[t]}"] = float(kept[mine].double().mean())
        return out

    def provenance(self) -> dict[str, object]:
        held = "" if self.space.reference_pool is None else ", held out from the feature classifier"
        return {
            **self.space.provenance(),
            "reference": f"{self.data.name}/{self.data.split} target domain{held}",
            "reference_images": min(self.per_target),
            "generated_images": min(self.per_target),
        }


def _pairs(samples: Samples):
    """(source, target, mask) for every pair present."""
    pairs = torch.stack([samples.source_y.cpu(), samples.y.cpu()], 1)
    for s, t in torch.unique(pairs, dim=0).tolist():
        yield s, t, (pairs[:, 0] == s) & (pairs[:, 1] == t)


def _truth_errors(data: Data, samples: Samples, domains: tuple[str, ...]) -> dict[str, float]:
    """Mean absolute error to the exact translation, overall and per pair."""
    out, total, count = {}, 0.0, 0
    for s, t, mine in _pairs(samples):
        error = (samples.x[mine] - data.true_translation(samples.source[mine], s, t)).abs()
        out[f"truth_error/{domains[s]}>{domains[t]}"] = float(error.mean())
        total, count = total + float(error.sum()), count + error.numel()
    return {"truth_error": total / count, **out}
