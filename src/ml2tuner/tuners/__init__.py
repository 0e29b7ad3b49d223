"""Tuning strategies, all on one interface (:class:`Tuner`: ``propose(n)`` / ``observe``).

============= =============================================================================
name          strategy
============= =============================================================================
random        uniform sampling without replacement (the VTA tutorial's baseline)
autotvm       AutoTVM's XGBTuner: knob features, rank loss, simulated annealing, 5 % ε-greedy
ml2tuner      P proposes, V filters likely-invalid, A re-ranks with hidden features
ml2tuner_plus ml2tuner with hidden features in V, A over the whole space, a warm start
hwinit        AutoTVM after Rieber et al.'s validity-driven initialisation
active        ALT-style active learning: validity filter + uncertainty + diversity
optuna        Optuna's TPE over the knobs, failures told as failed trials
simstats      a predictor of the counting pass's statistics ranks the space (Pelke et al.)
============= =============================================================================

Build one with :func:`make_tuner` on a :class:`TuningSpace` and run it with
:func:`run_tuning`.
"""

from ._active import ActiveSettings, ActiveTuner
from ._autotvm import AutoTVMCostModel, AutoTVMSettings, AutoTVMTuner
from ._base import PREDICTION_COLUMNS, TUNERS, Tuner, TunerSettings, make_tuner, register
from ._hwinit import HWInitSettings, HWInitTuner
from ._ml2tuner import ML2Tuner, ML2TunerSettings
from ._ml2tuner_plus import ML2TunerPlus, ML2TunerPlusSettings, PriorModels, train_prior
from ._optuna import OptunaSettings, OptunaTuner
from ._random import RandomSettings, RandomTuner
from ._sa import ModelOptimizer, SASettings, SimulatedAnnealingOptimizer
from ._simstats import SimstatsTuner, SimstatsTunerSettings
from ._space import KnobGrid, TuningSpace
from .driver import export_autotvm_jsonl, run_tuning, trial_columns

__all__ = [
    "Tuner",
    "TunerSettings",
    "TUNERS",
    "make_tuner",
    "register",
    "PREDICTION_COLUMNS",
    "TuningSpace",
    "KnobGrid",
    "run_tuning",
    "trial_columns",
    "export_autotvm_jsonl",
    "RandomTuner",
    "RandomSettings",
    "AutoTVMTuner",
    "AutoTVMSettings",
    "AutoTVMCostModel",
    "HWInitTuner",
    "HWInitSettings",
    "ML2Tuner",
    "ML2TunerSettings",
    "ML2TunerPlus",
    "ML2TunerPlusSettings",
    "PriorModels",
    "train_prior",
    "ActiveTuner",
    "ActiveSettings",
    "OptunaTuner",
    "OptunaSettings",
    "SimstatsTuner",
    "SimstatsTunerSettings",
    "ModelOptimizer",
    "SimulatedAnnealingOptimizer",
    "SASettings",
]
