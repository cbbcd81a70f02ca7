"""Shared fixtures of the derivations' tests."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest


@pytest.fixture
def mutant(monkeypatch):
    """``mutant(module, old, new)``: the derivation that ``module``'s source builds with
    ``old`` (which must occur once) replaced by ``new``: a planted mistake in the source
    itself, so the checks see exactly what the author would have written."""

    def build(module: types.ModuleType, old: str, new: str):
        source = Path(module.__file__).read_text()
        assert source.count(old) == 1, old
        planted = types.ModuleType(f"mutant_{module.__name__.rpartition('.')[2]}")
        planted.__file__ = module.__file__
        monkeypatch.setitem(sys.modules, planted.__name__, planted)  # for its dataclasses
        exec(compile(source.replace(old, new), module.__file__, "exec"), planted.__dict__)
        return planted.build()

    return build
