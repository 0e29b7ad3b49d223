"""A faithful model of Apache TVM's VTA accelerator: targets, ISA, compiler, simulators.

Entry points: :func:`ml2tuner.vta.compiler.compile_conv2d` and
:func:`ml2tuner.vta.harness.measure` (compile, simulate, classify one configuration).
"""

from .target import PRESETS, Target, TargetError, get_target, parse_model_string
from .workload import RESNET18, Conv2D, WorkloadError, get_layer, parse_shape

__all__ = [
    "PRESETS",
    "Target",
    "TargetError",
    "get_target",
    "parse_model_string",
    "RESNET18",
    "Conv2D",
    "WorkloadError",
    "get_layer",
    "parse_shape",
]
