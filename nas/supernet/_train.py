"""``python -m nas.supernet train space=mnas data=fashion_mnist``: train one supernet for a space."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import hydra
import lightning as L
import yaml
from hydra.core.hydra_config import HydraConfig
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from nas.cli import exits_on_usage_error, hydra_argv
from nas.errors import USAGE_ERROR, UsageError, check_count
from nas.paths import CONF
from nas.spaces import data_of, from_config
from nas.supernet._module import Recipe, SupernetModule
from nas.supernet._net import check_space
from nas.training import OptimSettings, ProxySettings, run_callbacks_and_loggers

COMMANDS = ("train",)


def _plain(node: Any) -> Any:
    return OmegaConf.to_container(node, resolve=True)


@exits_on_usage_error
def run(cfg: DictConfig, run_dir: Path) -> dict[str, Any]:
    """Train (or resume, ``ckpt_path=``) the supernet ``cfg`` asks for; returns the last metrics."""
    space_data = data_of(cfg.space)
    space = from_config(cfg.space)
    check_space(space)  # `families` and kin stop here, before the data loads
    optim = _plain(cfg.optim)
    OptimSettings.from_data(optim, "optim")
    recipe = _plain(cfg.recipe)
    Recipe.from_data(recipe, "recipe").check_options(space)
    proxy = ProxySettings.from_data(_plain(cfg.proxy), "proxy")
    seed = check_count("seed", cfg.seed, 0)
    L.seed_everything(seed, workers=True, verbose=False)
    datamodule = instantiate(cfg.data)
    datamodule.setup("fit")
    data = datamodule.describe()
    setting = {
        "proxy": proxy.to_data(),
        "in_channels": datamodule.in_channels,
        "num_classes": datamodule.num_classes,
        "resolution": datamodule.resolution,
    }
    module = SupernetModule(space_data, setting, optim, recipe, data, seed)
    callbacks, loggers = run_callbacks_and_loggers(run_dir)
    trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers, default_root_dir=str(run_dir))
    if cfg.ckpt_path is not None and not Path(cfg.ckpt_path).is_file():
        raise UsageError(f"ckpt_path: no checkpoint at {cfg.ckpt_path}")
    trainer.fit(module, datamodule=datamodule, ckpt_path=cfg.ckpt_path)
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}
    metrics["epochs"] = trainer.current_epoch
    if trainer.is_global_zero:
        (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        (run_dir / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
        (run_dir / "space.yaml").write_text(yaml.safe_dump(space_data, sort_keys=False))
    return metrics


@hydra.main(version_base="1.3", config_path=str(CONF), config_name="supernet")
def _main(cfg: DictConfig) -> None:
    metrics = run(cfg, Path(HydraConfig.get().runtime.output_dir))
    shown = " ".join(f"{k}={v:.4f}" for k, v in sorted(metrics.items()) if k.startswith("val_acc"))
    print(f"{shown} epochs={metrics['epochs']}")


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        given = sys.argv[1] if len(sys.argv) > 1 else "nothing"
        print(f"error: expected a command, one of: {', '.join(COMMANDS)}; got {given}", file=sys.stderr)
        raise SystemExit(USAGE_ERROR)
    del sys.argv[1]
    hydra_argv("supernet")
    _main()
