"""Code generation: SymPy matrix expressions printed as vectorised, stable NumPy.

Owns the NumPy printer and the rewrites made before printing
(:mod:`~workbench.codegen.printer`), and lambdifying with the numerically stable helpers
(:mod:`~workbench.codegen.numeric`).

May import: :mod:`workbench.core` and :mod:`workbench.errors`.
"""
