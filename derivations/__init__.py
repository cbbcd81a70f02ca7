"""The catalogue of results, one module per slug (``softmax-jacobian`` → ``softmax_jacobian``).

``CATALOGUE`` lists the slugs in the order a learner meets them; the registry reads it,
and each module's docstring gives the result's title on its first line.
"""

CATALOGUE: tuple[str, ...] = (
    "softmax-jacobian",
    "cross-entropy-gradient",
    "nll-equals-cross-entropy",
    "two-layer-backprop",
    "attention-gradient",
)
