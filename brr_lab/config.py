"""Transitional: moved to :mod:`brr_lab.configs`."""
from brr_lab.configs import *  # noqa: F401,F403
from brr_lab.configs import __all__  # noqa: F401
