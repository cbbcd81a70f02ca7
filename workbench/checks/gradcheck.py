"""Check any analytic gradient or Jacobian against numeric estimates.

Three methods, one report:

* ``central`` — (f(x + h·e) − f(x − h·e)) / 2h per coordinate. Truncation error is
  ≈ h²·f‴/6 and rounding ≈ ε·|f|/h, so h ≈ 1e-5 gives ~1e-10 relative in float64;
  the default tolerance 1e-7 leaves room for curvature while still failing any
  formula that is wrong by more than a rounding error.
* ``complex-step`` — Im f(x + i·h·e) / h with h = 1e-20: no subtraction, so no
  cancellation; float64 gives ~1e-16 where the code is analytic. Tolerance 1e-12.
* ``directional`` — one seeded random direction t: the central difference of f along
  t against J·t (a Jacobian-vector product), the cheap test for large inputs.

Errors are normwise per input: for the gradient with respect to each input (each
block), ``max|estimate − analytic| / max(max|analytic|, max|estimate|)`` over that block,
so tiny components cannot inflate the relative error, and a large gradient with respect
to one input cannot hide an error in a small one with respect to another. The report's
relative error is the worst block's.

Example:
    >>> import numpy as np
    >>> report = check_gradient(lambda x: np.sum(x**3), lambda x: 3 * x**2, np.array([1.0, 2.0]))
    >>> report.passed, report.method
    (True, 'central')
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from workbench.errors import GradientMismatch

DEFAULT_STEP = {"central": 1e-5, "complex-step": 1e-20, "directional": 1e-5}
TOLERANCE = {"central": 1e-7, "complex-step": 1e-12, "directional": 1e-7}
KINK_MARGIN = 10.0  # warn when a kink argument lies within this many steps of zero


@dataclass(frozen=True)
class GradientReport:
    """What a gradient check measured.

    Attributes:
        method: ``central``, ``complex-step`` or ``directional``.
        step: the finite-difference step h.
        max_abs_error: largest absolute difference between estimate and analytic.
        max_rel_error: the worst block's normwise relative error (see the module
            docstring).
        tolerance: the relative error allowed, in every block.
        passed: ``max_rel_error <= tolerance`` and every value finite.
        coordinates: how many coordinates (or directions) were probed.
        warnings: e.g. a test point on a kink.
        block_errors: per differentiated input, in ``wrt`` order, its normwise relative
            error against its own scale.
    """

    method: str
    step: float
    max_abs_error: float
    max_rel_error: float
    tolerance: float
    passed: bool
    coordinates: int
    warnings: tuple[str, ...] = field(default=())
    block_errors: tuple[float, ...] = field(default=())

    def to_dict(self) -> dict:
        return asdict(self)


def check_gradient(
    f: Callable[..., np.ndarray],
    grad: Callable[..., np.ndarray | Sequence[np.ndarray]],
    *inputs: np.ndarray,
    method: str = "central",
    step: float | None = None,
    tolerance: float | None = None,
    wrt: Sequence[int] | None = None,
    seed: int = 0,
    max_coordinates: int = 400,
    kinks: Callable[..., Sequence[np.ndarray]] | None = None,
) -> GradientReport:
    """Compare ``grad(*inputs)`` with a numeric derivative of ``f`` at ``inputs``.

    Args:
        f: a function of the inputs, scalar- or array-valued.
        grad: the claimed derivative; one array per input in ``wrt`` (a tuple when several).
            For scalar ``f`` each has its input's shape (gradient layout); for array ``f``
            it has shape ``f.shape + x.shape`` (Jacobian, numerator layout).
        inputs: the point.
        method: ``central``, ``complex-step`` or ``directional``.
        step: h; defaults per method (1e-5, 1e-20, 1e-5).
        tolerance: relative error allowed; defaults per method (1e-7, 1e-12, 1e-7).
        wrt: positions of the inputs differentiated (default: all).
        seed: seeds the coordinates sampled and the random direction.
        max_coordinates: above this many entries, a seeded sample of coordinates is probed.
        kinks: returns arrays (e.g. pre-activations) whose zeros are kinks; a test point
            within ``KINK_MARGIN·h`` of one is reported in ``warnings``.
    """
    if method not in DEFAULT_STEP:
        raise ValueError(f"method must be one of {sorted(DEFAULT_STEP)}, not {method!r}")
    h = DEFAULT_STEP[method] if step is None else step
    tol = TOLERANCE[method] if tolerance is None else tolerance
    xs = [np.asarray(x, dtype=float) for x in inputs]
    positions = list(range(len(xs))) if wrt is None else list(wrt)
    given = grad(*xs)
    single = len(positions) == 1 and not isinstance(given, (tuple, list))
    claimed = [np.asarray(given)] if single else [np.asarray(g) for g in given]
    out_shape = np.shape(f(*xs))
    rng = np.random.default_rng(seed)

    abs_err, finite, probed, blocks = 0.0, True, 0, []
    for pos, g in zip(positions, claimed, strict=True):
        x = xs[pos]
        g = g.reshape(int(np.prod(out_shape, dtype=int)), x.size)
        if method == "directional":
            t = rng.standard_normal(x.shape)
            estimate = _central_along(f, xs, pos, t, h).reshape(-1)
            analytic = g @ t.reshape(-1)
            probed += 1
        else:
            coords = np.arange(x.size)
            if x.size > max_coordinates:
                coords = rng.choice(x.size, size=max_coordinates, replace=False)
            estimate = np.empty((g.shape[0], coords.size))
            for col, c in enumerate(coords):
                unit = np.zeros(x.size)
                unit[c] = 1.0
                e = unit.reshape(x.shape)
                if method == "central":
                    estimate[:, col] = _central_along(f, xs, pos, e, h).reshape(-1)
                else:
                    estimate[:, col] = _complex_along(f, xs, pos, e, h).reshape(-1)
            analytic = g[:, coords]
            probed += coords.size
        finite &= bool(np.all(np.isfinite(estimate)) and np.all(np.isfinite(analytic)))
        block_abs = float(np.max(np.abs(estimate - analytic), initial=0.0))
        # Each block against its own scale: ∂L/∂b₂ of size 1e-2 beside ∂L/∂W₁ of size 1e2
        # is judged as what it is, not as a rounding error of the larger one.
        scale = max(
            float(np.max(np.abs(analytic), initial=0.0)),
            float(np.max(np.abs(estimate), initial=0.0)),
        )
        abs_err = max(abs_err, block_abs)
        blocks.append(block_abs / scale if scale > 0 else block_abs)

    rel_err = max(blocks, default=0.0)
    warnings = _kink_warnings(kinks, xs, h) if kinks is not None else ()
    return GradientReport(
        method=method,
        step=h,
        max_abs_error=abs_err,
        max_rel_error=rel_err,
        tolerance=tol,
        passed=finite and rel_err <= tol,
        coordinates=probed,
        warnings=warnings,
        block_errors=tuple(blocks),
    )


def assert_gradient(*args, **kwargs) -> GradientReport:
    """:func:`check_gradient`, raising :class:`GradientMismatch` when it fails."""
    report = check_gradient(*args, **kwargs)
    if not report.passed:
        hint = f" ({'; '.join(report.warnings)})" if report.warnings else ""
        raise GradientMismatch(
            f"{report.method} check failed: relative error {report.max_rel_error:.3g} "
            f"> tolerance {report.tolerance:.1g}{hint}"
        )
    return report


def _central_along(f, xs, pos, direction, h):
    plus = [x if i != pos else x + h * direction for i, x in enumerate(xs)]
    minus = [x if i != pos else x - h * direction for i, x in enumerate(xs)]
    return (np.asarray(f(*plus)) - np.asarray(f(*minus))) / (2 * h)


def _complex_along(f, xs, pos, direction, h):
    shifted = [x.astype(complex) if i != pos else x + 1j * h * direction for i, x in enumerate(xs)]
    value = np.asarray(f(*shifted))
    if not np.iscomplexobj(value):
        raise GradientMismatch(
            "the function returned real values for complex input: it is not written so that "
            "the complex step can pass through it (use method='central')"
        )
    return value.imag / h


def _kink_warnings(kinks, xs, h) -> tuple[str, ...]:
    nearest = min(
        (float(np.min(np.abs(np.asarray(a).real))) for a in kinks(*xs) if np.size(a)),
        default=np.inf,
    )
    central_h = max(h, DEFAULT_STEP["central"])
    if nearest < KINK_MARGIN * central_h:
        return (
            f"a test point lies {nearest:.2g} from a kink (e.g. ReLU at 0): finite differences "
            "straddle it and disagree with either one-sided derivative; move the point",
        )
    return ()
