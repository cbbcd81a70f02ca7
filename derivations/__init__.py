"""The catalogue of results, one module per slug (``softmax-jacobian`` → ``softmax_jacobian``).

``CATALOGUE`` is the curriculum's plan, in the order a learner meets the results
(``shared/catalog.md``): Tier 1, the five key results, then Tier 2. The registry
lists the entries whose module exists, in this order; each module's docstring gives
the title and the result on its first line.
"""

CATALOGUE: tuple[str, ...] = (
    # Tier 1 — the five key results
    "softmax-jacobian",
    "cross-entropy-gradient",
    "nll-equals-cross-entropy",
    "two-layer-backprop",
    "attention-gradient",
    # Tier 2 — foundations and calculus
    "softmax-shift-invariance",
    "log-sum-exp-gradient",
    "sigmoid-derivative",
    "gradient-descent-parabola",
    "finite-difference-error",
    # linear algebra and least squares
    "matrix-calculus-identities",
    "least-squares",
    "pca-variance",
    "convolution-theorem",
    # probability, statistics and information theory
    "bernoulli-entropy",
    "gaussian-mle",
    "gaussian-kl",
    "perplexity",
    "mutual-information",
    "max-entropy-softmax",
    # learning and optimisation
    "logistic-regression-gradient",
    "momentum-as-ewma",
    "adam-bias-correction",
    "newton-step",
    "layernorm-backward",
    "transformer-block-backward",
    "multi-head-attention",
)
