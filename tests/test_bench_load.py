"""bench/load.py's accounting of lost updates, its form reading, and the
argument handling of bench/load.py and bin/prod-trial (nothing is started)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("bench_load", ROOT / "bench" / "load.py")
assert spec and spec.loader
load = importlib.util.module_from_spec(spec)
sys.modules["bench_load"] = load
spec.loader.exec_module(load)
Save = load.Save


def test_the_last_save_is_the_final_value_and_nothing_is_lost():
    saves = [Save("m", "a", 0, 1), Save("m", "b", 2, 3)]
    result = load.account(saves, {"m": "x"}, {"m": "b"})
    assert result.lost == [] and result.phantom == []


def test_a_save_no_later_save_could_overwrite_is_lost():
    # "b" was the last save answered as saved, yet "a" is what the row holds.
    saves = [Save("m", "a", 0, 1), Save("m", "b", 2, 3)]
    result = load.account(saves, {"m": "x"}, {"m": "a"})
    assert result.lost == [Save("m", "b", 2, 3)]


def test_overlapping_saves_may_end_in_either_order():
    saves = [Save("m", "a", 0, 2), Save("m", "b", 1, 3)]
    for final in ("a", "b"):
        assert load.account(saves, {"m": "x"}, {"m": final}).lost == []


def test_models_are_accounted_separately():
    saves = [Save("m", "a", 0, 1), Save("n", "b", 2, 3)]
    result = load.account(saves, {"m": "x", "n": "y"}, {"m": "x", "n": "b"})
    assert result.lost == [Save("m", "a", 0, 1)]


def test_a_final_value_no_save_wrote_is_a_phantom_write():
    result = load.account([], {"m": "x", "n": "y"}, {"m": "x", "n": "refused"})
    assert result.lost == [] and result.phantom == ["n"]


def test_percentile():
    values = [i / 100 for i in range(1, 101)]
    assert load.percentile(values, 0.5) in (0.5, 0.51)
    assert load.percentile(values, 0.95) == 0.95
    assert load.percentile([], 0.95) == 0.0


def test_row_inputs_reads_what_a_browser_submits():
    text = (
        '<form id="f-1"><input type="hidden" name="csrfmiddlewaretoken" value="t">'
        '<input type="hidden" name="model_lock" value="7"></form>'
        '<input type="checkbox" name="selected" value="1" form="bulk-form">'
        '<input type="checkbox" name="deprecated" form="f-1" checked>'
        '<input type="text" name="label" form="f-1" value="A &amp; B" autofocus>'
        '<input type="number" name="context_size" form="f-1" value="" min="1">'
    )
    assert load.row_inputs(text) == {
        "model_lock": "7",
        "deprecated": "on",
        "label": "A & B",
        "context_size": "",
    }


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=60, cwd=ROOT)


def test_load_refuses_a_target_off_loopback():
    answer = run(sys.executable, "bench/load.py", "--url", "http://example.com:8010")
    assert answer.returncode == 2
    assert "loopback" in answer.stderr


def test_prod_trial_refuses_bad_arguments_before_starting_anything():
    state = ROOT / "var" / "prod-trial"
    before = sorted(state.iterdir()) if state.exists() else None
    for args, message in [
        (("--port", "80a", "start"), "not a number: 80a"),
        (("--bogus", "start"), "unknown option --bogus"),
        (("deploy",), "unknown command deploy"),
        ((), "bin/prod-trial start"),
    ]:
        answer = run("bin/prod-trial", *args)
        assert answer.returncode == 2, args
        assert message in answer.stderr, (args, answer.stderr)
    assert (sorted(state.iterdir()) if state.exists() else None) == before
