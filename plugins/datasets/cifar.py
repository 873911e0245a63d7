"""CIFAR-10 and CIFAR-100 (Krizhevsky 2009): 32x32 colour images, 50,000 train and 10,000 test, read from the
official *binary* version, never the pickled Python one (nothing ganzoo reads may run code).

A record is the label byte(s) then 3,072 pixel bytes (1,024 red, 1,024 green, 1,024 blue, row by row). CIFAR-10 has
one label byte; CIFAR-100 two (coarse, then fine: ganzoo uses the 100 fine classes). ``--data-dir`` may hold the
extracted folder (``cifar-10-batches-bin/``, ``cifar-100-binary/``) or the archive itself, which is read member by
member without extracting, after its md5 is checked against the published one. Online, with no files found, the
archive is downloaded and checked the same way.
"""

from __future__ import annotations

import hashlib
import tarfile
from pathlib import Path

import numpy as np
import torch

from ganzoo import Data, DataKind, Dataset, DatasetInfo

SIDE = 32
PIXELS = 3 * SIDE * SIDE


def md5_of(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class CIFAR10(Dataset):
    """CIFAR-10 32x32 RGB in 10 classes, as uint8 (read in [-1, 1]); binary version from --data-dir, or its download."""

    info = DatasetInfo(kind=DataKind.LABELLED, shape=(3, SIDE, SIDE), num_classes=10)
    description = "CIFAR-10 32x32 RGB; the binary version from --data-dir (folder or .tar.gz), or its download"
    splits = ("train", "test")
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
    archive = "cifar-10-binary.tar.gz"
    md5 = "c32a1d4ab5d03f1284b67883e8d87530"  # as published on the dataset's page
    folder = "cifar-10-batches-bin"
    files = {"train": tuple(f"data_batch_{i}.bin" for i in range(1, 6)), "test": ("test_batch.bin",)}
    label_bytes = 1
    title = "CIFAR-10"

    @classmethod
    def load(cls, *, name: str, data_dir: Path | None, split: str, download: bool) -> Data:
        wanted = ["train", "test"] if split == "auto" else [split]
        root = Path(data_dir) if data_dir is not None else Path.home() / ".cache" / "ganzoo" / "data"
        for s in wanted:
            found = cls._read(root, s)
            if found is not None:
                return cls._data(name, s, *found)
        where = f"in {root}" if data_dir is not None else "(no --data-dir given)"
        missing = f"no {cls.title} binary files for split {' or '.join(wanted)} {where}"
        if not download:
            raise FileNotFoundError(f"{missing}; pass --data-dir with {cls.folder}/ or {cls.archive}")
        archive = root / cls.archive
        try:
            from torchvision.datasets.utils import download_url

            download_url(cls.url, str(root), cls.archive, md5=None)  # checked below, with the file named
        except Exception as exc:
            raise FileNotFoundError(
                f"{missing}, and downloading {cls.url} into {root} failed ({type(exc).__name__}: {exc}); offline, "
                f"pass --data-dir with {cls.archive}"
            ) from None
        try:
            found = cls._read(root, wanted[0])
        except ValueError:
            archive.unlink(missing_ok=True)  # a download that is not the published archive is not kept
            raise
        if found is None:
            raise FileNotFoundError(f"{archive}: downloaded, but it holds no {cls.folder}/{cls.files[wanted[0]][0]}")
        return cls._data(name, wanted[0], *found)

    @classmethod
    def _data(cls, name: str, split: str, raw: np.ndarray, labels: np.ndarray, source: str) -> Data:
        x = torch.from_numpy(raw.copy())  # uint8 pixels: Data.floats scales them
        return Data(
            name=name, info=cls.info, x=x, y=torch.from_numpy(labels.astype(np.int64)), split=split, source=source
        )

    @classmethod
    def _read(cls, root: Path, split: str) -> tuple[np.ndarray, np.ndarray, str] | None:
        """The split's images (N x 3 x 32 x 32 uint8) and labels from the extracted folder or the archive under
        ``root``, and where they came from; None when neither is there. A truncated, corrupt or foreign file is a
        ValueError naming it and what was expected."""
        for folder in (root / cls.folder, root):
            paths = [folder / f for f in cls.files[split]]
            if all(p.is_file() for p in paths):
                blobs = [(str(p), p.read_bytes()) for p in paths]
                return (*cls._records(blobs), f"{folder} (extracted files; the archive's md5 not checked)")
        archive = root / cls.archive
        if not archive.is_file():
            return None
        digest = md5_of(archive)
        if digest != cls.md5:
            raise ValueError(f"{archive}: md5 {digest}, expected {cls.md5} (the published {cls.title} binary archive)")
        try:
            with tarfile.open(archive, "r:gz") as tar:
                blobs = []
                for f in cls.files[split]:
                    member = tar.getmember(f"{cls.folder}/{f}")  # by exact name: nothing else is read or extracted
                    if not member.isfile():
                        raise ValueError(f"{archive}: {member.name} is not a regular file")
                    blobs.append((f"{archive}:{member.name}", tar.extractfile(member).read()))  # type: ignore[union-attr]
        except (tarfile.TarError, KeyError, EOFError, OSError) as exc:
            raise ValueError(f"{archive}: not a readable {cls.title} archive ({type(exc).__name__}: {exc})") from None
        return (*cls._records(blobs), f"{archive} (md5 matches the published archive)")

    @classmethod
    def _records(cls, blobs: list[tuple[str, bytes]]) -> tuple[np.ndarray, np.ndarray]:
        record = cls.label_bytes + PIXELS
        images, labels = [], []
        for where, raw in blobs:
            if not raw or len(raw) % record:
                raise ValueError(
                    f"{where}: {len(raw)} bytes, not a whole number of {record}-byte records "
                    f"({cls.label_bytes} label byte(s) and {PIXELS} pixels each): truncated or not {cls.title}'s binary format"
                )
            rows = np.frombuffer(raw, dtype=np.uint8).reshape(-1, record)
            y = rows[:, cls.label_bytes - 1]  # CIFAR-100: the fine label, after the coarse one
            if y.max() >= cls.info.num_classes:
                raise ValueError(
                    f"{where}: a label of {int(y.max())}, but {cls.title} has {cls.info.num_classes} classes"
                )
            images.append(rows[:, cls.label_bytes :].reshape(-1, 3, SIDE, SIDE))
            labels.append(y)
        return np.concatenate(images), np.concatenate(labels)


class CIFAR100(CIFAR10):
    """CIFAR-100 32x32 RGB in 100 fine classes, as uint8 (read in [-1, 1]); binary version from --data-dir, or its download."""

    info = DatasetInfo(kind=DataKind.LABELLED, shape=(3, SIDE, SIDE), num_classes=100)
    description = "CIFAR-100 32x32 RGB (100 fine classes); the binary version from --data-dir (folder or .tar.gz)"
    url = "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz"
    archive = "cifar-100-binary.tar.gz"
    md5 = "03b5dce01913d631647c71ecec9e9cb8"  # as published on the dataset's page
    folder = "cifar-100-binary"
    files = {"train": ("train.bin",), "test": ("test.bin",)}
    label_bytes = 2
    title = "CIFAR-100"
