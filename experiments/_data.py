"""Dataset readers for the experiments, without network access.

``load_dataset(name, data_dir)`` returns a :class:`Dataset` for ``digits`` (scikit-learn's embedded 8x8
set), ``mnist``, ``fashion-mnist`` (the four IDX ``.gz`` archives) or ``cifar10`` (the standard
``cifar-10-python.tar.gz``, read in place, or its extracted ``cifar-10-batches-py/``).  Every problem with
the files on disk -- missing, truncated, corrupt, wrong checksum -- raises :class:`DataError`, whose message
says which file, where it was looked for and what to do; the CLI prints it and exits with status 2.

Where the files are (:func:`resolve_data_dir`): ``data_dir`` (``--data-dir``), else ``$MBP_DATA_DIR``; either
may be the folder holding the files or a parent holding ``mnist/``, ``fashion-mnist/``,
``cifar-10-batches-py/`` or ``cifar-10-python.tar.gz``.  Fashion-MNIST is also looked for in
``/usr/share/datasets/fashion-mnist`` (Debian's ``dataset-fashion-mnist``).

Checks with ``verify=True`` (the default): SHA-256 of each MNIST archive against :data:`MNIST_SHA256`;
Fashion-MNIST has no known hash, so its IDX headers and counts (60,000 / 10,000 images of 28x28) are checked;
size and MD5 of each CIFAR-10 batch against :data:`CIFAR10_MD5`.  Headers, lengths, label ranges and
image/label counts are always checked.  ``verify=False`` is meant for small synthetic test files.

Preprocessing (the paper's protocol):

- MNIST / Fashion-MNIST: pixels flattened to 784 features, scaled from 0..255 to [-1, 1].
- CIFAR-10: 3072 features (channel-major, as stored), each colour channel standardised with the mean and
  standard deviation of that channel over the official training set (the same constants for the test set).
- digits: 64 features with values 0..16 scaled to [-1, 1].  The set has no official split, so a fixed
  hold-out is used: a permutation drawn from ``numpy.random.default_rng(DIGITS_SPLIT_SEED)`` (seed 0) puts
  its first ``round(n / 3)`` images (599 of 1,797) in the test set and the other 1,198 in the training set.

:func:`train_val_split` is the paper's seeded 80/20 split of the official training set
(m = 48,000 training and 12,000 validation images for MNIST).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import tarfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "DataError",
    "Dataset",
    "DATASETS",
    "ENV_VAR",
    "FASHION_SYSTEM_DIR",
    "MNIST_SHA256",
    "CIFAR10_MD5",
    "DIGITS_SPLIT_SEED",
    "resolve_data_dir",
    "load_dataset",
    "train_val_split",
    "authors_split",
    "split_for",
]

DATASETS = ("digits", "mnist", "fashion-mnist", "cifar10")
ENV_VAR = "MBP_DATA_DIR"
FASHION_SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")  # Debian's dataset-fashion-mnist
DIGITS_SPLIT_SEED = 0

IDX_FILES = {  # role -> archive name (the same names for MNIST and Fashion-MNIST)
    "train_x": "train-images-idx3-ubyte.gz",
    "train_y": "train-labels-idx1-ubyte.gz",
    "test_x": "t10k-images-idx3-ubyte.gz",
    "test_y": "t10k-labels-idx1-ubyte.gz",
}
IDX_MAGIC_IMAGES = 2051  # 0x00000803: unsigned bytes, 3 dimensions
IDX_MAGIC_LABELS = 2049  # 0x00000801: unsigned bytes, 1 dimension
IDX_COUNTS = {"train": 60000, "test": 10000}

# SHA-256 of the original MNIST archives (shared/data/mnist/SHA256SUMS).
MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}

CIFAR_TAR = "cifar-10-python.tar.gz"
CIFAR_DIR = "cifar-10-batches-py"
CIFAR_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR_TEST = "test_batch"
# (size in bytes, MD5) of the original pickled batches inside cifar-10-python.tar.gz.
CIFAR10_MD5 = {
    "data_batch_1": (31035704, "c99cafc152244af753f735de768cd75f"),
    "data_batch_2": (31035320, "d4bba439e000b95fd0a9bffe97cbabec"),
    "data_batch_3": (31035999, "54ebc095f3ab1f0389bbae665268c751"),
    "data_batch_4": (31035696, "634d18415352ddfa80567beed471001a"),
    "data_batch_5": (31035623, "482c414d41f54cd18b22e5b47cb7c3cb"),
    "test_batch": (31035526, "40351d587109b95175f43aff81a1287e"),
}
CIFAR_TAR_MD5 = (170498071, "c58f30108f718f92721af3b95e74349a")  # the archive itself (for reference)
# The released code's CIFAR-10 normalisation (pl_bolts cifar10_normalization), in units of 0..255.
AUTHORS_CIFAR_MEAN = (125.3, 123.0, 113.9)
AUTHORS_CIFAR_STD = (63.0, 62.1, 66.7)

# Dataset subfolders of a parent data folder (the last ones: torchvision's layout).
_SUBDIRS = {"mnist": ("mnist", "MNIST/raw"), "fashion-mnist": ("fashion-mnist", "fashion_mnist", "FashionMNIST/raw")}
_TITLES = {"digits": "digits", "mnist": "MNIST", "fashion-mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}
_FIX = f"Fix: pass --data-dir DIR (or set {ENV_VAR}) to the folder holding the files or to its parent"


class DataError(Exception):
    """A dataset file is missing, truncated, corrupt or fails its checksum (message: which file, where, fix)."""


@dataclass(eq=False)
class Dataset:
    """Preprocessed arrays: ``*_x`` float32 (N, input_dim), ``*_y`` int64 (N,) with values in 0..n_classes-1.

    ``train_*`` is the official training set (split 80/20 by :func:`train_val_split`), ``test_*`` the test
    set; ``source`` is the folder or archive read, or ``"sklearn digits"``.
    """

    train_x: np.ndarray = field(repr=False)
    train_y: np.ndarray = field(repr=False)
    test_x: np.ndarray = field(repr=False)
    test_y: np.ndarray = field(repr=False)
    name: str
    input_dim: int
    n_classes: int = 10
    source: str = ""

    def __repr__(self) -> str:
        return (
            f"Dataset({self.name!r}, train {self.train_x.shape}, test {self.test_x.shape}, "
            f"n_classes={self.n_classes}, source={self.source!r})"
        )


# ----------------------------------------------------------------------------------------------- locating


def _check_name(dataset: str) -> str:
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}")
    return dataset


def _base_dir(data_dir) -> Path | None:
    raw = os.fspath(data_dir) if data_dir is not None else os.environ.get(ENV_VAR, "")
    return Path(raw).expanduser() if raw else None


def _candidates(dataset: str, data_dir) -> list[Path]:
    """Places searched, in order of preference (the configured folder, then its dataset subfolders)."""
    base = _base_dir(data_dir)
    out: list[Path] = []
    if base is not None:
        if dataset == "cifar10":
            out += [base, base / CIFAR_DIR, base / CIFAR_TAR]
        else:
            out += [base] + [base / sub for sub in _SUBDIRS[dataset]]
    if dataset == "fashion-mnist":
        out.append(FASHION_SYSTEM_DIR)
    return out


def _score(dataset: str, p: Path) -> int:
    """How many of the dataset's files ``p`` holds (an archive counts as all of them)."""
    if dataset == "cifar10":
        if p.is_file():
            return 6 if p.name.endswith((".tar.gz", ".tgz", ".tar")) else 0  # ties go to a folder
        return sum((p / n).is_file() for n in CIFAR_TRAIN + (CIFAR_TEST,)) if p.is_dir() else 0
    return sum((p / f).is_file() for f in IDX_FILES.values()) if p.is_dir() else 0


def resolve_data_dir(dataset: str, data_dir: str | os.PathLike | None) -> Path | None:
    """Where ``dataset`` is read from: ``data_dir``, else ``$MBP_DATA_DIR``, or a dataset subfolder of it.

    ``data_dir`` may be the folder holding the files or a parent holding ``mnist/``, ``fashion-mnist/``,
    ``cifar-10-batches-py/`` or ``cifar-10-python.tar.gz``; Fashion-MNIST is also looked for in
    ``/usr/share/datasets/fashion-mnist``.  For CIFAR-10 the result is the batch folder or the ``.tar.gz``
    itself (extracted batches preferred).  Returns ``None`` for ``digits`` (embedded in scikit-learn).
    When no candidate holds the files the most plausible one is returned and :func:`load_dataset` reports
    what is missing there; with nothing configured at all (MNIST, CIFAR-10) :class:`DataError` is raised.
    """
    _check_name(dataset)
    if dataset == "digits":
        return None
    cands = _candidates(dataset, data_dir)
    if not cands:
        what = (
            f"{CIFAR_DIR}/ or {CIFAR_TAR}"
            if dataset == "cifar10"
            else f"the four IDX .gz archives, or {_SUBDIRS[dataset][0]}/"
        )
        raise DataError(
            f"{_TITLES[dataset]}: no data folder given (no --data-dir, {ENV_VAR} unset).\n{_FIX} (holding {what})."
        )
    scores = [_score(dataset, p) for p in cands]
    best = max(range(len(cands)), key=lambda i: (scores[i], -i))
    if scores[best] == 0:  # nothing anywhere: report against the first existing folder, else the first
        best = next((i for i, p in enumerate(cands) if p.is_dir()), 0)
    return cands[best]


def _searched(dataset: str, data_dir, chosen: Path) -> str:
    note = "" if chosen.exists() else ", which does not exist"
    others = [str(p) for p in _candidates(dataset, data_dir) if p != chosen]
    return note + (f" (also looked in {', '.join(others)})" if others else "")


# ------------------------------------------------------------------------------------------------ IDX files


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DataError(
            f"cannot read {path}: {exc.strerror or exc}.\nFix: check the file's permissions "
            "or replace it with an intact copy."
        ) from None


def _gunzip(path: Path, raw: bytes) -> bytes:
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(
            f"{path} is not a complete gzip archive ({exc}).\nFix: the file is truncated or "
            "corrupt; replace it with the original archive."
        ) from None


def _parse_idx(path: Path, data: bytes, magic: int) -> np.ndarray:
    """Array of an uncompressed IDX file (big-endian int32 magic and dimensions, then unsigned bytes)."""
    kind = "images" if magic == IDX_MAGIC_IMAGES else "labels"
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    bad = f"{path} is not an IDX {kind} file"
    fix = "\nFix: replace it with the original archive (IDX format, gzip-compressed)."
    if len(data) < header:
        raise DataError(f"{bad}: only {len(data)} bytes after decompression.{fix}")
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        raise DataError(f"{bad}: magic number {found}, expected {magic}.{fix}")
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    want = header + int(np.prod(dims, dtype=np.int64))
    if len(data) != want:
        raise DataError(f"{bad}: header dimensions {dims} need {want} bytes, file has {len(data)}.{fix}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def _load_idx(dataset: str, data_dir, verify: bool, preprocessing: str = "toolkit") -> Dataset:
    title = _TITLES[dataset]
    folder = resolve_data_dir(dataset, data_dir)
    assert folder is not None  # None only for "digits", which load_dataset never sends here
    missing = [f for f in IDX_FILES.values() if not (folder / f).is_file()]
    if missing:
        hint = (
            f"\nFix: apt-get install dataset-fashion-mnist (installs {FASHION_SYSTEM_DIR}), or pass "
            f"--data-dir DIR / set {ENV_VAR} to the folder holding the archives or its parent."
            if dataset == "fashion-mnist"
            else f"\n{_FIX} (holding {_SUBDIRS[dataset][0]}/)."
        )
        raise DataError(
            f"{title}: missing {', '.join(missing)} in {folder}{_searched(dataset, data_dir, folder)}.{hint}"
        )
    arrays = {}
    for role, fname in IDX_FILES.items():
        path = folder / fname
        raw = _read_bytes(path)
        if verify:
            digest = hashlib.sha256(raw).hexdigest()
            if dataset == "mnist" and digest != MNIST_SHA256[fname]:
                raise DataError(
                    f"{path} failed its SHA-256 check: expected {MNIST_SHA256[fname]}, found "
                    f"{digest}.\nFix: replace it with the original MNIST archive."
                )
            if dataset == "fashion-mnist" and digest in MNIST_SHA256.values():
                raise DataError(
                    f"{path} is the MNIST archive (SHA-256 {digest}), not Fashion-MNIST.\n"
                    "Fix: point --data-dir at the Fashion-MNIST folder."
                )
        magic = IDX_MAGIC_IMAGES if role.endswith("_x") else IDX_MAGIC_LABELS
        arrays[role] = _parse_idx(path, _gunzip(path, raw), magic)
    for split in ("train", "test"):
        x, y = arrays[f"{split}_x"], arrays[f"{split}_y"]
        xf, yf = folder / IDX_FILES[f"{split}_x"], folder / IDX_FILES[f"{split}_y"]
        if len(x) != len(y):
            raise DataError(
                f"{title}: {xf} holds {len(x)} images but {yf} holds {len(y)} labels.\n"
                "Fix: the archives come from different releases; replace them with the originals."
            )
        if verify and (len(x) != IDX_COUNTS[split] or x.shape[1:] != (28, 28)):
            raise DataError(
                f"{title}: {xf} holds {len(x)} images of {x.shape[1]}x{x.shape[2]}, expected "
                f"{IDX_COUNTS[split]} of 28x28.\nFix: replace it with the original archive."
            )
        if len(y) and int(y.max()) >= 10:
            raise DataError(
                f"{title}: {yf} has label {int(y.max())}, expected 0..9.\nFix: replace it with the original archive."
            )
    out = {}
    for split in ("train", "test"):
        x = arrays[f"{split}_x"]
        xs = x.reshape(len(x), -1).astype(np.float32)
        if preprocessing == "authors":  # torchvision ToTensor then Normalize(0.5, 0.5), in float32
            xs /= np.float32(255.0)
            xs -= np.float32(0.5)
            xs /= np.float32(0.5)
        else:
            xs *= np.float32(2.0 / 255.0)
            xs -= np.float32(1.0)
            np.clip(xs, -1.0, 1.0, out=xs)
        out[f"{split}_x"] = xs
        out[f"{split}_y"] = arrays[f"{split}_y"].astype(np.int64)
    return Dataset(**out, name=dataset, input_dim=int(out["train_x"].shape[1]), n_classes=10, source=str(folder))


# ----------------------------------------------------------------------------------------------- CIFAR-10


class _BatchUnpickler(pickle.Unpickler):
    """Unpickler for CIFAR batches: allows only what a batch holds (numpy arrays, dicts, lists, bytes)."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
        ("_codecs", "encode"),
    }

    def find_class(self, module, name):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"unexpected object {module}.{name} in a CIFAR batch")
        return super().find_class(module, name)


def _parse_batch(where: str, raw: bytes) -> tuple[np.ndarray, np.ndarray]:
    fix = f"\nFix: replace it with the file from the original {CIFAR_TAR}."
    try:
        obj = _BatchUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except Exception as exc:  # any unpickling failure means a damaged or foreign file
        raise DataError(f"{where} is not a readable CIFAR-10 batch ({type(exc).__name__}: {exc}).{fix}") from None
    if not isinstance(obj, dict):
        raise DataError(f"{where} is not a CIFAR-10 batch (a {type(obj).__name__}, expected a dict).{fix}")

    def get(key: str):  # Python 2 pickles (the originals) have bytes keys
        return obj.get(key.encode(), obj.get(key))

    data, labels = get("data"), get("labels")
    if data is None or labels is None:
        raise DataError(f"{where} has no 'data'/'labels' entries.{fix}")
    data = np.asarray(data)
    try:
        labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    except (TypeError, ValueError):
        raise DataError(f"{where}: 'labels' is not a list of integers.{fix}") from None
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise DataError(f"{where}: 'data' is {data.dtype} {data.shape}, expected uint8 N x 3072.{fix}")
    if len(labels) != len(data):
        raise DataError(f"{where}: {len(data)} images but {len(labels)} labels.{fix}")
    if len(labels) and (labels.min() < 0 or labels.max() >= 10):
        raise DataError(f"{where}: labels outside 0..9.{fix}")
    return data, labels


def _check_md5(where: str, name: str, raw: bytes) -> None:
    size, md5 = CIFAR10_MD5[name]
    found = hashlib.md5(raw).hexdigest()
    if len(raw) != size or found != md5:
        raise DataError(
            f"{where} failed its MD5 check: expected {md5} ({size} bytes), found {found} "
            f"({len(raw)} bytes).\nFix: replace it with the file from the original {CIFAR_TAR}."
        )


def _cifar_raw(source: Path, searched: str) -> dict[str, tuple[str, bytes]]:
    """name -> (where, bytes) for the six batches, from the extracted folder or straight from the archive."""
    names = CIFAR_TRAIN + (CIFAR_TEST,)
    if source.is_file():
        found: dict[str, tuple[str, bytes]] = {}
        try:
            with tarfile.open(source, "r:*") as tar:
                for member in tar:
                    base = member.name.rsplit("/", 1)[-1]
                    if member.isfile() and base in names and base not in found:
                        fh = tar.extractfile(member)
                        assert fh is not None  # a regular file's member always has one
                        found[base] = (f"{source}:{member.name}", fh.read())
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise DataError(
                f"{source} is not a complete tar archive ({exc}).\nFix: the file is truncated or "
                f"corrupt; replace it with the original {CIFAR_TAR}."
            ) from None
        missing = [n for n in names if n not in found]
        if missing:
            raise DataError(
                f"CIFAR-10: {source} lacks {', '.join(missing)}.\nFix: replace it with the original {CIFAR_TAR}."
            )
        return found
    missing = [n for n in names if not (source / n).is_file()]
    if missing:
        raise DataError(
            f"CIFAR-10: missing {', '.join(missing)} in {source}{searched}.\n{_FIX} "
            f"(holding {CIFAR_DIR}/ or {CIFAR_TAR})."
        )
    return {n: (str(source / n), _read_bytes(source / n)) for n in names}


def _channel_stats(train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact per-channel mean and standard deviation of uint8 rows (N, 3072), from byte histograms."""
    chans = train.reshape(len(train), 3, 1024)
    levels = np.arange(256, dtype=np.float64)
    mean, std = np.empty(3), np.empty(3)
    for c in range(3):
        hist = np.bincount(chans[:, c, :].ravel(), minlength=256).astype(np.float64)
        mean[c] = (hist * levels).sum() / hist.sum()
        var = (hist * (levels - mean[c]) ** 2).sum() / hist.sum()
        std[c] = np.sqrt(var) if var > 0 else 1.0
    return mean, std


def _load_cifar(data_dir, verify: bool, preprocessing: str = "toolkit") -> Dataset:
    source = resolve_data_dir("cifar10", data_dir)
    assert source is not None  # None only for "digits"
    raw = _cifar_raw(source, _searched("cifar10", data_dir, source))
    parts = {}
    for name, (where, blob) in raw.items():
        if verify:
            _check_md5(where, name, blob)
        parts[name] = _parse_batch(where, blob)
    tr_x = np.concatenate([parts[n][0] for n in CIFAR_TRAIN])
    tr_y = np.concatenate([parts[n][1] for n in CIFAR_TRAIN])
    te_x, te_y = parts[CIFAR_TEST]
    if len(tr_x) == 0:
        raise DataError(
            f"CIFAR-10: the training batches in {source} are empty.\nFix: replace them with the original {CIFAR_TAR}."
        )
    if preprocessing == "authors":  # pl_bolts' cifar10_normalization after ToTensor, in float32
        mean, std = np.array(AUTHORS_CIFAR_MEAN) / 255.0, np.array(AUTHORS_CIFAR_STD) / 255.0
    else:
        mean, std = _channel_stats(tr_x)

    def standardise(x: np.ndarray) -> np.ndarray:
        out = x.reshape(len(x), 3, 1024).astype(np.float32)
        if preprocessing == "authors":
            out /= np.float32(255.0)
        out -= mean.astype(np.float32)[None, :, None]
        out /= std.astype(np.float32)[None, :, None]
        return out.reshape(len(x), 3072)

    return Dataset(
        train_x=standardise(tr_x),
        train_y=tr_y.astype(np.int64),
        test_x=standardise(te_x),
        test_y=te_y.astype(np.int64),
        name="cifar10",
        input_dim=3072,
        n_classes=10,
        source=str(source),
    )


# ------------------------------------------------------------------------------------------------- digits


def _load_digits() -> Dataset:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = np.asarray(bunch.data, dtype=np.float32) / np.float32(8.0) - np.float32(1.0)
    y = np.asarray(bunch.target, dtype=np.int64)
    perm = np.random.default_rng(DIGITS_SPLIT_SEED).permutation(len(y))
    n_test = int(round(len(y) / 3))
    te, tr = np.sort(perm[:n_test]), np.sort(perm[n_test:])
    return Dataset(
        train_x=np.ascontiguousarray(x[tr]),
        train_y=y[tr],
        test_x=np.ascontiguousarray(x[te]),
        test_y=y[te],
        name="digits",
        input_dim=int(x.shape[1]),
        n_classes=10,
        source="sklearn digits",
    )


# --------------------------------------------------------------------------------------------- public API


def load_dataset(
    name: str, data_dir: str | os.PathLike | None = None, *, verify: bool = True, preprocessing: str = "toolkit"
) -> Dataset:
    """Load and preprocess ``name`` (one of :data:`DATASETS`); see the module docstring for the protocol.

    ``preprocessing``: ``"toolkit"`` (the module docstring) or ``"authors"`` (the released code's torchvision
    transforms, same float32 operation order: MNIST / Fashion-MNIST ``(x/255 - 0.5)/0.5``; CIFAR-10
    ``(x/255 - mean)/std`` with pl_bolts' constants mean = (125.3, 123.0, 113.9)/255, std = (63.0, 62.1,
    66.7)/255; digits is the same under both).  ``verify`` checks the SHA-256 of the MNIST archives, the image counts (60,000 / 10,000) of MNIST and
    Fashion-MNIST, and the size and MD5 of each CIFAR-10 batch; turn it off only for synthetic files.
    Raises :class:`DataError` for any missing, truncated, corrupt or mismatching file, ``ValueError`` for
    an unknown name.
    """
    _check_name(name)
    if preprocessing not in ("toolkit", "authors"):
        raise ValueError(f"preprocessing must be 'toolkit' or 'authors' (got {preprocessing!r})")
    if name == "digits":
        return _load_digits()
    if name == "cifar10":
        return _load_cifar(data_dir, verify, preprocessing)
    return _load_idx(name, data_dir, verify, preprocessing)


def train_val_split(n: int, seed: int, fraction: float = 0.8) -> tuple[np.ndarray, np.ndarray]:
    """The seeded split of ``n`` training examples: ``round(fraction * n)`` for training, the rest validation.

    A permutation from ``numpy.random.default_rng(seed)`` is cut in two; each part is returned sorted
    (int64 indices).  For MNIST (n = 60,000, fraction 0.8) this gives m = 48,000 and 12,000.
    """
    n = int(n)
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must lie strictly between 0 and 1 (got {fraction})")
    n_train = int(round(fraction * n))
    if n_train < 1 or n_train >= n:
        raise ValueError(f"cannot split {n} examples with fraction {fraction}: one part would be empty")
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[:n_train]).astype(np.int64), np.sort(perm[n_train:]).astype(np.int64)


def authors_split(n: int, seed: int = 1, val_fraction: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """The released code's split: ``torch.utils.data.random_split`` of the ``n`` official training examples into
    ``n - int(val_fraction * n)`` training and ``int(val_fraction * n)`` validation examples with
    ``torch.Generator().manual_seed(seed)`` (pl_bolts' ``VisionDataModule._get_splits``; their ``--seed`` default
    is 1).  Returns (train, validation) int64 indices in the order the subsets hold them (not sorted).  For MNIST:
    48,000 and 12,000.  Raises ValueError when a part would be empty."""
    import torch
    from torch.utils.data import Subset, random_split

    n = int(n)
    n_val = int(val_fraction * n)
    if not 0 < n_val < n:
        raise ValueError(f"cannot split {n} examples with validation fraction {val_fraction}: one part would be empty")
    train: Subset[int]
    val: Subset[int]
    # torch's stub wants a Dataset; random_split only needs len() and indexing, which a range has
    train, val = random_split(range(n), [n - n_val, n_val], generator=torch.Generator().manual_seed(int(seed)))  # type: ignore[arg-type]
    return np.asarray(train.indices, dtype=np.int64), np.asarray(val.indices, dtype=np.int64)


def split_for(protocol_split: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The (train, validation) indices of a protocol: ``"toolkit"`` -> :func:`train_val_split` (``seed``),
    ``"authors"`` -> :func:`authors_split` (``seed``; the released code's default is 1).  For the digits set,
    which has no official validation part, both protocols use :func:`train_val_split`'s rule on its 1,198
    training images."""
    if protocol_split == "authors":
        return authors_split(n, seed)
    if protocol_split == "toolkit":
        return train_val_split(n, seed)
    raise ValueError(f"unknown split {protocol_split!r} (toolkit or authors)")
