"""Every conf/data/*.yaml instantiates its class, with keys the constructor knows and all its defaults."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from hydra.utils import instantiate
from omegaconf import OmegaConf

from nas import data
from nas.paths import CONF

CLASSES = {
    "digits": data.DigitsDataModule,
    "fashion_mnist": data.FashionMnistDataModule,
    "cifar10": data.CifarDataModule,
    "cifar100": data.CifarDataModule,
    "imagefolder": data.ImageFolderDataModule,
    "synthetic": data.SyntheticDataModule,
}


def compose(path: Path, seed: int = 0) -> object:
    cfg = OmegaConf.create({"seed": seed, "data": OmegaConf.load(path)})
    OmegaConf.resolve(cfg)
    return instantiate(cfg.data)


def test_every_config_is_tested() -> None:
    assert sorted(p.stem for p in (CONF / "data").glob("*.yaml")) == sorted(CLASSES)


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_config_instantiates_its_class(name: str) -> None:
    dm = compose(CONF / "data" / f"{name}.yaml", seed=5)
    assert type(dm) is CLASSES[name]
    assert dm.seed == 5 and dm.split_seed == 5  # seed: ${seed}
    keys = set(OmegaConf.load(CONF / "data" / f"{name}.yaml")) - {"_target_"}
    params = set(inspect.signature(CLASSES[name]).parameters) | set(
        inspect.signature(data.ImageDataModule).parameters
    )
    assert keys == params - {"common"}  # every argument in the config, no unknown key


def test_config_defaults() -> None:
    cifar100 = compose(CONF / "data" / "cifar100.yaml")
    assert (cifar100.classes, cifar100.root, cifar100.num_classes) == (100, "data/cifar100", 100)
    assert compose(CONF / "data" / "cifar10.yaml").root == "data/cifar10"
    digits = compose(CONF / "data" / "digits.yaml")
    assert (digits.resolution, digits.val_fraction, digits.augment) == (32, 0.2, True)
    assert compose(CONF / "data" / "imagefolder.yaml").root is None
    fashion = compose(CONF / "data" / "fashion_mnist.yaml")
    assert fashion.root == "/usr/share/datasets/fashion-mnist"
    assert (fashion.split, fashion.resolution) == ("val", 28)
    assert round(60_000 * fashion.val_fraction) == 10_000  # a hold-out as large as the test set


def test_digits_config_loads_batches() -> None:
    dm = compose(CONF / "data" / "digits.yaml")
    images, labels = next(iter(dm.train_dataloader()))
    assert images.shape == (dm.batch_size, 3, 32, 32) and labels.shape == (dm.batch_size,)
