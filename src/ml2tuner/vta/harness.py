"""Measure one configuration on the VTA model: compile, run the timing simulator, classify.

The status is AutoTVM's outcome for a measurement, and it arises from the model:

============== ======== ==================================================================
status         error_no  arises when
============== ======== ==================================================================
valid          0         the stream runs to FINISH and nothing below happened
compile_error  2         the compiler's checks refuse it (buffer capacity after thread
                         duplication, 2-D DMA pattern, thread split, uop kernel > buffer)
runtime_error  4         the runtime's pre-run checks refuse the stream (TVM's VerifyDep on
                         uop kernels, a kernel larger than the uop buffer)
wrong_answer   5         it runs, but what ran is not what was meant: a field wrapped when
                         encoded, an SRAM index overran its buffer, DRAM was read out of
                         bounds, the accumulator pipeline lost an update (RMW hazard), or two
                         modules touch the same SRAM rows unordered by the dependency tokens
                         (a data race: some legal interleaving computes something else)
timeout        7         the dependency tokens deadlock the modules, or the run exceeds the
                         harness's timeout
============== ======== ==================================================================

``functional=True`` additionally executes the stream on random data with the functional
simulator and compares with the reference convolution (the proof the classification relies on),
under several interleavings of the modules that the tokens allow: the timing run's own and
adversarial ones in which one module runs ahead as far as its tokens let it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .compiler import CompiledConv, EmitWorkspace, compile_conv2d
from .fsim import run_program
from .plan import Epilogue
from .schedule import legal_order
from .sim import SimWorkspace, simulate, simulate_reference
from .target import Target
from .workload import (
    Conv2D,
    pack_data,
    pack_kernel,
    random_bias,
    random_operands,
    reference_conv2d,
)

__all__ = [
    "Measurement",
    "Workspace",
    "measure",
    "run_compiled",
    "classify",
    "STATUSES",
    "ERROR_NO",
    "check_functional",
    "functional_orders",
    "ADVERSARIAL_PRIORITIES",
]

STATUSES = ("valid", "compile_error", "runtime_error", "wrong_answer", "timeout")
ERROR_NO = {"valid": 0, "compile_error": 2, "runtime_error": 4, "wrong_answer": 5, "timeout": 7}
# Module preferences of the adversarial interleavings: load and store run ahead (a load
# overwrites a buffer, a store reads one, as early as the tokens permit), then compute runs
# ahead (reads inputs, overwrites outputs as early as permitted).
ADVERSARIAL_PRIORITIES = (("load", "store", "compute"), ("compute", "store", "load"))


@dataclass
class Measurement:
    """What measuring one configuration produced."""

    status: str
    error_no: int
    error_kind: str  # "" when valid; else the precise cause (e.g. "buffer_capacity")
    message: str
    cycles: int  # -1 when the stream never ran
    latency_us: float  # nan when the stream never ran
    counters: dict[str, int] = field(default_factory=dict)
    hidden: dict[str, float | str] = field(default_factory=dict)
    output_matches_reference: bool | None = None

    def as_dict(self) -> dict:
        return {
            "status": self.status,
            "error_no": self.error_no,
            "error_kind": self.error_kind,
            "message": self.message,
            "cycles": self.cycles,
            "latency_us": self.latency_us,
            "counters": self.counters,
            "hidden": self.hidden,
            **(
                {"output_matches_reference": self.output_matches_reference}
                if self.output_matches_reference is not None
                else {}
            ),
        }


@dataclass
class Workspace:
    """What measuring reuses from one configuration to the next: the emitter's arrays and the
    timing kernel's table. A measurement's program views them, so it is valid only until the
    next measurement with the same workspace."""

    emit: EmitWorkspace = field(default_factory=EmitWorkspace)
    sim: SimWorkspace = field(default_factory=SimWorkspace)


def _failure(status: str, kind: str, message: str, hidden: dict) -> Measurement:
    return Measurement(status, ERROR_NO[status], kind, message, -1, float("nan"), {}, hidden)


def measure(
    workload: Conv2D,
    target: Target,
    template: str,
    knobs: dict,
    *,
    functional: bool = False,
    seed: int = 0,
    reference_sim: bool = False,
    workspace: Workspace | None = None,
) -> Measurement:
    """Compile and run one configuration.

    Args:
        workload: the conv2d layer.
        target: the VTA configuration.
        template: a name of ``ml2tuner.space.TEMPLATES``; ``knobs`` must belong to its space.
        functional: also execute on random data and compare with the reference convolution
            (under :func:`functional_orders`).
        seed: seed of the random operands of the functional run.
        reference_sim: use the plain reference timing simulator instead of the fast one.
        workspace: arrays the compiler and the simulator reuse across calls (faster on long
            streams; see :class:`Workspace`); None: fresh ones.
    """
    workspace = workspace or Workspace()
    compiled = compile_conv2d(workload, target, template, knobs, workspace=workspace.emit)
    return run_compiled(
        workload,
        target,
        compiled,
        functional=functional,
        seed=seed,
        reference_sim=reference_sim,
        workspace=workspace.sim,
    )


def run_compiled(
    workload: Conv2D,
    target: Target,
    compiled: CompiledConv,
    *,
    functional: bool = False,
    seed: int = 0,
    reference_sim: bool = False,
    workspace: SimWorkspace | None = None,
) -> Measurement:
    """Run an already compiled configuration (see :func:`measure`; ``workspace``: the timing
    kernel's table to reuse, None: a fresh one)."""
    if compiled.program is None:
        status = "compile_error" if compiled.error_stage == "compile" else "runtime_error"
        return _failure(
            status, compiled.error_kind or "", compiled.error_message or "", compiled.hidden
        )
    program = compiled.program
    fields, uops = program.executed()
    if reference_sim:
        run = simulate_reference(target, fields, uops, program.dram_elems)
    else:
        run = simulate(target, fields, uops, program.dram_elems, workspace=workspace)
    status, kind, message = classify(program, run, target)
    result = Measurement(
        status,
        ERROR_NO[status],
        kind,
        message,
        int(run.cycles),
        target.cycles_to_us(run.cycles),
        dict(run.counters),
        compiled.hidden,
    )
    if functional:
        result.output_matches_reference = check_functional(
            workload,
            target,
            program,
            seed,
            functional_orders(program, run),
            epilogue=compiled.plan.epilogue,
        )
    return result


def classify(program, run, target: Target) -> tuple[str, str, str]:
    """``(status, error_kind, message)`` of a stream that ran on the timing simulator."""
    if run.deadlock:
        return "timeout", "deadlock", "dependency tokens deadlocked the modules"
    if run.timed_out:
        return "timeout", "run_timeout", f"run exceeded {target.run_timeout_s} s"
    if program.field_overflows:
        return (
            "wrong_answer",
            "field_overflow",
            f"{program.field_overflows} instruction/uop field(s) wrapped when encoded",
        )
    if run.sram_overruns:
        return (
            "wrong_answer",
            "sram_overrun",
            f"{run.sram_overruns} instruction(s) ran past an SRAM buffer",
        )
    if run.dram_oob:
        return (
            "wrong_answer",
            "dram_oob",
            f"{run.dram_oob} instruction(s) accessed DRAM out of bounds",
        )
    if run.hazards:
        return (
            "wrong_answer",
            "rmw_hazard",
            f"{run.hazards} instruction(s) lost accumulator updates in the GEMM pipeline",
        )
    if run.races:
        return (
            "wrong_answer",
            "sync_race",
            f"{run.races} instruction(s) touch SRAM rows another module uses concurrently"
            " (not ordered by the dependency tokens)",
        )
    return "valid", "", ""


def functional_orders(program, run) -> list[np.ndarray]:
    """The module interleavings a functional check runs ``program`` under: the order the timing
    run ``run`` started its instructions in, and the adversarial orders of
    :data:`ADVERSARIAL_PRIORITIES`."""
    fields, _ = program.executed()
    depth = program.target.dep_queue_depth
    return [run.order] + [
        legal_order(fields, priority=p, dep_queue_depth=depth) for p in ADVERSARIAL_PRIORITIES
    ]


def check_functional(
    workload: Conv2D,
    target: Target,
    program,
    seed: int,
    orders: list[np.ndarray] | None = None,
    *,
    epilogue: Epilogue,
) -> bool:
    """Run ``program`` on random operands in each of ``orders`` (instruction indices; default:
    the stream's order only); True when every output equals the reference bit for bit.

    ``epilogue`` is the compiler's (``compiled.plan.epilogue``): with a bias, the ACC DRAM
    region holds it, one row of ``BATCH x BLOCK`` per output-channel block.
    """
    data, kernel = random_operands(workload, seed)
    bias = None
    if epilogue.bias:  # a reach of about the int8 range once shifted
        reach = 256 if epilogue.shift_first else 256 << workload.epilogue_shift
        bias = random_bias(workload, seed, reach)
    expected = reference_conv2d(
        workload,
        data,
        kernel,
        bias=bias,
        shift_first=epilogue.shift_first,
        clip_lo=epilogue.clip_lo,
    )
    acc = None
    if bias is not None:
        rows = bias.reshape(-1, 1, target.block)
        acc = np.ascontiguousarray(np.broadcast_to(rows, (len(rows), target.batch, target.block)))
    for order in orders or [None]:
        out = run_program(
            program,
            inp=pack_data(data, target.batch, target.block).reshape(-1, target.batch, target.block),
            wgt=pack_kernel(kernel, target.block).reshape(-1, target.block, target.block),
            acc=acc,
            order=order,
        ).out
        if not (out == pack_data(expected, target.batch, target.block).reshape(out.shape)).all():
            return False
    return True
