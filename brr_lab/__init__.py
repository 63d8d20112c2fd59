"""brr_lab: what alpha, gamma, pos_weight and a sampler do together, measured.

Sub-modules are imported on use (``from brr_lab import weighting``) so that the
command line and the notebooks load only what they need.
"""
__version__ = "0.1.0"

__all__ = ["__version__"]
