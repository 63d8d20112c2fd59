"""`brr-lab app`: its arguments, the lesson pages it serves, and one real start of Voila.

Bad input fails before any server starts, naming the parameter, the value and what is
allowed. The pages ship stripped (no outputs, no widget state) and in reading order. One
test starts the app and fetches a page: it must hold the page's prose and none of its code,
and nothing from a CDN.
"""
from __future__ import annotations

import contextlib
import io
import json
import socket
import subprocess
import sys
import urllib.request

import nbformat
import pytest

from app_server import app_server
from brr_lab.app import DEFAULT_IP, PAGES_DIR, check_ip, check_port, lessons, voila_argv
from brr_lab.app.server import JUPYTER_DIR, TEMPLATE
from brr_lab.cli import main

READING_ORDER = ["01_the_postmortem", "02_data_and_labels", "03_weights", "04_collapse_and_fix",
                 "05_thresholds_and_false_alarms", "06_report_card"]


def _run(argv):
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exit_:  # argparse's own errors
            code = exit_.code
    return code, err.getvalue()


@pytest.mark.parametrize("port", ["0", "65536", "-1", "http", "8866.5"])
def test_bad_port_is_refused_with_the_allowed_range(port):
    code, err = _run(["app", "--no-browser", "--port", port])
    assert code == 2
    assert "--port" in err and "[1, 65535]" in err and repr(port) in err


@pytest.mark.parametrize("ip", ["example.com", "127.0.0.256", "", "0.0.0.0; rm"])
def test_bad_ip_is_refused_naming_it(ip):
    code, err = _run(["app", "--no-browser", "--ip", ip])
    assert code == 2
    assert "'--ip' parameter of brr-lab app" in err and repr(ip) in err and "127.0.0.1" in err


def test_a_port_in_use_is_refused_before_voila_starts():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        code, err = _run(["app", "--no-browser", "--port", str(port)])
    assert code == 2 and "'--port'" in err and str(port) in err and "free" in err


def test_validators_accept_what_they_allow():
    assert check_port(1) == 1 and check_port(65535) == 65535
    assert check_ip("127.0.0.1") == "127.0.0.1" and check_ip("::1") == "::1"
    assert check_ip("localhost") == "localhost"
    with pytest.raises(ValueError, match="--port"):
        check_port(True)


def test_voila_binds_locally_by_default_and_never_picks_another_port():
    argv = voila_argv(port=9999, open_browser=False)
    assert DEFAULT_IP == "127.0.0.1" and f"--Voila.ip={DEFAULT_IP}" in argv
    assert "--port=9999" in argv and "--Voila.port_retries=0" in argv
    assert "--no-browser" in argv and "--show_tracebacks=False" in argv
    assert "--strip_sources=True" in argv and f"--template={TEMPLATE}" in argv
    assert argv[0] == str(PAGES_DIR)
    assert "--no-browser" not in voila_argv(open_browser=True)


def test_the_template_loads_nothing_from_the_internet():
    template = JUPYTER_DIR / "voila" / "templates" / TEMPLATE
    assert json.loads((template / "conf.json").read_text()) == {"base_template": "lab"}
    for name in ("index.html.j2", "page.html"):
        assert "://" not in (template / name).read_text(), name  # no absolute URL


def test_parser_does_not_import_voila():
    probe = ("import sys; from brr_lab.cli import build_parser; build_parser(); "
             "print(sorted(m for m in ('voila', 'jupyter_server', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_lessons_are_the_pages_in_reading_order():
    assert [p.stem for p in lessons()] == READING_ORDER
    assert sorted(p.name for p in PAGES_DIR.iterdir() if p.suffix == ".ipynb") == \
        [f"{n}.ipynb" for n in READING_ORDER]


@pytest.mark.parametrize("path", lessons(), ids=lambda p: p.stem)
def test_pages_ship_stripped_and_link_only_to_lessons(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.outputs or c.execution_count is not None)]
    assert not dirty, f"{path.name}: code cells {dirty} have outputs or execution counts"
    assert "widgets" not in nb.metadata
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    names = {p.name for p in lessons()}
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for link in (part.split(")")[0] for part in cell.source.split("](./")[1:]):
                assert link == "" or link in names, f"{path.name}: broken link ./{link}"


@pytest.mark.slow
def test_app_serves_a_page_without_its_code(tmp_path):
    with app_server(tmp_path) as app:
        with urllib.request.urlopen(f"{app.base}/voila/render/01_the_postmortem.ipynb",
                                    timeout=300) as answer:
            page = answer.read().decode()
    assert "The postmortem" in page and "Its arithmetic, checked" in page
    assert "from brr_lab" not in page and "import " not in page  # code cells are not sent
    assert "cdn.jsdelivr" not in page and "unpkg.com" not in page
    assert "Traceback" not in page and "There was an error when executing cell" not in page
