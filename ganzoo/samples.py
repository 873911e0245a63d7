"""Pictures of what a generator makes: an image grid, or a scatter of points over the real data."""

from __future__ import annotations

import io
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor
from torchvision.utils import make_grid

from ganzoo.results import atomic_write_bytes


def save_image_grid(
    x: Tensor,
    path: Path,
    *,
    nrow: int = 8,
    min_side: int = 32,
    row_labels: list[str] | None = None,
    value_range: tuple[float, float] = (-1.0, 1.0),
) -> None:
    """Images in ``value_range`` as a PNG grid; tiny images (8x8 digits) are upscaled so they can be seen.
    ``row_labels`` are written left of each row (translation sheets name their pair)."""
    from PIL import Image, ImageDraw

    x = x.detach().cpu().float()
    scale = max(1, min_side // x.shape[-1])
    if scale > 1:
        x = F.interpolate(x, scale_factor=scale, mode="nearest")
    low, high = value_range
    grid = make_grid(((x - low) / (high - low)).clamp(0, 1), nrow=nrow, padding=2, pad_value=1.0)
    arr = (grid.permute(1, 2, 0) * 255).round().to(torch.uint8).numpy()
    image = Image.fromarray(arr.squeeze(-1) if arr.shape[-1] == 1 else arr)
    if row_labels:
        margin = 8 + 6 * max(map(len, row_labels))  # PIL's default bitmap font is about 6 px per character
        labelled = Image.new(
            image.mode, (image.width + margin, image.height), 255 if image.mode == "L" else (255, 255, 255)
        )
        labelled.paste(image, (margin, 0))
        draw, row_height = ImageDraw.Draw(labelled), x.shape[-2] + 2
        for r, text in enumerate(row_labels):
            draw.text((4, 2 + r * row_height + row_height // 2 - 6), text, fill=0 if image.mode == "L" else (0, 0, 0))
        image = labelled
    buf = io.BytesIO()
    image.save(buf, format="png")
    atomic_write_bytes(path, buf.getvalue())


def save_point_scatter(fake: Tensor, real: Tensor, path: Path, *, title: str = "") -> None:
    """Generated 2-D points (blue) over real ones (grey)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 4), dpi=100)
    r, f = real[:2500].cpu().numpy(), fake.detach().cpu().numpy()
    ax.scatter(r[:, 0], r[:, 1], s=2, c="0.7", label="real")
    ax.scatter(f[:, 0], f[:, 1], s=2, c="tab:blue", alpha=0.6, label="generated")
    lim = 1.3 * float(real.abs().max())
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=9)
    ax.legend(loc="upper right", fontsize=7, markerscale=4)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
