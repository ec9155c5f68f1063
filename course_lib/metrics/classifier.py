"""A small CNN digit classifier whose penultimate layer is the feature space for Fréchet distances.

FID uses an ImageNet Inception network; for 8x8 and 28x28 digits a tiny CNN trained on the digits
themselves is both faster and more meaningful. Two trained copies ship with course_lib
(assets/digit_classifier_8x8.pt and _28x28.pt, made by scripts/train_digit_classifier.py).
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources

import torch
import torch.nn as nn

# Conv widths per image size: each block halves the side (8 -> 4 -> 2; 28 -> 14 -> 7 -> 3).
CHANNELS = {8: (32, 64), 28: (16, 32, 64)}
NUM_FEATURES = 128


class DigitClassifier(nn.Module):
    """[conv3x3 -> ReLU -> maxpool2] blocks, then Linear -> ReLU (the features) -> Linear (10 logits)."""

    def __init__(self, image_size: int, num_features: int = NUM_FEATURES, num_classes: int = 10):
        super().__init__()
        if image_size not in CHANNELS:
            raise ValueError(f"image_size must be one of {sorted(CHANNELS)}, got {image_size!r}")
        self.image_size = image_size
        blocks, c_in = [], 1
        for c_out in CHANNELS[image_size]:
            blocks += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
            c_in = c_out
        self.conv = nn.Sequential(*blocks)
        side = image_size // 2 ** len(CHANNELS[image_size])  # 2 for 8x8, 3 for 28x28
        self.hidden = nn.Sequential(nn.Flatten(), nn.Linear(c_in * side * side, num_features), nn.ReLU())
        self.dropout = nn.Dropout(0.3)  # active only while training
        self.head = nn.Linear(num_features, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, H, W) in [0, 1] -> (B, num_features): the penultimate activations."""
        return self.hidden(self.conv(x))  # (B, C, side, side) -> (B, F)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.features(x)))  # (B, 10) logits


def asset_name(image_size: int) -> str:
    return f"digit_classifier_{image_size}x{image_size}.pt"


@lru_cache(maxsize=None)
def load_classifier(image_size: int, device: str = "cpu") -> DigitClassifier:
    """The shipped, trained classifier for 8x8 or 28x28 digits (loaded once, then cached; eval mode)."""
    model = DigitClassifier(image_size)  # validates image_size
    path = resources.files("course_lib").joinpath("assets", asset_name(image_size))
    if not path.is_file():
        raise FileNotFoundError(f"classifier weights {path} are missing; reinstall genai-course or run "
                                f"scripts/train_digit_classifier.py")
    with path.open("rb") as f:
        state = torch.load(f, map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    model.requires_grad_(False)
    return model.eval().to(device)
