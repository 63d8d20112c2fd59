"""Experiments under the one protocol: the scenarios and their claims, the reproduction,
the sweep and its map, scoring a trained run, intervals over recordings, and training from
a config file (``brr-lab train``)."""
from brr_lab._lazy import lazy_exports

__getattr__, __dir__, _names = lazy_exports(__name__, {
    'scenarios': ('SCENARIOS',),
    'repro': ('run_repro', 'run_scenario'),
    'sweep': ('train_sweep',),
    'evaluation': ('evaluate_run',),
    'evidence': ('bootstrap_intervals',),
    'from_config': ('train_from_config',),
})
__all__ = list(_names)
