"""One small network of every block kind, with the options that change the exported graph (grouped and
strided convolutions, squeeze-and-excitation with either gate, every activation, TensorFlow's padding,
pooling in ceil mode, the head's variants)."""

from __future__ import annotations

import torch
from torch import nn

from nas import ArchSpec, load_spec

_SPECS = {
    "conv": """
stem: [{block: conv, out: 8, stride: 2, act: hswish}]
stages:
- {block: conv, out: 16, kernel: 5, groups: 2, act: gelu}
- {block: conv, out: 16, norm: false, bias: true, act: relu6}
""",
    "pool": """
stem: [{block: conv, out: 8}]
stages:
- {block: pool, mode: max, kernel: 3, stride: 2, ceil_mode: true}
- {block: pool, mode: avg, kernel: 3, stride: 2, padding: 1}
head: {pool: max, hidden: [{out: 16, act: sigmoid}]}
""",
    "norm_act": """
stem: [{block: conv, out: 8, stride: 2}]
stages:
- {block: norm_act, act: swish}
""",
    "separable": """
padding: tf_same
stem: [{block: conv, out: 8, stride: 2}]
stages:
- {block: separable, out: 16, stride: 2, kernel: 5, se: {ratio: 0.25}}
- {block: separable, out: 16, skip: true, dw_norm: false}
""",
    "mbconv": """
stem: [{block: conv, out: 8, stride: 2, act: hswish}]
stages:
- {block: mbconv, out: 8, expand: 1}
- {block: mbconv, out: 16, repeats: 2, stride: 2, kernel: 5, act: hswish,
   se: {base: expanded, gate: hsigmoid, divisor: 8}}
head: {conv: {out: 32, act: hswish}, hidden: [{out: 64, act: hswish}]}
""",
    "fused_mbconv": """
stem: [{block: conv, out: 8, stride: 2, act: swish}]
stages:
- {block: fused_mbconv, out: 16, repeats: 2, stride: 2, act: swish}
""",
    "uib": """
stem: [{block: conv, out: 16, stride: 2}]
stages:
- {block: uib, out: 24, stride: 2, start_dw_kernel: 3, mid_dw_kernel: 5}
- {block: uib, out: 24, start_dw_kernel: 5, mid_dw_kernel: 0, expand: 2}
- {block: uib, out: 24, start_dw_kernel: 0, mid_dw_kernel: 0}
head: {hidden: [{out: 32, bias: false, norm: true, act: relu}]}
""",
    "shufflenet_v1": """
stem: [{block: conv, out: 24, stride: 2}]
stages:
- {block: shufflenet_v1, out: 48, stride: 2, group_first: false}
- {block: shufflenet_v1, out: 48, repeats: 2}
""",
    "shufflenet_v2": """
stem: [{block: conv, out: 24, stride: 2}]
stages:
- {block: shufflenet_v2, out: 48, stride: 2}
- {block: shufflenet_v2, out: 48, repeats: 2}
""",
    "fire": """
stem: [{block: conv, out: 16, stride: 2, norm: false, bias: true}]
stages:
- {block: fire, out: 32, repeats: 2}
head: {classifier: conv, classifier_act: relu}
""",
    "ghost": """
stem: [{block: conv, out: 8, stride: 2}]
stages:
- {block: ghost, out: 16}
""",
    "ghost_bottleneck": """
stem: [{block: conv, out: 16, stride: 2}]
stages:
- {block: ghost_bottleneck, out: 16, mid: 16}
- {block: ghost_bottleneck, out: 24, mid: 48, stride: 2, kernel: 5,
   se: {base: expanded, gate: hsigmoid, divisor: 4}}
""",
    "basic": """
stem: [{block: conv, out: 16, stride: 2}]
stages:
- {block: basic, out: 16}
- {block: basic, out: 32, stride: 2}
""",
    "bottleneck": """
stem: [{block: conv, out: 16, stride: 2}]
stages:
- {block: bottleneck, out: 64, stride: 2, groups: 4, base_width: 8}
""",
    "dense_layer": """
stem: [{block: conv, out: 16, stride: 2}]
stages:
- {block: dense_layer, repeats: 2, growth: 8, bn_size: 2}
""",
    "transition": """
stem: [{block: conv, out: 16, stride: 2}]
stages:
- {block: transition, out: 8, stride: 2}
""",
    "inception": """
stem: [{block: conv, out: 16, stride: 2}]
stages:
- {block: inception, c1: 8, c3_reduce: 8, c3: 16, c5_reduce: 4, c5: 8, pool_proj: 8, five_kernel: 5}
""",
    "xception": """
stem: [{block: conv, out: 16, stride: 2}]
stages:
- {block: xception, out: 32, stride: 2, reps: 2, start_with_relu: false}
- {block: xception, out: 32}
""",
    "osa": """
stem: [{block: conv, out: 16, stride: 2}]
stages:
- {block: osa, out: 32, mid: 16, depthwise: true, ese: true}
- {block: osa, out: 32, mid: 16, layers: 3, stride: 2, residual: true}
""",
}
KIND_SPECS: dict[str, ArchSpec] = {
    kind: load_spec(f"name: {kind}_net\nresolution: 32\n{text}") for kind, text in _SPECS.items()
}


def trained_like(model: nn.Module, seed: int = 0) -> nn.Module:
    """``model`` in eval mode with batch norm's statistics and affine parameters moved away from their
    initial values, as after training: with a fresh network's, some outputs are tiny, and a wrong file
    could pass a check at that scale."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.running_mean.copy_(torch.rand(m.num_features, generator=generator) - 0.5)
                m.running_var.copy_(0.5 + torch.rand(m.num_features, generator=generator))
                if m.affine:
                    m.weight.copy_(0.5 + torch.rand(m.num_features, generator=generator))
                    m.bias.copy_(torch.rand(m.num_features, generator=generator) - 0.5)
    return model.eval()
