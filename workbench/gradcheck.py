"""Old import path of :mod:`workbench.checks.gradcheck`, kept for one release."""

import sys

from workbench.checks import gradcheck as _moved

# The old name is the same module object, so attributes and monkeypatching agree.
sys.modules[__name__] = _moved
