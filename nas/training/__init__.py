"""Training any spec with Lightning: the module, its settings, and the proxy tasks a search uses."""

from __future__ import annotations

from nas.training._augment import BatchAugment
from nas.training._fit import TrainingFailed, fit, quick_fit, run_callbacks_and_loggers, write_run
from nas.training._module import (
    Diverged,
    ImageClassifier,
    Trained,
    configure_optimizers,
    fold_batch_norm,
    load_trained,
    recalibrate_batch_norm,
    warmup_cosine,
)
from nas.training._optimizers import RMSpropTF
from nas.training._settings import (
    Optimizer,
    OptimSettings,
    Policy,
    ProxySettings,
    RecipeSettings,
    proxy_spec,
    recipe_spec,
)

__all__ = [
    "BatchAugment",
    "Diverged",
    "ImageClassifier",
    "OptimSettings",
    "Optimizer",
    "Policy",
    "ProxySettings",
    "RMSpropTF",
    "RecipeSettings",
    "Trained",
    "TrainingFailed",
    "configure_optimizers",
    "fit",
    "fold_batch_norm",
    "load_trained",
    "proxy_spec",
    "quick_fit",
    "recalibrate_batch_norm",
    "recipe_spec",
    "run_callbacks_and_loggers",
    "warmup_cosine",
    "write_run",
]
