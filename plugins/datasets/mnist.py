"""MNIST (LeCun et al. 1998): 28x28 grey digits, 60,000 train and 10,000 test images.

Offline, it reads the original idx files (gzipped or not) from ``--data-dir`` (flat, or torchvision's
``MNIST/raw`` layout); either split is enough, and which one was used is recorded. Online, with no
files found, torchvision's downloader fetches and checks them. torchvision's reader only accepts the
unpacked files of all four downloads, so the idx parser here is ganzoo's own (it is 15 lines).
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from ganzoo import Data, DataKind, Dataset, DatasetInfo

FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
OFFICIAL_MD5 = {  # of the .gz files, as torchvision checks them
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}


def read_idx(path: Path) -> np.ndarray:
    """An idx file (optionally gzipped) as a uint8 array: magic 0x00000800 + ndim, sizes, data."""
    raw = Path(path).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:  # truncated or corrupt download
            raise ValueError(
                f"{path}: not a readable gzip file ({type(exc).__name__}: {exc}); download it again"
            ) from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte idx file (bad magic number {raw[:4].hex()})")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    body = raw[4 + 4 * ndim :]
    if len(body) != int(np.prod(dims)):
        raise ValueError(f"{path}: header says {dims} ({int(np.prod(dims))} bytes), file holds {len(body)} bytes")
    return np.frombuffer(body, dtype=np.uint8).reshape(dims)


def _find(data_dir: Path, stem: str, raw: str = "MNIST") -> Path | None:
    for folder in (data_dir, data_dir / raw / "raw"):
        for name in (stem + ".gz", stem):
            if (folder / name).is_file():
                return folder / name
    return None


def _md5_note(path: Path, md5: dict[str, str] = OFFICIAL_MD5) -> str:
    official = md5.get(path.name)
    if official is None:
        return "unpacked file, md5 not checked"
    ok = hashlib.md5(path.read_bytes()).hexdigest() == official
    return "md5 matches the official file" if ok else "md5 DIFFERS from the official file"


class MNIST(Dataset):
    """28x28 MNIST digits (uint8, read in [-1, 1]); offline from idx files, online via torchvision."""

    info = DatasetInfo(kind=DataKind.LABELLED, shape=(1, 28, 28), num_classes=10)
    description = "MNIST 28x28; idx files from --data-dir, or torchvision's download"
    splits = ("train", "test")
    official_md5 = OFFICIAL_MD5  # of the .gz files, as torchvision checks them
    raw_folder = "MNIST"  # torchvision's layout: ROOT/MNIST/raw
    title = "MNIST"

    @classmethod
    def load(cls, *, name: str, data_dir: Path | None, split: str, download: bool) -> Data:
        wanted = ["train", "test"] if split == "auto" else [split]
        found = cls.read_splits(data_dir, wanted, first_only=True)
        if found:
            return replace(found[0], name=name)
        return cls._missing(name, data_dir, wanted, split, download)

    @classmethod
    def load_all(cls, *, data_dir: Path | None, split: str, download: bool) -> list[Data]:
        """Every split asked for that can be had (``auto``: train and test): from ``data_dir`` when it
        holds them, else downloaded; at least one, or FileNotFoundError."""
        wanted = ["train", "test"] if split == "auto" else [split]
        found = cls.read_splits(data_dir, wanted)
        if found or not download:
            return found or [cls._missing("mnist", data_dir, wanted, split, download)]
        return [cls._download("mnist", data_dir, s, "no MNIST idx files in --data-dir") for s in wanted]

    @classmethod
    def read_splits(cls, data_dir: Path | None, wanted: list[str], first_only: bool = False) -> list[Data]:
        """The splits of ``wanted`` whose idx files ``data_dir`` holds, in that order (only the first found
        with ``first_only``)."""
        if data_dir is None:
            return []
        out = []
        for s in wanted:
            images, labels = (_find(Path(data_dir), stem, cls.raw_folder) for stem in FILES[s])
            if images and labels:
                raw_x, raw_y = read_idx(images), read_idx(labels)
                if raw_x.ndim != 3 or raw_x.shape[0] == 0 or raw_x.shape[1:] != (28, 28):
                    raise ValueError(f"{images}: expected N x 28 x 28 images with N > 0, found shape {raw_x.shape}")
                if raw_y.ndim != 1 or len(raw_y) != len(raw_x) or raw_y.max() > 9:
                    raise ValueError(
                        f"{labels}: expected {len(raw_x)} labels in 0..9, found {len(raw_y)} in "
                        f"{raw_y.min() if len(raw_y) else '-'}..{raw_y.max() if len(raw_y) else '-'}"
                    )
                x = torch.from_numpy(raw_x.copy()).unsqueeze(1)  # uint8 pixels: Data.floats scales them
                y = torch.from_numpy(raw_y.astype(np.int64))
                source = f"{images} ({_md5_note(images, cls.official_md5)}), {labels} ({_md5_note(labels, cls.official_md5)})"
                out.append(Data(name=cls.title.lower(), info=cls.info, x=x, y=y, split=s, source=source))
                if first_only:
                    break
        return out

    @classmethod
    def _missing(cls, name: str, data_dir: Path | None, wanted: list[str], split: str, download: bool) -> Data:
        looked = Path(data_dir) if data_dir is not None else None
        missing = (
            f"no {cls.title} idx files for split {' or '.join(wanted)} in {looked}" if looked else "no --data-dir given"
        )
        if not download:
            raise FileNotFoundError(f"{missing}; pass --data-dir with {FILES[wanted[0]][0]}.gz and its labels file")
        return cls._download(name, looked, "train" if split == "auto" else split, missing)

    @classmethod
    def _download(cls, name: str, root: Path | None, split: str, missing: str) -> Data:
        import torchvision.datasets

        root = root or Path.home() / ".cache" / "ganzoo" / "data"
        try:  # torchvision checks each download against the official md5 (the same as official_md5)
            ds = getattr(torchvision.datasets, cls.raw_folder)(str(root), train=split == "train", download=True)
        except Exception as exc:
            raise FileNotFoundError(
                f"{missing}, and downloading {cls.title} into {root} failed ({type(exc).__name__}: {exc}); "
                "offline, pass --data-dir pointing at a folder with the idx files (t10k-images-idx3-ubyte.gz etc.)"
            ) from exc
        x = ds.data.to(torch.uint8).unsqueeze(1)
        return Data(
            name=name, info=cls.info, x=x, y=ds.targets.long(), split=split, source=f"torchvision download into {root}"
        )


FASHION_MD5 = {  # of the .gz files (Zalando's release, as torchvision checks them)
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}


class FashionMNIST(MNIST):
    """Fashion-MNIST (Xiao et al. 2017): 28x28 grey clothing images in 10 classes, MNIST's idx format and split sizes."""

    description = "Fashion-MNIST 28x28; idx files from --data-dir, or torchvision's download"
    official_md5 = FASHION_MD5
    raw_folder = "FashionMNIST"
    title = "Fashion-MNIST"
