"""VTA hardware targets: vta_config-style parameters, derived sizes and timing constants.

A :class:`Target` holds the parameters of ``vta_config.json`` (log2 widths and buffer sizes),
the board's clock and AXI bus width, and the few micro-architectural timing constants the
timing simulator needs. Everything else (element sizes, SRAM depths, ISA field widths) is
derived from those parameters, as VTA's ``hw_spec.h`` derives it, so a new target is one line of
parameters.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from functools import cached_property

from . import _bitfields

__all__ = ["Target", "TargetError", "PRESETS", "get_target", "parse_model_string"]


class TargetError(ValueError):
    """A target name, model string or parameter is not valid."""


@dataclass(frozen=True)
class Target:
    """One VTA hardware configuration.

    The log2 parameters follow VTA's ``vta_config.json``; buffer sizes are log2 of bytes.
    Timing constants are documented in ``docs/vta-model.md``; they describe the documented
    micro-architecture and are not fitted to measurements.
    """

    name: str
    log_inp_width: int = 3
    log_wgt_width: int = 3
    log_acc_width: int = 5
    log_batch: int = 0
    log_block: int = 4
    log_uop_buff_size: int = 15
    log_inp_buff_size: int = 15
    log_wgt_buff_size: int = 18
    log_acc_buff_size: int = 17
    clock_mhz: float = 100.0
    axi_bits: int = 64
    # Micro-architecture (see docs/vta-model.md for where each number comes from).
    cmd_queue_depth: int = 512  # fetch -> load/compute/store command FIFOs
    dep_queue_depth: int = 255  # dependency-token FIFOs (Chisel's 8-bit semaphores)
    dram_latency_cycles: int = 32  # AXI read request to first beat; write last beat to response
    # VTA's HLS m_axi ports set no burst options (hardware/xilinx/src/vta.cc:139, 177-178,
    # 428-429, 523), so Vivado HLS's defaults hold: bursts of at most 16 beats, 16 reads and 16
    # writes outstanding per port (docs/timing-model.md).
    dram_burst_beats: int = 16
    dram_read_outstanding: int = 16
    dram_write_outstanding: int = 16
    insn_overhead_cycles: int = 2  # decode + token handshake per instruction
    rmw_distance: int = 3  # accumulator read-modify-write latency of the GEMM pipeline
    run_timeout_s: float = 10.0  # the measurement harness's timeout (ML²Tuner: 10 s)

    def __post_init__(self) -> None:
        for field in ("log_inp_width", "log_wgt_width", "log_acc_width"):
            if not 0 <= getattr(self, field) <= 5:
                raise TargetError(f"{field}={getattr(self, field)}: allowed 0..5")
        if not 0 <= self.log_batch <= 4:
            raise TargetError(f"log_batch={self.log_batch}: allowed 0..4")
        if not 1 <= self.log_block <= 6:
            raise TargetError(f"log_block={self.log_block}: allowed 1..6")
        for field in (
            "log_uop_buff_size",
            "log_inp_buff_size",
            "log_wgt_buff_size",
            "log_acc_buff_size",
        ):
            if not 8 <= getattr(self, field) <= 24:
                raise TargetError(f"{field}={getattr(self, field)}: allowed 8..24")
        if self.axi_bits not in (32, 64, 128, 256, 512):
            raise TargetError(f"axi_bits={self.axi_bits}: allowed 32, 64, 128, 256, 512")
        for field in ("dram_burst_beats", "dram_read_outstanding", "dram_write_outstanding"):
            if getattr(self, field) < 1:
                raise TargetError(f"{field}={getattr(self, field)}: must be at least 1")
        if self.clock_mhz <= 0:
            raise TargetError(f"clock_mhz={self.clock_mhz}: must be positive")
        for depth in ("inp_depth", "wgt_depth", "acc_depth", "uop_depth"):
            if getattr(self, depth) < 1:
                raise TargetError(f"{self.name}: buffer too small for one element ({depth})")

    # ---- element sizes (bytes) -------------------------------------------------------
    @cached_property
    def batch(self) -> int:
        return 1 << self.log_batch

    @cached_property
    def block(self) -> int:
        return 1 << self.log_block

    @cached_property
    def inp_elem_bytes(self) -> int:
        return self.batch * self.block * (1 << self.log_inp_width) // 8

    @cached_property
    def wgt_elem_bytes(self) -> int:
        return self.block * self.block * (1 << self.log_wgt_width) // 8

    @cached_property
    def acc_elem_bytes(self) -> int:
        return self.batch * self.block * (1 << self.log_acc_width) // 8

    @cached_property
    def out_elem_bytes(self) -> int:
        # OUT_WIDTH equals INP_WIDTH in VTA.
        return self.batch * self.block * (1 << self.log_inp_width) // 8

    @cached_property
    def uop_field_widths(self) -> tuple[int, int, int]:
        """Widths of the micro-op's ``dst_idx``, ``src_idx`` and ``wgt_idx`` (``VTAUop`` in
        hw_spec.h): ``src_idx`` indexes INP for GEMM and ACC for ALU, so it is as wide as the
        wider of the two indices."""
        acc, inp = self.log_acc_depth, self.log_inp_depth
        return acc, max(acc, inp), self.log_wgt_depth

    @cached_property
    def uop_bits(self) -> int:
        """Micro-op word width: ``VTAUop``'s ``uint32_t`` bit-fields as C lays them out
        (32 bits for VTA's presets); our extension rounds a larger struct up to a power of two,
        so a DRAM element stays a power-of-two number of bytes (docs/vta-model.md)."""
        _, size = _bitfields.pack(self.uop_field_widths, 32)
        return max(32, 1 << (size - 1).bit_length())

    @cached_property
    def uop_elem_bytes(self) -> int:
        return self.uop_bits // 8

    # ---- SRAM depths (elements) --------------------------------------------------------
    @cached_property
    def inp_depth(self) -> int:
        return (1 << self.log_inp_buff_size) // self.inp_elem_bytes

    @cached_property
    def wgt_depth(self) -> int:
        return (1 << self.log_wgt_buff_size) // self.wgt_elem_bytes

    @cached_property
    def acc_depth(self) -> int:
        return (1 << self.log_acc_buff_size) // self.acc_elem_bytes

    @cached_property
    def out_depth(self) -> int:
        # OUT buffer shares ACC's indexing (LOG_OUT_BUFF_SIZE = ACC - ACC_WIDTH + OUT_WIDTH).
        return self.acc_depth

    @cached_property
    def uop_depth(self) -> int:
        return (1 << self.log_uop_buff_size) // self.uop_elem_bytes

    @cached_property
    def log_inp_depth(self) -> int:
        return _log2_floor(self.inp_depth)

    @cached_property
    def log_wgt_depth(self) -> int:
        return _log2_floor(self.wgt_depth)

    @cached_property
    def log_acc_depth(self) -> int:
        return _log2_floor(self.acc_depth)

    @cached_property
    def log_uop_depth(self) -> int:
        return _log2_floor(self.uop_depth)

    # ---- throughput ------------------------------------------------------------------
    @cached_property
    def bus_bytes(self) -> int:
        return self.axi_bits // 8

    @cached_property
    def macs_per_gemm_op(self) -> int:
        return self.batch * self.block * self.block

    @property
    def model_string(self) -> str:
        """VTA's own name for the configuration, e.g. ``pynq_1x16_i8w8a32_15_15_18_17``."""
        board = self.name.split("_")[0]
        return (
            f"{board}_{self.batch}x{self.block}_i{1 << self.log_inp_width}"
            f"w{1 << self.log_wgt_width}a{1 << self.log_acc_width}_"
            f"{self.log_uop_buff_size}_{self.log_inp_buff_size}_"
            f"{self.log_wgt_buff_size}_{self.log_acc_buff_size}"
        )

    def cycles_to_us(self, cycles: int | float) -> float:
        return float(cycles) / self.clock_mhz

    def params(self) -> dict[str, object]:
        """All parameters as a plain dict (for Parquet metadata and JSON output)."""
        return dataclasses.asdict(self)


def _log2_floor(n: int) -> int:
    return max(0, n.bit_length() - 1)


# Board facts: clock and AXI width (docs/design.md §3). zcu102 is NEST-C's EVTA bitstream
# zcu102_1x16_i8w8a32_16_16_19_18; its clock is assumed equal to zcu104's.
_BOARDS: dict[str, dict[str, float | int]] = {
    "pynq": {"clock_mhz": 100.0, "axi_bits": 64},
    "ultra96": {"clock_mhz": 333.0, "axi_bits": 128},
    "zcu104": {"clock_mhz": 333.0, "axi_bits": 128},
    "zcu102": {"clock_mhz": 333.0, "axi_bits": 128},
    "de10nano": {"clock_mhz": 100.0, "axi_bits": 64},
}

PRESETS: dict[str, Target] = {
    "pynq": Target("pynq", **_BOARDS["pynq"]),
    "ultra96": Target("ultra96", **_BOARDS["ultra96"]),
    "zcu104": Target("zcu104", **_BOARDS["zcu104"]),
    "zcu102": Target(
        "zcu102",
        log_uop_buff_size=16,
        log_inp_buff_size=16,
        log_wgt_buff_size=19,
        log_acc_buff_size=18,
        **_BOARDS["zcu102"],
    ),
    "de10nano": Target("de10nano", **_BOARDS["de10nano"]),
}

_MODEL_RE = re.compile(
    r"^(?P<board>[a-z0-9]+)_(?P<batch>\d+)x(?P<block>\d+)_i(?P<inp>\d+)w(?P<wgt>\d+)a(?P<acc>\d+)"
    r"_(?P<uop>\d+)_(?P<ibuf>\d+)_(?P<wbuf>\d+)_(?P<abuf>\d+)$"
)


def _exact_log2(value: int, what: str, text: str) -> int:
    if value < 1 or value & (value - 1):
        raise TargetError(f"model string {text!r}: {what}={value} is not a power of two")
    return value.bit_length() - 1


def parse_model_string(text: str) -> Target:
    """Build a target from VTA's model string ``{board}_{B}x{BLOCK}_i{I}w{W}a{A}_{u}_{i}_{w}_{a}``.

    The string sets every hardware parameter; the board prefix sets clock and bus width.
    """
    match = _MODEL_RE.match(text)
    if not match:
        raise TargetError(
            f"unknown target {text!r}: allowed a preset ({', '.join(PRESETS)}) or a model "
            "string like pynq_1x16_i8w8a32_15_15_18_17"
        )
    g = match.groupdict()
    if g["board"] not in _BOARDS:
        raise TargetError(
            f"model string {text!r}: unknown board {g['board']!r}, allowed {', '.join(_BOARDS)}"
        )
    return Target(
        name=text,
        log_batch=_exact_log2(int(g["batch"]), "batch", text),
        log_block=_exact_log2(int(g["block"]), "block", text),
        log_inp_width=_exact_log2(int(g["inp"]), "inp width", text),
        log_wgt_width=_exact_log2(int(g["wgt"]), "wgt width", text),
        log_acc_width=_exact_log2(int(g["acc"]), "acc width", text),
        log_uop_buff_size=int(g["uop"]),
        log_inp_buff_size=int(g["ibuf"]),
        log_wgt_buff_size=int(g["wbuf"]),
        log_acc_buff_size=int(g["abuf"]),
        **_BOARDS[g["board"]],
    )


def get_target(name: str | Target, extra: dict[str, dict] | None = None) -> Target:
    """Resolve a preset name, a user-defined target (``extra``) or a VTA model string."""
    if isinstance(name, Target):
        return name
    if extra and name in extra:
        params = dict(extra[name])
        params.setdefault("name", name)
        try:
            return Target(**params)
        except TypeError as exc:
            raise TargetError(f"target {name!r}: {exc}") from None
    if name in PRESETS:
        return PRESETS[name]
    return parse_model_string(name)
