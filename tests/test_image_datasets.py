"""CIFAR-10/100 from the official binary version and Fashion-MNIST from its idx files, with files the tests make in
those exact formats: records read as the format says (the wrong byte order of a record is caught), the archive read
member by member after its md5 is checked, and every broken input one line, exit 2, nothing written."""

from __future__ import annotations

import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from conftest import cifar10_folder as _cifar10_folder
from conftest import cifar_records as _records

from ganzoo.cli import main
from ganzoo_plugins.datasets.cifar import CIFAR10, CIFAR100, md5_of
from ganzoo_plugins.datasets.mnist import FashionMNIST


def test_cifar10_reads_the_binary_records_channel_by_channel(tmp_path):
    x, y = _cifar10_folder(tmp_path)
    data = CIFAR10.load(name="cifar10", data_dir=tmp_path, split="train", download=False)
    assert (
        data.x.shape == (20, 3, 32, 32)
        and data.split == "train"
        and torch.equal(data.y, torch.from_numpy(y.astype(np.int64)))
    )
    assert data.x.dtype == torch.uint8  # held as pixels, read in [-1, 1]
    expected = torch.from_numpy(x).float() / 127.5 - 1
    assert torch.equal(data.floats(), expected)
    # the classic wrong version: the 3,072 bytes read as 32 x 32 x 3 (interleaved pixels) gives other images
    wrong = torch.from_numpy(x.reshape(20, -1).reshape(20, 32, 32, 3).transpose(0, 3, 1, 2).copy()).float() / 127.5 - 1
    assert not torch.allclose(data.floats(), wrong)
    test = CIFAR10.load(name="cifar10", data_dir=tmp_path, split="test", download=False)
    assert len(test) == 4 and test.split == "test"


def test_cifar100_uses_the_fine_label_after_the_coarse_one(tmp_path):
    folder = tmp_path / "cifar-100-binary"
    folder.mkdir()
    raw, _, y = _records(6, 2, 100)
    (folder / "train.bin").write_bytes(raw)
    data = CIFAR100.load(name="cifar100", data_dir=tmp_path, split="train", download=False)
    assert data.info.num_classes == 100 and torch.equal(data.y, torch.from_numpy(y.astype(np.int64)))


def _archive(tmp_path: Path) -> Path:
    source = tmp_path / "src"
    _cifar10_folder(source)
    archive = tmp_path / "data" / "cifar-10-binary.tar.gz"
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(source / "cifar-10-batches-bin", arcname="cifar-10-batches-bin")
    return archive


def test_the_archive_is_read_in_place_once_its_md5_is_the_published_one(tmp_path, monkeypatch):
    archive = _archive(tmp_path)
    with pytest.raises(ValueError, match=f"md5 {md5_of(archive)}, expected c32a1d4ab5d03f1284b67883e8d87530"):
        CIFAR10.load(name="cifar10", data_dir=archive.parent, split="train", download=False)
    monkeypatch.setattr(CIFAR10, "md5", md5_of(archive))  # the test's own archive stands in for the published one
    data = CIFAR10.load(name="cifar10", data_dir=archive.parent, split="train", download=False)
    assert len(data) == 20 and "md5 matches" in data.source
    assert sorted(p.name for p in archive.parent.iterdir()) == ["cifar-10-binary.tar.gz"]  # nothing extracted


def test_fashion_mnist_reads_its_idx_files_and_knows_its_md5s(tmp_path):
    from conftest import idx_gz as idx

    rng = np.random.default_rng(0)
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(idx(rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)))
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(idx(rng.integers(0, 10, 5, dtype=np.uint8)))
    data = FashionMNIST.load(name="fashion-mnist", data_dir=tmp_path, split="auto", download=False)
    assert (len(data), data.split, data.name) == (5, "test", "fashion-mnist")
    assert "md5 DIFFERS from the official file" in data.source  # not Zalando's files, and said so
    assert (
        FashionMNIST.official_md5["t10k-images-idx3-ubyte.gz"]
        != FashionMNIST.__mro__[1].official_md5["t10k-images-idx3-ubyte.gz"]
    )


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda t: None, "no CIFAR-10 binary files for split train"),
        (
            lambda t: (
                _cifar10_folder(t) and (t / "cifar-10-batches-bin" / "data_batch_3.bin").write_bytes(b"\0" * 3000)
            ),
            "data_batch_3.bin: 3000 bytes, not a whole number of 3073-byte records",
        ),
        (
            lambda t: (t / "cifar-10-binary.tar.gz").write_bytes(b"not a download"),
            "expected c32a1d4ab5d03f1284b67883e8d87530",
        ),
    ],
)
def test_broken_cifar_input_is_one_line_and_writes_nothing(tmp_path, make, message):
    data = tmp_path / "data"
    data.mkdir()
    make(data)
    out = tmp_path / "b"
    result = CliRunner().invoke(
        main,
        [
            "bench",
            "--dataset",
            "cifar10",
            "--data-dir",
            str(data),
            "--no-download",
            "--split",
            "train",
            "--variants",
            "dcgan",
            "--budget",
            "1steps",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 2 and message in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1 and not out.exists(), result.output


def test_a_downloaded_archive_whose_md5_differs_is_named_and_not_kept(tmp_path, monkeypatch):
    import torchvision.datasets.utils as tv

    def fake_download(url, root, filename, md5=None):
        Path(root, filename).write_bytes(b"a page that is not the archive")

    monkeypatch.setattr(tv, "download_url", fake_download)
    with pytest.raises(ValueError, match="cifar-10-binary.tar.gz: md5 .*, expected c32a1d4ab5d03f1284b67883e8d87530"):
        CIFAR10.load(name="cifar10", data_dir=tmp_path, split="train", download=True)
    assert not (tmp_path / "cifar-10-binary.tar.gz").exists()
