"""A trained supernet from its checkpoint, subnets from it, and the checks that it fits a search."""

from __future__ import annotations

import dataclasses
import pickle
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from nas.arch import ArchSpec, Network
from nas.errors import UsageError
from nas.spaces import NotInSpace, SearchSpace
from nas.supernet._module import SupernetModule
from nas.supernet._net import Supernet

# What a supernet's weights depend on in the data: another value of any of them is another task.
DATA_KEYS = ("dataset", "resolution", "in_channels", "num_classes")


def load(path: str | Path) -> Supernet:
    """The supernet a ``python -m nas.supernet train`` checkpoint holds, on the CPU, in eval mode; its
    ``record`` attribute is what the checkpoint records (space, fingerprint, data, setting, recipe)."""
    module = load_module(path)
    supernet = module.supernet.eval()
    supernet.record = dict(module.hparams)
    return supernet


def load_module(path: str | Path) -> SupernetModule:
    where = Path(path)
    if not where.is_file():
        raise UsageError(f"supernet.ckpt: no checkpoint at {where}")
    try:
        checkpoint = torch.load(where, map_location="cpu", weights_only=False)
    except (pickle.UnpicklingError, zipfile.BadZipFile, RuntimeError, EOFError, ValueError) as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UsageError(f"supernet.ckpt: {where} is not a readable checkpoint ({reason})") from None
    hparams = checkpoint.get("hyper_parameters", {}) if isinstance(checkpoint, Mapping) else {}
    if "fingerprint" not in hparams or "space" not in hparams:
        raise UsageError(
            f"supernet.ckpt: {where} is not a supernet checkpoint (python -m nas.supernet train)"
        )
    kwargs = {key: hparams[key] for key in ("space", "setting", "optim", "recipe", "data", "seed")}
    module = SupernetModule(**kwargs)
    module.load_state_dict(checkpoint["state_dict"])
    return module


def extract(supernet: Supernet, spec: ArchSpec) -> Network:
    """A standalone network of ``spec`` (a point of the supernet's space) with the inherited weights: the
    network the supernet's proxy setting makes of ``spec``, as :func:`nas.arch.build_model` builds it."""
    try:
        params = supernet.space.encode(spec)
    except NotInSpace as err:
        raise UsageError(f"supernet: {err}") from None
    return supernet.extract(supernet.subnet(params, spec))


def check_fits(supernet: Supernet, space: SearchSpace, data: Mapping[str, Any], where: str) -> None:
    """A :class:`UsageError` naming the first difference between the supernet's space and data and a
    search's, which would make its inherited weights mean nothing."""
    record = getattr(supernet, "record", {})
    own = supernet.space
    searched = dataclasses.replace(space, resolution=own.resolution).fingerprint()
    if searched != own.fingerprint():
        raise UsageError(
            f"supernet.ckpt: {where} was trained for space {own.name!r} ({own.fingerprint()}); this search "
            f"explores {space.name!r} ({searched})"
        )
    trained = record.get("data", {})
    for key in DATA_KEYS:
        if key in trained and trained[key] != data.get(key):
            raise UsageError(
                f"supernet.ckpt: {where} was trained on {key} {trained[key]!r}; this search's data has "
                f"{data.get(key)!r}"
            )
    split = trained.get("split_seed") if trained.get("split_seed") is not None else trained.get("seed")
    ours = data.get("split_seed") if data.get("split_seed") is not None else data.get("seed")
    if split is not None and ours is not None and split != ours:
        raise UsageError(
            f"supernet.ckpt: {where} was trained beside the validation hold-out of split seed {split}; "
            f"this search validates on split seed {ours}, whose images the supernet may have trained on"
        )
