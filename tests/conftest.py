from __future__ import annotations

import os
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pytest

from ganzoo import registry

REPO = Path(__file__).resolve().parents[1]
SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist"


# Classifier and statistics caches shared by this test session, never the user's.
os.environ["GANZOO_CACHE"] = tempfile.mkdtemp(prefix="ganzoo-test-cache-")


@pytest.fixture
def fresh_registries():
    """Forget discovered entry points before and after a test that changes what is installed."""
    for reg in registry.REGISTRIES.values():
        reg._entries = None
    yield
    for reg in registry.REGISTRIES.values():
        reg._entries = None


@pytest.fixture
def install_dist(tmp_path, monkeypatch, fresh_registries):
    """Install a fake distribution (module files + dist-info with entry points) on sys.path, the
    way pip would, so plugins come in through importlib.metadata exactly as a real package's do."""

    def install(dist: str, modules: dict[str, str], entry_points: dict[str, dict[str, str]]) -> Path:
        root = tmp_path / f"site-{dist}"
        root.mkdir()
        for name, source in modules.items():
            (root / f"{name}.py").write_text(textwrap.dedent(source))
        info = root / f"{dist}-1.2.3.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n")
        lines = []
        for group, eps in entry_points.items():
            lines.append(f"[{group}]")
            lines += [f"{k} = {v}" for k, v in eps.items()]
        (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
        monkeypatch.syspath_prepend(str(root))
        for reg in registry.REGISTRIES.values():
            reg._entries = None
        return root

    yield install
    for name in list(sys.modules):
        if name.startswith("thirdparty"):
            del sys.modules[name]


def make_random_inception_weights(path: Path) -> Path:
    """A randomly initialised inception-v3-compat state dict saved to ``path`` (the real layer shapes, in half
    precision to keep the file small): enough to run the whole Inception path offline. Its convolutions are drawn at
    He's scale (N(0, 2 / fan-in)), so the pool features are of order 0.1 to 1 and an FID compares numbers, not
    round-off (torch-fidelity's own initialisation gives features of about 1e-8 and FIDs of about 1e-13)."""
    import math

    import torch
    from torch_fidelity import feature_extractor_inceptionv3 as inc

    class _NoLoad(inc.FeatureExtractorInceptionV3):
        def load_state_dict(self, *args, **kwargs):
            return None

    original = inc.load_state_dict_from_url
    inc.load_state_dict_from_url = lambda *a, **k: {}
    try:
        torch.manual_seed(0)
        state = _NoLoad("x", ["2048"]).state_dict()
    finally:
        inc.load_state_dict_from_url = original
    gen = torch.Generator().manual_seed(0)
    for k, v in state.items():
        if k.endswith("conv.weight"):
            state[k] = torch.randn(v.shape, generator=gen) * math.sqrt(2.0 / v[0].numel())
    torch.save({k: v.half() if v.is_floating_point() else v for k, v in state.items()}, path)
    return path


@pytest.fixture(scope="session")
def random_inception_weights(tmp_path_factory) -> Path:
    """Random Inception weights at He's scale (:func:`make_random_inception_weights`), made once per session."""
    return make_random_inception_weights(tmp_path_factory.mktemp("inception") / "inception.pth")


# CIFAR's binary version, made by the tests: tests/test_image_datasets.py reads it, tests/test_sngan.py trains on it
def cifar_records(n: int, label_bytes: int, classes: int, seed: int = 0) -> tuple[bytes, np.ndarray, np.ndarray]:
    """n binary records: label byte(s), then 1,024 red, 1,024 green and 1,024 blue bytes, row by row."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
    labels = rng.integers(0, classes, n, dtype=np.uint8)
    head = np.stack([labels // 5, labels], 1) if label_bytes == 2 else labels[:, None]  # CIFAR-100: coarse, fine
    return np.concatenate([head, images.reshape(n, -1)], 1).astype(np.uint8).tobytes(), images, labels


def cifar10_folder(root: Path, n: int = 4) -> tuple[np.ndarray, np.ndarray]:
    folder = root / "cifar-10-batches-bin"
    folder.mkdir(parents=True)
    all_x, all_y = [], []
    for i in range(1, 6):
        raw, x, y = cifar_records(n, 1, 10, seed=i)
        (folder / f"data_batch_{i}.bin").write_bytes(raw)
        all_x.append(x)
        all_y.append(y)
    (folder / "test_batch.bin").write_bytes(cifar_records(n, 1, 10, seed=9)[0])
    return np.concatenate(all_x), np.concatenate(all_y)


def idx_gz(array: np.ndarray) -> bytes:
    """An array in the gzipped idx format of MNIST and Fashion-MNIST (unsigned bytes)."""
    import gzip

    head = bytes([0, 0, 0x08, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return gzip.compress(head + array.astype(np.uint8).tobytes())


def mnist_folder(root: Path, n: int = 64, seed: int = 0) -> Path:
    """The four idx files of MNIST (or Fashion-MNIST: the same names), n random images per split."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    for prefix in ("train", "t10k"):
        (root / f"{prefix}-images-idx3-ubyte.gz").write_bytes(idx_gz(rng.integers(0, 256, (n, 28, 28))))
        (root / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(idx_gz(rng.integers(0, 10, n)))
    return root


def celeba_folder(root: Path, n: int = 16, seed: int = 0, partition: list[int] | None = None) -> Path:
    """CelebA's aligned layout under root/celeba: n 178x218 JPEG faces (smooth random colour fields) named
    000001.jpg ... and list_eval_partition.txt (every face in the training partition unless given)."""
    from PIL import Image

    base = root / "celeba"
    (base / "img_align_celeba").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    codes = partition if partition is not None else [0] * n
    for i in range(len(codes)):
        small = rng.integers(0, 256, (14, 11, 3), dtype=np.uint8)
        Image.fromarray(small).resize((178, 218), Image.BILINEAR).save(base / "img_align_celeba" / f"{i + 1:06d}.jpg")
    (base / "list_eval_partition.txt").write_text("".join(f"{i + 1:06d}.jpg {c}\n" for i, c in enumerate(codes)))
    return root
