"""Old import path of :mod:`workbench.notebook.guide`, kept for one release."""

import sys

from workbench.notebook import guide as _moved

# The old name is the same module object, so attributes and monkeypatching agree.
sys.modules[__name__] = _moved
