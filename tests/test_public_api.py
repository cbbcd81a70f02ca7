"""The names users import keep working across the layout move (old paths for one release)."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

PUBLIC = {
    "workbench": ["get", "slugs", "title", "check"],
    "workbench.verify": ["check_claim", "check_steps", "check_catalogue_claim", "VerifyReport"],
    "workbench.checks": ["check_derivation", "case_functions", "applicable_checks"],
    "workbench.gradcheck": ["check_gradient", "assert_gradient"],
    "workbench.display": ["show", "step_through", "tabulate"],
    "workbench.display_plots": ["plots_for", "plot_jacobian", "plot_step_size"],
    "workbench.display_guide": ["your_turn", "contents"],
    "workbench.display_curves": ["plot_result_curves"],
    "workbench.cli": ["main"],
}


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_public_names_import(module):
    loaded = importlib.import_module(module)
    for name in PUBLIC[module]:
        assert callable(getattr(loaded, name)), f"{module}.{name}"


def test_an_old_path_is_the_moved_module_itself():
    from workbench import display, gradcheck
    from workbench.checks import gradcheck as moved_gradcheck
    from workbench.notebook import display as moved_display

    assert display is moved_display and gradcheck is moved_gradcheck


def test_a_derivation_still_checks_and_prints_itself():
    import workbench

    d = workbench.get("softmax-jacobian")
    assert d.to_latex().startswith(r"\begin{align*}")
    assert d._repr_html_().startswith("<div") and d._repr_latex_().startswith(r"\begin{align*}")
    assert d.check(only=("steps",)).checks[0].passed


def test_importing_the_package_loads_no_sympy():
    code = "import sys, workbench, workbench.verify, workbench.checks\n"
    code += "print('sympy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
