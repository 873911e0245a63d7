"""What a translation variant is evaluated on: real images of each source domain go through every pair
the variant translates (and back, where the reverse pair exists), and a sample sheet shows source |
translation | reconstruction for each pair. :mod:`ganzoo.evaluation` scores them in the same metric loop
as generated samples."""

from __future__ import annotations

import torch

from ganzoo.data import Data
from ganzoo.metrics.base import Samples
from ganzoo.variant import Variant


def translate_sources(variant: Variant, data: Data, per_target: int, gen: torch.Generator) -> Samples:
    """Real images of each source domain translated by every pair the variant has, and back where it
    can; each target gets ``per_target`` translations (capped by its real images), spread over its sources."""
    assert data.y is not None
    pairs = variant.translation_pairs()
    y = data.y.cpu()
    parts: dict[str, list[torch.Tensor]] = {k: [] for k in ("x", "y", "source", "source_y", "content", "recon")}
    cycle = all((t, s) in pairs for s, t in pairs)
    for t in sorted({t for _, t in pairs}):
        sources = [s for s, tt in pairs if tt == t]
        n_t = min(per_target, int((y == t).sum()))
        for i, s in enumerate(sources):
            k = n_t // len(sources) + (1 if i < n_t % len(sources) else 0)
            pool = torch.nonzero(y == s).flatten()
            idx = pool[torch.randperm(len(pool), generator=gen)[:k]]
            src = data.floats(idx.to(data.x.device))
            out = torch.cat(
                [variant.translate(c.to(variant.device), source=s, target=t).float() for c in src.split(500)]
            )
            if cycle:
                parts["recon"].append(
                    torch.cat([variant.translate(c, source=t, target=s).float().cpu() for c in out.split(500)])
                )
            parts["x"].append(out.cpu())
            parts["source"].append(src.float().cpu())
            parts["y"].append(torch.full((len(idx),), t, dtype=torch.long))
            parts["source_y"].append(torch.full((len(idx),), s, dtype=torch.long))
            if data.content is not None:
                parts["content"].append(data.content.cpu()[idx])
    cat = {k: torch.cat(v) if v else None for k, v in parts.items()}
    return Samples(
        x=cat["x"],
        y=cat["y"],
        source=cat["source"],
        source_y=cat["source_y"],
        source_content=cat["content"],
        reconstruction=cat["recon"],
    )


def translation_sheet(
    samples: Samples, domains: tuple[str, ...], *, total: int = 24
) -> tuple[torch.Tensor, int, list[str]]:
    """(images, images per row, row labels): one row per (source, target) pair, holding the first few
    source | translation | reconstruction triples of that pair."""
    pairs = torch.stack([samples.source_y, samples.y], 1)
    unique = torch.unique(pairs, dim=0).tolist()
    each = max(1, min(4, total // len(unique)))
    width = 3 if samples.reconstruction is not None else 2
    tiles, labels = [], []
    for s, t in unique:
        mine = torch.nonzero((pairs[:, 0] == s) & (pairs[:, 1] == t)).flatten()[:each].tolist()
        mine += mine[-1:] * (each - len(mine))  # a pair with fewer images repeats its last to keep the rows aligned
        for i in mine:
            tiles += [samples.source[i], samples.x[i]] + ([samples.reconstruction[i]] if width == 3 else [])
        labels.append(f"{domains[s]} > {domains[t]}")
    return torch.stack(tiles), width * each, labels
