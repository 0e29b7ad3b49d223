"""The one line every benchmark prints first: which machine, and how busy it was."""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path


def describe() -> str:
    """Host, processor, core count, Python and the load average when the figures were taken."""
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    cpuinfo = Path("/proc/cpuinfo")
    names = (
        re.findall(r"^model name\s*: (.*)$", cpuinfo.read_text(), re.M) if cpuinfo.exists() else []
    )
    cpu = names[0] if names else (platform.processor() or platform.machine())
    return (
        f"machine: {platform.node()}, {cpu}, {os.cpu_count()} cores, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}; load average {load}"
    )
