"""Once-for-All's channel sorting (Cai et al. 2020, section 3.2, "elastic width"): the expanded channels of
every MBConv reordered by importance, the L1 norm of the projection weights that read them, so that a
narrower expansion keeps the channels that matter most."""

from __future__ import annotations

import torch

from nas.supernet._net import EXPANDED, Supernet

# Where the expanded width sits in each tensor of an MBConv with an expansion conv, as
# nas.blocks.MBConv builds it: 0 expansion conv-BN, 1 depthwise conv-BN, 2 SE, 3 projection conv-BN.
_HIDDEN_DIM = {
    "0.0.weight": 0,
    "0.1.weight": 0,
    "0.1.bias": 0,
    "0.1.running_mean": 0,
    "0.1.running_var": 0,
    "1.0.weight": 0,
    "1.1.weight": 0,
    "1.1.bias": 0,
    "1.1.running_mean": 0,
    "1.1.running_var": 0,
    "2.fc1.weight": 1,
    "2.fc2.weight": 0,
    "2.fc2.bias": 0,
    "3.0.weight": 1,
}
_IMPORTANCE = "3.0.weight"


def sort_channels(supernet: Supernet, optimizer: torch.optim.Optimizer | None = None) -> int:
    """Reorder the expanded channels of every MBConv place, most important first, with the optimizer's
    state for them (momentum) moved alike; returns how many places were reordered."""
    count = 0
    for stage in supernet.stages:
        for place in stage:
            if place.kind != "mbconv" or EXPANDED not in place.paths:
                continue
            store = place.paths[EXPANDED]
            importance = store.get(_IMPORTANCE).detach().abs().sum(dim=(0, 2, 3))
            order = torch.argsort(importance, descending=True)
            for key, dim in _HIDDEN_DIM.items():
                if hasattr(store, key.replace(".", "__")):
                    _permute(store.get(key), order, dim, optimizer)
            count += 1
    return count


def _permute(
    tensor: torch.Tensor, order: torch.Tensor, dim: int, optimizer: torch.optim.Optimizer | None
) -> None:
    with torch.no_grad():
        tensor.copy_(tensor.index_select(dim, order))
        state = optimizer.state.get(tensor, {}) if optimizer is not None else {}
        for value in state.values():
            if isinstance(value, torch.Tensor) and value.shape == tensor.shape:
                value.copy_(value.index_select(dim, order))
