"""Training a binary detector: the trainer and its hooks, the sampler, the default model,
metrics, the diagnosis, live monitoring and checkpoints."""
from brr_lab._lazy import lazy_exports

__getattr__, __dir__, _names = lazy_exports(__name__, {
    'trainer': ('Trainer', 'load_checkpoint'),
    'inputs': ('seed_everything', 'resolve_device'),
    'callbacks': ('Callback',),
    'sampler': ('BalancedBatchSampler',),
    'models': ('EEGWindowCNN',),
    'monitor': ('TrainingMonitor', 'MonitorCallback'),
})
__all__ = list(_names)
