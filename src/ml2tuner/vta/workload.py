"""Conv2d workloads, VTA's packed layouts and an independent reference convolution.

Data is packed ``NCHW{B}n{BLOCK}c`` (``(N/B, C/BLOCK, H, W, B, BLOCK)``) and the kernel
``OIHW{BLOCK}o{BLOCK}i`` (``(O/BLOCK, I/BLOCK, KH, KW, BLOCK, BLOCK)``), as TVM's VTA conv2d
packs them. The epilogue is the compiler's (``plan.Epilogue``): an optional per-channel bias,
arithmetic shift right, clip to [0, 127] (TVM) or [-128, 127] (NEST-C), cast to int8.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .isa import MEM_DRAM_WIDTH, MEM_SIZE_WIDTH, MEM_STRIDE_WIDTH
from .target import Target

__all__ = [
    "Conv2D",
    "WorkloadError",
    "RESNET18",
    "get_layer",
    "parse_shape",
    "reference_conv2d",
    "pack_data",
    "pack_kernel",
    "unpack_output",
    "random_operands",
    "random_bias",
]


class WorkloadError(ValueError):
    """A workload shape is not valid (for a target)."""


@dataclass(frozen=True)
class Conv2D:
    """A conv2d layer: NCHW input, OIHW square kernel, symmetric padding, equal strides."""

    name: str
    n: int
    h: int
    w: int
    ic: int
    oc: int
    kernel: int
    pad: int
    stride: int
    shift: int | None = None  # epilogue shift; None derives it from the reduction size

    def __post_init__(self) -> None:
        for field in ("n", "h", "w", "ic", "oc", "kernel", "stride"):
            if getattr(self, field) < 1:
                raise WorkloadError(f"{self.name}: {field}={getattr(self, field)} must be ≥ 1")
        if self.pad < 0:
            raise WorkloadError(f"{self.name}: pad={self.pad} must be ≥ 0")
        if self.oh < 1 or self.ow < 1:
            raise WorkloadError(f"{self.name}: kernel {self.kernel} larger than the padded input")
        if self.shift is not None and not 0 <= self.shift <= 31:
            raise WorkloadError(f"{self.name}: shift={self.shift}: allowed 0..31")

    @property
    def oh(self) -> int:
        return (self.h + 2 * self.pad - self.kernel) // self.stride + 1

    @property
    def ow(self) -> int:
        return (self.w + 2 * self.pad - self.kernel) // self.stride + 1

    @property
    def epilogue_shift(self) -> int:
        """Shift that maps an int8×int8 reduction of this size back to int8 range."""
        if self.shift is not None:
            return self.shift
        k = self.ic * self.kernel * self.kernel
        return math.ceil(math.log2(k)) // 2 + 7

    @property
    def macs(self) -> int:
        """Multiply-accumulates of the convolution, padded positions included."""
        return self.n * self.oc * self.oh * self.ow * self.ic * self.kernel * self.kernel

    def check_target(self, target: Target) -> None:
        """Raise :class:`WorkloadError` if the shape cannot be packed for ``target``, or a
        tensor cannot be addressed by VTA's load/store instructions (``hw_spec.h``: a row
        stride and a row count are ``VTA_MEMOP_STRIDE_BIT_WIDTH`` / ``VTA_MEMOP_SIZE_BIT_WIDTH``
        = 16-bit fields, a DRAM base ``VTA_MEMOP_DRAM_ADDR_BIT_WIDTH`` = 32 bits, in tiles)."""
        if self.ic % target.block or self.oc % target.block:
            raise WorkloadError(
                f"{self.name}: channels IC={self.ic}, OC={self.oc} must be multiples of the "
                f"block {target.block} of target {target.name}"
            )
        if self.n % target.batch:
            raise WorkloadError(
                f"{self.name}: batch N={self.n} must be a multiple of the "
                f"target's BATCH {target.batch} ({target.name})"
            )
        max_rows = min(2**MEM_STRIDE_WIDTH, 2**MEM_SIZE_WIDTH) - 1
        if max(self.h, self.w) > max_rows:
            raise WorkloadError(
                f"{self.name}: H={self.h}, W={self.w}: a row stride or row count over "
                f"{max_rows} does not fit VTA's 16-bit load/store fields; allowed 1..{max_rows}"
            )
        blocks = self.n // target.batch, self.ic // target.block, self.oc // target.block
        tiles = {
            "input": blocks[0] * blocks[1] * self.h * self.w,
            "weight": blocks[2] * blocks[1] * self.kernel * self.kernel,
            "output": blocks[0] * blocks[2] * self.oh * self.ow,
        }
        for tensor, count in tiles.items():
            if count >= 2**MEM_DRAM_WIDTH:
                raise WorkloadError(
                    f"{self.name}: the {tensor} has {count} tiles; VTA's 32-bit DRAM addresses "
                    f"reach fewer than {2**MEM_DRAM_WIDTH}"
                )

    def shape_string(self) -> str:
        return (
            f"{self.n},{self.h},{self.w},{self.ic},{self.oc},{self.kernel},{self.pad},{self.stride}"
        )


def _layer(name: str, hw: int, ic: int, oc: int, k: int, pad: int, stride: int) -> Conv2D:
    return Conv2D(name, 1, hw, hw, ic, oc, k, pad, stride)


# ResNet-18's VTA conv workloads (docs/design.md §4).
RESNET18: dict[str, Conv2D] = {
    layer.name: layer
    for layer in (
        _layer("C2", 56, 64, 64, 3, 1, 1),
        _layer("C3", 56, 64, 128, 3, 1, 2),
        _layer("C4", 56, 64, 128, 1, 0, 2),
        _layer("C5", 28, 128, 128, 3, 1, 1),
        _layer("C6", 28, 128, 256, 3, 1, 2),
        _layer("C7", 28, 128, 256, 1, 0, 2),
        _layer("C8", 14, 256, 256, 3, 1, 1),
        _layer("C9", 14, 256, 512, 3, 1, 2),
        _layer("C10", 14, 256, 512, 1, 0, 2),
        _layer("C11", 7, 512, 512, 3, 1, 1),
    )
}


def get_layer(name: str, extra: dict[str, dict] | None = None) -> Conv2D:
    """A built-in ResNet-18 layer or a user-defined one (``extra``: name → shape fields)."""
    if extra and name in extra:
        fields = dict(extra[name])
        fields.setdefault("name", name)
        try:
            return Conv2D(**fields)
        except TypeError as exc:
            raise WorkloadError(f"layer {name!r}: {exc}") from None
    if name in RESNET18:
        return RESNET18[name]
    raise WorkloadError(f"unknown layer {name!r}: allowed {', '.join(RESNET18)}")


def parse_shape(text: str, name: str = "custom") -> Conv2D:
    """Parse ``N,H,W,IC,OC,K,PAD,STRIDE`` (the CLI's ``--shape``)."""
    parts = text.split(",")
    if len(parts) != 8 or not all(p.strip().lstrip("-").isdigit() for p in parts):
        raise WorkloadError(f"shape {text!r}: expected 8 integers N,H,W,IC,OC,K,PAD,STRIDE")
    n, h, w, ic, oc, k, pad, stride = (int(p) for p in parts)
    return Conv2D(name, n, h, w, ic, oc, k, pad, stride)


# ---- layouts -------------------------------------------------------------------------------


def pack_data(data: np.ndarray, batch: int, block: int) -> np.ndarray:
    """NCHW → (N/B, C/BLOCK, H, W, B, BLOCK)."""
    n, c, h, w = data.shape
    return np.ascontiguousarray(
        data.reshape(n // batch, batch, c // block, block, h, w).transpose(0, 2, 4, 5, 1, 3)
    )


def pack_kernel(kernel: np.ndarray, block: int) -> np.ndarray:
    """OIHW → (O/BLOCK, I/BLOCK, KH, KW, BLOCK_o, BLOCK_i)."""
    o, i, kh, kw = kernel.shape
    return np.ascontiguousarray(
        kernel.reshape(o // block, block, i // block, block, kh, kw).transpose(0, 2, 4, 5, 1, 3)
    )


def unpack_output(packed: np.ndarray) -> np.ndarray:
    """(N/B, C/BLOCK, H, W, B, BLOCK) → NCHW."""
    nb, cb, h, w, b, bl = packed.shape
    return np.ascontiguousarray(packed.transpose(0, 4, 1, 5, 2, 3).reshape(nb * b, cb * bl, h, w))


def reference_conv2d(
    workload: Conv2D,
    data: np.ndarray,
    kernel: np.ndarray,
    *,
    bias: np.ndarray | None = None,
    shift_first: bool = False,
    clip_lo: int = 0,
) -> np.ndarray:
    """Direct convolution in int64 on unpacked NCHW/OIHW int8 data, then the epilogue.

    Independent of the compiler and simulators: used as the golden output.

    Args:
        workload: the layer.
        data: NCHW int8 input.
        kernel: OIHW int8 weights.
        bias: optional int32 per output channel, added to the accumulator before the shift
            (Glow's VTA interpreter, which NEST-C's outputs are checked against:
            ``acc + bias``, shift, clip; docs/nestc.md §7) or after it (``shift_first``, TVM's
            ``vta/scripts/tune_conv2d.py``).
        clip_lo: lower bound of the final clip (0: TVM's clip, which folds a ReLU; -128: int8).
    Returns:
        NCHW int8 output.
    """
    wl = workload
    padded = np.pad(data.astype(np.int64), ((0, 0), (0, 0), (wl.pad, wl.pad), (wl.pad, wl.pad)))
    acc = np.zeros((wl.n, wl.oc, wl.oh, wl.ow), dtype=np.int64)
    k64 = kernel.astype(np.int64)
    for kh in range(wl.kernel):
        for kw in range(wl.kernel):
            window = padded[
                :,
                :,
                kh : kh + wl.stride * wl.oh : wl.stride,
                kw : kw + wl.stride * wl.ow : wl.stride,
            ]
            acc += np.einsum("nchw,oc->nohw", window, k64[:, :, kh, kw], optimize=True)
    acc = acc.astype(np.int32).astype(np.int64)  # the accumulator is 32-bit
    added = 0 if bias is None else bias.astype(np.int64)[None, :, None, None]
    if shift_first:
        acc = (acc >> wl.epilogue_shift) + added
    else:
        acc = (acc + added) >> wl.epilogue_shift
    return np.clip(acc, clip_lo, 127).astype(np.int8)


def random_operands(workload: Conv2D, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random int8 activations in [0, 127] (post-ReLU) and weights in [-128, 127]."""
    rng = np.random.default_rng(seed)
    wl = workload
    data = rng.integers(0, 128, size=(wl.n, wl.ic, wl.h, wl.w), dtype=np.int8)
    kernel = rng.integers(-128, 128, size=(wl.oc, wl.ic, wl.kernel, wl.kernel), dtype=np.int8)
    return data, kernel


def random_bias(workload: Conv2D, seed: int, reach: int) -> np.ndarray:
    """Random int32 bias per output channel in ``[-reach, reach)``: choose ``reach`` so the bias
    moves outputs across the clip in both directions."""
    rng = np.random.default_rng([seed, 1])
    return rng.integers(-reach, reach, size=workload.oc, dtype=np.int32)
