"""The command line answers at once: building the parser loads no numerical package, and
`weights` loads NumPy only (neither torch, scikit-learn, MNE nor pydantic)."""
import json
import subprocess
import sys

HEAVY = ("torch", "sklearn", "mne", "pydantic", "numpy", "pandas", "scipy")

PROBE = """
import io, json, sys, contextlib
from brr_lab.cli import build_parser, main
build_parser()
after_parser = sorted(m for m in {heavy!r} if m in sys.modules)
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = main(["weights", "--alpha", "0.25", "--pos-weight", "12", "--prevalence", "0.0769", "--json"])
after_weights = sorted(m for m in {heavy!r} if m in sys.modules and m != "numpy")
print(json.dumps({{"parser": after_parser, "weights": after_weights, "code": code,
                  "ratio": json.loads(out.getvalue())["ratio"]}}))
"""


def test_parser_and_weights_import_no_heavy_package():
    proc = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["parser"] == [] and got["weights"] == []
    assert got["code"] == 0 and abs(got["ratio"] - 4.0) < 1e-9
