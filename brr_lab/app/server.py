"""Where the lesson pages live and how Voila is asked to serve them.

No web server of our own: Voila renders each page in its own kernel and hides the code
cells. This module only validates the address and builds Voila's arguments, so the
command line and the tests start the app the same way. Nothing heavy is imported here.
"""
from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

from brr_lab._validation import invalid

__all__ = ["PAGES_DIR", "DEFAULT_PORT", "DEFAULT_IP", "lessons", "check_port", "check_ip",
           "check_free", "voila_argv", "jupyter_path_env", "JUPYTER_DIR", "TEMPLATE"]

# Numbered notebooks: Voila's tree lists them by name, which is the reading order.
PAGES_DIR = Path(__file__).resolve().parent / "pages"
# A Jupyter data folder holding our Voila template (on JUPYTER_PATH while the app runs).
JUPYTER_DIR = Path(__file__).resolve().parent / "jupyter"
TEMPLATE = "brr_lab"
DEFAULT_PORT = 8866          # Voila's own default
DEFAULT_IP = "127.0.0.1"     # a classroom laptop, not the network, unless asked
_WHERE = "brr-lab app"


def lessons() -> list[Path]:
    """The lesson pages, in reading order."""
    return sorted(PAGES_DIR.glob("[0-9][0-9]_*.ipynb"))


def check_port(port) -> int:
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise invalid("--port", _WHERE, "an int in [1, 65535]", port)
    return port


def check_ip(ip) -> str:
    """An IPv4 or IPv6 address, or 'localhost' (a host name would hide where it binds)."""
    allowed = "an IP address such as 127.0.0.1 (this machine only) or 0.0.0.0 (every network interface), or 'localhost'"
    if not isinstance(ip, str):
        raise invalid("--ip", _WHERE, allowed, ip)
    if ip == "localhost":
        return ip
    try:
        return str(ipaddress.ip_address(ip))
    except ValueError:
        raise invalid("--ip", _WHERE, allowed, ip) from None


def check_free(ip: str, port: int) -> None:
    """Fail now, naming the port, rather than let Voila try another one silently."""
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        try:
            s.bind((ip, port))
        except OSError as err:
            raise invalid("--port", _WHERE, f"a port free on {ip} ({err.strerror})", port) from None


def voila_argv(*, port: int = DEFAULT_PORT, ip: str = DEFAULT_IP, open_browser: bool = True) -> list[str]:
    """Voila's command-line arguments for serving the lesson pages."""
    argv = [
        str(PAGES_DIR),
        f"--port={check_port(port)}",
        f"--Voila.ip={check_ip(ip)}",
        "--Voila.port_retries=0",          # the port asked for, or an error
        "--show_tracebacks=False",         # a class sees a short error line, not a traceback
        "--theme=light",
        f"--template={TEMPLATE}",         # the lab template without its CDN links
        "--strip_sources=True",            # never send code to the page (Voila's default, pinned)
        # jupytext's lab extension (when installed) breaks Voila's page loading.
        "--VoilaConfiguration.extension_denylist=jupyterlab-jupytext",
    ]
    if not open_browser:
        argv.append("--no-browser")
    return argv


def jupyter_path_env(current: str | None) -> str:
    """``JUPYTER_PATH`` with our template folder first, so Voila finds the template."""
    import os

    return os.pathsep.join([str(JUPYTER_DIR), *([current] if current else [])])
