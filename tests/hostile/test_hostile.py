"""Hostile and careless input: no hangs, no silent acceptance, nothing lost.

Each case is a small file in ``cases/`` whose first line is ``# expect: <regex>`` (the
message it must give) or ``# expect-note: <regex>`` (accepted, with that note); the
file name starts with its case number. Binary cases (EDF, checkpoints) are
built here from the synthetic sample. To add a case, drop a file into ``cases/``:
``*.yaml`` go through ``load_config`` and the audit, ``*.csv_bi`` through the parser.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest

from brr_lab._validation import BrrLabError
from brr_lab.cli import main
from brr_lab.configs import ConfigError, load_config

CASES = Path(__file__).resolve().parent / "cases"
REPO = Path(__file__).resolve().parents[2]


def expectation(path: Path) -> tuple[str, str]:
    raw = path.read_bytes()
    text = raw.decode("utf-16") if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else raw.decode("utf-8-sig")
    first = text.lstrip("\ufeff").splitlines()[0]
    kind, _, regex = first.lstrip("# ").partition(": ")
    assert kind in ("expect", "expect-note"), f"{path.name}: first line must be '# expect: ...'"
    return kind, regex


def cases(pattern: str) -> list:
    return [pytest.param(p, id=p.name) for p in sorted(CASES.glob(pattern))]


def strict_loads(text: str):
    def refuse(constant):
        raise AssertionError(f"non-standard JSON constant {constant}")
    return json.loads(text, parse_constant=refuse)


# --------------------------------------------------------------------------- configs (1, 3, 8, 10)


# The bound is the timeout: an alias bomb or a deep nesting expanded in full takes minutes
# or exhausts memory; refused while parsing, it takes milliseconds. (No wall-clock assert:
# a loaded machine is slow, and speed targets live in benchmarks.)
@pytest.mark.timeout(20)
@pytest.mark.parametrize("path", cases("[0-9]*.yaml"))
def test_bad_config_gives_its_message_in_bounded_time(path):
    kind, regex = expectation(path)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert isinstance(info.value, BrrLabError)
    assert str(path) in str(info.value)
    assert re.search(regex, str(info.value)), str(info.value)


@pytest.mark.timeout(20)
@pytest.mark.parametrize("path", cases("ok_*.yaml"))
def test_accepted_config_says_what_it_accepted(path):
    _, regex = expectation(path)
    loaded = load_config(path)
    assert re.search(regex, " ".join(loaded.notes)), loaded.notes


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", ["01_alias_bomb.yaml", "01_alias_bomb_lists.yaml",
                                  "01_deep_nesting.yaml"])
def test_bombs_are_refused_within_10_cpu_s_and_200_mb(name):
    """Refused while parsing, a bomb costs milliseconds; expanded, minutes and gigabytes.
    CPU time, not wall time, so a busy machine does not make the test flaky."""
    code = textwrap.dedent(f"""
        import resource, sys, time
        from brr_lab.configs import ConfigError, load_config
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.process_time()
        try:
            load_config({str(CASES / name)!r})
        except ConfigError as err:
            print("refused:", str(err)[:200])
        print("seconds", time.process_time() - start)
        print("maxrss_mb", (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=30).stdout
    assert "refused:" in out, out
    seconds = float(re.search(r"seconds (\S+)", out).group(1))
    rss = float(re.search(r"maxrss_mb (\S+)", out).group(1))
    assert seconds < 10.0 and rss < 200, out


@pytest.mark.timeout(60)
def test_audit_reports_every_file_and_strict_json(tmp_path, capsys):
    """Case 3 (and 1, 8, 10): one bad file never hides the others; exit 2."""
    folder = tmp_path / "configs"
    folder.mkdir()
    bad = sorted(CASES.glob("[0-9]*.yaml"))
    for path in bad + sorted(CASES.glob("ok_*.yaml")):
        shutil.copy(path, folder)
    (folder / "zz_clean.yaml").write_text("loss: {kind: focal, gamma: 2.0}\n")
    (folder / "zz_alpha_one.yaml").write_text("loss: {kind: focal, alpha: 1.0}\n")  # case 7
    code = main(["audit", str(folder), "--json"])
    captured = capsys.readouterr()
    out = strict_loads(captured.out)
    assert code == 2
    assert "RuntimeWarning" not in captured.err
    invalid_files = {Path(f["file"]).name for f in out["findings"] if f["severity"] == "invalid"}
    assert invalid_files == {p.name for p in bad}
    audited = {Path(c["file"]).name for c in out["configs"]}
    assert audited == {"ok_08_bom.yaml", "zz_clean.yaml", "zz_alpha_one.yaml"}
    alpha_one = next(c for c in out["configs"] if c["file"].endswith("zz_alpha_one.yaml"))
    assert alpha_one["effective_ratio"] is None
    assert any("effective_ratio: +inf written as null" in n for n in out["json_notes"])


def test_audit_text_names_the_file_and_line_of_an_infinity(tmp_path, capsys):
    folder = tmp_path / "c"
    folder.mkdir()
    shutil.copy(CASES / "03_gamma_inf.yaml", folder)
    (folder / "other.yaml").write_text("loss: {kind: bce}\n")
    assert main(["audit", str(folder)]) == 2
    out = capsys.readouterr().out
    assert "03_gamma_inf.yaml:5: loss.gamma: must be a finite number" in out
    assert "other.yaml  [brr_lab]" in out


def test_same_file_by_two_paths_is_audited_once(tmp_path, capsys):
    """Case 10."""
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "a.yaml"
    path.write_text("loss: {kind: bce}\n")
    (tmp_path / "link.yaml").symlink_to(path)
    other = tmp_path / "sub" / ".." / "sub" / "a.yaml"
    code = main(["audit", str(path), str(other), str(tmp_path / "link.yaml"), "--json"])
    out = strict_loads(capsys.readouterr().out)
    assert code == 0
    assert [c["file"] for c in out["configs"]] == [str(path)]


def test_swapped_filter_edges_in_a_config_are_a_finding(tmp_path):
    """Case 4, config side."""
    from brr_lab.configs.audit import audit_paths

    path = tmp_path / "c.yaml"
    path.write_text("data:\n  l_freq: 40\n  h_freq: 1\n")
    result = audit_paths([path])
    found = [f for f in result.findings if f.key == "data.l_freq, data.h_freq"]
    assert found and found[0].severity == "error" and found[0].line == 2
    assert "band-stop" in found[0].message


# --------------------------------------------------------------------------- annotations (2, 8)


@pytest.mark.parametrize("path", cases("[0-9]*.csv_bi"))
def test_bad_annotation_file_gives_its_message(path):
    from brr_lab.eeg.annotations import AnnotationError, parse_annotation_file

    _, regex = expectation(path)
    with pytest.raises(AnnotationError) as info:
        parse_annotation_file(path, duration_s=60.0)
    assert str(path) in str(info.value) and isinstance(info.value, BrrLabError)
    assert re.search(regex, str(info.value)), str(info.value)


@pytest.mark.parametrize("path", cases("ok_*.csv_bi"))
def test_accepted_annotation_file_says_what_it_accepted(path):
    from brr_lab.eeg.annotations import parse_annotation_file, seizure_intervals

    _, regex = expectation(path)
    ann = parse_annotation_file(path, duration_s=60.0)
    assert seizure_intervals(ann) == [] and len(ann.rows) == 1
    assert re.search(regex, " ".join(ann.notes)), ann.notes


# --------------------------------------------------------------------------- EEG folders (2, 4, 6, 10)


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    from brr_lab.eeg.sample import make_sample

    folder = tmp_path_factory.mktemp("sample")
    make_sample(folder, 1, n_recordings=2, duration_s=60)
    return folder


@pytest.fixture
def folder(sample, tmp_path):
    out = tmp_path / "eeg"
    shutil.copytree(sample, out)
    return out


def _cut_first_edf(folder: Path) -> Path:
    edf = sorted(folder.glob("*.edf"))[0]
    data = edf.read_bytes()
    edf.write_bytes(data[: len(data) // 2])
    return edf


@pytest.mark.timeout(120)
def test_truncated_edf_whose_annotations_fit_is_refused(folder, capsys):
    """Case 2: before, a half EDF with fitting annotations was a shorter recording, exit 0."""
    from brr_lab.eeg.annotations import binary_rows, format_annotation_file

    edf = _cut_first_edf(folder)
    for suffix in (".csv_bi", ".csv"):
        edf.with_suffix(suffix).unlink()
    edf.with_suffix(".csv_bi").write_text(format_annotation_file(
        binary_rows([], 20.0), bname=edf.stem, duration_s=20.0).replace(
        "# duration = 20.0000 secs\n", ""))  # no header to compare: the EDF itself must tell
    assert main(["inspect", str(folder)]) == 2
    err = capsys.readouterr().err
    assert f"{edf}: truncated EDF: its header states 60 data records" in err, err
    assert "it is not read as a shorter recording" in err


@pytest.mark.timeout(120)
def test_truncated_edf_is_blamed_not_its_annotations(folder):
    """Case 2: before, the error blamed the .csv_bi."""
    from brr_lab.eeg.loader import EdfReadError, load_recordings

    edf = _cut_first_edf(folder)
    with pytest.raises(EdfReadError, match=rf"{re.escape(str(edf))}: truncated EDF"):
        load_recordings(folder)


@pytest.mark.timeout(120)
def test_csv_bi_duration_is_compared_with_the_edf(folder):
    """Case 2: the header's duration was never compared with the EDF."""
    from brr_lab.eeg.annotations import AnnotationError
    from brr_lab.eeg.loader import load_recordings

    csv_bi = sorted(folder.glob("*.csv_bi"))[0]
    csv_bi.write_text(csv_bi.read_text().replace("# duration = 60.0000 secs",
                                                 "# duration = 1750.0000 secs"))
    expected = (rf"{re.escape(str(csv_bi))}, line 3: header '# duration = 1750.0000 secs' does not "
                rf"match the recording {re.escape(str(csv_bi.with_suffix('.edf')))}, which lasts 60 s")
    with pytest.raises(AnnotationError, match=expected):
        load_recordings(folder)


@pytest.mark.timeout(120)
def test_swapped_filter_edges_are_refused(folder, capsys):
    """Case 4: --l-freq 40 --h-freq 1 silently became a band-stop filter."""
    from brr_lab.eeg.loader import load_windows

    assert main(["inspect", str(folder), "--l-freq", "40", "--h-freq", "1"]) == 2
    err = capsys.readouterr().err
    assert "The '--l-freq' parameter of brr-lab inspect must be below --h-freq (1.0 Hz)" in err
    assert "band-stop" in err and "Got 40.0 instead" in err
    with pytest.raises(BrrLabError, match="'l_freq' parameter of load_windows must be below h_freq"):
        load_windows(folder, l_freq=40.0, h_freq=1.0)


@pytest.mark.timeout(120)
def test_window_longer_than_the_recording(folder, capsys):
    """Case 6: NumPy's 'window shape cannot be larger than input array shape' before."""
    assert main(["inspect", str(folder), "--window-s", "100"]) == 2
    err = capsys.readouterr().err
    assert "The '--window-s' parameter of brr-lab inspect must be at most the length of every " \
           "recording; recording 'synth001_t000' lasts 60 s" in err, err
    assert "Got 100.0 instead" in err


@pytest.mark.timeout(120)
def test_inspect_says_where_labels_came_from(folder, capsys):
    """Case 10: inspect never said whether labels came from .csv_bi, .csv or the EDF."""
    first = sorted(folder.glob("*.csv_bi"))[0]
    first.unlink()
    assert main(["inspect", str(folder)]) == 0
    text = capsys.readouterr().out
    assert "labels from: .csv (per channel): synth001_t000; .csv_bi: synth001_t001" in text
    assert main(["inspect", str(folder), "--json"]) == 0
    out = strict_loads(capsys.readouterr().out)
    assert out["label_sources"]["synth001_t000"]["source"] == "csv"
    assert out["label_sources"]["synth001_t001"]["source"] == "csv_bi"
    assert out["label_sources"]["synth001_t001"]["file"].endswith("synth001_t001.csv_bi")


# --------------------------------------------------------------------------- JSON (7)


def test_weights_json_is_strict_and_quiet(capsys):
    """Case 7: `weights --alpha 1 --json` printed Infinity and a RuntimeWarning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert main(["weights", "--alpha", "1", "--prevalence", "0.1", "--json"]) == 0
    captured = capsys.readouterr()
    assert "Infinity" not in captured.out and captured.err == ""
    out = strict_loads(captured.out)
    assert out["ratio"] is None and out["effective_ratio"] is None
    assert "ratio: +inf written as null (JSON has no infinity or NaN)" in out["json_notes"]


def test_strict_json_helper():
    from brr_lab import strict_json

    text = strict_json.dumps([{"a": float("nan"), "b": [1.0, float("-inf")]}, {"a": 1.0}])
    out = strict_loads(text)
    assert out[0]["a"] is None and out[0]["b"] == [1.0, None]
    assert out[0]["json_notes"] == ["a: NaN written as null (JSON has no infinity or NaN)",
                                    "b[1]: -inf written as null (JSON has no infinity or NaN)"]
    assert "json_notes" not in out[1]


# --------------------------------------------------------------------------- checkpoints (5, 9)

_SIGNAL_SCRIPT = """
import os, signal, sys, torch
from brr_lab.training.checkpoints import atomic_save as _atomic_save  # the trainer's checkpoint writer

class Signal:
    def __reduce__(self):  # runs while the checkpoint is being written
        os.kill(os.getpid(), getattr(signal, sys.argv[2]))
        return (int, (0,))

state = {"a": torch.zeros(1_000_000), "mid": Signal(), "b": torch.zeros(1_000_000)}
_atomic_save(state, __import__("pathlib").Path(sys.argv[1]))
print("finished")
"""


@pytest.mark.timeout(120)
@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM", "SIGKILL"])
def test_a_signal_during_a_checkpoint_write_leaves_nothing(tmp_path, sig):
    """Case 5: after SIGINT a .last.pt.<pid>.tmp was left behind (0 bytes after SIGKILL)."""
    from brr_lab.training.checkpoints import atomic_save as _atomic_save
    from brr_lab.training.trainer import load_checkpoint

    target = tmp_path / "last.pt"
    proc = subprocess.run([sys.executable, "-c", _SIGNAL_SCRIPT, str(target), sig],
                          capture_output=True, text=True, timeout=60)
    assert "finished" not in proc.stdout
    assert not target.exists()
    left = [p.name for p in tmp_path.iterdir()]
    if sig == "SIGKILL":  # cannot be caught: the next save removes the dead process's file
        assert len(left) == 1 and re.fullmatch(r"\.last\.pt\.\d+\.tmp", left[0]), left
        _atomic_save({"epoch": 1}, target)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]
        assert load_checkpoint(target) == {"epoch": 1}
    else:
        assert left == [], left
        assert proc.returncode == (-2 if sig == "SIGINT" else -15), proc.stderr
        if sig == "SIGINT":
            assert "KeyboardInterrupt" in proc.stderr


def test_a_failed_write_removes_its_temporary_file(tmp_path, monkeypatch):
    import torch

    from brr_lab.training.checkpoints import atomic_save as _atomic_save

    def broken(obj, f):
        f.write(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", broken)
    with pytest.raises(OSError, match="No space left"):
        _atomic_save({"a": 1}, tmp_path / "best.pt")
    assert list(tmp_path.iterdir()) == []


def test_a_live_process_temporary_file_is_kept(tmp_path):
    from brr_lab.training import checkpoints

    mine = tmp_path / f".last.pt.{os.getppid()}.tmp"  # the parent process is alive
    mine.write_bytes(b"in progress")
    checkpoints.atomic_save({"epoch": 2}, tmp_path / "last.pt")
    assert mine.exists()


@pytest.mark.parametrize("damage", ["half", "empty", "text"])
def test_corrupt_checkpoint_names_the_file(tmp_path, damage):
    """Case 9: a bare OSError/EOFError without the file's name before."""
    import torch

    from brr_lab.training.checkpoints import atomic_save as _atomic_save
    from brr_lab.training.trainer import load_checkpoint

    path = tmp_path / "best.pt"
    _atomic_save({"model": {"w": torch.ones(1000)}, "epoch": 3}, path)
    data = path.read_bytes()
    path.write_bytes({"half": data[: len(data) // 2], "empty": b"", "text": b"not a checkpoint\n"}[damage])
    with pytest.raises(BrrLabError) as info:
        load_checkpoint(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and isinstance(info.value, BrrLabError)
    if damage == "empty":
        assert "the checkpoint is empty (0 bytes)" in message
    else:
        assert "cannot load this checkpoint" in message and "truncated, corrupt" in message
