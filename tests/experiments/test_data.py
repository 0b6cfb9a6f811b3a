"""Dataset readers: IDX and CIFAR-10 files written here in the original formats read back exactly; every
damaged, missing or mismatching file gives a DataError naming it; digits and the 80/20 split; real MNIST."""

from __future__ import annotations

import gzip
import os
import pickle
import shutil
import tarfile

import numpy as np
import pytest

from experiments import _data
from experiments._data import DataError, Dataset, load_dataset, resolve_data_dir, train_val_split

IDX = _data.IDX_FILES


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    """No test sees the caller's MBP_DATA_DIR or a system-wide Fashion-MNIST."""
    monkeypatch.delenv("MBP_DATA_DIR", raising=False)
    monkeypatch.setattr(_data, "FASHION_SYSTEM_DIR", tmp_path / "no-system-fashion")


# ------------------------------------------------------------------------------------------------ writers


def idx_bytes(arr: np.ndarray) -> bytes:
    """An uncompressed IDX file: magic 0x0000 08 ndim (unsigned bytes), big-endian int32 dims, then data."""
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    head = (0x0800 | arr.ndim).to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return head + arr.tobytes()


def write_idx_set(folder, n_train=12, n_test=5, shape=(28, 28), seed=0):
    """The four archives in ``folder``; returns the raw uint8 arrays written."""
    g = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train_x": g.integers(0, 256, (n_train, *shape), dtype=np.uint8),
        "train_y": g.integers(0, 10, n_train, dtype=np.uint8),
        "test_x": g.integers(0, 256, (n_test, *shape), dtype=np.uint8),
        "test_y": g.integers(0, 10, n_test, dtype=np.uint8),
    }
    arrays["train_x"][0, 0, 0], arrays["train_x"][0, 0, 1] = 0, 255  # both ends of the pixel range
    for role, arr in arrays.items():
        (folder / IDX[role]).write_bytes(gzip.compress(idx_bytes(arr)))
    return arrays


def cifar_batch(n, seed, label="training batch"):
    """A batch in the original layout: a protocol-2 pickle of a dict with bytes keys (as Python 2 wrote it)."""
    g = np.random.default_rng(seed)
    data = g.integers(0, 256, (n, 3072), dtype=np.uint8)
    data[:, :1024] //= 2  # give the channels different statistics
    data[:, 2048:] = 128 + data[:, 2048:] // 4
    labels = [int(v) for v in g.integers(0, 10, n)]
    d = {
        b"batch_label": label.encode(),
        b"labels": labels,
        b"data": data,
        b"filenames": [f"img_{seed}_{i}.png".encode() for i in range(n)],
    }
    return pickle.dumps(d, protocol=2), data, np.array(labels)


def write_cifar(root, sizes=(6, 5, 7, 4, 6), n_test=5):
    """cifar-10-batches-py/ and cifar-10-python.tar.gz under ``root``; returns (train_x, train_y, test_x, test_y)."""
    folder = root / _data.CIFAR_DIR
    folder.mkdir(parents=True)
    xs, ys = [], []
    for i, n in enumerate(sizes, start=1):
        blob, x, y = cifar_batch(n, seed=i)
        (folder / f"data_batch_{i}").write_bytes(blob)
        xs.append(x)
        ys.append(y)
    blob, tx, ty = cifar_batch(n_test, seed=99, label="testing batch")
    (folder / "test_batch").write_bytes(blob)
    (folder / "batches.meta").write_bytes(pickle.dumps({b"label_names": [b"c%d" % k for k in range(10)]}, 2))
    with tarfile.open(root / _data.CIFAR_TAR, "w:gz") as tar:
        tar.add(folder, arcname=_data.CIFAR_DIR)
    return np.concatenate(xs), np.concatenate(ys), tx, ty


def cifar_expected(train_x, x):
    tr = train_x.reshape(len(train_x), 3, 1024).astype(np.float64)
    mean, std = tr.mean(axis=(0, 2)), tr.std(axis=(0, 2))
    return ((x.reshape(len(x), 3, 1024) - mean[None, :, None]) / std[None, :, None]).reshape(len(x), 3072)


# ----------------------------------------------------------------------------------------------- IDX files


def test_idx_round_trip_fashion(tmp_path):
    arrays = write_idx_set(tmp_path / "fashion-mnist")
    for where in (tmp_path / "fashion-mnist", tmp_path):  # the folder itself or its parent
        ds = load_dataset("fashion-mnist", where, verify=False)
        assert isinstance(ds, Dataset) and ds.name == "fashion-mnist"
        assert ds.input_dim == 784 and ds.n_classes == 10 and ds.source == str(tmp_path / "fashion-mnist")
        for split in ("train", "test"):
            x, y = getattr(ds, f"{split}_x"), getattr(ds, f"{split}_y")
            raw = arrays[f"{split}_x"].reshape(len(y), -1).astype(np.float64)
            assert x.dtype == np.float32 and x.shape == raw.shape and y.dtype == np.int64
            np.testing.assert_allclose(x, raw / 127.5 - 1.0, atol=1e-6)
            np.testing.assert_array_equal(y, arrays[f"{split}_y"])
        assert ds.train_x.min() == -1.0 and ds.train_x.max() == 1.0


def test_idx_header_dims_and_env_var(tmp_path, monkeypatch):
    """Dimensions come from the big-endian header (here 5x3 images); MBP_DATA_DIR is honoured."""
    arrays = write_idx_set(tmp_path / "mnist", n_train=4, n_test=2, shape=(5, 3))
    monkeypatch.setenv("MBP_DATA_DIR", str(tmp_path))
    assert resolve_data_dir("mnist", None) == tmp_path / "mnist"
    ds = load_dataset("mnist", verify=False)
    assert ds.input_dim == 15 and ds.train_x.shape == (4, 15) and ds.test_x.shape == (2, 15)
    np.testing.assert_allclose(ds.test_x, arrays["test_x"].reshape(2, 15) / 127.5 - 1.0, atol=1e-6)


def test_fashion_verify_checks_counts(tmp_path):
    write_idx_set(tmp_path)
    with pytest.raises(DataError, match="60000"):
        load_dataset("fashion-mnist", tmp_path)


def test_fashion_system_dir(tmp_path, monkeypatch):
    system = tmp_path / "usr-share-datasets-fashion-mnist"
    write_idx_set(system)
    monkeypatch.setattr(_data, "FASHION_SYSTEM_DIR", system)
    assert resolve_data_dir("fashion-mnist", None) == system
    assert load_dataset("fashion-mnist", verify=False).source == str(system)


def test_mnist_corrupted_byte_fails_sha256(tmp_path):
    """A valid archive under an MNIST name, one byte flipped: rejected by its hash before it is parsed."""
    write_idx_set(tmp_path)
    path = tmp_path / IDX["train_x"]
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    path.write_bytes(bytes(blob))
    with pytest.raises(DataError) as err:
        load_dataset("mnist", tmp_path)
    msg = str(err.value)
    assert "SHA-256" in msg and str(path) in msg and _data.MNIST_SHA256[IDX["train_x"]] in msg
    assert len(msg.splitlines()) <= 2


def test_missing_file_named_with_directory(tmp_path):
    write_idx_set(tmp_path / "mnist")
    (tmp_path / "mnist" / IDX["test_y"]).unlink()
    with pytest.raises(DataError) as err:
        load_dataset("mnist", tmp_path, verify=False)
    msg = str(err.value)
    assert IDX["test_y"] in msg and IDX["train_x"] not in msg
    assert str(tmp_path / "mnist") in msg and "--data-dir" in msg and "MBP_DATA_DIR" in msg
    assert len(msg.splitlines()) <= 2


def test_missing_everything(tmp_path):
    with pytest.raises(DataError) as err:
        load_dataset("fashion-mnist", tmp_path / "nowhere", verify=False)
    msg = str(err.value)
    assert all(f in msg for f in IDX.values()) and str(tmp_path / "nowhere") in msg
    assert "apt-get install dataset-fashion-mnist" in msg
    with pytest.raises(DataError, match="MBP_DATA_DIR"):
        load_dataset("mnist")  # nothing configured


@pytest.mark.parametrize("damage", ["truncated", "not-gzip", "bad-magic", "short-body", "bad-label"])
def test_damaged_idx_gives_data_error(tmp_path, damage):
    arrays = write_idx_set(tmp_path)
    path = tmp_path / IDX["train_x"]
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "not-gzip":
        path.write_bytes(b"<html>not found</html>")
    elif damage == "bad-magic":
        path.write_bytes(gzip.compress(b"\x00\x00\x08\x01" + idx_bytes(arrays["train_x"])[4:]))
    elif damage == "short-body":
        path.write_bytes(gzip.compress(idx_bytes(arrays["train_x"])[:-10]))
    else:
        path = tmp_path / IDX["train_y"]
        path.write_bytes(gzip.compress(idx_bytes(np.full(12, 10, np.uint8))))
    with pytest.raises(DataError) as err:
        load_dataset("fashion-mnist", tmp_path, verify=False)
    assert str(path) in str(err.value)


# ------------------------------------------------------------------------------------------------ CIFAR-10


def test_cifar_tar_and_directory(tmp_path):
    tr_x, tr_y, te_x, te_y = write_cifar(tmp_path)
    from_tar = load_dataset("cifar10", tmp_path / _data.CIFAR_TAR, verify=False)
    from_dir = load_dataset("cifar10", tmp_path / _data.CIFAR_DIR, verify=False)
    for ds in (from_tar, from_dir):
        assert ds.name == "cifar10" and ds.input_dim == 3072 and ds.n_classes == 10
        assert ds.train_x.shape == (28, 3072) and ds.test_x.shape == (5, 3072)
        assert ds.train_x.dtype == np.float32 and ds.train_y.dtype == np.int64
        np.testing.assert_array_equal(ds.train_y, tr_y)
        np.testing.assert_array_equal(ds.test_y, te_y)
        np.testing.assert_allclose(ds.train_x, cifar_expected(tr_x, tr_x), atol=1e-5)
        np.testing.assert_allclose(ds.test_x, cifar_expected(tr_x, te_x), atol=1e-5)
        per_channel = ds.train_x.reshape(-1, 3, 1024).astype(np.float64)
        np.testing.assert_allclose(per_channel.mean(axis=(0, 2)), 0.0, atol=1e-5)
        np.testing.assert_allclose(per_channel.std(axis=(0, 2)), 1.0, atol=1e-5)
    assert from_tar.source == str(tmp_path / _data.CIFAR_TAR)
    # A parent folder: the extracted batches are preferred; with only the archive, it is read in place.
    assert resolve_data_dir("cifar10", tmp_path) == tmp_path / _data.CIFAR_DIR
    shutil.rmtree(tmp_path / _data.CIFAR_DIR)
    assert resolve_data_dir("cifar10", tmp_path) == tmp_path / _data.CIFAR_TAR
    again = load_dataset("cifar10", tmp_path, verify=False)
    np.testing.assert_array_equal(again.train_x, from_dir.train_x)
    assert sorted(os.listdir(tmp_path)) == [_data.CIFAR_TAR]  # nothing extracted to disk


def test_cifar_checksum_failure(tmp_path):
    write_cifar(tmp_path)
    for where in (tmp_path / _data.CIFAR_DIR, tmp_path / _data.CIFAR_TAR):
        with pytest.raises(DataError) as err:
            load_dataset("cifar10", where, verify=True)
        msg = str(err.value)
        assert "MD5" in msg and "data_batch_1" in msg and _data.CIFAR10_MD5["data_batch_1"][1] in msg


def test_cifar_damaged(tmp_path):
    write_cifar(tmp_path)
    tar = tmp_path / _data.CIFAR_TAR
    tar.write_bytes(tar.read_bytes()[:200])
    with pytest.raises(DataError, match="tar"):
        load_dataset("cifar10", tar, verify=False)
    folder = tmp_path / _data.CIFAR_DIR
    (folder / "data_batch_3").write_bytes(b"garbage")
    with pytest.raises(DataError, match="data_batch_3"):
        load_dataset("cifar10", folder, verify=False)
    (folder / "test_batch").unlink()
    with pytest.raises(DataError) as err:
        load_dataset("cifar10", folder, verify=False)
    assert "test_batch" in str(err.value) and str(folder) in str(err.value)


def test_cifar_rejects_foreign_pickle(tmp_path):
    write_cifar(tmp_path)
    evil = pickle.dumps({b"data": os.getcwd, b"labels": []}, protocol=2)  # a global outside the allow-list
    (tmp_path / _data.CIFAR_DIR / "data_batch_2").write_bytes(evil)
    with pytest.raises(DataError, match="data_batch_2"):
        load_dataset("cifar10", tmp_path / _data.CIFAR_DIR, verify=False)


# ---------------------------------------------------------------------------------------- digits and split


def test_digits():
    ds = load_dataset("digits")
    assert resolve_data_dir("digits", "/anything") is None
    assert ds.train_x.shape == (1198, 64) and ds.test_x.shape == (599, 64) and ds.input_dim == 64
    assert ds.train_x.dtype == np.float32 and ds.train_y.dtype == np.int64 and ds.source == "sklearn digits"
    for x in (ds.train_x, ds.test_x):
        assert x.min() >= -1.0 and x.max() <= 1.0
    assert ds.train_x.min() == -1.0 and ds.train_x.max() == 1.0
    assert set(np.unique(ds.train_y)) == set(range(10)) and set(np.unique(ds.test_y)) == set(range(10))
    np.testing.assert_array_equal(load_dataset("digits").test_y, ds.test_y)  # the hold-out is fixed


def test_train_val_split():
    tr, va = train_val_split(60000, seed=0)
    assert (len(tr), len(va)) == (48000, 12000) and tr.dtype == np.int64
    assert len(np.union1d(tr, va)) == 60000 and len(np.intersect1d(tr, va)) == 0
    tr2, va2 = train_val_split(60000, seed=0)
    np.testing.assert_array_equal(tr, tr2)
    np.testing.assert_array_equal(va, va2)
    assert not np.array_equal(va, train_val_split(60000, seed=1)[1])
    assert [len(p) for p in train_val_split(1797, 3)] == [1438, 359]
    assert [len(p) for p in train_val_split(10, 3, fraction=0.5)] == [5, 5]
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError):
            train_val_split(100, 0, fraction=bad)
    with pytest.raises(ValueError):
        train_val_split(1, 0)


def test_unknown_dataset():
    with pytest.raises(ValueError, match="cifar100"):
        load_dataset("cifar100")


# ------------------------------------------------------------------------------------------- real MNIST


@pytest.mark.realdata
def test_real_mnist(mnist_dir):
    ds = load_dataset("mnist", mnist_dir)
    assert ds.train_x.shape == (60000, 784) and ds.test_x.shape == (10000, 784) and ds.input_dim == 784
    assert ds.train_y.shape == (60000,) and ds.test_y.shape == (10000,)
    assert ds.train_x.dtype == np.float32 and ds.train_y.dtype == np.int64
    for x in (ds.train_x, ds.test_x):
        assert x.min() == -1.0 and x.max() == 1.0
    assert set(np.unique(ds.train_y)) == set(range(10))
    assert np.bincount(ds.test_y).tolist()[:2] == [980, 1135]  # the official test set's first two classes
    tr, va = train_val_split(len(ds.train_y), seed=0)
    assert (len(tr), len(va)) == (48000, 12000)
    if mnist_dir.name == "mnist":  # the parent folder works as well
        assert resolve_data_dir("mnist", mnist_dir.parent) == mnist_dir


@pytest.mark.realdata
def test_real_mnist_flipped_byte(mnist_dir, tmp_path):
    for name in IDX.values():
        (tmp_path / name).symlink_to(mnist_dir / name)
    target = tmp_path / IDX["test_y"]
    blob = bytearray(target.read_bytes())
    target.unlink()
    blob[100] ^= 0x01
    target.write_bytes(bytes(blob))
    with pytest.raises(DataError) as err:
        load_dataset("mnist", tmp_path)
    msg = str(err.value)
    assert "SHA-256" in msg and str(target) in msg and _data.MNIST_SHA256[IDX["test_y"]] in msg
