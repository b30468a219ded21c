"""FP8 (E4M3) training arithmetic on a CPU: fine-grained scaling and accumulation.

What this module teaches (DeepSeek-V3 report, arXiv 2412.19437, §3.3):

* **E4M3** has 4 exponent and 3 mantissa bits: the largest value is 448, normal
  numbers start at ``2**-6`` and round to within a relative ``2**-4``. Torch
  stores it as ``torch.float8_e4m3fn``. A tensor is multiplied by a *scale*
  first so that its largest magnitude lands on 448 (:func:`quantize`).
* **Fine-grained scaling** (§3.3.2): one scale per **1x128 tile** of an
  activation (per token, per 128 channels) and per **128x128 block** of a
  weight, computed online from the current maximum. A single outlier then only
  coarsens its own tile, where a per-tensor scale pushes every other value of
  the tensor toward E4M3's subnormal floor (:func:`matmul_errors`).
* **Accumulation precision** (§3.3.2): the report measures that FP8 GEMMs on
  H800 tensor cores keep "around 14 bits" while summing over the inner
  dimension ``K``, and fixes it by copying the partial sum to FP32 registers
  every ``N_C = 128`` elements. :func:`accumulate` models that accumulator
  (a running sum rounded to ``bits`` significant bits after every addition;
  the hardware's exact alignment and rounding are not public, so both round-
  to-nearest and truncation are offered).
* **What FP8 halves** (:func:`storage_bytes`, :func:`gemm_speedup`): the bytes
  of the tensors that are stored or sent in FP8, and the time of the GEMMs
  (FP8 tensor-core peak is twice BF16's); not the FP32 master weights and
  gradients, not the operators kept in higher precision, not the rest of the
  step.

* **How a scale is chosen** (:func:`quantize`), as DeepSeek's own quantizer
  does it (``act_quant`` in DeepSeek-V3's ``inference/kernel.py``, current
  version): the group's largest magnitude is first raised to at least
  ``AMAX_FLOOR = 1e-4``, so an all-zero tile gets the scale ``1e-4 / 448``
  rather than a division by zero, and a tile of tiny values keeps them tiny
  in E4M3 instead of blowing them up to 448. V3.1 and V3.2 add
  ``scale_fmt="ue8m0"``: the scale is rounded *up* to a power of two (an
  8-bit exponent with no mantissa), so it fits in one byte and applying it
  only shifts exponents; the price is that a group's largest value may land
  anywhere in (224, 448] instead of on 448, which costs up to one bit of
  range, not of precision, for normal numbers (:func:`scale_format_errors`).

References: DeepSeek-V3 report §3.3 (Figure 6-7), §3.3.2-3.3.3; deepseek-ai/
DeepGEMM and DeepSeek-V3 ``inference/kernel.py`` (``act_quant`` with 128-wide
blocks, the 1e-4 floor on the amax and the ``scale_fmt="ue8m0"`` option,
``weight_dequant`` with 128x128 blocks) for the layout;
``inference/configs/config_v3.1.json`` (``"scale_fmt": "ue8m0"``) and
DeepSeek-V3.2-Exp ``inference/kernel.py`` (``act_quant`` with ``round_scale``:
the exponent of the scale, plus one unless it is already a power of two) for
the power-of-two scales; Micikevicius et al., "FP8 Formats for Deep Learning"
(arXiv 2209.05433) for E4M3.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from explainer.checks import check_choice, check_int, check_number, check_seed, check_tensor

__all__ = [
    "AMAX_FLOOR",
    "BLOCK",
    "E4M3",
    "E4M3_MAX",
    "E4M3_MIN_NORMAL",
    "E4M3_UNIT_ROUNDOFF",
    "TILE",
    "accumulate",
    "accumulation_error",
    "outlier_sweep",
    "dequantize",
    "gemm_speedup",
    "matmul_errors",
    "outlier_activations",
    "quantize",
    "round_to_bits",
    "ROUNDINGS",
    "SCALE_FORMATS",
    "scale_format_errors",
    "storage_bytes",
]

E4M3 = torch.float8_e4m3fn
E4M3_MAX = float(torch.finfo(E4M3).max)  # 448
E4M3_MIN_NORMAL = float(torch.finfo(E4M3).smallest_normal)  # 2**-6
E4M3_UNIT_ROUNDOFF = 2.0**-4  # 3 mantissa bits, round to nearest
TILE = (1, 128)  # activations: per token, per 128 channels (V3 §3.3.2)
BLOCK = (128, 128)  # weights: per 128 output x 128 input channels
AMAX_FLOOR = 1e-4  # act_quant clamps each group's amax to at least this (V3 kernel.py)
SCALE_FORMATS = (None, "ue8m0")  # None: amax / 448 in FP32; "ue8m0": rounded up to 2**n
ROUNDINGS = ("nearest", "truncate")
_FLOAT32_MAX = float(torch.finfo(torch.float32).max)
_MAX_ELEMENTS = 2**27  # values a synthetic tensor may hold (512 MB of float32)
_MAX_K = 2**16  # inner dimension of a simulated accumulation (a Python loop over K)


# -------------------------------------------------------------- quantization
def _check_block(block):
    """None or a pair of positive ints."""
    if block is None:
        return None
    if (not isinstance(block, (tuple, list)) or len(block) != 2
            or not all(isinstance(b, int) and not isinstance(b, bool) and b >= 1 for b in block)):
        raise ValueError(f"block must be None (per-tensor) or a pair of positive ints such "
                         f"as (1, 128) or (128, 128), got {block!r}")
    return tuple(block)


def _grid(shape, block, *, pad, name="x"):
    """Number of tiles along each axis; ValueError if the shape does not divide."""
    if len(shape) != 2:
        raise ValueError(f"{name} must be 2-D (rows, cols), got shape {tuple(shape)}")
    if not pad and (shape[0] % block[0] or shape[1] % block[1]):
        raise ValueError(f"{name} has shape {tuple(shape)}, not a multiple of block {block}; "
                         f"pass pad=True to allow partial tiles at the edges")
    return math.ceil(shape[0] / block[0]), math.ceil(shape[1] / block[1])


def _expand(scale, block, shape):
    """Repeat a per-tile scale over its tile and crop to ``shape``."""
    s = scale.repeat_interleave(block[0], 0).repeat_interleave(block[1], 1)
    return s[: shape[0], : shape[1]]


def _pow2_ceil(s: torch.Tensor) -> torch.Tensor:
    """Round positive float32 values up to a power of two (exact, no log2)."""
    m, e = torch.frexp(s)  # s = m * 2**e, 0.5 <= m < 1
    return torch.ldexp(torch.ones_like(s), torch.where(m == 0.5, e - 1, e))


def _scale(amax: torch.Tensor, scale_fmt) -> torch.Tensor:
    """Per-group scale from the group's amax, as V3's ``act_quant`` computes it."""
    s = amax.float().clamp_min(AMAX_FLOOR) / E4M3_MAX  # float32, like the kernel
    return _pow2_ceil(s) if scale_fmt == "ue8m0" else s


def quantize(x: torch.Tensor, *, block, pad: bool = False, scale_fmt: str | None = None):
    """Quantize to E4M3 with one scale per tensor, tile or block.

    ``x ~= q.float() * scale`` where ``scale = max(amax, 1e-4) / 448`` over
    each group (``amax``: the group's largest magnitude), so the largest
    magnitude maps onto E4M3's largest value; an all-zero group gets
    ``1e-4 / 448``, as in V3's ``act_quant``. With ``scale_fmt="ue8m0"``
    (V3.1, V3.2) that scale is rounded up to a power of two, and the largest
    magnitude lands in (224, 448].

    Args:
        x: 2-D float tensor, ``(rows, cols)``; for an activation ``(tokens,
            channels)``, for a weight ``(out_features, in_features)``.
        block: ``None`` (one scale for the tensor), ``(1, 128)`` (V3's
            activation tiles) or ``(128, 128)`` (V3's weight blocks); any
            pair of positive ints works.
        pad: Allow shapes that are not a multiple of ``block`` (the edge
            tiles are partial, as if zero-padded). Without it such shapes
            raise ``ValueError``.
        scale_fmt: ``None`` (an FP32 scale, ``amax / 448``) or ``"ue8m0"``
            (a power of two, the smallest not below ``amax / 448``).

    Returns:
        ``(q, scale)``: ``q`` has ``x``'s shape and dtype
        ``torch.float8_e4m3fn``; ``scale`` is float32, a 0-d tensor for
        per-tensor scaling, else ``(ceil(rows / b0), ceil(cols / b1))``.

    Raises:
        ValueError: ``x`` not a finite 2-D float tensor, a bad ``block``, a
            shape that does not divide without ``pad``, or ``scale_fmt`` not
            one of :data:`SCALE_FORMATS`.
    """
    block = _check_block(block)
    if scale_fmt not in SCALE_FORMATS:
        raise ValueError(f"scale_fmt must be one of {SCALE_FORMATS}, got {scale_fmt!r}")
    if not isinstance(pad, bool):
        raise ValueError(f"pad must be True or False, got {pad!r}")
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise ValueError(f"x must be a floating-point torch.Tensor, got {type(x).__name__}")
    x = x.float()
    if x.ndim != 2:
        raise ValueError(f"x must be 2-D (rows, cols), got shape {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise ValueError("x must be finite (no inf or nan)")
    if block is None:
        amax = x.abs().max() if x.numel() else torch.tensor(0.0)
        scale = _scale(amax, scale_fmt)
        full = scale
    else:
        g0, g1 = _grid(x.shape, block, pad=pad)
        padded = torch.zeros(g0 * block[0], g1 * block[1])
        padded[: x.shape[0], : x.shape[1]] = x
        amax = padded.abs().reshape(g0, block[0], g1, block[1]).amax(dim=(1, 3))  # (g0, g1)
        scale = _scale(amax, scale_fmt)
        full = _expand(scale, block, x.shape)
    q = (x / full).clamp(-E4M3_MAX, E4M3_MAX).to(E4M3)
    return q, scale.float()


def dequantize(q: torch.Tensor, scale: torch.Tensor, *, block) -> torch.Tensor:
    """Invert :func:`quantize`: ``q.float() * scale`` broadcast over each tile.

    Args:
        q: E4M3 tensor ``(rows, cols)``.
        scale: As returned by :func:`quantize` with the same ``block``.
        block: The ``block`` used to quantize.

    Returns:
        Float32 tensor of ``q``'s shape.

    Raises:
        ValueError: ``q`` not a 2-D E4M3 tensor, ``scale`` not a finite positive float
            tensor of the shape :func:`quantize` gives, or a bad ``block``.
    """
    block = _check_block(block)
    check_tensor("q", q, ndim=2)
    check_tensor("scale", scale, kind="float", finite=True)
    if scale.numel() and not bool((scale > 0).all()):
        raise ValueError("scale must be positive (quantize() never gives a zero scale)")
    if q.dtype != E4M3:
        raise ValueError(f"q must have dtype torch.float8_e4m3fn, got {q.dtype}")
    if block is None:
        if scale.numel() != 1:
            raise ValueError(f"scale must hold one value for block=None, got shape "
                             f"{tuple(scale.shape)}")
        return q.float() * scale.float().reshape(())
    g = _grid(q.shape, block, pad=True, name="q")
    if tuple(scale.shape) != g:
        raise ValueError(f"scale must have shape {g} for q of shape {tuple(q.shape)} and "
                         f"block {block}, got {tuple(scale.shape)}")
    return q.float() * _expand(scale.float(), block, q.shape)


# ------------------------------------------------------------ outlier matmul
def outlier_activations(n_tokens: int = 256, dim: int = 1024, *, n_outlier_tokens: int = 4,
                        n_outlier_channels: int = 2, magnitude: float = 1e4,
                        seed: int = 0) -> torch.Tensor:
    """Activations with a few massive outliers, as LLM hidden states have.

    Most entries are standard normal; ``n_outlier_tokens`` tokens carry a
    value of ``+-magnitude`` in ``n_outlier_channels`` fixed channels (Sun et
    al. 2024, "Massive Activations in LLMs", arXiv 2402.17762, find a handful
    of such values, thousands of times the median, in a few channels and
    tokens).

    Returns:
        Float32 tensor ``(n_tokens, dim)``.

    Raises:
        ValueError: a size out of range (``n_tokens * dim`` at most 2**27 values), more
            outlier tokens or channels than there are, a ``magnitude`` that is not a
            positive float32 number, or a bad ``seed``.
    """
    n_tokens = check_int("n_tokens", n_tokens, 1, _MAX_ELEMENTS)
    dim = check_int("dim", dim, 1, _MAX_ELEMENTS)
    if n_tokens * dim > _MAX_ELEMENTS:
        raise ValueError(f"n_tokens * dim must be at most {_MAX_ELEMENTS} values, got "
                         f"{n_tokens} * {dim}")
    n_outlier_tokens = check_int("n_outlier_tokens", n_outlier_tokens, 0, n_tokens)
    n_outlier_channels = check_int("n_outlier_channels", n_outlier_channels, 0, dim)
    magnitude = check_number("magnitude", magnitude, 0, _FLOAT32_MAX, lo_open=True)
    seed = check_seed("seed", seed)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n_tokens, dim, generator=g)
    tokens = torch.randperm(n_tokens, generator=g)[:n_outlier_tokens]
    channels = torch.randperm(dim, generator=g)[:n_outlier_channels]
    sign = torch.randint(0, 2, (n_outlier_tokens, n_outlier_channels), generator=g) * 2 - 1
    x[tokens[:, None], channels[None, :]] = magnitude * sign.float()
    return x


def _row_rel_error(y_hat, y):
    """Per output row, ||y_hat - y|| / ||y||."""
    return ((y_hat - y).norm(dim=1) / y.norm(dim=1)).double()


def matmul_errors(x: torch.Tensor, w: torch.Tensor) -> pd.DataFrame:
    """Relative error of ``y = x @ w.T`` under each quantization scheme.

    Schemes: ``bf16`` (both operands rounded to bfloat16, for scale),
    ``fp8 per-tensor`` (one scale per operand) and ``fp8 tile/block`` (V3:
    ``x`` per 1x128 tile, ``w`` per 128x128 block). Products and sums are
    exact float64 here, so only the input quantization is measured.

    Args:
        x: Activations ``(tokens, K)``, ``K`` a multiple of 128.
        w: Weights ``(N, K)``, ``N`` a multiple of 128.

    Returns:
        One row per scheme: ``median`` and ``max`` over tokens of the
        per-token relative error ``||y_hat - y|| / ||y||``, and ``overall``,
        the Frobenius relative error of the whole output.

    Raises:
        ValueError: ``x`` or ``w`` not a finite, non-empty 2-D float tensor, shapes that do
            not share ``K``, or ``K`` or ``N`` not a multiple of 128.
    """
    _check_operands(x, w)
    y = x.double() @ w.double().T  # (tokens, N)
    approx = {
        "bf16": (x.bfloat16().double(), w.bfloat16().double()),
        "fp8 per-tensor": (dequantize(*quantize(x, block=None), block=None).double(),
                           dequantize(*quantize(w, block=None), block=None).double()),
        "fp8 tile/block": (dequantize(*quantize(x, block=TILE), block=TILE).double(),
                           dequantize(*quantize(w, block=BLOCK), block=BLOCK).double()),
    }
    rows = []
    for name, (xq, wq) in approx.items():
        y_hat = xq @ wq.T
        e = _row_rel_error(y_hat, y)
        rows.append(dict(scheme=name, median=float(e.median()), max=float(e.max()),
                         overall=float((y_hat - y).norm() / y.norm())))
    return pd.DataFrame(rows)


def _check_operands(x, w) -> None:
    """``x (tokens, K)`` and ``w (N, K)``: finite 2-D float tensors, ``K`` and ``N`` multiples
    of 128 (V3's tiles and blocks), else ValueError naming the operand."""
    for name, t in (("x", x), ("w", w)):
        check_tensor(name, t, ndim=2, kind="float", finite=True, nonempty=True)
    if x.shape[1] != w.shape[1]:
        raise ValueError(f"x (tokens, K) and w (N, K) must share K, got {tuple(x.shape)} "
                         f"and {tuple(w.shape)}")
    if x.shape[1] % TILE[1]:
        raise ValueError(f"x has shape {tuple(x.shape)}: K must be a multiple of {TILE[1]}")
    if w.shape[0] % BLOCK[0]:
        raise ValueError(f"w has shape {tuple(w.shape)}: N must be a multiple of {BLOCK[0]}")


def scale_format_errors(x: torch.Tensor, w: torch.Tensor) -> pd.DataFrame:
    """What power-of-two scales cost: V3's FP32 scales against V3.1/V3.2's ``ue8m0``.

    ``x`` is quantized per 1x128 tile and ``w`` per 128x128 block, once with
    each scale format of :data:`SCALE_FORMATS`.

    Args:
        x: Activations ``(tokens, K)``, ``K`` a multiple of 128.
        w: Weights ``(N, K)``, ``N`` a multiple of 128.

    Returns:
        One row per format: ``scale_fmt`` (``"fp32"`` or ``"ue8m0"``),
        ``round_trip_median`` (median over the non-zero entries of ``x`` of
        ``|x_hat - x| / |x|``), ``matmul_median`` (median over tokens of the
        relative error of ``x @ w.T``, exact float64 sums), ``top_mean``
        (mean over ``x``'s tiles of the largest scaled magnitude: 448 for
        FP32 scales, between 224 and 448 for powers of two) and
        ``subnormal_share`` (share of ``x``'s non-zero entries that land below
        E4M3's smallest normal number).

    Raises:
        ValueError: ``x`` or ``w`` not a finite, non-empty 2-D float tensor, shapes that
            do not share ``K``, or ``K`` or ``N`` not a multiple of 128.
    """
    _check_operands(x, w)
    y = x.double() @ w.double().T  # (tokens, N)
    nz = x != 0
    rows = []
    for fmt in SCALE_FORMATS:
        qx, sx = quantize(x, block=TILE, scale_fmt=fmt)
        xq = dequantize(qx, sx, block=TILE).double()
        wq = dequantize(*quantize(w, block=BLOCK, scale_fmt=fmt), block=BLOCK).double()
        scaled = (x.double() / _expand(sx.double(), TILE, x.shape)).abs()  # (tokens, K)
        top = scaled.reshape(x.shape[0], -1, TILE[1]).amax(-1)  # (tokens, K / 128)
        rows.append(dict(
            scale_fmt=fmt or "fp32",
            round_trip_median=float(((xq - x.double()).abs()[nz] / x.double().abs()[nz]).median()),
            matmul_median=float(_row_rel_error(xq @ wq.T, y).median()),
            top_mean=float(top.mean()),
            subnormal_share=float((scaled[nz] < E4M3_MIN_NORMAL).double().mean()),
        ))
    return pd.DataFrame(rows)


def outlier_sweep(magnitudes=(1e2, 1e3, 1e4, 3e4, 1e5, 3e5, 1e6), *, n_tokens: int = 128,
                  dim: int = 1024, n_out: int = 256, seed: int = 0) -> pd.DataFrame:
    """:func:`matmul_errors` as the outlier grows, for a 0.02-scaled weight.

    Args:
        magnitudes: outlier sizes, each a positive float32 number.
        n_tokens: tokens per activation (at least the 4 outlier tokens).
        dim: the inner dimension ``K``, a multiple of 128.
        n_out: output features ``N``, a multiple of 128.
        seed: seeds the activations (``seed``) and the weight (``seed + 1``).

    Returns:
        One row per (magnitude, scheme) with the median per-token error.
    """
    if not isinstance(magnitudes, (list, tuple)) or not magnitudes:
        raise ValueError(f"magnitudes must be a non-empty list or tuple of numbers, got "
                         f"{magnitudes!r}")
    magnitudes = [check_number(f"magnitudes[{i}]", m, 0, _FLOAT32_MAX, lo_open=True)
                  for i, m in enumerate(magnitudes)]
    n_tokens = check_int("n_tokens", n_tokens, 4, _MAX_ELEMENTS)
    for name, v in (("dim", dim), ("n_out", n_out)):
        check_int(name, v, TILE[1], _MAX_ELEMENTS)
        if v % TILE[1]:
            raise ValueError(f"{name} must be a multiple of {TILE[1]}, got {v}")
    if n_tokens * dim > _MAX_ELEMENTS or n_out * dim > _MAX_ELEMENTS:
        raise ValueError(f"n_tokens * dim and n_out * dim must be at most {_MAX_ELEMENTS} "
                         f"values, got n_tokens={n_tokens}, dim={dim}, n_out={n_out}")
    seed = check_seed("seed", seed)
    if seed == 2**63 - 1:
        raise ValueError("seed must be below 2**63 - 1 here (the weight uses seed + 1)")
    w = torch.randn(n_out, dim, generator=torch.Generator().manual_seed(seed + 1)) * 0.02
    frames = []
    for mag in magnitudes:
        x = outlier_activations(n_tokens, dim, magnitude=float(mag), seed=seed)
        frames.append(matmul_errors(x, w).assign(magnitude=float(mag)))
    return pd.concat(frames, ignore_index=True)


# -------------------------------------------------------------- accumulation
def round_to_bits(v: np.ndarray, bits: int, rounding: str = "nearest") -> np.ndarray:
    """Round to ``bits`` significant binary digits (the leading one included).

    Args:
        v: finite numbers (an array or anything ``np.asarray`` reads as float64).
        bits: Significant bits kept, 1-53 (14 for V3's H800 measurement, 24 for FP32).
        rounding: ``"nearest"`` (ties to even) or ``"truncate"`` (toward zero).

    Returns:
        float64 array of ``v``'s shape.

    Raises:
        ValueError: ``v`` not finite numbers, ``bits`` not an int in [1, 53], or
            ``rounding`` not one of :data:`ROUNDINGS`.
    """
    v = _finite_array("v", v)
    bits = check_int("bits", bits, 1, 53)
    check_choice("rounding", rounding, ROUNDINGS)
    return _round_to_bits(v, bits, rounding)


def _finite_array(name: str, v, ndim: int | None = None) -> np.ndarray:
    """``v`` as a float64 array of finite numbers (of ``ndim`` dimensions), naming ``name``."""
    if isinstance(v, (str, bytes)) or v is None:
        raise ValueError(f"{name} must be an array of numbers, got {v!r}")
    try:
        arr = np.asarray(v, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of numbers, got {type(v).__name__}") from None
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite (no inf or nan)")
    return arr


def _round_to_bits(v: np.ndarray, bits: int, rounding: str) -> np.ndarray:
    """:func:`round_to_bits` without the checks (called once per step of the K loop)."""
    m, e = np.frexp(v)  # v = m * 2**e, 0.5 <= |m| < 1
    s = m * 2.0**bits
    s = np.rint(s) if rounding == "nearest" else np.trunc(s)
    return np.ldexp(s / 2.0**bits, e)


def accumulate(a: np.ndarray, b: np.ndarray, *, bits: int = 14,
               promote_every: int | None = None, rounding: str = "nearest") -> np.ndarray:
    """``a @ b.T`` summed over K in a limited-precision accumulator.

    Each product is exact (FP8 x FP8 fits); after every addition the running
    sum is rounded to ``bits`` significant bits. With ``promote_every = N_C``
    the partial sum is added into an FP32 accumulator and reset every
    ``N_C`` elements (V3 §3.3.2, Figure 7b).

    Args:
        a: ``(M, K)`` float array (values already on the FP8 grid).
        b: ``(N, K)`` float array.
        bits: Significant bits of the tensor-core accumulator (2-53).
        promote_every: ``None`` (never promote) or the interval ``N_C``.
        rounding: ``"nearest"`` or ``"truncate"``.

    Returns:
        ``(M, N)`` float64 array.

    Raises:
        ValueError: ``a`` or ``b`` not finite 2-D arrays sharing ``K`` (at most 2**16), or
            another argument out of range (named).
    """
    bits = check_int("bits", bits, 2, 53)
    check_choice("rounding", rounding, ROUNDINGS)
    if promote_every is not None:
        promote_every = check_int("promote_every", promote_every, 1, _MAX_K)
    a, b = _finite_array("a", a, ndim=2), _finite_array("b", b, ndim=2)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"a (M, K) and b (N, K) must share K, got {a.shape} and {b.shape}")
    if a.shape[1] > _MAX_K:
        raise ValueError(f"a and b must have K <= {_MAX_K} (a Python loop over K), "
                         f"got K={a.shape[1]}")
    part = np.zeros((a.shape[0], b.shape[0]))  # limited-precision partial sum (M, N)
    full = np.zeros_like(part)  # FP32 accumulator on the CUDA cores
    for k in range(a.shape[1]):
        part = _round_to_bits(part + np.outer(a[:, k], b[:, k]), bits, rounding)
        if promote_every and (k + 1) % promote_every == 0:
            full = (full + part).astype(np.float32).astype(np.float64)
            part[:] = 0.0
    return full + part


def accumulation_error(Ks=(128, 512, 1024, 2048, 4096), *, bits: int = 14,
                       promote_every: int | None = None, rounding: str = "nearest",
                       inputs: str = "uniform", n: int = 16, seed: int = 0) -> pd.DataFrame:
    """Error of the limited accumulator against exact sums, per K.

    Random matrices ``a (n, K)``, ``b (n, K)`` are drawn, put on the E4M3
    grid (per 1x128 tile), and multiplied with :func:`accumulate`. The error
    of each output is ``|c_hat - c| / sum_k |a_k b_k|``: the plain relative
    error when all products are non-negative (``inputs="uniform"``, values
    in [0, 1)), and still well defined when signs cancel (``"normal"``).

    Args:
        Ks: inner dimensions, each an int in [1, 65536].
        bits, promote_every, rounding: the accumulator, as in :func:`accumulate`.
        inputs: ``"uniform"`` or ``"normal"``.
        n: rows of ``a`` and ``b``, 1 to 1024.
        seed: seeds the matrices (``seed + K`` for each K).

    Returns:
        One row per K: ``K``, ``max_rel_error`` and ``median_rel_error`` over
        the ``n * n`` outputs, and the settings.
    """
    check_choice("inputs", inputs, ("uniform", "normal"))
    if not isinstance(Ks, (list, tuple)) or not Ks:
        raise ValueError(f"Ks must be a non-empty list or tuple of ints, got {Ks!r}")
    Ks = [check_int(f"Ks[{i}]", K, 1, _MAX_K) for i, K in enumerate(Ks)]
    bits = check_int("bits", bits, 2, 53)
    check_choice("rounding", rounding, ROUNDINGS)
    if promote_every is not None:
        promote_every = check_int("promote_every", promote_every, 1, _MAX_K)
    n = check_int("n", n, 1, 1024)
    seed = check_int("seed", seed, 0, 2**63 - 1 - _MAX_K)  # seed + K must be a seed too
    rows = []
    for K in Ks:
        g = torch.Generator().manual_seed(seed + K)
        draw = torch.rand if inputs == "uniform" else torch.randn
        a, b = draw(n, K, generator=g), draw(n, K, generator=g)
        blk = TILE if K % TILE[1] == 0 else None
        a = dequantize(*quantize(a, block=blk), block=blk).double().numpy()
        b = dequantize(*quantize(b, block=blk), block=blk).double().numpy()
        exact = a @ b.T
        c = accumulate(a, b, bits=bits, promote_every=promote_every, rounding=rounding)
        err = np.abs(c - exact) / (np.abs(a) @ np.abs(b).T)
        rows.append(dict(K=K, bits=bits, promote_every=promote_every or 0, rounding=rounding,
                         inputs=inputs, max_rel_error=float(err.max()),
                         median_rel_error=float(np.median(err))))
    return pd.DataFrame(rows)


# ------------------------------------------------------ memory and throughput
_FORMAT_BYTES = {"fp32": 4.0, "bf16": 2.0, "fp8": 1.0}


def storage_bytes(n_elements: int, fmt: str, *, block_elements: int | None = None,
                  scale_bytes: float = 4.0) -> float:
    """Bytes to store ``n_elements`` in ``fmt``, with FP8's scales included.

    Args:
        n_elements: Number of values.
        fmt: ``"fp32"``, ``"bf16"`` or ``"fp8"``.
        block_elements: For FP8, values sharing one scale (128 for a 1x128
            tile, 16384 for a 128x128 block); ``None`` means one scale in all.
        scale_bytes: Bytes per scale (an FP32 scale: 4).

    Returns:
        Bytes, a float.

    Raises:
        ValueError: ``fmt`` unknown, ``n_elements`` not an int in [0, 2**53] (the
            float result is exact up to there), ``block_elements`` not None or an int in
            [1, 2**53], or ``scale_bytes`` not a finite number >= 0.
    """
    check_choice("fmt", fmt, sorted(_FORMAT_BYTES))
    n_elements = check_int("n_elements", n_elements, 0, 2**53)
    if block_elements is not None:
        block_elements = check_int("block_elements", block_elements, 1, 2**53)
    scale_bytes = check_number("scale_bytes", scale_bytes, 0)
    total = n_elements * _FORMAT_BYTES[fmt]
    if fmt == "fp8":
        n_scales = 1 if block_elements is None else math.ceil(n_elements / block_elements)
        total += n_scales * scale_bytes
    return total


def gemm_speedup(gemm_share: float, fp8_over_bf16: float = 2.0) -> float:
    """Step speed-up when only the GEMMs run faster (Amdahl's law).

    Args:
        gemm_share: Fraction of the BF16 step time spent in GEMMs, in [0, 1].
        fp8_over_bf16: FP8 GEMM throughput over BF16 (2 at tensor-core peak), a finite
            number > 0.
    """
    gemm_share = check_number("gemm_share", gemm_share, 0, 1)
    fp8_over_bf16 = check_number("fp8_over_bf16", fp8_over_bf16, 0, lo_open=True)
    return 1.0 / ((1.0 - gemm_share) + gemm_share / fp8_over_bf16)
