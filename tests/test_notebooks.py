"""The notebooks are tested like code: committed clean, generated from their text, thin,
linked, and executed top to bottom on a fresh kernel.

Executing a notebook starts a kernel and runs real checks, so all but the tour are
``slow`` (run in CI, or locally with ``--runslow``). The tour runs in every test run.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import sys
import time
from pathlib import Path

import pytest

from workbench.core import registry, stages

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "notebooks"
NOTEBOOKS = sorted(FOLDER.glob("*.ipynb"))
FAST = {"00-tour.ipynb"}
CELL_TIMEOUT = 900  # seconds; the slowest cell (a stage's checks) takes about a minute
MAX_CODE_LINES = 10  # notebooks stay thin: longer code belongs in workbench/

nbformat = pytest.importorskip("nbformat")


def read(path: Path):
    return nbformat.read(path, as_version=4)


def code_cells(path: Path):
    return [cell for cell in read(path).cells if cell.cell_type == "code"]


def generator():
    spec = importlib.util.spec_from_file_location("notebook_generator", FOLDER / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_there_is_a_tour_and_a_notebook_per_key_result():
    names = {path.name for path in NOTEBOOKS}
    assert "00-tour.ipynb" in names
    for number, slug in enumerate(stages.KEY_RESULTS, 1):
        assert f"{number:02d}-{slug}.ipynb" in names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    notebook = read(path)
    nbformat.validate(notebook)
    for number, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"cell {number} has outputs"
            assert cell.execution_count is None, f"cell {number} has an execution count"
    assert "widgets" not in notebook.metadata  # no saved widget state either


def test_notebooks_are_what_the_generator_writes():
    # Regenerate with the stages whose notebooks exist, so a result landing in a new
    # stage does not fail this test before someone writes that stage's notebook.
    module = generator()
    expected = module.notebooks(module.written_stages())
    assert sorted(expected) == [path.name for path in NOTEBOOKS]
    for name, notebook in expected.items():
        committed = (FOLDER / name).read_text(encoding="utf-8")
        assert committed == module.render(notebook), f"{name}: run notebooks/generate.py"


def test_each_stage_notebook_names_a_stage():
    module = generator()
    for name in module.written_stages():
        assert name in stages.names()
    stems = {f"{module.content.stage_stem(s)}.ipynb" for s in stages.names()}
    for path in NOTEBOOKS:
        if "-stage-" in path.name:
            assert path.name in stems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_cells_stay_thin(path):
    for cell in code_cells(path):
        lines = [line for line in cell.source.splitlines() if line.strip()]
        body = [line for line in lines if not line.startswith(("import ", "from "))]
        assert len(body) <= MAX_CODE_LINES, cell.source
        ast.parse(cell.source)  # valid Python, no magics


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_links_point_at_notebooks_that_exist(path):
    for cell in read(path).cells:
        if cell.cell_type == "markdown":
            for target in re.findall(r"\]\(([^)#]+\.ipynb)\)", cell.source):
                assert (FOLDER / target).exists(), f"{path.name} links to missing {target}"


def test_the_tour_links_every_other_notebook():
    tour = "".join(cell.source for cell in read(FOLDER / "00-tour.ipynb").cells)
    for path in NOTEBOOKS:
        if path.name != "00-tour.ipynb":
            assert f"]({path.name})" in tour


def test_every_catalogue_result_belongs_to_one_stage():
    from derivations import CATALOGUE

    placed = [slug for _, slugs in stages.STAGES for slug in slugs]
    assert sorted(placed) == sorted(CATALOGUE)
    for slug in registry.slugs():
        assert stages.stage_of(slug) in stages.names()


def test_each_notebook_ends_with_your_turn():
    for path in NOTEBOOKS:
        headings = [c.source for c in read(path).cells if c.cell_type == "markdown"]
        assert any("Your turn" in h for h in headings), path.name
        verify = "".join(cell.source for cell in code_cells(path)[-3:])
        assert "check_claim" in verify or "check_catalogue_claim" in verify or "your_turn" in verify


# ---------------------------------------------------------------- execution
def execute(path: Path, monkeypatch) -> float:
    """Run ``path`` top to bottom on a fresh kernel; fail on any error. Returns seconds."""
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    # The kernel imports this checkout, installed or not.
    paths = [str(ROOT), os.environ.get("PYTHONPATH", "")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in paths if p))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = read(path)
    client = nbclient.NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(FOLDER)}},
    )
    start = time.monotonic()
    client.execute()
    seconds = time.monotonic() - start
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            assert output.output_type != "error", output
            if output.output_type == "stream" and output.name == "stderr":
                assert "Traceback" not in output.text, output.text
    print(f"{path.name}: executed in {seconds:.1f} s", file=sys.stderr)
    return seconds


FAST_NOTEBOOKS = [p for p in NOTEBOOKS if p.name in FAST]
SLOW_NOTEBOOKS = [p for p in NOTEBOOKS if p.name not in FAST]


@pytest.mark.parametrize("path", FAST_NOTEBOOKS, ids=lambda p: p.name)
def test_fast_notebook_executes(path, monkeypatch):
    execute(path, monkeypatch)


@pytest.mark.slow
@pytest.mark.parametrize("path", SLOW_NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_executes(path, monkeypatch):
    execute(path, monkeypatch)


def test_the_tour_has_a_your_turn_in_latex_that_the_verifier_reads():
    """The LaTeX attempt is read as LaTeX and judged: wrong as written (the symmetric-only
    mistake, which is the point of the exercise), right once fixed."""
    from workbench.verify import check_claim

    tour = nbformat.read(ROOT / "notebooks" / "00-tour.ipynb", as_version=4)
    cells = [c.source for c in tour.cells if c.cell_type == "code" and "my_latex" in c.source]
    assert len(cells) == 1
    assert 'r"2 A \\mathbf{x}"' in cells[0]
    shapes = {"x": 3, "A": "3x3"}
    wrong = check_claim(r"\mathbf{x}^\top A \mathbf{x}", "x", r"2 A \mathbf{x}", shapes=shapes)
    assert wrong.verdict == "incorrect" and wrong.diagnosis.startswith("symmetric-only")
    fixed = check_claim(
        r"\mathbf{x}^\top A \mathbf{x}", "x", r"(A + A^\top) \mathbf{x}", shapes=shapes
    )
    assert fixed.verdict == "correct"
