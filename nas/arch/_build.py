"""``build_model``: the PyTorch module of a spec."""

from __future__ import annotations

import torch
from torch import nn

from nas.arch._spec import ArchSpec, Classifier, HeadSpec
from nas.blocks import Activation, ConvNormAct, Padding, PoolMode, use_tf_same_padding


class Head(nn.Module):
    """Optional 1x1 conv, then pooling and fully connected layers, or SqueezeNet's conv classifier."""

    def __init__(self, head: HeadSpec, channels: int, num_classes: int) -> None:
        super().__init__()
        self.conv = ConvNormAct(channels, head.conv.out, 1, act=head.conv.act) if head.conv else nn.Identity()
        channels = head.conv.out if head.conv else channels
        pool = nn.AdaptiveAvgPool2d if head.pool is PoolMode.AVG else nn.AdaptiveMaxPool2d
        if head.classifier is Classifier.CONV:
            self.pool = nn.Identity()
            self.classifier = nn.Sequential(
                nn.Dropout(head.dropout),
                nn.Conv2d(channels, num_classes, 1),
                head.classifier_act.module(),
                pool(1),
                nn.Flatten(1),
            )
            return
        self.pool = nn.Sequential(pool(head.pool_size), nn.Flatten(1))
        layers: list[nn.Module] = []
        features = channels * head.pool_size * head.pool_size
        for dense in head.hidden:
            layers += [nn.Dropout(dense.dropout), nn.Linear(features, dense.out, bias=dense.bias)]
            if dense.norm:
                layers.append(nn.BatchNorm1d(dense.out))
            layers.append(dense.act.module())
            features = dense.out
        layers += [nn.Dropout(head.dropout), nn.Linear(features, num_classes)]
        # Dropout stays even at rate 0: a rate is a training setting, and the weights' names must not
        # depend on it (a network extracted from a supernet loads into the same spec at any dropout).
        self.classifier = nn.Sequential(*(m for m in layers if not isinstance(m, nn.Identity)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.conv(x)))


class Network(nn.Module):
    """``head(stages(stem(x)))``; ``stages[i]`` is the ``nn.Sequential`` of stage i's blocks."""

    def __init__(self, spec: ArchSpec, num_classes: int) -> None:
        super().__init__()
        groups: dict[str, list[list[nn.Module]]] = {
            "stem": [[] for _ in spec.stem],
            "stages": [[] for _ in spec.stages],
        }
        channels = spec.in_channels
        for layer in spec.layers():
            module = layer.block.build(layer.cin, layer.cout, layer.stride, layer.drop_path)
            getattr(spec, layer.group)[layer.stage].bn.over(spec.bn).apply(module)
            groups[layer.group][layer.stage].append(module)
            channels = layer.cout
        self.stem = nn.Sequential(*(m for blocks in groups["stem"] for m in blocks))
        self.stages = nn.Sequential(*(nn.Sequential(*blocks) for blocks in groups["stages"]))
        self.head = Head(spec.head, channels, num_classes)
        spec.bn.apply(self.head)
        if spec.padding is Padding.TF_SAME:
            use_tf_same_padding(self)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.stages(self.stem(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.forward_features(x))


def build_model(spec: ArchSpec, num_classes: int = 1000) -> Network:
    """A freshly initialised module for ``spec`` (which, being frozen, is never modified)."""
    if num_classes < 1:
        raise ValueError(f"num_classes: expected a value >= 1; got {num_classes}")
    model = Network(spec, num_classes)
    if not next(model.parameters()).is_meta:  # a meta model (shapes only, for counting) has no values
        _init_weights(model)
    return model


def _init_weights(model: nn.Module) -> None:
    """The initialisation of the MobileNet/EfficientNet reference code: He-normal convolutions (fan-out),
    unit batch norm, uniform(±1/sqrt(fan_out)) classifier."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d | nn.BatchNorm1d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            bound = 1.0 / m.out_features**0.5
            nn.init.uniform_(m.weight, -bound, bound)
            if m.bias is not None:  # a head layer with batch norm after it has none
                nn.init.zeros_(m.bias)


__all__ = ["Activation", "Head", "Network", "build_model"]
