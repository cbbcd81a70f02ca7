"""Old import path of :mod:`workbench.notebook.curves`, kept for one release."""

import sys

from workbench.notebook import curves as _moved

# The old name is the same module object, so attributes and monkeypatching agree.
sys.modules[__name__] = _moved
