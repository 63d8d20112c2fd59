"""Transitional: moved to :mod:`brr_lab.configs.audit`."""
from brr_lab.configs.audit import *  # noqa: F401,F403
from brr_lab.configs.audit import DEFAULT_PREVALENCE, audit_config, audit_paths  # noqa: F401
