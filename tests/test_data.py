import gzip
import math
from dataclasses import replace

import numpy as np
import pytest
import torch
from conftest import SHARED_MNIST

from ganzoo import registry
from ganzoo.data import BatchSampler
from ganzoo_plugins.datasets.mnist import read_idx


def load(name, **kw):
    args = dict(name=name, data_dir=None, split="auto", download=False) | kw
    return registry.datasets.get(name).load(**args)


@pytest.mark.parametrize("name", ["digits", "ring8", "grid25"])
def test_offline_datasets_match_their_declared_info(name):
    data = load(name)
    info = registry.datasets.get(name).info
    assert data.info == info and tuple(data.x.shape[1:]) == info.shape
    assert int(data.y.max()) + 1 == info.num_classes and int(data.y.min()) == 0
    if info.bounded:
        assert data.x.min() >= -1 and data.x.max() <= 1


def test_digits_is_sklearn_digits_scaled():
    data = load("digits")
    assert len(data) == 1797 and data.split == "all"
    assert torch.isclose(data.x.min(), torch.tensor(-1.0)) and torch.isclose(data.x.max(), torch.tensor(1.0))


@pytest.mark.parametrize("name, radius_or_grid, std", [("ring8", 1.0, 0.01), ("grid25", 4.0, 0.05)])
def test_mixtures_have_the_published_geometry(name, radius_or_grid, std):
    data = load(name)
    centres = torch.tensor(data.info.modes)
    if name == "ring8":
        assert len(centres) == 8 and torch.allclose(centres.norm(dim=1), torch.ones(8))
    else:
        assert len(centres) == 25 and set(centres.flatten().tolist()) == {-4.0, -2.0, 0.0, 2.0, 4.0}
    offsets = data.x - centres[data.y]
    assert abs(float(offsets.std()) - std) / std < 0.02
    assert torch.bincount(data.y).min() > len(data) / len(centres) * 0.9
    assert torch.equal(load(name).x, data.x)  # generated from a fixed seed


def write_idx(path, array: np.ndarray, compress: bool) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    raw = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(raw) if compress else raw)


@pytest.mark.parametrize("compress, layout", [(True, "flat"), (False, "torchvision")])
def test_mnist_reads_idx_files_the_test_writes(tmp_path, compress, layout):
    rng = np.random.default_rng(0)
    images, labels = rng.integers(0, 256, (12, 28, 28)), rng.integers(0, 10, 12)
    folder = tmp_path if layout == "flat" else tmp_path / "MNIST" / "raw"
    folder.mkdir(parents=True, exist_ok=True)
    ext = ".gz" if compress else ""
    write_idx(folder / f"t10k-images-idx3-ubyte{ext}", images, compress)
    write_idx(folder / f"t10k-labels-idx1-ubyte{ext}", labels, compress)
    data = load("mnist", data_dir=tmp_path)
    assert data.split == "test"  # auto falls back to the split that is there
    assert data.x.shape == (12, 1, 28, 28) and torch.equal(data.y, torch.tensor(labels))
    assert data.x.dtype == torch.uint8 and torch.equal(data.x, torch.tensor(images, dtype=torch.uint8).unsqueeze(1))
    assert torch.allclose(
        (data.floats() + 1) * 127.5, torch.tensor(images, dtype=torch.float32).unsqueeze(1), atol=1e-4
    )
    if compress:
        assert "md5 DIFFERS from the official file" in data.source
    with pytest.raises(FileNotFoundError, match="split train"):
        load("mnist", data_dir=tmp_path, split="train")


def test_idx_reader_rejects_truncated_and_foreign_files(tmp_path):
    write_idx(tmp_path / "ok", np.zeros((2, 3), np.uint8), False)
    (tmp_path / "short").write_bytes((tmp_path / "ok").read_bytes()[:-1])
    (tmp_path / "foreign").write_bytes(b"PK\x03\x04 not idx")
    assert read_idx(tmp_path / "ok").shape == (2, 3)
    with pytest.raises(ValueError, match="header says"):
        read_idx(tmp_path / "short")
    with pytest.raises(ValueError, match="magic"):
        read_idx(tmp_path / "foreign")


def test_mnist_offline_without_files_says_how_to_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="--data-dir"):
        load("mnist", data_dir=tmp_path)


@pytest.mark.skipif(not SHARED_MNIST.exists(), reason="the shared MNIST test split is not next to this checkout")
def test_real_mnist_test_split_is_verified():
    data = load("mnist", data_dir=SHARED_MNIST)
    assert len(data) == 10_000 and data.split == "test"
    assert data.source.count("md5 matches the official file") == 2
    assert torch.bincount(data.y).tolist()[:2] == [980, 1135]  # the known class counts of the test split


def test_sampler_is_seeded_and_covers_each_epoch():
    data = load("digits")
    a = BatchSampler(data, seed=3, device=torch.device("cpu"))
    b = BatchSampler(data, seed=3, device=torch.device("cpu"))
    epoch = torch.cat([a.indices(100) for _ in range(math.ceil(len(data) / 100))])[: len(data)]
    assert torch.equal(epoch.sort().values, torch.arange(len(data)))
    assert torch.equal(torch.cat([b.indices(100) for _ in range(18)])[: len(data)], epoch)
    ones = BatchSampler(data, seed=0, device=torch.device("cpu")).sample(64, label=1)
    assert (ones.y == 1).all()


def test_images_held_as_pixels_are_read_in_the_datasets_range():
    """uint8 storage (CIFAR-10, MNIST, CelebA) reads exactly as the float32 loaders did (x / 127.5 - 1), and in
    [0, 1] where a protocol says so; points are never pixels."""
    from ganzoo.data import Data, DataKind, DatasetInfo

    pixels = torch.arange(256, dtype=torch.uint8).reshape(4, 1, 8, 8)
    info = DatasetInfo(kind=DataKind.UNCONDITIONAL, shape=(1, 8, 8))
    data = Data(name="p", info=info, x=pixels, y=None, split="train", source="test")
    assert torch.equal(data.floats(), pixels.float() / 127.5 - 1.0)  # bit for bit: the numbers of float loaders
    assert torch.equal(data.floats(torch.tensor([2])), data.floats()[2:3])
    unit = Data(name="p", info=replace(info, value_range=(0.0, 1.0)), x=pixels, y=None, split="train", source="t")
    assert torch.equal(unit.floats(), pixels.float() / 255) and unit.content_hash != data.content_hash
    with pytest.raises(ValueError, match="only images may be held as uint8"):
        Data(
            name="q",
            info=DatasetInfo(kind=DataKind.UNCONDITIONAL, shape=(2,)),
            x=pixels.reshape(-1, 2),
            y=None,
            split="train",
            source="t",
        )
    with pytest.raises(ValueError, match="low < high"):
        DatasetInfo(kind=DataKind.UNCONDITIONAL, shape=(1, 8, 8), value_range=(1.0, 0.0))


def test_pretrained_features_see_the_same_pixels_whichever_range_the_data_is_read_in():
    from ganzoo.metrics.features import FeatureSpace

    pixels = torch.randint(0, 256, (5, 3, 8, 8), generator=torch.Generator().manual_seed(0)).to(torch.uint8)
    space = FeatureSpace("inception", "inception-v3-compat", None, "", "2048", "")  # type: ignore[arg-type]
    signed = space.prepare(pixels.float() / 127.5 - 1)
    unit = replace(space, value_range=(0.0, 1.0)).prepare(pixels.float() / 255)
    assert torch.equal(signed, pixels) and torch.equal(unit, pixels)
    assert not torch.equal(space.prepare(pixels.float() / 255), pixels)  # the range ignored: other pixels


def test_the_unit_range_token_is_the_cores_and_refused_where_there_are_no_images(tmp_path):
    from click.testing import CliRunner

    from ganzoo.cli import main
    from ganzoo.config import DataSource
    from ganzoo.factory import dataset_info, load_data

    assert dataset_info("digits:unit-range").value_range == (0.0, 1.0)
    digits = load_data(DataSource("digits:unit-range", None, "auto", False))
    plain = load_data(DataSource("digits", None, "auto", False))
    assert digits.name == "digits:unit-range" and torch.allclose(digits.floats(), (plain.floats() + 1) / 2)
    result = CliRunner().invoke(main, ["bench", "--dataset", "ring8:unit-range", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "unit-range reads images in [0, 1]" in result.output
    assert len(result.output.strip().splitlines()) == 1 and not (tmp_path / "o").exists()
