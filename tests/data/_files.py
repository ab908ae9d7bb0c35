"""Small data sets written in tmp_path, in the formats the real ones come in."""

from __future__ import annotations

import pickle
import struct
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image


class Py2Pickler(pickle._Pickler):  # type: ignore[name-defined]
    """Pickles ``str`` and ``bytes`` as Python 2 byte strings, as the CIFAR files were written."""

    def save_py2_str(self, obj: str | bytes) -> None:
        data = obj.encode("latin1") if isinstance(obj, str) else obj
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)
        self.memoize(obj)

    dispatch = dict(pickle._Pickler.dispatch)  # type: ignore[attr-defined]
    dispatch[str] = save_py2_str
    dispatch[bytes] = save_py2_str


def write_py2_pickle(path: Path, obj: Any) -> None:
    with path.open("wb") as f:
        Py2Pickler(f, protocol=2).dump(obj)
    # Python 2's numpy lived at numpy.core; the real files name it so.
    path.write_bytes(path.read_bytes().replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n"))


def cifar_batch(n: int, classes: int, labels_key: str, seed: int) -> dict[str, Any]:
    """``n`` images whose red plane is the label (so the tests can check the CHW order) and noise."""
    rng = np.random.default_rng(seed)
    labels = [int(v) for v in rng.integers(0, classes, n)]
    data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    data[:, :1024] = np.array(labels, dtype=np.uint8)[:, None]
    out: dict[str, Any] = {"data": data, labels_key: labels, "filenames": [f"img_{i}.png" for i in range(n)]}
    if labels_key == "fine_labels":
        out["coarse_labels"] = [v // 5 for v in labels]
    else:
        out["batch_label"] = f"batch seeded {seed}"
    return out


def write_cifar(root: Path, classes: int, per_batch: int = 12, test: int = 10) -> Path:
    """A miniature of the extracted python version under ``root``; returns the extracted folder."""
    if classes == 10:
        folder = root / "cifar-10-batches-py"
        folder.mkdir(parents=True)
        for i in range(1, 6):
            write_py2_pickle(folder / f"data_batch_{i}", cifar_batch(per_batch, 10, "labels", i))
        write_py2_pickle(folder / "test_batch", cifar_batch(test, 10, "labels", 0))
        names = {"label_names": [f"class{i}" for i in range(10)], "num_cases_per_batch": per_batch}
        write_py2_pickle(folder / "batches.meta", names)
    else:
        folder = root / "cifar-100-python"
        folder.mkdir(parents=True)
        write_py2_pickle(folder / "train", cifar_batch(5 * per_batch, 100, "fine_labels", 1))
        write_py2_pickle(folder / "test", cifar_batch(test, 100, "fine_labels", 0))
        names = {"fine_label_names": [f"fine{i}" for i in range(100)], "coarse_label_names": ["c"] * 20}
        write_py2_pickle(folder / "meta", names)
    return folder


def write_png(path: Path, size: tuple[int, int], color: tuple[int, int, int], mode: str = "RGB") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).convert(mode).save(path)


def write_image_folder(root: Path, classes: dict[str, int], size: tuple[int, int] = (20, 14)) -> None:
    """``classes[name]`` PNGs per class, each a flat color that differs per class and image."""
    for c, (name, count) in enumerate(classes.items()):
        for i in range(count):
            write_png(root / name / f"{i}.png", size, (40 * c, 10 * i, 200))
