"""Search-space templates and enumeration."""

from .grid import KnobGrid
from .templates import TEMPLATES, KnobError, Template, get_template, parse_knobs

__all__ = ["TEMPLATES", "KnobError", "KnobGrid", "Template", "get_template", "parse_knobs"]
