"""The default model for EEG windows: a small 1-D CNN that trains in seconds on a CPU.

No batch norm on purpose: the sweep trains many copies at once with ``torch.func.vmap``,
and a model without running statistics is a pure function of its parameters.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from brr_lab._validation import check_real


class EEGWindowCNN(nn.Module):
    """Two conv blocks, global average pooling, one logit per window.

    Input ``(batch, n_channels, n_samples)``; output logits of shape ``(batch,)``.
    """

    def __init__(self, n_channels: int = 19, n_filters: int = 16, kernel_size: int = 7,
                 prior: float | None = None) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv1d(n_channels, n_filters, kernel_size, padding=kernel_size // 2),
            nn.ReLU(),
            nn.MaxPool1d(4),
            nn.Conv1d(n_filters, n_filters, kernel_size, padding=kernel_size // 2),
            nn.ReLU(),
            nn.AdaptiveAvgPool1d(1),
            nn.Flatten(),
        )
        self.head = nn.Linear(n_filters, 1)
        if prior is not None:
            init_prior_bias(self.head, prior)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x)).squeeze(-1)


@torch.no_grad()
def init_prior_bias(layer: nn.Linear, prior: float) -> None:
    """Set the output bias to log(prior / (1 - prior)) (RetinaNet, Section 3.3).

    A fresh model then predicts the prior instead of 0.5, so the first steps are not
    spent pushing every negative down. A change of initialisation, not of the loss.
    """
    prior = check_real(prior, "prior", "init_prior_bias", low=0, high=1, low_open=True,
                       high_open=True, allowed="a prevalence in (0, 1)")
    layer.bias.fill_(math.log(prior / (1.0 - prior)))
