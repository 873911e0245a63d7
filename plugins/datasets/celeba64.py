"""CelebA faces (Liu et al. 2015) at 64x64, unconditional: the CelebA rows of Lucic et al. and of Mimicry.

Each row was made with its own crop, resize and split, and FID moves with all three, so the argument names
the row's rule and the record keeps it:

- ``celeba64:compare-gan`` (default; Lucic et al.'s rows): compare_gan v1 crops the 178x218 aligned face to
  its central 160x160 (``resize_image_with_crop_or_pad``: rows 29-188, columns 9-168) and resizes to 64x64
  with TensorFlow 1's bilinear rule (no half-pixel centres, no antialiasing); training split.
- ``celeba64:mimicry`` (Mimicry's rows): torchvision's ``CenterCrop(178)`` (rows 20-197), then ``Resize(64)``
  on the PIL image (PIL's bilinear, which antialiases); all 202,599 images (``split='all'``).

The faces come from ``img_align_celeba/`` (or ``img_align_celeba.zip``, read member by member after its md5
is checked) and ``list_eval_partition.txt`` under ``--data-dir`` (or its ``celeba/``, torchvision's
layout). Online, with neither there, torchvision's downloader fetches them and checks every md5. All
faces are held as uint8 pixels (2.5 GB for the full set; 10 GB as float32); the decoded array is cached
under the cache folder (``$GANZOO_CACHE``), keyed by the partition file's md5, the split, the rule and each
image's size and modification time (the archive: its md5), so the trials of a bench decode the JPEGs once.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ganzoo import Data, DataKind, Dataset, DatasetInfo, default_cache_dir
from ganzoo_plugins.datasets.cifar import md5_of

SIDE = 64
ALIGNED = (178, 218)  # width, height of img_align_celeba's faces
FOLDER, ARCHIVE, PARTITION = "img_align_celeba", "img_align_celeba.zip", "list_eval_partition.txt"
SPLIT_CODES = {"train": "0", "valid": "1", "test": "2"}


@dataclass(frozen=True)
class Rule:
    """How one published row cut its faces: the centre crop's side, the resize, the split it trained on."""

    crop: int
    resize: str  # "tf1-bilinear" or "pil-bilinear"
    split: str
    note: str


RULES = {
    "compare-gan": Rule(160, "tf1-bilinear", "train", "compare_gan v1: central 160x160, TF1 bilinear to 64x64"),
    "mimicry": Rule(178, "pil-bilinear", "all", "Mimicry: CenterCrop(178), PIL bilinear Resize(64), all images"),
}


def rule_of(argument: str | None) -> Rule:
    name = argument or "compare-gan"
    if name not in RULES:
        raise ValueError(f"unknown CelebA 64x64 rule {name!r}; known: {', '.join(RULES)} (the row's crop and split)")
    return RULES[name]


def published_md5(filename: str) -> str:
    """The md5 torchvision's CelebA checks for ``filename`` (the dataset's published files)."""
    from torchvision.datasets import CelebA

    return next(md5 for _, md5, name in CelebA.file_list if name == filename)


def crop_and_resize(image: np.ndarray, rule: Rule) -> np.ndarray:
    """One aligned face (218 x 178 x 3 uint8) -> 3 x 64 x 64 uint8 by ``rule``."""
    from PIL import Image

    h, w = image.shape[:2]
    if rule.resize == "pil-bilinear":  # torchvision's CenterCrop on a PIL image, then Resize on it
        top, left = int(round((h - rule.crop) / 2.0)), int(round((w - rule.crop) / 2.0))
        face = Image.fromarray(image).crop((left, top, left + rule.crop, top + rule.crop))
        out = np.asarray(face.resize((SIDE, SIDE), Image.BILINEAR))
    else:  # TF1: resize_image_with_crop_or_pad (floor offsets), then resize_images' legacy bilinear
        top, left = (h - rule.crop) // 2, (w - rule.crop) // 2
        face = torch.from_numpy(image[top : top + rule.crop, left : left + rule.crop].astype(np.float32))
        src = torch.arange(SIDE, dtype=torch.float32) * (rule.crop / SIDE)  # no half-pixel centres
        lo = src.floor().long()
        hi = (lo + 1).clamp(max=rule.crop - 1)
        frac = src - lo
        rows = face[lo] + (face[hi] - face[lo]) * frac[:, None, None]
        cols = rows[:, lo] + (rows[:, hi] - rows[:, lo]) * frac[None, :, None]
        out = cols.round().clamp(0, 255).to(torch.uint8).numpy()
    return np.ascontiguousarray(out.transpose(2, 0, 1))


class CelebA64(Dataset):
    """CelebA 64x64 unconditional, cut as the cited row cut it (compare_gan's or Mimicry's), held as uint8."""

    info = DatasetInfo(kind=DataKind.UNCONDITIONAL, shape=(3, SIDE, SIDE))
    description = "CelebA faces 64x64, unconditional, uint8; crop/resize/split of compare_gan (Lucic) or Mimicry"
    splits = ("train", "valid", "test", "all")
    argument = f"the row whose crop, resize and split to use: {' or '.join(RULES)} (default compare-gan)"

    @classmethod
    def info_for(cls, argument: str | None, data_dir: Path | None = None) -> DatasetInfo:
        rule_of(argument)
        return cls.info

    @classmethod
    def load(cls, *, name: str, data_dir: Path | None, split: str, download: bool, argument: str | None = None) -> Data:
        rule = rule_of(argument)
        chosen = rule.split if split == "auto" else split
        if chosen not in cls.splits:
            raise ValueError(f"CelebA has splits {', '.join(cls.splits)}, not {chosen!r}")
        root = Path(data_dir) if data_dir is not None else Path.home() / ".cache" / "ganzoo" / "data"
        base = _base(root)
        if base is None and download:
            base = _download(root)
        if base is None:
            raise FileNotFoundError(
                f"no CelebA in {root} or {root / 'celeba'}: it needs {PARTITION} and {FOLDER}/ (or {ARCHIVE}); "
                "online, leave --download on"
            )
        names = _names(base / PARTITION, chosen)
        x, source = _faces(base, names, rule, chosen)
        return Data(
            name=name,
            info=cls.info,
            x=torch.from_numpy(x),
            y=None,
            split=chosen,
            source=f"{len(names)} faces of CelebA's {chosen} partition, {rule.note}; {source}",
        )


def _base(root: Path) -> Path | None:
    for base in (root / "celeba", root):
        if (base / PARTITION).is_file() and ((base / FOLDER).is_dir() or (base / ARCHIVE).is_file()):
            return base
    return None


def _download(root: Path) -> Path:
    from torchvision.datasets import CelebA

    try:  # torchvision fetches every file and checks each against its published md5
        CelebA(str(root), split="all", download=True)
    except Exception as exc:
        raise FileNotFoundError(
            f"no CelebA in {root}, and downloading it failed ({type(exc).__name__}: {exc}); offline, pass --data-dir "
            f"with {PARTITION} and {FOLDER}/"
        ) from None
    return root / "celeba"


def _names(partition: Path, split: str) -> list[str]:
    """The image names of ``split`` ("all": every one) from CelebA's partition file."""
    names = []
    for number, line in enumerate(partition.read_text(errors="replace").splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 2 or parts[1] not in SPLIT_CODES.values() or not parts[0].endswith(".jpg"):
            raise ValueError(
                f"{partition}: line {number} is {line[:60]!r}; expected 'NNNNNN.jpg 0|1|2' (image, train/valid/test)"
            )
        if split == "all" or parts[1] == SPLIT_CODES[split]:
            names.append(parts[0])
    if not names:
        raise ValueError(f"{partition}: no image in the {split} partition")
    return names


def _faces(base: Path, names: list[str], rule: Rule, split: str) -> tuple[np.ndarray, str]:
    """The faces as N x 3 x 64 x 64 uint8 and where they came from: decoded once, then from the cache."""
    archive = base / ARCHIVE
    use_archive = not (base / FOLDER).is_dir()
    partition_md5 = md5_of(base / PARTITION)
    official = published_md5(PARTITION)
    note = f"{PARTITION} md5 {'matches the published file' if partition_md5 == official else 'differs from the published file'}"
    if use_archive:
        digest = md5_of(archive)
        if digest != published_md5(ARCHIVE):
            raise ValueError(f"{archive}: md5 {digest}, expected {published_md5(ARCHIVE)} (CelebA's published archive)")
        identity, where = digest, f"{archive} (md5 matches the published archive)"
    else:
        folder = base / FOLDER
        sizes = []  # size and modification time: hashing 200,000 JPEGs on every load would cost more than decoding
        for n in names:
            path = folder / n
            if not path.is_file():
                raise FileNotFoundError(f"{path}: listed in {PARTITION} for the {split} partition, but missing")
            stat = path.stat()
            sizes.append(f"{n}:{stat.st_size}:{stat.st_mtime_ns}")
        identity, where = hashlib.sha256("\n".join(sizes).encode()).hexdigest(), f"{folder} (JPEGs, not checksummed)"
    key = hashlib.sha256(f"{partition_md5}|{split}|{rule}|{identity}".encode()).hexdigest()[:24]
    cache = default_cache_dir() / "datasets" / f"celeba64-{key}.npy"
    if cache.is_file():
        try:
            x = np.load(cache, allow_pickle=False)
            if x.dtype == np.uint8 and x.shape == (len(names), 3, SIDE, SIDE):
                return x, f"{where}; {note}; decoded faces from {cache}"
        except (OSError, ValueError):
            pass  # unreadable: decoded again and written over
    if use_archive:
        with zipfile.ZipFile(archive) as zf:
            blobs = [zf.read(f"{FOLDER}/{n}") for n in names]  # by exact name: nothing else is read or extracted
        sources = [(f"{archive}:{FOLDER}/{n}", b) for n, b in zip(names, blobs)]
    else:
        sources = [(str(base / FOLDER / n), None) for n in names]
    with ThreadPoolExecutor(max_workers=min(16, os.cpu_count() or 1)) as pool:  # PIL decodes without the GIL
        x = np.stack(list(pool.map(lambda s: _decode(*s, rule), sources, chunksize=256)))
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(f".{os.getpid()}.tmp.npy")
    np.save(tmp, x, allow_pickle=False)
    os.replace(tmp, cache)
    return x, f"{where}; {note}"


def _decode(where: str, blob: bytes | None, rule: Rule) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(blob) if blob is not None else where) as im:
            image = np.asarray(im.convert("RGB"))
    except (OSError, UnidentifiedImageError) as exc:
        raise ValueError(f"{where}: not a readable image ({type(exc).__name__}: {exc}); truncated or corrupt") from None
    if image.shape[1::-1] != ALIGNED:
        raise ValueError(
            f"{where}: {image.shape[1]}x{image.shape[0]} pixels, expected CelebA's aligned {ALIGNED[0]}x{ALIGNED[1]}"
        )
    return crop_and_resize(image, rule)
