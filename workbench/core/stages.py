"""The curriculum's stages, and which results of the catalogue belong to each.

The catalogue (:data:`derivations.CATALOGUE`) orders the results; this map groups them
the way the curriculum (``shared/seeds``) teaches them, so a notebook per stage can step
through whatever results of that stage exist. Every catalogue slug belongs to exactly
one stage; the five key results (:data:`KEY_RESULTS`) have notebooks of their own.

Example:
    >>> stage_of("least-squares")
    'linear algebra'
    >>> STAGES[0][0], "softmax-jacobian" in KEY_RESULTS
    ('foundations', True)
"""

from __future__ import annotations

from workbench.core import registry

KEY_RESULTS: tuple[str, ...] = (
    "softmax-jacobian",
    "cross-entropy-gradient",
    "nll-equals-cross-entropy",
    "two-layer-backprop",
    "attention-gradient",
)

# In the order the curriculum meets them: exponentials and logs first, then the linear
# algebra that probability leans on, the calculus that bridges to optimisation, and the
# information theory that explains the loss; numerical methods check all of it.
STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("foundations", ("softmax-shift-invariance", "log-sum-exp-gradient", "sigmoid-derivative")),
    (
        "linear algebra",
        ("matrix-calculus-identities", "least-squares", "pca-variance", "convolution-theorem"),
    ),
    (
        "calculus",
        (
            "softmax-jacobian",
            "cross-entropy-gradient",
            "two-layer-backprop",
            "attention-gradient",
            "layernorm-backward",
            "transformer-block-backward",
            "multi-head-attention",
        ),
    ),
    ("probability and statistics", ("gaussian-mle", "logistic-regression-gradient")),
    (
        "information theory",
        (
            "nll-equals-cross-entropy",
            "bernoulli-entropy",
            "gaussian-kl",
            "perplexity",
            "mutual-information",
            "max-entropy-softmax",
        ),
    ),
    (
        "optimisation",
        ("gradient-descent-parabola", "momentum-as-ewma", "adam-bias-correction", "newton-step"),
    ),
    ("numerical methods", ("finite-difference-error",)),
)


def names() -> tuple[str, ...]:
    """The stages, in curriculum order."""
    return tuple(name for name, _ in STAGES)


def planned(stage: str) -> tuple[str, ...]:
    """Every slug of ``stage``, whether or not its module exists yet."""
    for name, slugs in STAGES:
        if name == stage:
            return slugs
    raise KeyError(f"unknown stage {stage!r}; stages: {', '.join(names())}")


def available(stage: str, *, key_results: bool = True) -> tuple[str, ...]:
    """The slugs of ``stage`` whose module exists, in catalogue order.

    Args:
        stage: one of :func:`names`.
        key_results: include the five key results (their own notebooks cover them).
    """
    wanted = set(planned(stage))
    return tuple(
        s for s in registry.slugs() if s in wanted and (key_results or s not in KEY_RESULTS)
    )


def stage_of(slug: str) -> str:
    """The stage ``slug`` belongs to."""
    for name, slugs in STAGES:
        if slug in slugs:
            return name
    raise KeyError(f"{slug!r} belongs to no stage")


def file_stem(stage: str) -> str:
    """A stage's name as it appears in a file name: ``probability-and-statistics``."""
    planned(stage)  # unknown stages fail here, not as a missing file later
    return stage.replace(" ", "-")
