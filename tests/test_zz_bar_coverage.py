"""Every quality bar has a test in which a named baseline or an untrained model misses it.

The bar tests (tests/test_bars*.py, tests/test_rbm_bars.py) call ``conftest.assert_misses``, which records
each miss. This module runs after them (pytest runs files in name order) and checks the record against every
bar in ``labutils.checks``: a new bar without a negative test fails here. It needs the whole bar suite in the
same session; when only part of it ran or passed (``-k``, one file, missing data outside CI) it skips.
"""
import importlib
from pathlib import Path

import pytest
from conftest import BAR_MISSES, OUTCOMES

from labutils import checks

BAR_MODULES = sorted(p.stem for p in Path(__file__).parent.glob("test_bars*.py")) + ["test_rbm_bars"]


def _bar_suite_ran(session) -> str:
    """'' when every test of the bar modules was collected and passed in this session, else why not."""
    collected = {}
    for item in session.items:
        module = item.nodeid.split("::")[0].rsplit("/", 1)[-1].removesuffix(".py")
        if module in BAR_MODULES:
            collected.setdefault(module, set()).add(item.nodeid)
    for module in BAR_MODULES:
        tests = {name for name in dir(importlib.import_module(module)) if name.startswith("test_")}
        names = {nodeid.split("::")[-1].split("[")[0] for nodeid in collected.get(module, ())}
        if tests - names:
            return f"{module}: not collected in this session: {sorted(tests - names)}"
        not_passed = [n for n in collected[module] if OUTCOMES.get(n) != "passed"]
        if not_passed:
            return f"{module}: did not pass in this session: {not_passed[:3]}"
    return ""


def _every_bar():
    for dataset, table in checks.BARS_BY_DATASET.items():
        for lab, per_profile in table.items():
            for prof, bars in per_profile.items():
                for metric in bars:
                    yield dataset, prof, lab, metric


def test_every_bar_is_missed_by_a_named_baseline_or_an_untrained_model(request):
    why = _bar_suite_ran(request.session)
    if why:
        pytest.skip(f"needs the whole bar suite in this session ({why})")
    bars = list(_every_bar())
    assert len(bars) > 90, len(bars)
    untested = [b for b in bars if not BAR_MISSES.get(b)]
    assert not untested, f"{len(untested)} bars have no test in which a baseline misses them: {untested}"
