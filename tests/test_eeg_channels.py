"""Channel-name normalisation: TUSZ/CHB-MIT/Siena spellings to the 19 10-20 names."""
import pytest

from brr_lab.eeg.channels import STANDARD_CHANNELS, match_channels, normalise_channel_name, tusz_channel_name


@pytest.mark.parametrize("name, expected", [
    ("EEG FP1-REF", "Fp1"), ("EEG FP1-LE", "Fp1"), ("FP1", "Fp1"), ("Fp1", "Fp1"), (" eeg fz-ref ", "Fz"),
    ("EEG T7-REF", "T3"), ("EEG T8-LE", "T4"), ("P7", "T5"), ("EEG P8-REF", "T6"), ("EEG T3-REF", "T3"),
    ("EEG CZ-REF", "Cz"), ("EEG O2-LE", "O2"),
])
def test_normalise_known_names(name, expected):
    assert normalise_channel_name(name) == expected


@pytest.mark.parametrize("name", ["EEG T1-REF", "EEG A1-REF", "EKG", "PHOTIC PH", "FP1-F7", "EEG 26-REF", ""])
def test_normalise_other_names_give_none(name):
    assert normalise_channel_name(name) is None


def test_tusz_names_round_trip_for_all_19():
    assert len(STANDARD_CHANNELS) == 19
    for ch in STANDARD_CHANNELS:
        assert normalise_channel_name(tusz_channel_name(ch)) == ch


def test_tusz_channel_name_rejects_unknown():
    with pytest.raises(ValueError, match="'name' parameter of tusz_channel_name"):
        tusz_channel_name("T7")


def test_match_channels_lists_extras_and_refuses_duplicates():
    mapping, extra = match_channels(["EEG FP1-REF", "EKG", "EEG T7-REF"])
    assert mapping == {"EEG FP1-REF": "Fp1", "EEG T7-REF": "T3"}
    assert extra == ["EKG"]
    with pytest.raises(ValueError, match="'EEG T3-REF' and 'EEG T7-REF' both name electrode 'T3'"):
        match_channels(["EEG T3-REF", "EEG T7-REF"])
