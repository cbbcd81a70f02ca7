"""Every attempt a notebook ships for the learner gets the verdict and diagnosis its text promises.

Each code cell of a shipped notebook that calls the verifier (``check_claim``,
``check_catalogue_claim``, ``check_steps``) is run as written, and its report is compared
with :data:`PROMISES`: the verdict, phrases the diagnosis must contain, and a phrase the
markdown cell above it must contain (so the promise read here is the one the learner
reads). A verifier cell without an entry fails the test: a new attempt needs its promise.

Failed before this fix: ``05-attention-gradient``'s first attempt (``P @ G``, causal mask)
showed "internal error: KeyError: 0" where its text promises a forgotten transpose, and
its second said "none of the usual mistakes" where the text promises the subtraction.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

from workbench.verify import api as verify

NOTEBOOKS = Path(__file__).parents[2] / "notebooks"
CALL = re.compile(r"\bcheck_(claim|catalogue_claim|steps)\(")
# The verdict promised, not the time (the verifier's speed has tests of its own): a loaded
# machine must not turn a promised verdict into "no verdict within 8 s".
TIMEOUT = 60.0

# (notebook stem or prefix, a piece of the cell) → (verdict, diagnosis phrases, text phrase)
PROMISES: dict[tuple[str, str], tuple[str, tuple[str, ...], str]] = {
    ("00-tour", 'my_claim = "3*x"'): ("incorrect", ("off by a factor x",), "not 3x"),
    ("00-tour", 'my_claim = "2*A @ x"'): ("incorrect", ("symmetric-only",), "only when A is"),
    ("00-tour", "my_latex = "): ("incorrect", ("symmetric-only",), "fix it the same way"),
    ("01-softmax-jacobian", '"diag(s)"'): (
        "incorrect",
        ("missing term", "s @ s.T"),
        "names what is missing",
    ),
    ("01-softmax-jacobian", "my_steps"): ("correct", (), "each line starting with `=`"),
    ("02-cross-entropy-gradient", '"y - s"'): ("incorrect", ("sign flipped",), "the sign"),
    ("02-cross-entropy-gradient", "my_steps"): (
        "incorrect",
        ("line 4 does not follow", "Σy = 1"),
        "which line breaks and why",
    ),
    ("03-nll-equals-cross-entropy", '"phat - s"'): (
        "incorrect",
        ("sign flipped",),
        "the sign backwards",
    ),
    ("04-two-layer-backprop", '"h @ (s - y).T"'): ("incorrect", ("transposed",), "transpose"),
    ("04-two-layer-backprop", 'case="tanh"'): ("correct", (), "This one is right"),
    ("05-attention-gradient", '"P @ G"'): (
        "incorrect",
        ("a transpose forgotten", "P.T in place of P"),
        "forgets a transpose",
    ),
    ("05-attention-gradient", '"softmax(s) * g"'): (
        "incorrect",
        ("missing term", "softmax(s)*sum(g*softmax(s))"),
        "forgets the subtraction",
    ),
    # Each stage's attempt is promised only as "a derivative with a mistake in it".
    ("1", "check_claim("): ("incorrect", (), "with a mistake in it"),
}


def verifier_cells() -> list[tuple[str, str, str]]:
    """(notebook stem, code cell, the markdown cell before it) for every verifier cell."""
    out = []
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        text = ""
        for cell in notebook.cells:
            if cell.cell_type == "markdown":
                text = cell.source
            elif CALL.search(cell.source) and "import" not in cell.source:
                out.append((path.stem, cell.source, text))
    return out


def promise_for(stem: str, source: str):
    for (notebook, piece), promise in PROMISES.items():
        if stem.startswith(notebook) and piece in source:
            return promise
    return None


def run_cell(source: str):
    """The cell's last expression, with the verifier's functions given a generous timeout."""

    def patient(function):
        return lambda *args, **kwargs: function(*args, **{"timeout": TIMEOUT, **kwargs})

    namespace = {
        name: patient(getattr(verify, name))
        for name in ("check_claim", "check_catalogue_claim", "check_steps")
    }
    tree = ast.parse(source)
    exec(compile(ast.Module(tree.body[:-1], []), "<cell>", "exec"), namespace)
    return eval(compile(ast.Expression(tree.body[-1].value), "<cell>", "eval"), namespace)


CELLS = verifier_cells()


def test_the_notebooks_ship_attempts():
    stems = {stem for stem, _, _ in CELLS}
    assert {"00-tour", "05-attention-gradient"} <= stems and len(CELLS) >= 12


@pytest.mark.parametrize(
    ("stem", "source", "text"), CELLS, ids=[f"{s}:{c.splitlines()[0][:40]}" for s, c, _ in CELLS]
)
def test_each_attempt_gets_the_diagnosis_its_text_promises(stem, source, text):
    promise = promise_for(stem, source)
    assert promise is not None, f"{stem}: a verifier cell without a recorded promise:\n{source}"
    verdict, phrases, words = promise
    assert " ".join(words.split()) in " ".join(text.split()), (stem, words, text)
    report = run_cell(source)
    assert "internal error" not in (report.error or "")
    assert report.verdict == verdict, (report.diagnosis, report.error, report.detail)
    for phrase in phrases:
        assert phrase in (report.diagnosis or ""), report.diagnosis
    if verdict == "incorrect":
        assert report.diagnosis and not report.diagnosis.startswith("none of the usual"), (
            report.diagnosis
        )
