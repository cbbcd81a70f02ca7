"""The ``workbench`` command line: argument parsing, exit codes, terminal output.

Owns the commands (:mod:`~workbench.cli.commands`) and their plug-ins for ``verify`` and
``handout``. It may import every layer, but only inside the command that needs it, so
``workbench --help`` and ``workbench list`` start without SymPy.
"""

from __future__ import annotations

from workbench.cli.commands import main

__all__ = ["main"]
