"""Hypothesis settings for the fuzz tests: CI-sized and reproducible by default; ``make soak``
sets ``CSW_FUZZ_SCALE`` (e.g. 50) for many more, freshly random examples."""
from __future__ import annotations

import os

from hypothesis import settings

SCALE = int(os.environ.get("CSW_FUZZ_SCALE", "1"))


def fuzz_settings(examples: int = 200) -> settings:
    return settings(max_examples=examples * SCALE, deadline=None, derandomize=SCALE == 1, database=None,
                    report_multiple_bugs=False)
