"""CelebA (Liu et al. 2015) faces as StarGAN's domains: the attributes the user names.

``--dataset celeba:Black_Hair,Blond_Hair,Brown_Hair`` (the default, StarGAN's hair-colour experiment)
makes one domain per attribute from the images that have exactly one of them; a single attribute
(``celeba:Eyeglasses``) makes two domains, with and without it. Read through torchvision's ``CelebA``
(which checks the md5 of every annotation file and can download them) from ``--data-dir``; faces are
centre-cropped to 178 px and resized to 64x64 as StarGAN's code does (it then used 128). At most
``PER_DOMAIN`` images per domain are kept (a seeded choice), because all of them are held in memory.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ganzoo import Data, DataKind, Dataset, DatasetInfo
from ganzoo_plugins.datasets.image_folders import SIDE, to_tensor

ATTRIBUTES = (
    "5_o_Clock_Shadow",
    "Arched_Eyebrows",
    "Attractive",
    "Bags_Under_Eyes",
    "Bald",
    "Bangs",
    "Big_Lips",
    "Big_Nose",
    "Black_Hair",
    "Blond_Hair",
    "Blurry",
    "Brown_Hair",
    "Bushy_Eyebrows",
    "Chubby",
    "Double_Chin",
    "Eyeglasses",
    "Goatee",
    "Gray_Hair",
    "Heavy_Makeup",
    "High_Cheekbones",
    "Male",
    "Mouth_Slightly_Open",
    "Mustache",
    "Narrow_Eyes",
    "No_Beard",
    "Oval_Face",
    "Pale_Skin",
    "Pointy_Nose",
    "Receding_Hairline",
    "Rosy_Cheeks",
    "Sideburns",
    "Smiling",
    "Straight_Hair",
    "Wavy_Hair",
    "Wearing_Earrings",
    "Wearing_Hat",
    "Wearing_Lipstick",
    "Wearing_Necklace",
    "Wearing_Necktie",
    "Young",
)
DEFAULT = ("Black_Hair", "Blond_Hair", "Brown_Hair")
PER_DOMAIN = 5000
CROP = 178


def parse_attributes(argument: str | None) -> tuple[str, ...]:
    names = DEFAULT if argument is None else tuple(a.strip() for a in argument.split(",") if a.strip())
    unknown = [a for a in names if a not in ATTRIBUTES]
    if unknown:
        raise ValueError(
            f"unknown CelebA attribute(s) {', '.join(unknown)}; the 40 attributes are: {', '.join(ATTRIBUTES)}"
        )
    if not names or len(set(names)) != len(names):
        raise ValueError(f"name one attribute, or several different ones, got {argument!r}")
    return names


def domains_of(attributes: tuple[str, ...]) -> tuple[str, ...]:
    return (attributes[0], f"not {attributes[0]}") if len(attributes) == 1 else attributes


def domain_labels(attr: torch.Tensor, names: list[str], attributes: tuple[str, ...]) -> torch.Tensor:
    """Per image: its domain index, or -1 where it belongs to none (several or none of the attributes)."""
    cols = attr[:, [names.index(a) for a in attributes]].long()
    if len(attributes) == 1:
        return 1 - cols[:, 0]  # with the attribute: 0, without: 1
    return torch.where(cols.sum(1) == 1, cols.argmax(1), torch.full_like(cols[:, 0], -1))


class CelebAAttributes(Dataset):
    """CelebA faces in the attribute domains the user names (StarGAN)."""

    info = DatasetInfo(kind=DataKind.DOMAINS, shape=(3, SIDE, SIDE), num_classes=len(DEFAULT), domains=DEFAULT)
    description = "CelebA faces, 64x64, domains = attributes (default: black/blond/brown hair); torchvision's CelebA"
    splits = ("train", "valid", "test")
    argument = "comma-separated CelebA attributes (several: one domain each; one: with and without it)"

    @classmethod
    def info_for(cls, argument: str | None, data_dir: Path | None = None) -> DatasetInfo:
        domains = domains_of(parse_attributes(argument))
        return DatasetInfo(kind=DataKind.DOMAINS, shape=(3, SIDE, SIDE), num_classes=len(domains), domains=domains)

    @classmethod
    def load(cls, *, name: str, data_dir: Path | None, split: str, download: bool, argument: str | None = None) -> Data:
        from torchvision.datasets import CelebA

        attributes = parse_attributes(argument)
        info = cls.info_for(argument)
        root = Path(data_dir) if data_dir is not None else Path.home() / ".cache" / "ganzoo" / "data"
        chosen = "train" if split == "auto" else split
        try:
            ds = CelebA(str(root), split=chosen, target_type="attr", transform=to_tensor(SIDE, CROP), download=download)
        except Exception as exc:
            raise FileNotFoundError(
                f"CelebA is not in {root / 'celeba'} ({type(exc).__name__}: {exc}); it needs img_align_celeba/ and the "
                "five annotation .txt files (torchvision checks their md5); online, leave --download on"
            ) from exc
        y_all = domain_labels(ds.attr, list(ds.attr_names), attributes)
        gen = torch.Generator().manual_seed(0)
        keep = []
        for d in range(len(info.domains)):
            idx = torch.nonzero(y_all == d).flatten()
            if len(idx) == 0:
                raise FileNotFoundError(f"CelebA {chosen} split has no image in domain {info.domains[d]!r}")
            keep.append(idx[torch.randperm(len(idx), generator=gen)[:PER_DOMAIN]].sort().values)
        idx = torch.cat(keep)
        x = torch.stack([ds[i][0] for i in idx.tolist()])
        counts = ", ".join(f"{dom}: {len(k)}" for dom, k in zip(info.domains, keep))
        return Data(
            name=name,
            info=info,
            x=x,
            y=y_all[idx],
            split=chosen,
            source=f"torchvision CelebA in {root} ({counts} images)",
        )
