"""Notebooks: derivations displayed in Jupyter, a stepper, plots, and the learner's prompts.

Owns the rich display of a derivation and its report, the Previous/Next stepper, the
plots drawn from a derivation's own checked NumPy code, curves of one-variable results,
and the "your turn" prompts.

May import: :mod:`workbench.render`, :mod:`workbench.verify`, :mod:`workbench.checks`,
:mod:`workbench.codegen`, :mod:`workbench.core` and :mod:`workbench.errors`.
"""
