"""Every sub-command's help renders as a reader sees it."""
from __future__ import annotations

import pytest

from brr_lab.cli import build_parser, main


def _commands() -> list[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return sorted(sub.choices)


@pytest.mark.parametrize("command", _commands())
def test_help_renders_without_format_escapes(command, capsys):
    with pytest.raises(SystemExit) as stop:
        main([command, "--help"])
    assert stop.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith(f"usage: brr-lab {command}"), text[:200]
    # argparse %-formats argument help but prints descriptions as written: "%%" there is a typo.
    assert "%%" not in text, [line for line in text.splitlines() if "%%" in line]
