"""Property-based tests (Hypothesis): untrusted input parses or raises a brr_lab error, never
anything else, never a hang; the loss stays finite over its whole stated range."""
from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from brr_lab._validation import BrrLabError
from brr_lab.configs import load_config
from brr_lab.eeg.annotations import parse_annotation_file, seizure_intervals
from brr_lab.losses import binary_focal_loss

# BRR_HYPOTHESIS_EXAMPLES=5000 for a longer hunt; no example database is written.
SETTINGS = settings(max_examples=int(os.environ.get("BRR_HYPOTHESIS_EXAMPLES", "150")),
                    deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def _write(data: bytes, suffix: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="brr_prop_"))
    path = folder / f"input{suffix}"
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------- .csv_bi / .csv

_FIELD = st.one_of(
    st.sampled_from(["TERM", "FP1-F7", "seiz", "bckg", "fnsz", "0", "1", "-1", "1.0000", "nan",
                     "inf", "-inf", "1e999", "", " ", "0.5", "100.0000", "1e-300", "\ufeff",
                     "TERM\x00", "1_000"]),
    st.text(max_size=8),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
_ROW = st.lists(_FIELD, min_size=0, max_size=7).map(",".join)
_HEADER = st.one_of(
    st.sampled_from(["# version = csv_v1.0.0", "# duration = 100.0000 secs", "# duration = abc",
                     "# duration = -5 secs", "# duration = 1e999 secs", "#", "# bname = x",
                     "# duration = nan"]),
    st.text(max_size=20).map(lambda t: "#" + t),
)
_COLUMNS = st.sampled_from(["channel,start_time,stop_time,label,confidence",
                            "CHANNEL,start_time,stop_time,label,confidence", "channel,start"])
_ANNOTATION_TEXT = st.tuples(st.lists(_HEADER, max_size=5), _COLUMNS, st.lists(_ROW, max_size=8),
                             st.sampled_from(["\n", "\r\n"])).map(
    lambda t: t[3].join([*t[0], t[1], *t[2]]) + t[3])
_PREFIX = st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"])


@pytest.mark.timeout(120)
@SETTINGS
@given(prefix=_PREFIX, body=st.one_of(_ANNOTATION_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")),
                                      st.binary(max_size=300)),
       duration=st.one_of(st.none(), st.floats(0.1, 1e4)), suffix=st.sampled_from([".csv_bi", ".csv"]))
@example(prefix=b"\xef\xbb\xbf", body=b"channel,start_time,stop_time,label,confidence\n"
         b"TERM,0,1,seiz,1\n", duration=10.0, suffix=".csv_bi")
def test_annotation_parser_parses_or_raises_its_error(prefix, body, duration, suffix):
    path = _write(prefix + body, suffix)
    try:
        ann = parse_annotation_file(path, duration_s=duration)
        spans = seizure_intervals(ann)
    except BrrLabError as err:
        assert str(path) in str(err)
        return
    for start, stop in spans:
        assert math.isfinite(start) and math.isfinite(stop) and 0 <= start < stop
        if duration is not None:
            assert stop <= duration + 1e-3


# --------------------------------------------------------------------------- configs

_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=10),
                    st.sampled_from(["auto", "sqrt", "focal", "bce", ".inf", "1e-3", "1e999"]))
_KEY = st.one_of(st.sampled_from(["loss", "kind", "alpha", "gamma", "pos_weight", "sampler",
                                  "balanced", "target_fraction", "trainer", "lr", "data", "training",
                                  "focal_alpha", "experiment", "preprocessing", "bandpass", "eval",
                                  "threshold", "window_s", "l_freq", "h_freq"]), st.text(max_size=6))
_TREE = st.recursive(_SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(_KEY, inner, max_size=5)),
                     max_leaves=25)
_TOKENS = st.lists(st.sampled_from(
    ["a", ":", " ", "\n", "  ", "- ", "[", "]", "{", "}", ",", "&x ", "*x", "&y ", "*y", "<<: ",
     "---\n", "...\n", "!!python/object:os.system ", "!!binary ", "? ", "|", ">", "'", '"', "#",
     "loss", "kind: focal", "gamma: .inf", "alpha: .nan", "1e999", "\t", "%YAML 1.1\n", "!", "\ufeff"]),
    max_size=40).map("".join)


def _dump(tree) -> str:
    import yaml

    return yaml.safe_dump(tree, allow_unicode=True)


@pytest.mark.timeout(180)
@SETTINGS
@given(text=st.one_of(_TREE.map(lambda t: _dump({"loss": t}) if not isinstance(t, dict) else _dump(t)),
                      _TREE.map(_dump), _TOKENS, st.text(max_size=200)),
       prefix=_PREFIX)
@example(text="a: " + "[" * 5000 + "]" * 5000, prefix=b"")
@example(text="a: " + "{b: " * 3000 + "1" + "}" * 3000, prefix=b"")
@example(text="- " * 3000 + "x", prefix=b"")
@example(text="a: &a [*a]", prefix=b"")
@example(text="trainer: {lr: 100000000000000000000000000000000000000000000000000000000000000000000"
         "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
         "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
         "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000}",
         prefix=b"")
@example(text="!!python/object/apply:os.system ['true']", prefix=b"")
@example(text="? [a, b]\n: 1\n", prefix=b"")
@example(text="training: {focal_alpha: .inf, loss: focal}\n", prefix=b"")
@example(text="preprocessing: {bandpass: [.inf, 1]}\ntraining: {}\n", prefix=b"")
def test_config_loader_parses_or_raises_its_error(text, prefix):
    path = _write(prefix + text.encode("utf-8", "surrogatepass"), ".yaml")
    try:
        loaded = load_config(path)
    except BrrLabError as err:
        assert str(path) in str(err)
        return
    cfg = loaded.config
    for section in (cfg.data, cfg.loss, cfg.sampler, cfg.trainer, cfg.eval):
        for name, value in section:
            if isinstance(value, float):
                assert math.isfinite(value), (name, value)


# --------------------------------------------------------------------------- the loss

_DTYPES = [torch.float32, torch.bfloat16, torch.float16]


@pytest.mark.timeout(180)
@pytest.mark.parametrize("dtype", _DTYPES, ids=str)
@SETTINGS
@given(data=st.data())
def test_loss_and_gradient_are_finite(dtype, data):
    n = data.draw(st.integers(1, 64), label="n")
    logits = data.draw(st.lists(st.floats(-1e4, 1e4, allow_nan=False, width=32), min_size=n,
                                max_size=n), label="logits")
    labels = data.draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=n, max_size=n), label="labels")
    alpha = data.draw(st.one_of(st.none(), st.floats(0.0, 1.0)), label="alpha")
    gamma = data.draw(st.floats(0.0, 5.0), label="gamma")
    pos_weight = data.draw(st.one_of(st.none(), st.floats(1e-3, 1e3)), label="pos_weight")
    x = torch.tensor(logits, dtype=torch.float32).to(dtype).requires_grad_(True)
    y = torch.tensor(labels, dtype=dtype)
    loss = binary_focal_loss(x, y, alpha=alpha, gamma=gamma, pos_weight=pos_weight)
    assert torch.isfinite(loss).all(), (loss, logits, labels, alpha, gamma, pos_weight)
    loss.backward()
    assert x.grad is not None and torch.isfinite(x.grad.float()).all(), x.grad
