"""Two image domains in CycleGAN's folder layout: ``trainA/``, ``trainB/``, ``testA/``, ``testB/`` under
``--data-dir`` (horse2zebra, apple2orange, monet2photo, ...), read with torchvision's ``ImageFolder``
(each of the two folders of a split is one "class": the domain). Images are resized (shorter side) and
centre-cropped to 64x64 RGB, since every image is held in memory; the paper trained at 256x256.

Online, ``--dataset image-folders:NAME`` downloads one of the CycleGAN authors' datasets into
``--data-dir`` when it holds no such folders. There is no content label and no known true mapping, so
translation metrics report FID, domain accuracy and cycle error only.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torchvision import transforms
from torchvision.datasets import ImageFolder

from ganzoo import Data, DataKind, Dataset, DatasetInfo

SIDE = 64
URL = "https://efrosgans.eecs.berkeley.edu/cyclegan/datasets/{name}.zip"
KNOWN = (
    "apple2orange",
    "summer2winter_yosemite",
    "horse2zebra",
    "monet2photo",
    "cezanne2photo",
    "ukiyoe2photo",
    "vangogh2photo",
    "maps",
    "cityscapes",
    "facades",
    "iphone2dslr_flower",
)


def to_tensor(side: int = SIDE, crop: int | None = None) -> transforms.Compose:
    """PIL image -> (3, side, side) in [-1, 1]: optional centre crop first (CelebA's 178 px face box)."""
    steps = [transforms.CenterCrop(crop)] if crop else []
    steps += [
        transforms.Resize(side),
        transforms.CenterCrop(side),
        transforms.ToTensor(),
        transforms.Normalize([0.5] * 3, [0.5] * 3),
    ]
    return transforms.Compose([lambda im: im.convert("RGB"), *steps])


class _TwoFolders(ImageFolder):
    """ImageFolder whose classes are ``<split>A`` and ``<split>B`` (a CycleGAN root also holds the other split)."""

    def __init__(self, root: Path, split: str, **kwargs) -> None:
        self._split = split
        super().__init__(str(root), **kwargs)

    def find_classes(self, directory: str) -> tuple[list[str], dict[str, int]]:
        names = [f"{self._split}A", f"{self._split}B"]
        missing = [n for n in names if not (Path(directory) / n).is_dir()]
        if missing:
            raise FileNotFoundError(
                f"{directory} has no {' or '.join(missing)}/ folder (CycleGAN layout: trainA/, trainB/, testA/, testB/)"
            )
        return names, {n: i for i, n in enumerate(names)}


class ImageFolders(Dataset):
    """Two unpaired photo domains from CycleGAN's trainA/trainB/testA/testB folders."""

    info = DatasetInfo(kind=DataKind.DOMAINS, shape=(3, SIDE, SIDE), num_classes=2, domains=("A", "B"))
    description = "CycleGAN folders (trainA/ trainB/ testA/ testB/) from --data-dir, 64x64 RGB"
    splits = ("train", "test")
    argument = f"a CycleGAN dataset to download when --data-dir lacks the folders ({', '.join(KNOWN)})"

    @classmethod
    def info_for(cls, argument: str | None, data_dir: Path | None = None) -> DatasetInfo:
        if argument is not None and argument not in KNOWN:
            raise ValueError(f"unknown CycleGAN dataset {argument!r}")
        return cls.info

    @classmethod
    def load(cls, *, name: str, data_dir: Path | None, split: str, download: bool, argument: str | None = None) -> Data:
        cls.info_for(argument)
        root = cls._root(data_dir, argument, split, download)
        wanted = ["train", "test"] if split == "auto" else [split]
        chosen = next((s for s in wanted if (root / f"{s}A").is_dir()), wanted[0])
        folders = _TwoFolders(root, chosen, transform=to_tensor())
        if len(folders) == 0:
            raise FileNotFoundError(f"{root}/{chosen}A and {chosen}B hold no images")
        x = torch.stack([folders[i][0] for i in range(len(folders))])
        y = torch.tensor(folders.targets, dtype=torch.long)
        if (torch.bincount(y, minlength=2) == 0).any():
            raise FileNotFoundError(f"{root}: one of {chosen}A/, {chosen}B/ holds no images")
        return Data(
            name=name,
            info=cls.info,
            x=x,
            y=y,
            split=chosen,
            source=f"{root} ({chosen}A: {int((y == 0).sum())}, {chosen}B: {int((y == 1).sum())} images)",
        )

    @staticmethod
    def _root(data_dir: Path | None, argument: str | None, split: str, download: bool) -> Path:
        """The folder holding trainA/ etc.: --data-dir itself, or its subfolder named after the dataset."""
        base = Path(data_dir) if data_dir is not None else Path.home() / ".cache" / "ganzoo" / "data"
        for root in ([base / argument] if argument else []) + [base]:
            if any((root / f"{s}A").is_dir() for s in ("train", "test")):
                return root
        if argument is None:
            raise FileNotFoundError(
                f"no trainA/ or testA/ folder in {base}; pass --data-dir with CycleGAN's layout, "
                f"or --dataset image-folders:NAME to download one of: {', '.join(KNOWN)}"
            )
        if not download:
            raise FileNotFoundError(f"no {argument} folders in {base} and --no-download was given")
        from torchvision.datasets.utils import download_and_extract_archive

        try:
            download_and_extract_archive(URL.format(name=argument), download_root=str(base))
        except Exception as exc:
            raise FileNotFoundError(
                f"downloading {URL.format(name=argument)} into {base} failed ({type(exc).__name__}: {exc}); "
                "download and unzip it elsewhere and pass --data-dir"
            ) from exc
        return base / argument
