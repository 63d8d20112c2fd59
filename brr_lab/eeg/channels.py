"""Channel names: TUSZ-style labels (``EEG FP1-REF``) to 10-20 names (``Fp1``).

TUSZ, CHB-MIT and Siena spell the same electrode differently: upper case, an
``EEG `` prefix, a reference suffix (``-REF`` for the average reference, ``-LE``
for linked ears) and the newer 10-10 names T7/T8/P7/P8. One spelling is used
everywhere in brr_lab: the classic 10-20 names of the original project.
"""
from __future__ import annotations

# The 19 referential channels of the original project, in the order windows use.
STANDARD_CHANNELS: tuple[str, ...] = (
    "Fp1", "Fp2", "F7", "F3", "Fz", "F4", "F8",
    "T3", "C3", "Cz", "C4", "T4",
    "T5", "P3", "Pz", "P4", "T6",
    "O1", "O2",
)

# 10-10 names for the same four electrodes (T7 sits where T3 sat, and so on).
_ALIASES = {"T7": "T3", "T8": "T4", "P7": "T5", "P8": "T6"}
_CANONICAL = {name.upper(): name for name in STANDARD_CHANNELS}
_PREFIXES = ("EEG ",)
_SUFFIXES = ("-REF", "-LE")


def normalise_channel_name(name: str) -> str | None:
    """Return the 10-20 name of a referential EEG channel, or None if it is not one.

    ``"EEG FP1-REF"``, ``"EEG FP1-LE"``, ``"FP1"`` and ``"Fp1"`` all give ``"Fp1"``;
    ``"EEG T7-REF"`` gives ``"T3"``. Channels outside the 19 (``"EEG T1-REF"``,
    ``"EKG"``, ``"PHOTIC PH"``, bipolar ``"FP1-F7"``) give None.
    """
    text = name.strip().upper()
    for prefix in _PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix):].strip()
    for suffix in _SUFFIXES:
        if text.endswith(suffix):
            text = text[: -len(suffix)]
    text = _ALIASES.get(text, text)
    return _CANONICAL.get(text)


def tusz_channel_name(name: str) -> str:
    """The TUSZ spelling of a 10-20 channel: ``"Fp1"`` -> ``"EEG FP1-REF"``."""
    if name not in STANDARD_CHANNELS:
        raise ValueError(
            f"The 'name' parameter of tusz_channel_name must be one of {list(STANDARD_CHANNELS)}. "
            f"Got {name!r} instead."
        )
    return f"EEG {name.upper()}-REF"


def match_channels(names: list[str]) -> tuple[dict[str, str], list[str]]:
    """Map file channel names to 10-20 names.

    Returns ``(mapping, extra)``: ``mapping`` from each file name that normalises
    to a 10-20 channel to that channel, and ``extra``, the names that do not
    (listed so the caller can report them, never dropped unseen). Two file
    channels that normalise to the same electrode are an error.
    """
    mapping: dict[str, str] = {}
    seen: dict[str, str] = {}
    extra: list[str] = []
    for original in names:
        standard = normalise_channel_name(original)
        if standard is None:
            extra.append(original)
            continue
        if standard in seen:
            raise ValueError(
                f"Channels {seen[standard]!r} and {original!r} both name electrode {standard!r}; "
                "keep one of them (pick it with MNE before loading)."
            )
        seen[standard] = original
        mapping[original] = standard
    return mapping, extra
