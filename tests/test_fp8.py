"""FP8 E4M3: round-trip bounds, fine-grained vs per-tensor scaling, accumulation."""

import numpy as np
import pytest
import torch

from explainer import fp8
from explainer.fp8 import (
    AMAX_FLOOR,
    BLOCK,
    E4M3,
    E4M3_MAX,
    E4M3_MIN_NORMAL,
    E4M3_UNIT_ROUNDOFF,
    SCALE_FORMATS,
    TILE,
    accumulate,
    accumulation_error,
    dequantize,
    gemm_speedup,
    matmul_errors,
    outlier_activations,
    quantize,
    round_to_bits,
    scale_format_errors,
    storage_bytes,
)


def _x(rows=256, cols=384, seed=0, scale=1.0):
    return torch.randn(rows, cols, generator=torch.Generator().manual_seed(seed)) * scale


def test_e4m3_constants_are_the_format_s():
    assert E4M3_MAX == 448.0 and E4M3_MIN_NORMAL == 2.0**-6
    # 3 mantissa bits: 1 + 2**-3 is the next value after 1
    assert torch.tensor(1.0 + 2.0**-3).to(E4M3).float() == 1.0 + 2.0**-3
    assert torch.tensor(1.0 + 2.0**-5).to(E4M3).float() == 1.0


@pytest.mark.parametrize("block", [None, TILE, BLOCK, (2, 64)])
def test_round_trip_within_e4m3_bound(block):
    x = _x(scale=3.0)
    q, scale = quantize(x, block=block)
    assert q.dtype == E4M3 and q.shape == x.shape
    y = dequantize(q, scale, block=block)
    full = scale if block is None else scale.repeat_interleave(block[0], 0).repeat_interleave(
        block[1], 1)
    scaled = (x / full).abs()
    normal = scaled >= E4M3_MIN_NORMAL
    err = (y - x).abs()
    # normal values: relative error <= 2**-4; subnormals: <= half a step, 2**-10 * scale
    assert (err[normal] <= E4M3_UNIT_ROUNDOFF * x.abs()[normal] * (1 + 1e-6)).all()
    assert (err[~normal] <= 2.0**-10 * full.expand_as(x)[~normal] * (1 + 1e-6)).all()
    # each group's largest magnitude lands on 448 exactly
    assert scaled.max() == pytest.approx(E4M3_MAX, rel=1e-6)


def test_scale_shapes():
    x = _x(256, 384)
    assert quantize(x, block=None)[1].shape == ()
    assert quantize(x, block=TILE)[1].shape == (256, 3)
    assert quantize(x, block=BLOCK)[1].shape == (2, 3)


def test_tile_scale_is_the_tile_max_over_448():
    x = _x(2, 256)
    x[1, 130] = 50.0
    _, s = quantize(x, block=TILE)
    expect = x.abs().reshape(2, 2, 128).amax(-1) / 448
    assert torch.allclose(s, expect)
    assert s[1, 1] == pytest.approx(50 / 448)


def test_zero_tensor_round_trips():
    z = torch.zeros(128, 128)
    q, s = quantize(z, block=BLOCK)
    assert (dequantize(q, s, block=BLOCK) == 0).all()


def test_amax_is_floored_at_1e_4_as_in_v3_act_quant():
    # V3 inference/kernel.py: amax = max(amax, 1e-4); s = amax / 448
    x = torch.zeros(2, 384)
    x[1, 128:256] = 3e-5  # 0 < amax < 1e-4: scaled by the floor, not by its own amax
    x[1, 256] = 2.0  # an ordinary tile
    q, s = quantize(x, block=TILE)
    floor = torch.tensor(1e-4, dtype=torch.float32) / 448  # float32, like the kernel
    assert AMAX_FLOOR == 1e-4
    assert s[0, 0] == s[0, 1] == s[0, 2] == s[1, 0] == floor  # all-zero tiles
    assert s[1, 1] == floor
    assert s[1, 2] == pytest.approx(2.0 / 448)
    # the tiny tile keeps its size on the E4M3 grid: 3e-5 / (1e-4 / 448) = 134.4, not 448
    assert q[1, 128:256].float().unique().tolist() == [torch.tensor(134.4).to(E4M3).item()]
    assert (dequantize(q, s, block=TILE)[0] == 0).all()
    # per-tensor scaling floors too
    assert quantize(torch.zeros(3, 5), block=None)[1] == floor


def _independent_pow2_ceil(v):
    """V3.2's formulation on the float32 bits: 2**(exponent + (mantissa != 0))."""
    bits = np.asarray(v, dtype=np.float32).view(np.uint32).astype(np.int64)
    exp, man = ((bits >> 23) & 0xFF) - 127, bits & ((1 << 23) - 1)
    return np.ldexp(1.0, exp + (man != 0)).astype(np.float32)


@pytest.mark.parametrize("block", [None, TILE, BLOCK])
def test_ue8m0_scales_are_the_fp32_scale_rounded_up_to_a_power_of_two(block):
    x = _x(256, 384, seed=3) * torch.logspace(-6, 2, 256)[:, None]
    x[5, :] = 0.0  # an all-zero row of tiles: floor, then rounded up
    x[7, :128] = 448 * 2.0**-3  # amax / 448 already a power of two: kept as is
    _, s32 = quantize(x, block=block)
    q, s8 = quantize(x, block=block, scale_fmt="ue8m0")
    np.testing.assert_array_equal(s8.numpy(), _independent_pow2_ceil(s32.numpy()))
    m, _ = torch.frexp(s8)
    assert (m == 0.5).all()  # every scale is a power of two
    assert (s8 >= s32).all() and (s8 < 2 * s32).all()
    if block == TILE:
        assert s8[7, 0] == 2.0**-3
    # the largest scaled magnitude lands in (224, 448]: never clipped
    full = s8 if block is None else s8.repeat_interleave(block[0], 0).repeat_interleave(
        block[1], 1)
    scaled = (x / full).abs()
    assert scaled.max() <= E4M3_MAX
    # normal numbers keep E4M3's relative precision: the scale only shifts exponents
    y = dequantize(q, s8, block=block)
    normal = scaled >= E4M3_MIN_NORMAL
    assert normal.float().mean() > 0.1
    assert ((y - x).abs()[normal] <= E4M3_UNIT_ROUNDOFF * x.abs()[normal] * (1 + 1e-6)).all()


def test_power_of_two_scales_cost_little_precision():
    w = _x(256, 1024, seed=1, scale=0.02)
    x = outlier_activations(128, 1024, magnitude=1e4, seed=0)
    e = scale_format_errors(x, w).set_index("scale_fmt")
    assert list(e.index) == ["fp32", "ue8m0"]
    assert e.loc["fp32", "top_mean"] == pytest.approx(448)
    assert 224 < e.loc["ue8m0", "top_mean"] < 448
    # a power-of-two scale leaves each number's mantissa alone: the median error barely moves
    assert e.loc["fp32", "round_trip_median"] < e.loc["ue8m0", "round_trip_median"]
    assert e.loc["ue8m0", "round_trip_median"] < 1.05 * e.loc["fp32", "round_trip_median"]
    assert e.loc["ue8m0", "matmul_median"] < 1.05 * e.loc["fp32", "matmul_median"]
    # but up to one power of two of range is lost at the bottom: more subnormals
    assert e.loc["ue8m0", "subnormal_share"] > e.loc["fp32", "subnormal_share"]


def test_scale_format_errors_refuses_bad_shapes():
    with pytest.raises(ValueError, match="^x "):
        scale_format_errors(torch.ones(4), torch.ones(128, 128))
    with pytest.raises(ValueError, match="^w "):
        scale_format_errors(torch.ones(4, 128), "w")
    with pytest.raises(ValueError, match="^x .* must share K"):
        scale_format_errors(torch.ones(4, 128), torch.ones(128, 256))
    with pytest.raises(ValueError, match="^x has shape"):
        scale_format_errors(torch.ones(4, 130), torch.ones(128, 130))


def test_shapes_not_a_multiple_of_the_block_need_pad():
    x = _x(130, 200)
    with pytest.raises(ValueError, match="^x has shape"):
        quantize(x, block=BLOCK)
    q, s = quantize(x, block=BLOCK, pad=True)
    assert s.shape == (2, 2) and q.shape == x.shape
    y = dequantize(q, s, block=BLOCK)
    assert ((y - x).abs() <= E4M3_UNIT_ROUNDOFF * x.abs() + 2.0**-10 * s.max()).all()


@pytest.mark.parametrize("kwargs, pattern", [
    (dict(block=(0, 128)), "^block"),
    (dict(block=128), "^block"),
    (dict(block="tile"), "^block"),
    (dict(block=TILE, scale_fmt="e8m0"), "^scale_fmt"),
    (dict(block=TILE, scale_fmt=True), "^scale_fmt"),
    (dict(block=TILE, pad=1), "^pad"),
])
def test_bad_block_names_the_parameter(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        quantize(_x(128, 128), **kwargs)


def test_bad_tensors_are_refused():
    with pytest.raises(ValueError, match="^x must be 2-D"):
        quantize(torch.ones(4, 4, 4), block=None)
    with pytest.raises(ValueError, match="^x must be finite"):
        quantize(torch.tensor([[1.0, float("inf")]]), block=None)
    q, s = quantize(_x(128, 256), block=TILE)
    with pytest.raises(ValueError, match="^scale must have shape"):
        dequantize(q, s[:, :1], block=TILE)


def test_fine_grained_beats_per_tensor_on_outliers():
    w = _x(256, 1024, seed=1, scale=0.02)
    x = outlier_activations(128, 1024, magnitude=1e5, seed=0)
    e = matmul_errors(x, w).set_index("scheme")
    assert e.loc["fp8 tile/block", "median"] < 0.05
    assert e.loc["fp8 per-tensor", "median"] > 2 * e.loc["fp8 tile/block", "median"]
    # BF16's 8 bits of precision beat both
    assert e.loc["bf16", "median"] < e.loc["fp8 tile/block", "median"]


def test_moderate_outliers_fit_e4m3_range_either_way():
    # outliers 1000x the bulk stay inside E4M3's normal range (448 / 2**-6 = 28672):
    # per-tensor scaling then costs almost nothing, an honest limit of the demo
    w = _x(256, 1024, seed=1, scale=0.02)
    e = matmul_errors(outlier_activations(128, 1024, magnitude=1e3), w).set_index("scheme")
    assert e.loc["fp8 per-tensor", "median"] < 1.05 * e.loc["fp8 tile/block", "median"]


def test_tokens_of_very_different_scale_need_tiles():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 256, generator=g) * torch.logspace(-3, 3, 64)[:, None]
    e = matmul_errors(x, _x(128, 256, seed=2)).set_index("scheme")
    assert e.loc["fp8 tile/block", "max"] < 0.06 < 0.5 < e.loc["fp8 per-tensor", "max"]


def test_round_to_bits():
    v = np.array([1.0 + 2.0**-13, 1.0 + 2.0**-14, -(1.0 + 3 * 2.0**-15), 0.0])
    np.testing.assert_array_equal(round_to_bits(v, 14), [1.0 + 2.0**-13, 1.0, -(1.0 + 2.0**-13),
                                                         0.0])
    np.testing.assert_array_equal(round_to_bits(np.array([1.0 + 2**-13 + 2**-14]), 14,
                                                "truncate"), [1.0 + 2.0**-13])


def test_accumulate_with_full_precision_is_exact():
    g = np.random.default_rng(0)
    a, b = g.integers(-8, 8, (4, 300)).astype(float), g.integers(-8, 8, (5, 300)).astype(float)
    np.testing.assert_array_equal(accumulate(a, b, bits=53), a @ b.T)
    np.testing.assert_array_equal(accumulate(a, b, bits=53, promote_every=128), a @ b.T)


def test_limited_accumulation_error_grows_with_k_and_promotion_bounds_it():
    Ks = (128, 1024, 4096)
    plain = accumulation_error(Ks, n=8).set_index("K")["max_rel_error"]
    promoted = accumulation_error(Ks, n=8, promote_every=128).set_index("K")["max_rel_error"]
    assert plain[128] < plain[1024] < plain[4096]
    assert plain[4096] > 3 * plain[128]
    # promotion every 128 elements: never worse than the first 128-element chunk
    assert (promoted <= promoted[128] * 1.01).all()
    assert promoted[4096] < plain[4096] / 10


def test_truncating_accumulator_is_worse_than_rounding():
    near = accumulation_error((1024,), n=8)["max_rel_error"].item()
    trunc = accumulation_error((1024,), n=8, rounding="truncate")["max_rel_error"].item()
    assert trunc > near


def test_memory_and_speed_arithmetic():
    n = 128 * 128
    assert storage_bytes(n, "bf16") == 2 * n
    assert storage_bytes(n, "fp8", block_elements=n) == n + 4  # one FP32 scale per block
    assert storage_bytes(n, "fp8", block_elements=128) == n + 4 * 128
    assert gemm_speedup(1.0) == 2.0 and gemm_speedup(0.0) == 1.0
    assert gemm_speedup(0.5) == pytest.approx(4 / 3)
    with pytest.raises(ValueError, match="^gemm_share"):
        gemm_speedup(1.5)
    with pytest.raises(ValueError, match="^fmt"):
        storage_bytes(10, "fp4")


# ------------------------------------------------------------------ issue 25: bad input, edges


@pytest.mark.parametrize("call, name", [
    (lambda: storage_bytes(1024, "fp8", block_elements=-1), "block_elements"),
    (lambda: storage_bytes(1024, "fp8", block_elements=0), "block_elements"),
    (lambda: storage_bytes(-1, "fp8"), "n_elements"),
    (lambda: storage_bytes(1024, "fp8", scale_bytes=float("nan")), "scale_bytes"),
    (lambda: round_to_bits([2.9], 2, "bogus"), "rounding"),
    (lambda: round_to_bits([2.9], 0), "bits"),
    (lambda: round_to_bits([float("nan")], 4), "v"),
    (lambda: round_to_bits("2.9", 4), "v"),
    (lambda: gemm_speedup(float("nan")), "gemm_share"),
    (lambda: gemm_speedup(0.5, float("inf")), "fp8_over_bf16"),
    (lambda: accumulate(np.ones((2, 3)), np.ones((2, 3)), rounding="up"), "rounding"),
    (lambda: accumulation_error(Ks=(0,)), r"Ks\[0\]"),
    (lambda: accumulation_error(Ks=(128,), n=0), "n"),
    (lambda: outlier_activations(4, 8, magnitude=1e300), "magnitude"),
    (lambda: outlier_activations(2**40, 2**40), "n_tokens"),
    (lambda: matmul_errors(_x(4, 128), _x(100, 128)), "w"),
    (lambda: dequantize(torch.zeros(2, 2), torch.ones(()), block=None), "q"),
])
def test_bad_arguments_are_named(call, name):
    with pytest.raises(ValueError, match=f"^{name} "):
        call()


def test_round_to_bits_keeps_the_documented_default_and_accepts_lists():
    assert round_to_bits([2.9], 2).tolist() == [3.0]
    assert round_to_bits([2.9], 2, "truncate").tolist() == [2.0]


# Hypothesis: the E4M3 round trip stays within the format's bound for any finite input, and
# rounding to `bits` significant bits stays within 2**-bits relative error.
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

_finite = st.floats(-2.0**100, 2.0**100, allow_nan=False, allow_infinity=False, width=32)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(x=hnp.arrays(np.float32, st.tuples(st.integers(1, 3), st.integers(1, 300)),
                    elements=_finite),
       block=st.sampled_from([None, TILE, (2, 64)]), scale_fmt=st.sampled_from(SCALE_FORMATS))
def test_quantize_round_trip_error_is_bounded(x, block, scale_fmt):
    x = torch.from_numpy(x)
    q, s = quantize(x, block=block, pad=True, scale_fmt=scale_fmt)
    y = dequantize(q, s, block=block)
    assert y.shape == x.shape and torch.isfinite(y).all()
    # relative 2**-4 for normal numbers, plus half the subnormal spacing (2**-10) of the
    # group's scale for values that land below E4M3's smallest normal number
    scale = s.reshape(()) if block is None else fp8._expand(s, block, x.shape)
    bound = E4M3_UNIT_ROUNDOFF * x.abs() + 2.0**-10 * scale
    assert ((y - x).abs() <= bound * (1 + 1e-6)).all()


@settings(max_examples=100, deadline=None, derandomize=True)
@given(v=hnp.arrays(np.float64, st.integers(0, 20),
                    elements=st.floats(-1e300, 1e300, allow_nan=False)),
       bits=st.integers(1, 53), rounding=st.sampled_from(fp8.ROUNDINGS))
def test_round_to_bits_error_is_below_one_unit_in_the_last_kept_bit(v, bits, rounding):
    r = round_to_bits(v, bits, rounding)
    assert (np.abs(r - v) <= 2.0**-bits * np.abs(v) * (2 if rounding == "truncate" else 1)).all()
    assert (np.abs(r) <= np.abs(v) * (1 + 2.0**-bits)).all()
