"""Class weighting without a loss: what alpha, gamma, pos_weight and a sampler do together
(:mod:`~brr_lab.weighting.engine`, whose names this package exports) and the one-mechanism
policy that refuses a stacked setup (:mod:`~brr_lab.weighting.policy`)."""
from brr_lab.weighting import engine as _engine
from brr_lab.weighting.engine import *  # noqa: F401,F403 - the engine is the package's face

__all__ = list(_engine.__all__)
