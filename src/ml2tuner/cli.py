"""Command-line interface: ``ml2tuner measure | targets | layers | show | export-autotvm``.

Bad input produces one line on stderr naming the problem and what is allowed, and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence

from .space.templates import TEMPLATES, KnobError, get_template, parse_knobs
from .vta.target import PRESETS, TargetError, get_target
from .vta.workload import RESNET18, WorkloadError, get_layer, parse_shape


class UsageError(ValueError):
    """An argument the parsers below could not read, with the argument's name."""


USAGE_ERRORS = (KnobError, TargetError, WorkloadError, UsageError)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse prints usage too)
        print(f"ml2tuner: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _non_negative_int(text: str) -> int:
    """argparse type of ``--seed``: NumPy's generators take no negative seed."""
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer ≥ 0, got {text!r}")
    return value


def _read(argument: str, text: str, parse):
    """``parse(text)``; a bare ValueError of Python's own conversions inside the parser (int()
    of ``--1`` or ``²``, a number of more than 4300 digits) becomes a usage error naming the
    argument, as the parsers' own errors already are."""
    try:
        return parse(text)
    except USAGE_ERRORS:
        raise
    except ValueError as exc:
        shown = text if len(text) <= 40 else f"{text[:40]}…"
        raise UsageError(f"{argument} {shown!r}: {exc}") from None


def _check_integer_knobs(knobs: dict) -> None:
    """Knob values are integers or lists of integers. JSON's ``1.0`` and ``true`` equal 1 in
    Python, so the template's check of allowed values would let them through to the compiler."""
    for name, value in knobs.items():
        items = value if isinstance(value, list) else [value]
        if not all(type(item) is int for item in items):
            raise KnobError(
                f"knob {name}={json.dumps(value)}: allowed an integer or a list of integers"
            )


def _cmd_measure(args: argparse.Namespace) -> int:
    from .vta.harness import measure  # imports numba; keep `--help` fast

    target = _read("--target", args.target, get_target)
    if args.shape is not None:
        workload = _read("--shape", args.shape, parse_shape)
    else:
        workload = get_layer(args.layer)
    workload.check_target(target)
    template = get_template(args.template)
    knobs = _read("--knobs", args.knobs, parse_knobs)
    _check_integer_knobs(knobs)
    template.validate(knobs, workload, target)
    result = measure(
        workload, target, args.template, knobs, functional=args.functional, seed=args.seed
    )
    if args.json:
        print(json.dumps(_jsonable(result.as_dict()), sort_keys=True))
        return 0
    print(f"{workload.name} on {target.name} ({target.model_string}), template {args.template}")
    print(
        f"status      {result.status} (error_no {result.error_no})"
        + (f": {result.error_kind} — {result.message}" if result.error_kind else "")
    )
    if result.cycles >= 0:
        print(f"cycles      {result.cycles}")
        print(f"latency     {result.latency_us:.1f} µs at {target.clock_mhz:g} MHz")
        for key in (
            "gemm_counter",
            "alu_counter",
            "inp_load_nbytes",
            "wgt_load_nbytes",
            "uop_load_nbytes",
            "out_store_nbytes",
        ):
            print(f"{key:<18}{result.counters.get(key, 0)}")
    if result.output_matches_reference is not None:
        verdict = "equals" if result.output_matches_reference else "DIFFERS from"
        print(f"functional  output {verdict} the reference convolution")
    return 0


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def _cmd_targets(args: argparse.Namespace) -> int:
    print(f"{'name':<10}{'model string':<34}{'MHz':>6}{'AXI':>5}  depths inp/wgt/acc/uop")
    for name, t in PRESETS.items():
        print(
            f"{name:<10}{t.model_string:<34}{t.clock_mhz:>6g}{t.axi_bits:>5}  "
            f"{t.inp_depth}/{t.wgt_depth}/{t.acc_depth}/{t.uop_depth}"
        )
    print(
        "Any VTA model string {board}_{B}x{BLOCK}_i{I}w{W}a{A}_{uop}_{inp}_{wgt}_{acc} is "
        "accepted too."
    )
    return 0


def _cmd_layers(args: argparse.Namespace) -> int:
    print(
        f"{'name':<6}{'N':>3}{'H':>5}{'W':>5}{'IC':>6}{'OC':>6}{'K':>3}{'pad':>5}{'str':>5}"
        f"{'OHxOW':>8}"
    )
    for wl in RESNET18.values():
        print(
            f"{wl.name:<6}{wl.n:>3}{wl.h:>5}{wl.w:>5}{wl.ic:>6}{wl.oc:>6}{wl.kernel:>3}"
            f"{wl.pad:>5}{wl.stride:>5}{f'{wl.oh}x{wl.ow}':>8}"
        )
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    from .workflow.tables import describe_table  # pandas/pyarrow only when needed

    try:
        print(describe_table(args.path, rows=args.rows))
    except (OSError, ValueError) as exc:  # missing file, not Parquet
        print(f"ml2tuner: error: {args.path}: {exc}", file=sys.stderr)
        return 2
    return 0


def _cmd_export_autotvm(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .tuners import export_autotvm_jsonl  # xgboost/optuna only when needed
    from .workflow.config import Unit
    from .workflow.tables import TableError, read_metadata, read_table

    try:
        meta = read_metadata(args.trials)
        unit = Unit.from_metadata(meta)
        trials = read_table(args.trials, "tuning", unit)
        # results/{unit}/tuning/{strategy}/seed{seed}.parquet -> results/{unit}/space.parquet
        space_path = args.space or Path(args.trials).parents[2] / "space.parquet"
        space = read_table(space_path, "space", unit, ["config_id", "knobs_json"])
        n = export_autotvm_jsonl(
            trials,
            args.out,
            space=space,
            workload=unit.workload,
            target=unit.target,
            template=unit.template,
        )
    except TableError as exc:
        print(f"ml2tuner: error: {exc}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:  # --out in a missing folder, metadata of no unit
        if isinstance(exc, OSError) and exc.filename:
            message = f"{exc.filename}: {exc.strerror}"
        else:
            message = f"{args.trials}: {str(exc).splitlines()[0] if str(exc) else repr(exc)}"
        print(f"ml2tuner: error: {message}", file=sys.stderr)
        return 2
    print(
        f"{n} records of {meta.get('strategy', '?')} seed {meta.get('seed', '?')} on "
        f"{unit.path} written to {args.out}"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ml2tuner", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    m = sub.add_parser("measure", help="compile and simulate one configuration")
    m.add_argument("--target", required=True, help="preset name or VTA model string")
    which = m.add_mutually_exclusive_group(required=True)
    which.add_argument("--layer", help=f"built-in layer ({', '.join(RESNET18)})")
    which.add_argument("--shape", help="N,H,W,IC,OC,K,PAD,STRIDE")
    m.add_argument("--template", required=True, choices=sorted(TEMPLATES))
    m.add_argument("--knobs", required=True, help="configuration as a JSON object")
    m.add_argument(
        "--functional",
        action="store_true",
        help="also run the functional simulator and compare with the reference",
    )
    m.add_argument(
        "--seed", type=_non_negative_int, default=0, help="seed of the functional run's data"
    )
    m.add_argument("--json", action="store_true", help="print one JSON object")
    m.set_defaults(func=_cmd_measure)
    sub.add_parser("targets", help="list target presets").set_defaults(func=_cmd_targets)
    sub.add_parser("layers", help="list built-in layers").set_defaults(func=_cmd_layers)
    s = sub.add_parser("show", help="print a Parquet table's schema, metadata and first rows")
    s.add_argument("path", help="a table of the workflow, e.g. results/.../measured.parquet")
    s.add_argument("--rows", type=int, default=5, help="rows to print (default 5)")
    s.set_defaults(func=_cmd_show)
    e = sub.add_parser(
        "export-autotvm", help="write a tuning run as AutoTVM JSON lines (autotvm.record)"
    )
    e.add_argument("trials", help="a tuning run, results/.../tuning/{strategy}/seed{seed}.parquet")
    e.add_argument("--out", required=True, help="the .jsonl file to write")
    e.add_argument(
        "--space",
        help="the unit's space.parquet (default: the one three folders above the run)",
    )
    e.set_defaults(func=_cmd_export_autotvm)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except USAGE_ERRORS as exc:
        print(f"ml2tuner: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `ml2tuner measure ... | head`
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
