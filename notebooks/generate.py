"""Write the notebooks of this folder from their text.

The notebooks are code: their cells live in ``notebook_text.py`` (the tour and the
stages) and ``notebook_text_key.py`` (the five key results), and this script writes them
as ``.ipynb`` files without outputs (cell ids are stable, so a rerun changes nothing).
A stage notebook is written once its stage has a result other than the key results (an
empty stage gets none); its cells loop over whatever results of the stage exist when it
runs, so it needs no rewriting as more results land.

Usage:
    python notebooks/generate.py            # write every notebook
    python notebooks/generate.py --check    # exit 1 if a written notebook would change
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import notebook_text as content  # noqa: E402  (beside this script)

from workbench.core import stages  # noqa: E402

METADATA = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


def build(stem: str, cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    """A notebook from (kind, source) pairs; kind is "md" or "code"."""
    notebook = new_notebook(metadata=METADATA)
    for number, (kind, source) in enumerate(cells):
        make = new_markdown_cell if kind == "md" else new_code_cell
        cell = make(source.strip("\n"))
        cell["id"] = f"{stem}-{number:02d}"[:64]
        notebook.cells.append(cell)
    return notebook


def written_stages() -> list[str]:
    """Stages whose notebook is in this folder, in curriculum order."""
    return [s for s in stages.names() if (HERE / f"{content.stage_stem(s)}.ipynb").exists()]


def notebooks(stage_names: list[str]) -> dict[str, nbformat.NotebookNode]:
    """File name → notebook: the tour, the key results, and the stages named."""
    pages = content.all_notebooks(stage_names)
    return {f"{stem}.ipynb": build(stem, cells) for stem, cells in pages}


def render(notebook: nbformat.NotebookNode) -> str:
    return nbformat.writes(notebook) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report drift, write nothing")
    args = parser.parse_args(argv)
    # A stage gets a notebook once it has a result; a notebook once written stays.
    names = set(content.stages_with_results()) | set(written_stages())
    stale = []
    for name, notebook in notebooks([s for s in stages.names() if s in names]).items():
        path = HERE / name
        text = render(notebook)
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(name)
        if not args.check:
            path.write_text(text, encoding="utf-8")
    verb = "would change" if args.check else "wrote"
    print(f"{verb}: {', '.join(stale) or 'nothing'}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
