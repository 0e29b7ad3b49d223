"""Legal interleavings of VTA's three modules: the orders the dependency tokens allow.

VTA's load, compute and store modules each run their own queue in stream order and wait for
one another only through the four token FIFOs (``docs/timing-model.md``). Any interleaving in
which every pop finds a token and no push overflows a FIFO can happen on the hardware, because
DRAM latency and the other modules' work decide which module gets ahead. VTA's own functional
simulator (apache/tvm-vta ``src/sim/sim_driver.cc``) likewise runs whichever module's queue
the tokens let proceed. A correctly synchronised stream computes the same output under every
such order; :func:`legal_order` produces the orders the functional simulator is run under to
show that (or that it does not).

Instructions act atomically here: a module pops its tokens, executes the instruction, then
pushes (blocking while a FIFO is full, as the timing model does).
"""

from __future__ import annotations

import numpy as np

from .isa import F_OPCODE, F_POP_NEXT, F_POP_PREV, F_PUSH_NEXT, F_PUSH_PREV, OP_FINISH
from .runtime import COMPUTE_STAGE, LOAD_STAGE, STORE_STAGE, stage_of

__all__ = ["MODULES", "legal_order"]

MODULES = ("load", "compute", "store")
_STAGE = {"load": LOAD_STAGE, "compute": COMPUTE_STAGE, "store": STORE_STAGE}
# FIFO each module pops / pushes per flag column; flags without a FIFO are ignored (as VTA does).
_POPS = {
    "load": ((F_POP_NEXT, "c2l"),),
    "compute": ((F_POP_PREV, "l2c"), (F_POP_NEXT, "s2c")),
    "store": ((F_POP_PREV, "c2s"),),
}
_PUSHES = {
    "load": ((F_PUSH_NEXT, "l2c"),),
    "compute": ((F_PUSH_PREV, "c2l"), (F_PUSH_NEXT, "c2s")),
    "store": ((F_PUSH_PREV, "s2c"),),
}


def legal_order(
    fields: np.ndarray,
    *,
    priority: tuple[str, ...] | None = None,
    seed: int | None = None,
    dep_queue_depth: int = 255,
) -> np.ndarray:
    """An order of instruction indices that VTA's modules could execute ``fields`` in.

    Exactly one of ``priority`` and ``seed`` chooses among the modules able to proceed:
    ``priority`` (a permutation of :data:`MODULES`) always runs the first ready module of the
    list, so that module runs ahead as far as its tokens allow (``("load", "store",
    "compute")`` lets the load module overwrite buffers as early as the protocol permits);
    ``seed`` picks uniformly at random.

    Args:
        fields: decoded instructions ``(n, NUM_FIELDS)``.
        priority: module preference order.
        seed: seed of the random choice.
        dep_queue_depth: capacity of each token FIFO.

    Returns:
        Instruction indices in execution order, ending with the first FINISH (or where no module
        can proceed: a deadlock leaves the rest unexecuted).
    """
    if (priority is None) == (seed is None):
        raise ValueError("give exactly one of priority and seed")
    if priority is not None and sorted(priority) != sorted(MODULES):
        raise ValueError(f"priority must order {MODULES}, got {priority}")
    rng = np.random.default_rng(seed)
    rows = np.asarray(fields, dtype=np.int64).tolist()
    queues = {
        name: [i for i, r in enumerate(rows) if stage_of(r) == _STAGE[name]] for name in MODULES
    }
    heads = dict.fromkeys(MODULES, 0)
    blocked: dict[str, list[str]] = {name: [] for name in MODULES}  # FIFOs still to push into
    tokens = dict.fromkeys(("l2c", "c2l", "c2s", "s2c"), 0)
    order: list[int] = []

    def push(name: str) -> None:
        while blocked[name] and tokens[blocked[name][0]] < dep_queue_depth:
            tokens[blocked[name].pop(0)] += 1

    def ready(name: str) -> bool:
        if blocked[name] or heads[name] >= len(queues[name]):
            return False
        row = rows[queues[name][heads[name]]]
        return all(tokens[fifo] > 0 for column, fifo in _POPS[name] if row[column])

    while True:
        candidates = [name for name in (priority or MODULES) if ready(name)]
        if not candidates:
            return np.array(order, dtype=np.int64)
        name = candidates[0] if priority else candidates[int(rng.integers(len(candidates)))]
        index = queues[name][heads[name]]
        heads[name] += 1
        row = rows[index]
        for column, fifo in _POPS[name]:
            if row[column]:
                tokens[fifo] -= 1
        for other in MODULES:  # a pop makes room for a blocked producer
            push(other)
        order.append(index)
        if row[F_OPCODE] == OP_FINISH and name == "compute":
            return np.array(order, dtype=np.int64)
        blocked[name] = [fifo for column, fifo in _PUSHES[name] if row[column]]
        push(name)
