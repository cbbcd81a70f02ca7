"""The core: the derivation as data, the rules that build it, and the index algebra.

Owns the derivation model (:mod:`~workbench.core.derivation`: Step, Result, Case,
Derivation, Chain), the rule vocabulary (:mod:`~workbench.core.rules` and its Tier 2
companions), the index-notation algebra, the matrix-level functions SymPy lacks, the
registry of derivations and the curriculum's stages.

May import: SymPy, NumPy and :mod:`workbench.errors` only. It knows nothing of checks or
faces; conveniences such as ``Derivation.check()`` are provided from above (see
:mod:`workbench.facade`).
"""
