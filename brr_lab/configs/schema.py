"""The one training config: its schema (pydantic models, strict, unknown keys refused).

Layout (every section optional; defaults are listed in the models below)::

    name: after_fix
    data:    {path, window_s, stride_s, label_rule, min_fraction, sfreq, l_freq, h_freq}
    loss:    {kind: bce|focal, alpha, gamma, pos_weight: <number>|auto|sqrt|null}
    sampler: {balanced: true|false, target_fraction: <(0, 1)>|sqrt}
    trainer: {epochs, batch_size, lr, weight_decay, grad_clip, seed, device, prior_bias_init}
    eval:    {threshold}

``auto``/``sqrt`` values depend on the training data's prevalence and are resolved here
(:func:`resolve_pos_weight`, :func:`effective_fraction`).
"""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from brr_lab._validation import ALPHA_ALLOWED, GAMMA_ALLOWED, MAX_SEED

__all__ = ["DataSettings", "LossSettings", "SamplerSettings", "TrainerSettings", "EvalSettings",
           "TrainConfig", "NOT_FINITE", "effective_fraction", "resolve_pos_weight"]

# PyYAML follows YAML 1.1, where `1e-3` (no dot) is a string, not a float. Real configs
# (the original project's among them) write learning rates that way; a number written
# in scientific notation means that number, so such strings are read as floats.
_SCIENTIFIC = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)[eE][-+]?\d+$")


def _yaml12_float(value: Any) -> Any:
    if isinstance(value, str) and _SCIENTIFIC.match(value.strip()):
        return float(value)
    return value


NOT_FINITE = "must be a finite number (.inf, -.inf and .nan are not allowed)"


def _finite(value: float) -> float:
    # .inf passes "> 0" and ".nan" breaks every comparison: refuse both outright.
    if not math.isfinite(value):
        raise ValueError(NOT_FINITE)
    return value


Real = Annotated[float, BeforeValidator(_yaml12_float), AfterValidator(_finite)]


class _Section(BaseModel):
    # strict: "30" is not 30 and true is not 1; extra="forbid": unknown keys are errors.
    model_config = ConfigDict(extra="forbid", strict=True, validate_default=True)


class DataSettings(_Section):
    """Where the windows come from and how they are cut and labelled."""

    # min_length 1: an empty path would read whatever EDFs lie in the working directory.
    path: str | None = Field(None, min_length=1, description="a folder of EDF + .csv_bi files, "
                             "or null (synthetic recordings)")
    window_s: Real = Field(2.0, gt=0, description="a window length in seconds > 0")
    stride_s: Real = Field(1.0, gt=0, description="a step between windows in seconds > 0")
    label_rule: Literal["any", "fraction"] = Field(
        "any", description="'any' (a window with any seizure is positive) or 'fraction' (at "
        "least min_fraction of it)")
    min_fraction: Real = Field(0.5, gt=0, le=1, description="a fraction in (0, 1], used by "
                               "label_rule 'fraction'")
    sfreq: Real | None = Field(64.0, gt=0, description="a sampling rate in Hz > 0 to resample "
                               "to, or null (native rate)")
    l_freq: Real | None = Field(None, gt=0, description="a high-pass edge in Hz > 0, or null")
    h_freq: Real | None = Field(None, gt=0, description="a low-pass edge in Hz > 0, or null")


class LossSettings(_Section):
    """The loss and its class weights: alpha multiplies positives, pos_weight too."""

    kind: Literal["bce", "focal"] = Field("bce", description="'bce' or 'focal'")
    # The vocabulary's wording (brr_lab._validation), in YAML's words (null, not None).
    alpha: Real | None = Field(None, ge=0, le=1, description=ALPHA_ALLOWED.replace("None", "null (off)"))
    gamma: Real = Field(2.0, ge=0, description=f"{GAMMA_ALLOWED} (focusing; moves q* at thresholds "
                        "other than 0.5)")
    pos_weight: Union[Annotated[Real, Field(gt=0)], Literal["auto", "sqrt"], None] = Field(
        None, description="a number > 0, 'auto' (= n_neg/n_pos), 'sqrt' (its square root), "
        "or null (off)")


class SamplerSettings(_Section):
    """A batch sampler that over-draws positives (a class weight by another name)."""

    balanced: bool = Field(False, description="true or false (draw batches with "
                           "target_fraction positives)")
    target_fraction: Union[Annotated[Real, Field(gt=0, lt=1)], Literal["sqrt"]] = Field(
        0.5, description="a positive fraction per batch in (0, 1), or 'sqrt' (positives drawn "
        "with weight sqrt(n_neg/n_pos), as the original project's sampler did)")


class TrainerSettings(_Section):
    """Optimisation and run settings the brr_lab trainer reads."""

    epochs: int = Field(6, ge=1, description="an integer >= 1 (6: the budget of `brr-lab repro`)")
    batch_size: int = Field(64, ge=1, description="an integer >= 1")
    lr: Real = Field(1e-3, gt=0, description="a learning rate > 0")
    weight_decay: Real = Field(0.0, ge=0, description="a float >= 0")
    grad_clip: Real | None = Field(None, gt=0, description="a max gradient norm > 0, or null "
                                   "(off)")
    seed: int = Field(0, ge=0, le=MAX_SEED, description=f"an integer in [0, {MAX_SEED}]")
    device: str = Field("auto", pattern=r"^(auto|cpu|mps|cuda(:\d+)?)$",
                        description="'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'")
    prior_bias_init: bool = Field(
        False, description="true or false (output bias = log(pi/(1-pi)), RetinaNet 3.3)")
    amp: Literal["auto", "off"] = Field("auto", description="'auto' (mixed precision on CUDA "
                                        "only) or 'off'")
    data_on_device: Literal["auto", "always", "never"] = Field(
        "auto", description="'auto' (move the data to the GPU once when it fits in half the "
        "free memory), 'always' or 'never'")
    eval_batch_size: int = Field(256, ge=1, description="an integer >= 1 (256 measured 3x faster than 1024 on a CPU: activations stay in cache)")
    log_every_n_steps: int | None = Field(None, ge=1, description="an integer >= 1, or null")
    checkpoint_dir: str | None = Field(None, description="a folder for best.pt/last.pt, or "
                                       "null (no checkpoints)")


class EvalSettings(_Section):
    threshold: Real = Field(0.5, gt=0, lt=1, description="a decision threshold on p in (0, 1)")


class TrainConfig(_Section):
    """A whole brr_lab training config. ``TrainConfig()`` holds every default."""

    name: str | None = Field(None, description="a string, or null")
    description: str | None = Field(None, description="a string, or null")
    data: DataSettings = Field(default_factory=DataSettings)
    loss: LossSettings = Field(default_factory=LossSettings)
    sampler: SamplerSettings = Field(default_factory=SamplerSettings)
    trainer: TrainerSettings = Field(default_factory=TrainerSettings)
    eval: EvalSettings = Field(default_factory=EvalSettings)

    @classmethod
    def from_yaml(cls, path: str | Path) -> "TrainConfig":
        """Read and validate a YAML file (either layout); raises ConfigError, a ValueError."""
        from brr_lab.configs.loading import load_config  # the loader builds on this module

        return load_config(path).config

    def loss_kwargs(self, prevalence: float) -> dict:
        """``alpha``, ``gamma``, ``pos_weight`` for ``brr_lab.losses.binary_focal_loss``.

        BCE is focal loss with gamma 0 and no alpha; 'auto'/'sqrt' are resolved against
        ``prevalence`` (the training data's fraction of positives).
        """
        focal = self.loss.kind == "focal"
        return {"alpha": self.loss.alpha if focal else None,
                "gamma": self.loss.gamma if focal else 0.0,
                "pos_weight": resolve_pos_weight(self.loss.pos_weight, prevalence)}

    def sampler_fraction(self, prevalence: float) -> float | None:
        """The balanced sampler's positive share per batch, or None (plain shuffling);
        'sqrt' is resolved against ``prevalence`` (the training data's)."""
        if not self.sampler.balanced:
            return None
        return effective_fraction(self.sampler.target_fraction, prevalence)


def effective_fraction(target_fraction, prevalence: float) -> float:
    """The sampler's positive fraction per batch; 'sqrt' depends on the prevalence.

    A sampler that gives each positive weight sqrt(n_neg/n_pos) multiplies the odds of a
    positive by that factor: odds pi/(1-pi) become sqrt(pi/(1-pi)).
    """
    if target_fraction == "sqrt":
        odds = math.sqrt(prevalence / (1 - prevalence))
        return odds / (1 + odds)
    return float(target_fraction)


def resolve_pos_weight(pos_weight, prevalence: float) -> float | None:
    """A number for pos_weight: 'auto' = n_neg/n_pos, 'sqrt' = its square root."""
    if pos_weight == "auto":
        return (1 - prevalence) / prevalence
    if pos_weight == "sqrt":
        return math.sqrt((1 - prevalence) / prevalence)
    return None if pos_weight is None else float(pos_weight)
