"""The original project's (brain-go-brr-v2) config layout as data: its key tree
(:data:`LEGACY_KEYS`), the keys brr_lab reads (:data:`KEY_MAP`) and the original schema's
defaults (:data:`DEFAULTS`). Sources: docs/config_mapping.md."""
from __future__ import annotations

from typing import Any

__all__ = ["LEGACY_KEYS", "KEY_MAP", "DEFAULTS"]


def _keys(text: str) -> dict:
    return {k: None for k in text.split()}


_WANDB = _keys("enabled project entity tags")

# Key tree of the original layout: a dict is a section, None a setting.
LEGACY_KEYS: dict[str, Any] = {
    "data": _keys("dataset data_dir cache_dir use_balanced_sampling sampling_rate n_channels "
                  "window_size stride num_workers pin_memory persistent_workers prefetch_factor "
                  "split_policy validation_split split_seed max_samples max_hours"),
    "preprocessing": _keys("montage bandpass notch_freq normalize use_mne"),
    "model": {
        **_keys("name architecture"),
        "encoder": _keys("stages channels kernel_size downsample_factor"),
        "rescnn": _keys("n_blocks kernel_sizes dropout"),
        "mamba": _keys("n_layers d_model d_state conv_kernel dropout temporal_type "
                       "gdn_fusion_mode gdn_allow_neg_eigval gdn_edge_num_heads gdn_edge_headdim"),
        "decoder": _keys("stages kernel_size"),
        "tcn": _keys("num_layers channels kernel_size dropout causal stride_down "
                     "use_cuda_optimizations"),
        "graph": _keys(
            "enabled similarity top_k threshold temperature use_pyg edge_features edge_top_k "
            "edge_threshold edge_mamba_layers edge_mamba_d_state edge_mamba_d_model "
            "edge_similarity_margin edge_lift_activation edge_lift_norm edge_lift_init_gain "
            "adj_row_softmax adj_softmax_tau adj_ema_beta adj_force_symmetric laplacian_eps "
            "laplacian_normalize n_layers dropout use_residual alpha k_eigenvectors "
            "use_dynamic_pe semi_dynamic_interval pe_sign_consistency"),
        "norms": _keys("boundary_norm boundary_eps layerscale_alpha after_tcn_proj "
                       "after_node_mamba after_edge_mamba after_gnn before_decoder"),
    },
    "postprocessing": {
        "hysteresis": _keys("tau_on tau_off min_onset_samples min_offset_samples"),
        "morphology": _keys("opening_kernel closing_kernel use_gpu"),
        "duration": _keys("min_duration_s max_duration_s"),
        "events": _keys("tau_merge confidence_method confidence_percentile"),
        "stitching": _keys("method window_size stride"),
        "min_duration": None,
    },
    "training": {
        **_keys("epochs batch_size loss focal_alpha focal_gamma learning_rate weight_decay "
                "optimizer resume gradient_clip mixed_precision checkpoint_interval "
                "gradient_accumulation_steps mid_checkpoint_interval_s mid_epoch_keep"),
        "scheduler": _keys("type warmup_ratio"),
        "early_stopping": _keys("patience metric mode"),
        "warmup_schedule": _keys("enabled warmup_steps adj_temperature_enabled "
                                 "adj_temperature_start adj_temperature_end focal_gamma_enabled "
                                 "focal_gamma_start focal_gamma_end"),
    },
    "evaluation": _keys("metrics fa_rates save_predictions save_plots"),
    "experiment": {
        **_keys("name description seed device output_dir cache_dir log_level save_model "
                "save_best_only"),
        "wandb": _WANDB,
    },
    "logging": {**_keys("log_every_n_steps log_gradients log_weights"), "wandb": _WANDB},
    "resources": _keys("max_memory_gb distributed mixed_precision compile_model tf32_mode "
                       "cudnn_benchmark"),
}

# Original key -> brr_lab key. Only these are read (and validated by brr_lab's schema).
KEY_MAP: dict[str, str] = {
    "training.loss": "loss.kind",
    "training.focal_alpha": "loss.alpha",
    "training.focal_gamma": "loss.gamma",
    "data.use_balanced_sampling": "sampler.balanced",
    "training.epochs": "trainer.epochs",
    "training.batch_size": "trainer.batch_size",
    "training.learning_rate": "trainer.lr",
    "training.weight_decay": "trainer.weight_decay",
    "training.gradient_clip": "trainer.grad_clip",
    "experiment.seed": "trainer.seed",
    "experiment.device": "trainer.device",
    "experiment.name": "name",
    "experiment.description": "description",
    "data.data_dir": "data.path",
    "data.window_size": "data.window_s",
    "data.stride": "data.stride_s",
    "data.sampling_rate": "data.sfreq",
}

# The original schema's defaults for the mapped keys (stored version of schemas.py).
# The postmortem records that focal_alpha's default was 0.25 before its fix.
DEFAULTS: dict[str, Any] = {
    "training.loss": "bce",
    "training.focal_alpha": 0.5,
    "training.focal_gamma": 2.0,
    "data.use_balanced_sampling": True,
    "training.epochs": 1,
    "training.batch_size": 16,
    "training.learning_rate": 3e-4,
    "training.weight_decay": 0.05,
    "training.gradient_clip": 1.0,
    "experiment.seed": 42,
    "experiment.device": "auto",
    "data.window_size": 60,
    "data.stride": 10,
    "data.sampling_rate": 256,
}
