"""LaTeX reading against the peer: the corpus of tests/data/latex_corpus.json, read by
``workbench.verify.latex_input`` and by ``latex2sympy2_extended`` (the reader behind
math-verify), each scored on the meaning the corpus gives.

A reading counts as correct when it equals the expected meaning by the bounded equality
check at the corpus's shapes. The peer knows no shapes: its symbols are renamed to the
scalars of the same name (``\\sigma`` → sigma, ``x_{1}`` → x_1), so it can be right only
where the meaning is a scalar; a formula whose meaning is a vector or a matrix is counted
as read (no error) but not as correct. Both columns are printed, side by side.

    pip install -e ".[bench]"
    python benchmarks/bench_latex_corpus.py
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "workbench"))


def ours(entry) -> tuple[bool, bool]:
    from test_latex_input import meaning_read

    try:
        return True, bool(meaning_read(entry["latex"], entry["means"], entry["shapes"]))
    except Exception:
        return False, False


def peer(entry) -> tuple[bool, bool]:
    import sympy as sp
    from latex2sympy2_extended import latex2sympy
    from test_latex_input import value

    from workbench.checks.equivalence import check_equal
    from workbench.verify.interpret import Scope, declare, is_matrix
    from workbench.verify.parsing import parse
    from workbench.verify.problems import shapes_from

    try:
        read = latex2sympy(entry["latex"].strip("$"))
        if isinstance(read, sp.Basic):
            read = read.doit()
    except Exception:
        return False, False
    scope = Scope(declare(shapes_from(entry["shapes"])))
    expected = value(parse(entry["means"]), scope)
    if is_matrix(expected) or not isinstance(read, sp.Expr):
        return True, False
    renamed = {
        s: sp.Symbol(re.sub(r"[\\{}]", "", s.name).replace("mathbf", ""), real=True)
        for s in read.free_symbols
    }
    try:
        equal = check_equal(sp.sympify(read.xreplace(renamed)), expected, budget=4.0).equal
    except Exception:
        return True, False
    return True, bool(equal)


def main() -> None:
    corpus = json.loads((ROOT / "tests" / "data" / "latex_corpus.json").read_text())["formulas"]
    rows = []
    for entry in corpus:
        rows.append((entry["source"], *ours(entry), *peer(entry)))
    print(
        f"{len(corpus)} formulas ({sum(r[0] == 'handout' for r in rows)} printed by the "
        f"handouts, {sum(r[0] == 'learner' for r in rows)} as learners write them)"
    )
    print(f"{'':24}{'workbench':>12}{'latex2sympy2_extended':>24}")
    for source in ("handout", "learner", None):
        chosen = [r for r in rows if source is None or r[0] == source]
        label = source or "all"
        for i, what in ((1, "read"), (2, "correct")):
            a, b = sum(r[i] for r in chosen), sum(r[i + 2] for r in chosen)
            n = len(chosen)
            print(f"{label + ' ' + what:24}{f'{a}/{n}':>12}{f'{b}/{n}':>24}")


if __name__ == "__main__":
    main()
