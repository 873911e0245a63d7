"""Datasets as ganzoo sees them: a static description a variant can be checked against before
anything is loaded, in-memory tensors once loaded, and a seeded batch sampler.

Every dataset ganzoo ships fits in memory (digits, MNIST, 2-D mixtures), so batches are drawn from
tensors already on the training device: no DataLoader workers, and the draw order depends only on
the seed.
"""

from __future__ import annotations

import abc
import enum
import hashlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import ClassVar

import torch
from torch import Tensor


class DataKind(str, enum.Enum):
    """What the labels of a dataset mean, which decides the variants that can train on it."""

    UNCONDITIONAL = "unconditional"  # no labels
    LABELLED = "labelled"  # y is a class (CGAN conditions on it)
    DOMAINS = "domains"  # y is a domain (CycleGAN/StarGAN translate between them)


@dataclass(frozen=True)
class DatasetInfo:
    """Static facts about a dataset, known before it is loaded.

    ``shape`` is one sample's shape: ``(C, H, W)`` for images, ``(D,)`` for points.
    Images are scaled to ``value_range`` (``bounded=True``): [-1, 1], as G's tanh ends, unless a protocol
    says otherwise (PacGAN's released Stacked MNIST code feeds D reals in [0, 1]); points are not bounded.
    """

    kind: DataKind
    shape: tuple[int, ...]
    num_classes: int = 0
    bounded: bool = True
    modes: tuple[tuple[float, ...], ...] | None = None  # centres of a known mixture
    mode_std: float | None = None
    tags: frozenset[str] = frozenset()  # extra facts metrics key on, e.g. "stacked-digits"
    domains: tuple[str, ...] = ()  # DOMAINS data: the name of each domain (y indexes it)
    content_classes: int = 0  # DOMAINS data whose samples also carry a content class (the digit)
    value_range: tuple[float, float] = (-1.0, 1.0)  # bounded samples' floats: pixel 0 -> low, 255 -> high

    def __post_init__(self) -> None:
        low, high = self.value_range
        if not low < high:
            raise ValueError(f"value_range must be (low, high) with low < high, got {self.value_range}")
        if self.kind is DataKind.DOMAINS and len(self.domains) < 2:
            raise ValueError(f"domain data needs at least two named domains, got {self.domains}")
        if self.domains and self.num_classes != len(self.domains):
            raise ValueError(f"num_classes ({self.num_classes}) must equal the number of domains ({len(self.domains)})")

    @property
    def is_image(self) -> bool:
        return len(self.shape) == 3

    def describe(self) -> str:
        what = "x".join(map(str, self.shape)) + " images" if self.is_image else f"{self.shape[0]}-D points"
        if self.domains:
            content = f", {self.content_classes} content classes" if self.content_classes else ""
            return f"{self.kind.value} ({', '.join(self.domains)}), {what}{content}"
        classes = f", {self.num_classes} classes" if self.num_classes else ""
        return f"{self.kind.value}, {what}{classes}"


@dataclass
class Data:
    """A loaded dataset: all samples as one tensor, labels (or None), and where they came from.

    Images may be held as their uint8 pixels (full CelebA at 64x64 is 2.5 GB so, 10 GB as float32);
    :meth:`floats` is how every reader takes samples, as float32 in ``info.value_range``.

    For domain data ``y`` is the domain and ``content`` (where known) what each image shows, e.g. the
    digit: the ground truth a translation must keep.
    """

    name: str
    info: DatasetInfo
    x: Tensor
    y: Tensor | None
    split: str
    source: str
    content: Tensor | None = None
    # where the true mapping between domains is known: images of domain s -> the same images in domain t
    true_translation: Callable[[Tensor, int, int], Tensor] | None = field(default=None, repr=False)
    # indices the dataset itself reserves for evaluation (MNIST's test split inside train+test): feature
    # classifiers never train on them and reference sets come from them; None lets ganzoo hold out half
    held_out: Tensor | None = field(default=None, repr=False)
    # with held_out: the indices a feature classifier may train on, where not every other index may (Stacked
    # MNIST: triples made only of digits no held-out triple contains); None: every index not held out
    classifier_pool: Tensor | None = field(default=None, repr=False)
    # the dataset this one is composed of (Stacked MNIST: its MNIST digits), for metrics that label the parts
    base: Data | None = field(default=None, repr=False)
    _hash: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.x.dtype == torch.uint8 and not self.info.is_image:
            raise ValueError(f"dataset {self.name!r}: only images may be held as uint8 pixels")
        if tuple(self.x.shape[1:]) != self.info.shape:
            raise ValueError(
                f"dataset {self.name!r} declares sample shape {self.info.shape}, loaded {tuple(self.x.shape[1:])}"
            )
        if self.y is not None and len(self.y) != len(self.x):
            raise ValueError(f"dataset {self.name!r}: {len(self.x)} samples but {len(self.y)} labels")
        if self.content is not None and len(self.content) != len(self.x):
            raise ValueError(f"dataset {self.name!r}: {len(self.x)} samples but {len(self.content)} content labels")

    def __len__(self) -> int:
        return len(self.x)

    def floats(self, idx: Tensor | slice | None = None) -> Tensor:
        """Samples ``idx`` (all by default) as float32 in ``info.value_range``: uint8 pixels are converted
        here, on the tensor's device, so only the rows asked for ever exist as floats."""
        x = self.x if idx is None else self.x[idx]
        if x.dtype != torch.uint8:
            return x
        low, high = self.info.value_range
        return x.float().div_(255.0 / (high - low)).add_(low)

    @property
    def content_hash(self) -> str:
        """sha256 of samples and labels: keys caches so a changed dataset never reuses stale statistics."""
        if self._hash is None:
            h = hashlib.sha256()
            h.update(str(tuple(self.x.shape)).encode())
            if self.info.value_range != (-1.0, 1.0):  # the same pixels read in another range are other data
                h.update(str(self.info.value_range).encode())
            h.update(self.x.detach().cpu().contiguous().numpy().tobytes())
            for labels in (self.y, self.content):
                if labels is not None:
                    h.update(labels.detach().cpu().contiguous().numpy().tobytes())
            self._hash = h.hexdigest()
        return self._hash

    def to(self, device: torch.device) -> Data:
        moved = replace(
            self,
            x=self.x.to(device),
            y=None if self.y is None else self.y.to(device),
            content=None if self.content is None else self.content.to(device),
        )
        moved._hash = self._hash
        return moved


class Dataset(abc.ABC):
    """Base class of dataset plugins (entry-point group ``ganzoo.datasets``).

    ``info`` is a class attribute so that a variant can be refused before any download or load.
    """

    info: ClassVar[DatasetInfo]
    description: ClassVar[str] = ""
    splits: ClassVar[tuple[str, ...]] = ("train",)
    argument: ClassVar[str | None] = None  # what ``--dataset NAME:ARGUMENT`` means, None when it takes none

    @classmethod
    def info_for(cls, argument: str | None, data_dir: Path | None = None) -> DatasetInfo:
        """The info for ``NAME:ARGUMENT`` with ``--data-dir`` (CelebA's domains are the attributes the user
        names; a folder of images has as many classes as it has sub-folders); raise ValueError naming what
        is wrong. It runs before anything loads, so it should only look (list a folder), never read it all."""
        if argument is not None:
            raise ValueError("this dataset takes no argument after ':'")
        return cls.info

    @classmethod
    @abc.abstractmethod
    def load(cls, *, name: str, data_dir: Path | None, split: str, download: bool) -> Data:
        """Load every sample into memory. ``split='auto'`` lets the dataset pick what is available.
        Datasets that take an argument receive it as the keyword ``argument``."""


# in a dataset's argument (mnist:unit-range, stacked-mnist:20000,unit-range): its images read in [0, 1]
UNIT_RANGE = "unit-range"


def split_range(argument: str | None) -> tuple[str | None, tuple[float, float] | None]:
    """A dataset argument without its ``unit-range`` token, and the range that token asks for (None: the
    dataset's own). The core reads the token, so every image dataset takes it and its name in the results
    (the whole spec) says which range ran."""
    if argument is None:
        return None, None
    parts = argument.split(",")
    if UNIT_RANGE not in parts:
        return argument, None
    rest = [p for p in parts if p != UNIT_RANGE]
    return (",".join(rest) or None), (0.0, 1.0)


def in_range(info: DatasetInfo, value_range: tuple[float, float] | None) -> DatasetInfo:
    """``info`` read in ``value_range`` (None: as it is); only bounded images have a range to change."""
    if value_range is None or value_range == info.value_range:
        return info
    if not (info.is_image and info.bounded):
        raise ValueError(f"{UNIT_RANGE} reads images in [0, 1]; this dataset holds {info.describe()}")
    return replace(info, value_range=value_range)


def read_in(data: Data, value_range: tuple[float, float] | None) -> Data:
    """``data`` (and the dataset it is composed of) read in ``value_range``: uint8 pixels are only relabelled;
    float samples are mapped affinely from the range they were in."""
    if value_range is None or value_range == data.info.value_range:
        return data
    low, high = data.info.value_range
    x = data.x
    if x.dtype != torch.uint8:
        new_low, new_high = value_range
        x = (x - low) * ((new_high - new_low) / (high - low)) + new_low
    base = None if data.base is None else read_in(data.base, value_range)
    return replace(data, info=in_range(data.info, value_range), x=x, base=base, _hash=None)


def describe_dataset(cls: type[Dataset], argument: str | None, data_dir: Path | None) -> DatasetInfo:
    """``cls.info_for(argument, data_dir)``; a plugin written before ``info_for`` saw ``--data-dir``
    (``info_for(cls, argument)``) is called without it."""
    if "data_dir" in inspect.signature(cls.info_for).parameters:
        return cls.info_for(argument, data_dir=data_dir)
    return cls.info_for(argument)


@dataclass
class Batch:
    """What one update sees, drawn in one place (:meth:`ganzoo.variant.Variant.next_batch`): real samples,
    their labels, G's noise ``z`` (one row per sample, for variants whose G takes noise), and for
    translation variants the input images ``source``/``source_y``. Reusing a batch reuses its noise."""

    x: Tensor
    y: Tensor | None = None
    source: Tensor | None = None
    source_y: Tensor | None = None
    z: Tensor | None = None

    @property
    def images(self) -> int:
        """Real images in the batch, the unit of the ``img`` budget."""
        return len(self.x) + (0 if self.source is None else len(self.source))


class BatchSampler:
    """Seeded epoch-wise sampling (each sample once per epoch) from tensors on the training device.

    ``label`` restricts a draw to samples with that label, which is how a translation variant draws
    unpaired batches from two domains.
    """

    def __init__(self, data: Data, *, seed: int, device: torch.device) -> None:
        self.data = data.to(device)
        self.device = device
        self._gen = torch.Generator().manual_seed(seed)
        self._pools: dict[int | None, Tensor] = {}
        self._perm: dict[int | None, Tensor] = {}
        self._cursor: dict[int | None, int] = {}

    def _pool(self, label: int | None) -> Tensor:
        if label not in self._pools:
            if label is None:
                pool = torch.arange(len(self.data))
            else:
                if self.data.y is None:
                    raise ValueError(f"dataset {self.data.name!r} has no labels to draw label {label} from")
                pool = torch.nonzero(self.data.y.cpu() == label).flatten()
                if len(pool) == 0:
                    raise ValueError(f"dataset {self.data.name!r} has no sample with label {label}")
            self._pools[label] = pool
            self._cursor[label] = len(pool)  # forces a fresh permutation on first draw
        return self._pools[label]

    def indices(self, n: int, *, label: int | None = None) -> Tensor:
        pool = self._pool(label)
        out = []
        while n > 0:
            if self._cursor[label] >= len(pool):
                self._perm[label] = pool[torch.randperm(len(pool), generator=self._gen)]
                self._cursor[label] = 0
            take = min(n, len(pool) - self._cursor[label])
            out.append(self._perm[label][self._cursor[label] : self._cursor[label] + take])
            self._cursor[label] += take
            n -= take
        return torch.cat(out).to(self.device)

    def state_dict(self) -> dict:
        """The generator and each pool's permutation and cursor: a restored sampler draws the same batches."""
        key = lambda label: "all" if label is None else str(label)  # noqa: E731
        return {
            "generator": self._gen.get_state(),
            "perm": {key(k): v.cpu() for k, v in self._perm.items()},
            "cursor": {key(k): v for k, v in self._cursor.items()},
        }

    def load_state_dict(self, state: dict) -> None:
        self._gen.set_state(state["generator"])
        for k, cursor in state["cursor"].items():
            label = None if k == "all" else int(k)
            self._pool(label)
            self._cursor[label] = cursor
            if k in state["perm"]:
                self._perm[label] = state["perm"][k]

    def sample(self, n: int, *, label: int | None = None) -> Batch:
        idx = self.indices(n, label=label)
        return Batch(x=self.data.floats(idx), y=None if self.data.y is None else self.data.y[idx])
