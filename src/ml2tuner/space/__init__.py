"""Search-space templates and enumeration."""

from .templates import TEMPLATES, KnobError, Template, get_template, parse_knobs

__all__ = ["TEMPLATES", "KnobError", "Template", "get_template", "parse_knobs"]
