"""Rendering: expressions, step chains and reports as text, LaTeX and handouts.

Owns plain-text and LaTeX printing with the marks each step earned, prose with Unicode
mathematics made pdflatex-safe, handouts and their sections, the code panel, handout
figures, and writing files / building PDFs with pdflatex.

May import: :mod:`workbench.checks`, :mod:`workbench.codegen`, :mod:`workbench.core` and
:mod:`workbench.errors` (a handout shows a check report, so it runs the checks); never
the verifier, which stands above it and prints with its printers.
"""
