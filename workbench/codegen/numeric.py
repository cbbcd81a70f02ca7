"""From SymPy matrix expressions to vectorised, numerically stable NumPy code.

:func:`compile_numpy` lambdifies with a printer that prints
:class:`~workbench.core.functions.Softmax`
and friends as single calls to the stable helpers below (max-subtraction, log-sum-exp),
so generated code handles logits of ±1000. Every helper also accepts complex input,
which the complex-step check needs: shifts use the real part only.

Example:
    >>> import numpy as np, sympy as sp
    >>> from workbench.core.functions import Softmax
    >>> z = sp.MatrixSymbol("z", 2, 1)
    >>> f = compile_numpy([z], Softmax(z))
    >>> np.round(f(np.array([[1000.0], [1001.0]])), 4).ravel().tolist()
    [0.2689, 0.7311]
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache

import numpy as np
import sympy as sp

from workbench.codegen.printer import StableNumPyPrinter, prepare
from workbench.core.functions import Elementwise, LogSoftmax, MaskedSoftmax, Softmax
from workbench.errors import NonFiniteInput


# ---------------------------------------------------------------- stable helpers
def softmax(x: np.ndarray, axis: int = 0) -> np.ndarray:
    """exp(x) normalised along ``axis``; the max is subtracted first so nothing overflows."""
    # One new array, worked on in place: at 256 × 1000 a fresh array per step costs
    # more (allocation, page faults) than the arithmetic.
    e = np.asarray(x - np.max(x.real, axis=axis, keepdims=True), dtype=np.result_type(x, 1.0))
    np.exp(e, out=e)
    e *= 1 / np.sum(e, axis=axis, keepdims=True)  # one division per row, not per entry
    return e


def log_softmax(x: np.ndarray, axis: int = 0) -> np.ndarray:
    """x − logsumexp(x) along ``axis``, finite for any finite logits."""
    shifted = x - np.max(x.real, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def logsumexp(x: np.ndarray, axis: int | None = None) -> np.ndarray:
    """log Σ exp(x) = m + log Σ exp(x − m)."""
    m = np.max(x.real, axis=axis, keepdims=True)
    out = m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
    return out if axis is not None else out.reshape(())


def masked_softmax(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Row softmax over entries where ``mask`` is 1 (masked entries get probability 0)."""
    keep = mask.real > 0
    m = np.max(np.where(keep, x.real, -np.inf), axis=-1, keepdims=True)
    e = np.where(keep, np.exp(np.where(keep, x - m, 0)), 0)
    return e / np.sum(e, axis=-1, keepdims=True)  # the last axis: rows, also batched


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1/(1 + exp(−x)) written as (1 + tanh(x/2))/2: no overflow, analytic for complex step."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def relu(x: np.ndarray) -> np.ndarray:
    """max(0, x); the kink at 0 is decided by the real part."""
    return np.where(x.real > 0, x, 0)


def step(x: np.ndarray) -> np.ndarray:
    """Heaviside step with step(0) = 0, the derivative of ReLU away from its kink."""
    return (x.real > 0).astype(float)


def tanh_prime(x: np.ndarray) -> np.ndarray:
    """1 − tanh²(x)."""
    return 1.0 - np.tanh(x) ** 2


def sigmoid_prime(x: np.ndarray) -> np.ndarray:
    """σ(x)(1 − σ(x))."""
    s = sigmoid(x)
    return s * (1.0 - s)


_GELU_C = float(np.sqrt(2 / np.pi))  # a Python float: a NumPy scalar would promote float32


_CHUNK = 8192  # entries per piece: a piece's arrays (64 KiB each) stay in the core's cache


def _in_pieces(kernel: Callable, x, scratch: int = 0, times=None):
    """``kernel(x, out, *scratch)`` over consecutive pieces of ``x``, into a new array; or,
    given ``times`` (an array no one else holds), ``times`` ∘ that, written into ``times``.

    A formula of a dozen operations on a large array reads and writes the whole array a
    dozen times, from memory, and each temporary is a new array (which on this scale
    costs more to allocate than to fill). Piece by piece the operations run in the cache
    and the scratch arrays are allocated once. Scalars and complex arrays are worked the
    same way (the complex step passes complex input)."""
    x, scalar = _as_input(x)
    fused = (
        not scalar  # a number's one-entry array is not the caller's array to write into
        and isinstance(times, np.ndarray)
        and times.shape == x.shape
        and times.dtype == np.result_type(times, x)
        and times.flags.c_contiguous
        and times.flags.writeable
    )
    if times is not None and not fused:
        return times * _in_pieces(kernel, x, scratch)
    spare = [np.empty(min(x.size, _CHUNK), x.dtype) for _ in range(scratch + fused)]
    out = times if fused else np.empty_like(x)
    flat, into = x.reshape(-1), out.reshape(-1)
    for piece in _pieces(flat.size):
        buffers = [s[: piece.stop - piece.start] for s in spare]
        if fused:
            kernel(flat[piece], buffers[0], *buffers[1:])
            into[piece] *= buffers[0]
        else:
            kernel(flat[piece], into[piece], *buffers)
    return out[0] if scalar else out


def _as_input(x) -> tuple[np.ndarray, bool]:
    """``x`` as a contiguous array of at least one axis (floating or complex), and
    whether it was a scalar."""
    x = np.asarray(x, dtype=np.result_type(x, 1.0))
    return np.ascontiguousarray(x), x.ndim == 0


def _pieces(size: int):
    """Consecutive slices of at most :data:`_CHUNK` entries covering ``range(size)``."""
    for start in range(0, size, _CHUNK):
        yield slice(start, min(start + _CHUNK, size))


def _tanh_argument(x, square, out):
    """out = √(2/π)(x + 0.044715x³), given square = x·x (x·x·x, not x**3: NumPy's power
    with an exponent other than 2 is ~100× slower)."""
    np.multiply(square, x, out=out)
    out *= 0.044715
    out += x
    out *= _GELU_C


def _gelu_kernel(x, out, square):
    """out = x/2·(1 + tanh(√(2/π)(x + 0.044715x³)))."""
    np.multiply(x, x, out=square)
    _tanh_argument(x, square, out)
    np.tanh(out, out=out)
    out += 1.0
    out *= x
    out *= 0.5


def _gelu_prime_kernel(x, out, square, slope, value=None):
    """out = (1 + t)/2 + x(1 − t²)·√(2/π)(1 + 3·0.044715x²)/2, t = tanh(√(2/π)(x + 0.044715x³));
    and, given ``value``, GELU itself x/2·(1 + t) into it, from the same t."""
    t = out
    np.multiply(x, x, out=square)
    _tanh_argument(x, square, t)
    np.tanh(t, out=t)
    if value is not None:
        np.add(t, 1.0, out=value)
        value *= x
        value *= 0.5
    np.multiply(t, t, out=slope)  # then 1 − t², times x/2·√(2/π)(1 + 3·0.044715x²)
    slope *= -1.0
    slope += 1.0
    slope *= x
    slope *= 0.5 * _GELU_C
    square *= 3 * 0.044715
    square += 1.0
    slope *= square
    t += 1.0
    t *= 0.5
    t += slope


def gelu(x: np.ndarray, times: np.ndarray | None = None) -> np.ndarray:
    """x/2·(1 + tanh(√(2/π)(x + 0.044715x³))), GELU's tanh form; tanh never overflows.
    ``times``: a new array to multiply by, in place (see :func:`_in_pieces`)."""
    return _in_pieces(_gelu_kernel, x, 1, times)


def gelu_prime(x: np.ndarray, times: np.ndarray | None = None) -> np.ndarray:
    """GELU's slope, the derivative of :func:`gelu` (checked against SymPy's in the tests):
    (1 + t)/2 + x(1 − t²)·√(2/π)(1 + 3·0.044715x²)/2 with t = tanh(√(2/π)(x + 0.044715x³))."""
    return _in_pieces(_gelu_prime_kernel, x, 2, times)


def gelu_with_slope(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(:func:`gelu`, :func:`gelu_prime`) of ``x`` from one tanh, the same numbers as
    each alone: a forward pass keeps the slope for its backward pass."""
    x, scalar = _as_input(x)
    value, slope = np.empty_like(x), np.empty_like(x)
    flat, values, slopes = x.reshape(-1), value.reshape(-1), slope.reshape(-1)
    square, t = (np.empty(min(x.size, _CHUNK), x.dtype) for _ in range(2))
    for piece in _pieces(flat.size):
        size = piece.stop - piece.start
        _gelu_prime_kernel(flat[piece], slopes[piece], square[:size], t[:size], values[piece])
    return (value[0], slope[0]) if scalar else (value, slope)


HELPERS: dict[str, Callable] = {
    "tanh_prime": tanh_prime,
    "sigmoid_prime": sigmoid_prime,
    "relu_prime": step,
    "softmax": softmax,
    "log_softmax": log_softmax,
    "logsumexp": logsumexp,
    "masked_softmax": masked_softmax,
    "sigmoid": sigmoid,
    "relu": relu,
    "step": step,
    "square": np.square,
    "gelu": gelu,
    "gelu_prime": gelu_prime,
    "gelu_with_slope": gelu_with_slope,
}


_PRINTABLE = (Softmax, LogSoftmax, MaskedSoftmax, Elementwise)


@lru_cache(maxsize=512)
def _compile(args: tuple, expr) -> Callable:
    printer = StableNumPyPrinter(
        {"fully_qualified_modules": True, "inline": True, "helpers": frozenset(HELPERS)}
    )
    return sp.lambdify(list(args), expr, modules=[HELPERS, "numpy"], printer=printer, cse=True)


def _concrete(args, expr, sizes):
    if sizes:
        args = [a.subs(sizes) for a in args]
        expr = expr.subs(sizes)
    return tuple(args), expr


def compile_numpy(
    args: Sequence[sp.MatrixSymbol],
    expr,
    sizes: Mapping[sp.Symbol, int] | None = None,
    *,
    check_finite: bool = False,
) -> Callable:
    """Lambdify ``expr`` (a matrix expression) into vectorised NumPy, sizes made concrete.

    The function is cached, so checking many points costs one code generation. With
    ``check_finite`` (as in SciPy) every call first checks its inputs and raises
    :class:`~workbench.errors.NonFiniteInput`, a ``ValueError``, naming the input and the
    entry that is NaN or infinite; by default inputs are not inspected (no cost), and a
    NaN in gives NaN out.

    Example:
        >>> x = sp.MatrixSymbol("x", 2, 1)
        >>> compile_numpy([x], 2 * x, check_finite=True)(np.array([[1.0], [np.nan]]))
        Traceback (most recent call last):
        ...
        workbench.errors.NonFiniteInput: input x has a non-finite entry nan at [1, 0]
    """
    arguments, concrete = _concrete(args, expr, sizes)
    compiled = _compile(arguments, prepare([concrete])[0])
    return _checking_finite(compiled, arguments) if check_finite else compiled


def _checking_finite(compiled: Callable, arguments: Sequence) -> Callable:
    names = [str(a) for a in arguments]

    @functools.wraps(compiled)
    def checked(*values):
        for name, value in zip(names, values, strict=False):
            array = np.asarray(value)
            if not np.issubdtype(array.dtype, np.number):
                continue
            bad = ~np.isfinite(array)
            if bad.any():
                where = [int(i) for i in np.argwhere(bad)[0]] if array.ndim else []
                entry = array[tuple(where)] if where else array
                at = f" at {where}" if where else ""
                raise NonFiniteInput(f"input {name} has a non-finite entry {entry}{at}")
        return compiled(*values)

    return checked


def compile_numpy_all(
    args: Sequence[sp.MatrixSymbol],
    exprs: Sequence,
    sizes: Mapping[sp.Symbol, int] | None = None,
    *,
    check_finite: bool = False,
) -> Callable:
    """Lambdify several expressions into one function returning a tuple of arrays.

    One code generation with common subexpressions shared: the gradients of a network
    compute its forward pass once, not once per gradient. ``check_finite``: as in
    :func:`compile_numpy`.

    Example:
        >>> import numpy as np, sympy as sp
        >>> x = sp.MatrixSymbol("x", 2, 1)
        >>> both = compile_numpy_all([x], [x.T * x, 2 * x])
        >>> [np.asarray(v).ravel().tolist() for v in both(np.array([[1.0], [2.0]]))]
        [[5.0], [2.0, 4.0]]
    """
    concrete = [_concrete(args, e, sizes) for e in exprs]
    arguments = concrete[0][0] if concrete else tuple(args)
    compiled = _compile(arguments, tuple(prepare([expr for _, expr in concrete])))
    return _checking_finite(compiled, arguments) if check_finite else compiled


def source(args: Sequence[sp.MatrixSymbol], expr, sizes=None) -> str:
    """The generated NumPy source of :func:`compile_numpy`, for listings and handouts."""
    import inspect

    return inspect.getsource(compile_numpy(args, expr, sizes))


def source_all(args: Sequence[sp.MatrixSymbol], exprs: Sequence, sizes=None) -> str:
    """The generated NumPy source of :func:`compile_numpy_all`."""
    import inspect

    return inspect.getsource(compile_numpy_all(args, exprs, sizes))


# ---------------------------------------------------------------- random inputs
def logits(scale: float = 1.0) -> Callable:
    """Sampler: standard normal entries times ``scale`` (moderate logits)."""
    return lambda rng, shape: scale * rng.standard_normal(shape)


def weights() -> Callable:
    """Sampler: entries ∝ 1/√fan_in, so activations stay O(1)."""
    return lambda rng, shape: rng.standard_normal(shape) / np.sqrt(shape[-1])


def probabilities(axis: int = 0) -> Callable:
    """Sampler: non-negative entries that sum to one along ``axis`` (a target distribution)."""

    def draw(rng, shape):
        p = rng.gamma(1.0, size=shape)
        return p / p.sum(axis=axis, keepdims=True)

    return draw


def one_hot(axis: int = 0) -> Callable:
    """Sampler: one-hot targets along ``axis``."""

    def draw(rng, shape):
        out = np.zeros(shape)
        n = shape[axis]
        others = [range(s) for i, s in enumerate(shape) if i != axis]
        import itertools

        for rest in itertools.product(*others):
            index = list(rest)
            index.insert(axis, int(rng.integers(n)))
            out[tuple(index)] = 1.0
        return out

    return draw


def causal_mask() -> Callable:
    """Sampler: the lower-triangular 0/1 mask of causal attention."""
    return lambda rng, shape: np.tril(np.ones(shape))


def away_from_zero(margin: float = 0.1) -> Callable:
    """Sampler: normal entries pushed at least ``margin`` from 0 (pre-activations near a kink)."""

    def draw(rng, shape):
        x = rng.standard_normal(shape)
        return np.where(x >= 0, x + margin, x - margin)

    return draw


def shape_of(symbol: sp.MatrixSymbol, sizes: Mapping[sp.Symbol, int]) -> tuple[int, int]:
    rows, cols = (sp.sympify(d).subs(sizes) for d in symbol.shape)
    return int(rows), int(cols)


def sample_inputs(
    samplers: Mapping[sp.MatrixSymbol, Callable], sizes: Mapping[sp.Symbol, int], seed: int
) -> dict[sp.MatrixSymbol, np.ndarray]:
    """Draw every input at concrete ``sizes`` from a seeded generator."""
    rng = np.random.default_rng(seed)
    return {
        symbol: np.asarray(draw(rng, shape_of(symbol, sizes)), dtype=float)
        for symbol, draw in samplers.items()
    }
