"""The torch transforms: shapes, bounds, and randomness drawn only from the generator they are handed."""

from __future__ import annotations

import torch

from nas.data._transforms import (
    Compose,
    HorizontalFlip,
    Normalize,
    RandomPadCrop,
    RandomResizedCrop,
    Resize,
    ResizeCenterCrop,
    resize,
)


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_resize_keeps_an_image_of_the_right_size_untouched() -> None:
    image = torch.rand(3, 8, 8)
    assert resize(image, 8, 8) is image
    assert resize(image, 32, 16).shape == (3, 32, 16)
    assert resize(torch.rand(5, 1, 8, 8), 4, 4).shape == (5, 1, 4, 4)
    flat = torch.full((1, 8, 8), 0.25)
    assert torch.allclose(resize(flat, 32, 32), torch.full((1, 32, 32), 0.25))


def test_resize_center_crop_keeps_the_middle_of_a_wide_image() -> None:
    image = torch.zeros(1, 10, 30)
    image[:, :, 10:20] = 1.0  # the central third
    out = ResizeCenterCrop(10)(image)
    assert out.shape == (1, 10, 10)
    assert torch.equal(out, torch.ones(1, 10, 10))


def test_random_pad_crop_is_a_shift_of_the_padded_image() -> None:
    image = torch.arange(64.0).reshape(1, 8, 8)
    for seed in range(20):
        out = RandomPadCrop(2)(image, gen(seed))
        padded = torch.nn.functional.pad(image, (2, 2, 2, 2))
        windows = padded.unfold(1, 8, 1).unfold(2, 8, 1)  # every 8x8 window of the padded image
        assert any(torch.equal(out[0], windows[0, i, j]) for i in range(5) for j in range(5))


def test_random_transforms_follow_their_generator_only() -> None:
    image = torch.rand(3, 16, 16)
    steps = Compose([RandomPadCrop(2, scale=(0.9, 1.1)), RandomResizedCrop(12), HorizontalFlip()])
    first = steps(image, gen(1))
    torch.manual_seed(123)  # the global generator plays no part
    assert torch.equal(steps(image, gen(1)), first)
    assert any(not torch.equal(steps(image, gen(s)), first) for s in range(2, 6))
    assert steps(image, gen(1)).shape == (3, 12, 12)


def test_random_resized_crop_boxes_lie_inside_the_image() -> None:
    crop = RandomResizedCrop(8)
    for seed in range(50):
        top, left, h, w = crop.box(20, 300, gen(seed))  # very wide: some tries fail, the fallback holds
        assert top >= 0 and top + h <= 20 and left >= 0 and left + w <= 300 and h > 0 and w > 0


def test_flip_happens_about_half_the_time() -> None:
    image = torch.arange(4.0).reshape(1, 1, 4)
    flips = sum(torch.equal(HorizontalFlip()(image, gen(s)), image.flip(-1)) for s in range(200))
    assert 70 < flips < 130


def test_normalize_and_texts() -> None:
    out = Normalize([0.5, 0.0], [0.25, 0.0])(torch.full((2, 2, 2), 1.0))
    assert torch.equal(out, torch.stack([torch.full((2, 2), 2.0), torch.full((2, 2), 1.0)]))
    assert Compose([Resize(4), Normalize([0.0], [1.0])]).text == "none"
    assert Compose([RandomPadCrop(4), HorizontalFlip()]).text == "random crop (pad 4) + horizontal flip"
