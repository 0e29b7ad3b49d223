"""ml2tuner: multi-level ML-guided auto-tuning of convolution schedules on a model of VTA."""

__version__ = "0.1.0"
