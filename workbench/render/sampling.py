"""Telling a Monte Carlo check from an exact computation, and saying why its tolerance is wide.

A derivation's independent computations (``Derivation.numeric_checks``) are named in
words, e.g. "KL by sampling 400 000 draws from p (5 standard errors)". A check that
averages random samples carries sampling noise of about one standard error, σ/√N, so its
relative error is 10⁻³, not 10⁻¹⁵, and its tolerance is a number of standard errors
measured from the samples. A handout that printed such an error beside a check mark
without a word would read as a loose tolerance; :func:`explain` gives the word.

Example:
    >>> mc = monte_carlo("KL by sampling 400 000 draws from p (5 standard errors)")
    >>> mc.samples, mc.unit, mc.standard_errors
    (400000, 'draws', 5)
    >>> monte_carlo("KL by numerical integration (mpmath.quad) at random pairs") is None
    True
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from workbench.render.latex import number_to_latex

# "20 000 simulated runs", "200 000 flips", "100 000 sampled tokens", "400 000 draws"
COUNT = re.compile(
    r"(\d{1,3}(?:[ \u00a0\u2009\u202f,]\d{3})+|\d{4,})\s+((?:simulated|sampled)\s+)?(\w+)"
)
SAMPLED = re.compile(r"\b(sampl\w*|simulated|Monte Carlo|draws)\b", re.I)
STANDARD_ERRORS = re.compile(r"(\d+(?:\.\d+)?)\s+standard errors?")


@dataclass(frozen=True)
class MonteCarlo:
    """What a check's name says about its sampling.

    Attributes:
        samples: how many samples (runs, draws, flips) it averages.
        unit: what one sample is, in the name's word ("draws", "runs").
        standard_errors: the tolerance in standard errors, when the name gives it.
    """

    samples: int
    unit: str
    standard_errors: float | None


def monte_carlo(name: str) -> MonteCarlo | None:
    """The sampling a check's name describes, or None for a computation with no sampling."""
    if not SAMPLED.search(name):
        return None
    count = COUNT.search(name)
    if count is None:
        return None
    samples = int(re.sub(r"\D", "", count.group(1)))
    k = STANDARD_ERRORS.search(name)
    number = float(k.group(1)) if k else None
    if number is not None and number.is_integer():
        number = int(number)
    return MonteCarlo(samples, count.group(3), number)


def explain(mc: MonteCarlo) -> str:
    """A sentence (LaTeX) saying why a Monte Carlo error is large and its tolerance wide."""
    n = f"{mc.samples:,}".replace(",", r"\,")
    said = (
        f"\\emph{{Monte Carlo}} rows average $N = {n}$ random {mc.unit} (or as many as each "
        "row says), so their estimate differs from the exact value by sampling noise of about "
        r"one standard error, $s/\sqrt{N}$ with $s$ the samples' standard deviation: a "
        f"relative error of order $1/\\sqrt{{N}} \\approx {number_to_latex(mc.samples**-0.5)}$ "
        "is expected of a right formula."
    )
    if mc.standard_errors is not None:
        k = mc.standard_errors
        chance = number_to_latex(math.erfc(k / math.sqrt(2)))
        said += (
            f" The tolerance is ${k}$ standard errors, measured from the samples: a right "
            f"closed form misses it with probability about ${chance}$ per compared value "
            "(normal approximation), while a wrong one that is off by more than that is "
            "caught."
        )
    return said
