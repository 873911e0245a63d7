"""What ``ganzoo score`` reads, checked first: samples (a folder of images, an array, a ganzoo run folder or
``MODULE:CALLABLE``) and a reference (a dataset, images, or statistics saved with ``--save-reference``). Anything
that cannot be scored is a :class:`ScoreInputError`: one line, exit 2, before a feature is computed."""

from __future__ import annotations

import hashlib
import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ganzoo import registry
from ganzoo.config import BenchInputError, DataSource, split_dataset
from ganzoo.data import Data, DataKind, DatasetInfo
from ganzoo.evaluation import NOISE_SEED, generate
from ganzoo.factory import VariantSpec, check_source, create_variant, dataset_info, load_checked
from ganzoo.results import load_weights, read_json_object
from ganzoo.score_request import ScoreInputError, check_image_array, check_statistics, images_key
from ganzoo.variant import Variant

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".gif")


@dataclass
class Images:
    """Samples in ganzoo's form (float in [-1, 1], N x C x H x W; N x D points from a run on points), where
    they came from, and a digest of their content."""

    x: Tensor
    what: str
    y: Tensor | None = None
    sha256: str = ""

    def __post_init__(self) -> None:
        if not self.sha256:
            self.sha256 = hashlib.sha256(self.x.contiguous().numpy().tobytes()).hexdigest()


def _from_uint8(a: np.ndarray, what: str) -> Tensor:
    """N x H x W x C (or N x H x W) uint8 -> float [-1, 1], N x C x H x W."""
    if a.ndim == 3:
        a = a[..., None]
    return torch.from_numpy(np.ascontiguousarray(a)).permute(0, 3, 1, 2).float() / 127.5 - 1


def as_images(a: Any, what: str) -> Tensor:
    """An array or tensor of images in either form ganzoo reads (:func:`~ganzoo.score_request.check_image_array`),
    as float in [-1, 1], N x C x H x W."""
    if isinstance(a, Tensor):
        a = a.detach().cpu().numpy()
    check_image_array(a, what)
    if a.dtype == np.uint8:
        return _from_uint8(a, what)
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).clamp(-1, 1)


def read_folder(folder: Path) -> Tensor:
    """Every image under ``folder`` (sorted by path), decoded by PIL as RGB or grey; they must share one
    size and mode, since a batch of features is one tensor."""
    from PIL import Image

    files = sorted(f for f in folder.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ScoreInputError(f"{folder} holds no images ({', '.join(IMAGE_SUFFIXES)})")
    arrays, first = [], None
    for f in files:
        try:
            with Image.open(f) as im:
                im = im.convert("L" if im.mode in ("1", "L", "I;16", "I") else "RGB")
                a = np.asarray(im)
        except Exception as exc:
            raise ScoreInputError(f"{f} cannot be read as an image ({type(exc).__name__}: {exc})") from None
        if first is None:
            first = (f, a.shape)
        elif a.shape != first[1]:
            raise ScoreInputError(
                f"{folder} mixes image sizes or modes: {first[0].name} is {_shape(first[1])}, {f.name} is {_shape(a.shape)}; "
                "resize them to one size first"
            )
        arrays.append(a)
    return _from_uint8(np.stack(arrays), str(folder))


def _shape(s: tuple[int, ...]) -> str:
    return f"{s[1]}x{s[0]} {'grey' if len(s) == 2 else 'RGB'}"


def read_array(path: Path) -> Tensor:
    try:
        loaded = np.load(path, allow_pickle=False)  # never unpickle a file handed to us
    except Exception as exc:
        raise ScoreInputError(
            f"{path} cannot be read as a numpy array without unpickling ({type(exc).__name__}: {exc})"
        ) from None
    if isinstance(loaded, np.lib.npyio.NpzFile):
        with loaded:
            keys = list(loaded.keys())
            key = images_key(keys)
            if key is None:
                raise ScoreInputError(
                    f"{path} holds arrays {keys}; name the images 'images', 'x' or 'arr_0', or save only them"
                )
            loaded = loaded[key]
    return as_images(loaded, str(path))


def is_run_folder(path: Path) -> bool:
    return (
        path.is_dir()
        and (path / "config.json").is_file()
        and "variant_plugin" in read_json_object(path / "config.json")
    )


def generate_from_run(folder: Path, n: int, seed: int, device: torch.device, data_dir: Path | None = None) -> Images:
    """``n`` samples of a ganzoo run's final generator, from noise seeded ``NOISE_SEED + seed`` (labels drawn
    uniformly over the classes for a conditional variant). Its weights load with ``weights_only=True``."""
    variant, info, config = load_run_variant(folder, device, data_dir)
    gen = torch.Generator().manual_seed(NOISE_SEED + seed)
    y = torch.randint(info.num_classes, (n,), generator=gen) if variant.conditional and info.num_classes else None
    with torch.no_grad():
        x = generate(variant, n, gen, y)
    return Images(x, f"run {config.get('run_id', folder.name)}: {n} samples, seed {seed}", y)


def load_run_variant(
    folder: Path, device: torch.device, data_dir: Path | None = None
) -> tuple[Variant, DatasetInfo, dict[str, Any]]:
    """A finished run's variant, built again from its config.json with its final generators (weights read with
    ``weights_only=True``), in eval mode on ``device``; its dataset's info and the config."""
    config = read_json_object(folder / "config.json")
    if not (folder / "weights.pt").is_file():
        status = config.get("status", "unknown")
        raise ScoreInputError(
            f"run folder {folder} has no weights.pt (its status: {status}); finish it with ganzoo bench --resume, "
            "or score a finished run"
        )
    try:
        dataset = config["dataset"]["name"]
        info = dataset_info(dataset, data_dir)
        divergence = config["divergence"]
        params = config.get("recipe", {}).get("divergence_params", {})
        spec = VariantSpec(
            config["variant"], config["variant_plugin"], divergence, config.get("hparams", {}), divergence_params=params
        )
        variant = create_variant(spec, info).variant
    except BenchInputError as exc:
        raise ScoreInputError(f"run folder {folder}: {exc}") from None
    except Exception as exc:
        raise ScoreInputError(
            f"run folder {folder}: its variant cannot be built again from config.json ({type(exc).__name__}: {exc})"
        ) from None
    if variant.translates:
        raise ScoreInputError(
            f"run folder {folder} holds a translation variant ({config['variant_plugin']}); its bench scores its "
            "translations, ganzoo score draws from generators of noise"
        )
    try:
        state = load_weights(folder / "weights.pt")
        for name, net in variant.generators().items():
            net.load_state_dict(state["generators"][name])
    except Exception as exc:
        raise ScoreInputError(
            f"{folder / 'weights.pt'} cannot be loaded safely into {config['variant_plugin']}'s generator "
            f"({type(exc).__name__}: {str(exc).splitlines()[0][:160]})"
        ) from None
    variant = variant.to(device)
    variant.train(False)
    return variant, info, config


def call_generator(target: str, n: int) -> Tensor:
    """``module:callable`` called with ``n``: the images it returns, checked."""
    module_name, _, attr = target.partition(":")
    try:
        fn = getattr(importlib.import_module(module_name), attr)
    except Exception as exc:
        raise ScoreInputError(
            f"{target!r} cannot be imported ({type(exc).__name__}: {exc}); give MODULE:CALLABLE on the Python path"
        ) from None
    if not callable(fn):
        raise ScoreInputError(f"{target!r} is a {type(fn).__name__}, not a callable")
    try:
        out = fn(n)
    except Exception as exc:
        raise ScoreInputError(f"{target}({n}) raised {type(exc).__name__}: {exc}") from None
    x = as_images(out, f"{target}({n})")
    if len(x) != n:
        raise ScoreInputError(f"{target}({n}) returned {len(x)} images, not {n}")
    return x


def read_samples(spec: str, *, n: int, seed: int, device: torch.device, data_dir: Path | None = None) -> Images:
    """SAMPLES as the command line names it; a ScoreInputError (one line) for anything that cannot be scored."""
    path = Path(spec)
    if is_run_folder(path):
        return generate_from_run(path, n, seed, device, data_dir)
    if path.is_dir():
        return Images(read_folder(path), f"folder {path.name}")
    if path.is_file():
        if path.suffix not in (".npy", ".npz"):
            raise ScoreInputError(f"{spec}: a file of samples must be .npy or .npz (or give a folder of images)")
        return Images(read_array(path), f"array {path.name}")
    if ":" in spec and not path.exists():
        return Images(call_generator(spec, n), f"{spec}({n})")
    raise ScoreInputError(
        f"{spec!r} is neither a folder of images, an .npy/.npz array, a ganzoo run folder nor MODULE:CALLABLE"
    )


@dataclass
class ReferenceSet:
    """The real side: a loaded dataset (with every metric a bench computes on it), or images from a folder or
    array, or saved statistics (``data`` None)."""

    spec: str
    data: Data | None = None
    saved: dict[str, Any] = field(default_factory=dict)  # from --reference STATS.npz


def is_stats_file(path: Path) -> bool:
    if path.suffix != ".npz" or not path.is_file():
        return False
    try:
        with np.load(path, allow_pickle=False) as z:
            return bool({"mu", "sigma", "format", "features_sha256"} & set(z.keys()))
    except Exception:
        return False


def read_reference(spec: str, *, data_dir: Path | None, split: str, download: bool) -> ReferenceSet:
    path = Path(spec)
    if is_stats_file(path):
        with np.load(path, allow_pickle=False) as z:
            saved = {k: z[k] for k in z.keys()}
        check_statistics(saved, f"--reference {spec}")
        return ReferenceSet(spec, saved=saved)
    if path.exists():
        x = read_folder(path) if path.is_dir() else read_array(path)
        info = DatasetInfo(DataKind.UNCONDITIONAL, tuple(x.shape[1:]))
        return ReferenceSet(
            spec, Data(name=f"reference:{path.name}", info=info, x=x, y=None, split="all", source=str(path.resolve()))
        )
    if split_dataset(spec)[0] not in registry.datasets.names():
        raise ScoreInputError(
            f"--reference {spec!r} is neither a folder, an array, saved statistics (.npz) nor an installed dataset "
            f"({', '.join(registry.datasets.names())})"
        )
    source = DataSource(spec, data_dir, split, download)
    check_source(source)  # a bad argument, --data-dir or split in one line, before loading
    return ReferenceSet(spec, load_checked(source))
