"""The teaching app: the lessons as code-free pages served by Voila (``brr-lab app``)."""
from brr_lab.app.server import DEFAULT_IP, DEFAULT_PORT, PAGES_DIR, check_ip, check_port, lessons, voila_argv

__all__ = ["DEFAULT_IP", "DEFAULT_PORT", "PAGES_DIR", "check_ip", "check_port", "lessons",
           "voila_argv"]
