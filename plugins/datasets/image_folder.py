"""Any folder of images: ``--dataset image-folder --data-dir PHOTOS``, the custom-data path.

- Images directly in the folder: one unconditional dataset.
- Images in sub-folders (``PHOTOS/cat/*.jpg``, ``PHOTOS/dog/*.jpg``), two or more: a labelled dataset, one
  class per sub-folder in sorted order, as torchvision's ``ImageFolder`` numbers them (CGAN conditions on
  them, and the classifier feature space can train on them). ``image-folder:flat`` ignores the sub-folders.

Every image is resized (shorter side) and centre-cropped to a square, 64 px unless the argument names
another side (``image-folder:32``), in RGB unless ``gray`` (``image-folder:28,gray``), and held in memory
as float32 (a 64 px RGB image is 48 KiB: 100,000 of them need 4.7 GiB). Files are found with
torchvision's own extension list and read with its PIL loader; a file that does not decode is an error
naming it, never a silently smaller dataset.

The dataset describes itself from ``--data-dir`` before anything is read (``info_for`` lists the folder),
so a variant that cannot use it is refused in a second.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torchvision import transforms
from torchvision.datasets.folder import IMG_EXTENSIONS, default_loader

from ganzoo import Data, DataKind, Dataset, DatasetInfo

SIDE = 64
SIDES = (8, 512)  # smallest and largest side accepted


def _options(argument: str | None) -> tuple[int, bool, bool]:
    """``SIDE``, ``gray`` and ``flat`` in any order, comma-separated -> (side, grayscale, flat)."""
    side, gray, flat = SIDE, False, False
    for token in [t.strip() for t in (argument or "").split(",") if t.strip()]:
        if token.isdigit():
            side = int(token)
            if not SIDES[0] <= side <= SIDES[1]:
                raise ValueError(f"image side {side} is outside {SIDES[0]}..{SIDES[1]} pixels")
        elif token in ("gray", "grey"):
            gray = True
        elif token == "flat":
            flat = True
        else:
            raise ValueError(f"unknown option {token!r} (options: a side in pixels, gray, flat)")
    return side, gray, flat


def _is_image(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in IMG_EXTENSIONS and not path.name.startswith(".")


def _images_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if _is_image(p))


def scan(root: Path, flat: bool) -> tuple[list[str], list[list[Path]]]:
    """(class names, image paths per class) of a folder: ``[""]`` and one list when it is unconditional.
    Raises ValueError saying what the folder holds when it cannot be used."""
    if not root.is_dir():
        raise ValueError(f"--data-dir {str(root)!r} is not a folder")
    if flat:
        images = _images_under(root)
        if not images:
            raise ValueError(f"no images ({', '.join(IMG_EXTENSIONS)}) in {root} or its sub-folders")
        return [""], [images]
    top = sorted(p for p in root.iterdir() if _is_image(p))
    classes = {d.name: _images_under(d) for d in sorted(root.iterdir()) if d.is_dir() and not d.name.startswith(".")}
    classes = {k: v for k, v in classes.items() if v}
    if top and classes:
        raise ValueError(
            f"{root} holds {len(top)} image(s) beside sub-folders of images ({', '.join(classes)}): put every image in a "
            "class sub-folder, or use image-folder:flat to ignore the sub-folders"
        )
    if top:
        return [""], [top]
    if not classes:
        raise ValueError(f"no images ({', '.join(IMG_EXTENSIONS)}) in {root} or its sub-folders")
    if len(classes) == 1:  # one class is no condition: the images of the one sub-folder, unconditional
        return [""], list(classes.values())
    return list(classes), list(classes.values())


def _info(side: int, gray: bool, classes: list[str]) -> DatasetInfo:
    labelled = len(classes) > 1
    return DatasetInfo(
        kind=DataKind.LABELLED if labelled else DataKind.UNCONDITIONAL,
        shape=(1 if gray else 3, side, side),
        num_classes=len(classes) if labelled else 0,
    )


class ImageFolder(Dataset):
    """A folder of images (unconditional), or of class sub-folders of images (labelled), resized to a square."""

    info = _info(SIDE, False, [""])  # what a flat folder of RGB images gives; info_for reads the real folder
    description = (
        "any folder of images from --data-dir: unconditional, or one class per sub-folder; "
        "64x64 RGB unless image-folder:SIDE,gray"
    )
    splits = ("train",)
    argument = "options, comma-separated: the side in pixels (default 64), gray, flat (ignore sub-folders)"

    @classmethod
    def info_for(cls, argument: str | None, data_dir: Path | None = None) -> DatasetInfo:
        return cls._survey(argument, data_dir)[0]

    @staticmethod
    def _survey(argument: str | None, data_dir: Path | None) -> tuple[DatasetInfo, list[str], list[list[Path]]]:
        """(info, class names, image paths per class) from the argument and one listing of the folder."""
        side, gray, flat = _options(argument)
        if data_dir is None:
            raise ValueError("give the folder of images with --data-dir (images in it, or in one sub-folder per class)")
        classes, paths = scan(Path(data_dir), flat)
        return _info(side, gray, classes), classes, paths

    @classmethod
    def load(cls, *, name: str, data_dir: Path | None, split: str, download: bool, argument: str | None = None) -> Data:
        info, classes, paths = cls._survey(argument, data_dir)
        side, gray = info.shape[1], info.shape[0] == 1
        to_tensor = transforms.Compose(
            [
                transforms.Resize(side),
                transforms.CenterCrop(side),
                transforms.ToTensor(),
                transforms.Normalize([0.5] * info.shape[0], [0.5] * info.shape[0]),
            ]
        )
        x, y = [], []
        for label, files in enumerate(paths):
            for path in files:
                try:
                    image = default_loader(str(path))
                except Exception as exc:
                    raise ValueError(
                        f"{path} cannot be read as an image ({type(exc).__name__}: {exc}); remove or fix it"
                    ) from None
                x.append(to_tensor(image.convert("L" if gray else "RGB")))
                y.append(label)
        counts = ", ".join(f"{c}: {len(p)}" for c, p in zip(classes, paths)) if info.num_classes else f"{len(x)} images"
        return Data(
            name=name,
            info=info,
            x=torch.stack(x),
            y=torch.tensor(y, dtype=torch.long) if info.num_classes else None,
            split="train",
            source=f"{Path(data_dir).resolve()} ({counts}; resized to {side}x{side}{', gray' if gray else ''})",
        )
