"""``python -m nas.train arch=NAME_OR_PATH data=digits trainer.max_epochs=N``: train one network.

``recipe=proxy`` (the default) is the short training a search runs; ``recipe=full`` trains as timm trains
EfficientNet: RMSpropTF, the weights' EMA (validated and checkpointed), label smoothing, RandAugment,
random erasing, mixup and cutmix, drop-path (``conf/recipe/full.yaml``).

Writes into the run directory (``hydra.run.dir``): the resolved config, ``metrics.json``, the trained
``spec.yaml``, ``checkpoints/last.ckpt`` and CSV and TensorBoard logs. ``ckpt_path=...`` resumes.
``init=SUPERNET_CKPT`` fine-tunes the network from the weights it inherits from a trained supernet
(``python -m nas.supernet train``), at the supernet's proxy setting.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import hydra
import lightning as L
from hydra.core.hydra_config import HydraConfig
from hydra.utils import instantiate
from lightning.pytorch.utilities import rank_zero_only
from omegaconf import DictConfig, OmegaConf

from nas.cli import arch_from_config, exits_on_usage_error, hydra_argv
from nas.paths import CONF
from nas.supernet import check_fits, extract
from nas.supernet import load as load_supernet
from nas.training import (
    OptimSettings,
    ProxySettings,
    RecipeSettings,
    TrainingFailed,
    fit,
    proxy_spec,
    recipe_spec,
    run_callbacks_and_loggers,
    write_run,
)


@exits_on_usage_error
def run(cfg: DictConfig, run_dir: Path) -> dict[str, Any]:
    # Every user input is checked before the first heavy step, so that a mistake costs nothing.
    optim = OmegaConf.to_container(cfg.optim)
    optim_settings = OptimSettings.from_data(optim, "optim")
    proxy = ProxySettings.from_data(OmegaConf.to_container(cfg.proxy), "proxy")
    recipe = RecipeSettings.from_data(OmegaConf.to_container(cfg.recipe, resolve=True), "recipe")
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    datamodule = instantiate(cfg.data)
    datamodule.setup("fit")  # here, so that missing data is a usage error; Lightning's own call is a no-op
    arch = arch_from_config(cfg)
    init = None
    if cfg.get("init"):  # fine-tune a subnet of a supernet: its proxy setting, its inherited weights
        supernet = load_supernet(cfg.init)
        check_fits(supernet, supernet.space, datamodule.describe(), str(cfg.init))
        proxy = supernet.setting.proxy
        init = extract(supernet, arch).state_dict()
    spec = proxy_spec(arch, proxy, datamodule.resolution)
    spec = recipe_spec(spec.replace(in_channels=datamodule.in_channels), recipe)
    callbacks, loggers = run_callbacks_and_loggers(run_dir)
    trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers, default_root_dir=str(run_dir))
    metrics = fit(
        spec, datamodule, trainer, optim,
        ckpt_path=cfg.ckpt_path, channels_last=cfg.channels_last, init=init, recipe=recipe,
    )  # fmt: skip
    metrics["arch"] = spec.name
    metrics["evaluation"] = {
        **datamodule.describe(),
        "epochs": metrics["epochs"],
        "width": proxy.width,
        "stem_stride": proxy.stem_stride,
        "seed": cfg.seed,
        "init": str(cfg.init) if cfg.get("init") else None,
        "recipe": recipe.describe(optim_settings, spec),
    }
    if trainer.is_global_zero:  # with strategy=ddp every process runs this command; one writes
        write_run(run_dir, spec, metrics)
        (run_dir / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
    return metrics


@hydra.main(version_base="1.3", config_path=str(CONF), config_name="train")
def _main(cfg: DictConfig) -> None:
    try:
        metrics = run(cfg, Path(HydraConfig.get().runtime.output_dir))
    except TrainingFailed as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(1) from None
    if rank_zero_only.rank == 0:  # the one line, once, whatever the number of processes
        m = metrics
        print(f"val_acc={m['val_acc']:.4f} val_loss={m['val_loss']:.4f} epochs={m['epochs']}")


def main() -> None:
    hydra_argv("train")
    _main()


if __name__ == "__main__":
    main()
