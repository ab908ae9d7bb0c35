"""The depthwise-separable block, with PP-LCNet's squeeze-and-excitation between its two convolutions."""

from __future__ import annotations

from torch import nn

from nas import Shape, measure_cost
from nas.blocks import Activation, Separable, SqueezeExcite
from nas.blocks._layers import SqueezeExciteModule

# PP-LCNet's SE (Cui et al., 2021; timm 1.0.31 lcnet: a quarter of the channels rounded to 8, ReLU,
# hard-sigmoid gate), between the depthwise and the pointwise convolution, h-swish after both.
LCNET_SE = SqueezeExcite(ratio=0.25, act=Activation.RELU, gate=Activation.HSIGMOID, divisor=8)


def test_se_sits_between_the_depthwise_and_pointwise_convolutions() -> None:
    block = Separable(kernel=5, act=Activation.HSWISH, se=LCNET_SE)
    module = block.build(256, 512, 1)
    dw, se, pw = module
    assert isinstance(dw[0], nn.Conv2d) and dw[0].groups == 256
    assert isinstance(se, SqueezeExciteModule) and se.fc1.out_channels == 64
    assert isinstance(pw[0], nn.Conv2d) and isinstance(pw[-1], nn.Hardswish)
    cost, _ = block.cost(Shape(256, 7, 7), 512, 1)
    # depthwise 5x5 + BN, SE 256 -> 64 -> 256 with biases, pointwise 256 -> 512 + BN
    assert cost.params == (256 * 25 + 512) + (256 * 64 + 64 + 64 * 256 + 256) + (256 * 512 + 1024)
    assert measure_cost(module, (1, 256, 7, 7)) == cost


def test_without_se_the_weights_keep_their_names() -> None:
    # MobileNetV1 networks and checkpoints name the pointwise conv "1.0"
    names = [name for name, _ in Separable().build(8, 16, 1).named_parameters()]
    assert names == ["0.0.weight", "0.1.weight", "0.1.bias", "1.0.weight", "1.1.weight", "1.1.bias"]
