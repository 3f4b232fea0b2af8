"""The benchmark module (rnnbook.bench): what it times computes the same as torch, the report's
schema, the interleaving, argument checks, the command line. No test asserts a speed."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from rnnbook import bench, scratch

TINY = {"N": 2, "T": 3, "D": 4, "H": 5}
GRAD_KEYS = {"weight_ih", "weight_hh", "bias_ih", "bias_hh", "x"}


@pytest.fixture(scope="module")
def tiny_report():
    return bench.run_benchmark(models=["rnn", "LSTM", "Gru"], threads=1, repeats=3, warmup=1, pause=0, **TINY)


# --------------------------------------------------------------------------- what is timed


@pytest.mark.parametrize("model", bench.MODELS)
def test_timed_functions_compute_what_torch_computes_at_the_lab_sizes(model):
    """The two callables that are timed return the same output and gradients (float32), at N, T, D, H = 64, 32, 64, 128."""
    case = bench.make_case(model, **bench.LAB_SIZES)
    out_s, grads_s = case.scratch()
    out_t, grads_t = case.torch()
    N, T, D, H = (bench.LAB_SIZES[k] for k in "NTDH")
    assert out_s.shape == out_t.shape == (N, T, H)
    assert set(grads_s) >= GRAD_KEYS and set(grads_t) == GRAD_KEYS
    assert out_s.dtype == np.float32 and all(grads_s[k].dtype == np.float32 for k in GRAD_KEYS)
    for name, a, b in [("out", out_s, out_t)] + [(k, grads_s[k], grads_t[k]) for k in sorted(GRAD_KEYS)]:
        scale = max(1.0, float(np.abs(b).max()))
        diff = float(np.abs(a.astype(np.float64) - b).max())
        assert diff <= 1e-4 * scale, f"{model} {name}: max |scratch − torch| = {diff:.2e}"
    diffs = bench.compare(case)  # the run's own gate agrees
    assert set(diffs) == {"out"} | {f"d_{k}" for k in GRAD_KEYS}


def test_torch_side_computes_the_gradient_of_the_stated_loss():
    """L = Σ out ⊙ d_out: the torch callable's x-gradient equals autograd's of that loss in float64."""
    case = bench.make_case("GRU", **TINY)
    _, grads = case.torch()
    torch.manual_seed(0)  # make_case's module and inputs, rebuilt in float64
    module = torch.nn.GRU(TINY["D"], TINY["H"], batch_first=True).double()
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.standard_normal((TINY["N"], TINY["T"], TINY["D"]), dtype=np.float32), dtype=torch.float64, requires_grad=True)
    d_out = torch.tensor(rng.standard_normal((TINY["N"], TINY["T"], TINY["H"]), dtype=np.float32), dtype=torch.float64)
    (module(x)[0] * d_out).sum().backward()
    np.testing.assert_allclose(grads["x"], x.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(grads["weight_hh"], module.weight_hh_l0.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_compare_rejects_a_wrong_implementation():
    case = bench.make_case("LSTM", **TINY)
    right = case.scratch

    def off_by_a_bit():
        out, grads = right()
        return out, {**grads, "weight_hh": grads["weight_hh"] + 1e-2}

    def promoted():
        out, grads = right()
        return out.astype(np.float64), grads

    for wrong, message in ((off_by_a_bit, "d_weight_hh"), (promoted, "not float32")):
        case.scratch = wrong
        with pytest.raises(bench.MismatchError, match=message):
            bench.compare(case)


# --------------------------------------------------------------------------- timing


def test_time_interleaved_alternates_the_order_and_skips_the_warmup():
    calls = []
    functions = [lambda: calls.append("a"), lambda: calls.append("b")]
    ticks = iter(range(100))
    times = bench.time_interleaved(functions, repeats=3, warmup=1, clock=lambda: float(next(ticks)))
    assert calls == ["a", "b", "b", "a", "a", "b", "b", "a"]  # warm-up round, then 3 timed rounds
    assert [len(t) for t in times] == [3, 3]
    assert all(t == 1.0 for ts in times for t in ts)  # each timing is one clock tick: start, stop


def test_time_interleaved_pauses_before_every_call_outside_the_timing():
    events = []
    ticks = iter(range(100))

    def clock():
        events.append("clock")
        return float(next(ticks))

    bench.time_interleaved([lambda: events.append("call")], repeats=2, warmup=1, clock=clock, pause=0.25,
                           warm_calls=2, sleep=lambda seconds: events.append(("sleep", seconds)))
    # sleep, two untimed calls, then the timed one between two readings of the clock
    assert events == [("sleep", 0.25), "call", "call", "clock", "call", "clock"] * 3
    events.clear()
    bench.time_interleaved([lambda: events.append("call")], repeats=2, warmup=0, clock=clock, pause=0,
                           sleep=lambda seconds: events.append(("sleep", seconds)))
    assert ("sleep", 0) not in events and events.count("call") == 2


def test_summary_statistics():
    s = bench._summary([0.004, 0.001, 0.003, 0.002, 0.100])  # seconds; one outlier
    assert s["median"] == pytest.approx(3.0) and s["min"] == pytest.approx(1.0)
    assert s["q1"] == pytest.approx(2.0) and s["q3"] == pytest.approx(4.0) and s["n"] == 5


# --------------------------------------------------------------------------- the report


def test_report_schema(tiny_report):
    r = tiny_report
    assert set(r) == {"schema", "created", "settings", "machine", "results", "goal"}
    assert r["schema"] == bench.SCHEMA_VERSION
    assert r["created"].endswith("+00:00")
    assert r["settings"] == {**TINY, "dtype": "float32", "threads": 1, "repeats": 3, "warmup": 1, "seed": 0, "pause": 0,
                             "warm_calls": 1}
    for key in ("cpu", "logical_cpus", "python", "numpy", "torch", "numpy_blas", "threads", "load_average_before", "load_average_after"):
        assert key in r["machine"]
    assert r["machine"]["threads"] == 1
    assert [res["model"] for res in r["results"]] == ["RNN", "LSTM", "GRU"]  # names normalised, order kept
    for res in r["results"]:
        for side in ("scratch_ms", "torch_ms"):
            t = res[side]
            assert t["n"] == 3 and 0 < t["min"] <= t["q1"] <= t["median"] <= t["q3"]
        assert res["ratio"] == pytest.approx(res["scratch_ms"]["median"] / res["torch_ms"]["median"])
        assert res["ratio_per_round_median"] > 0
        assert set(res["max_abs_diff"]) == {"out"} | {f"d_{k}" for k in GRAD_KEYS}
        assert all(0 <= d <= 1e-3 for d in res["max_abs_diff"].values())
    lstm = r["results"][1]
    assert r["goal"] == {"model": "LSTM", "max_ratio": bench.LSTM_GOAL, "ratio": lstm["ratio"], "met": None, "at_lab_sizes": False}
    assert json.loads(json.dumps(r)) == r  # plain JSON types only


def test_goal_is_judged_only_at_the_lab_sizes(tiny_report, monkeypatch):
    monkeypatch.setattr(bench, "LAB_SIZES", dict(TINY))  # pretend the tiny sizes are the lab's
    r = bench.run_benchmark(models=["LSTM"], threads=1, repeats=1, warmup=0, pause=0, **TINY)
    assert r["goal"]["at_lab_sizes"] is True
    assert r["goal"]["met"] is (r["goal"]["ratio"] <= bench.LSTM_GOAL)
    no_lstm = bench.run_benchmark(models=["RNN"], threads=1, repeats=1, warmup=0, pause=0, **TINY)
    assert no_lstm["goal"]["ratio"] is None and no_lstm["goal"]["met"] is None


def test_threads_are_restored_after_the_run(tiny_report):
    before = torch.get_num_threads()
    bench.run_benchmark(models=["RNN"], threads=1, repeats=1, warmup=0, pause=0, **TINY)
    assert torch.get_num_threads() == before


def test_table_and_markdown(tiny_report):
    table = bench.format_table(tiny_report)
    md = bench.format_markdown(tiny_report)
    for res in tiny_report["results"]:
        assert res["model"] in table and f"{res['ratio']:.2f}×" in table
        assert f"| {res['model']} | **{res['ratio']:.2f}×** |" in md
    assert "not judged" in table and "not judged" in md  # tiny sizes: the goal is not judged
    assert md.startswith("<!-- Generated by `make bench`")
    assert tiny_report["created"][:10] in md and tiny_report["machine"]["numpy"] in md
    assert "N = 2, T = 3, D = 4, H = 5" in md


def test_markdown_warns_when_the_machine_was_busy(tiny_report):
    cpus = tiny_report["machine"]["logical_cpus"]
    quiet = {**tiny_report, "machine": {**tiny_report["machine"], "load_average_before": [0.1, 0, 0], "load_average_after": [0.2, 0, 0]}}
    busy = {**tiny_report, "machine": {**tiny_report["machine"], "load_average_before": [cpus + 0.5, 0, 0], "load_average_after": [0.2, 0, 0]}}
    assert "The machine was busy" not in bench.format_markdown(quiet)
    assert "The machine was busy" in bench.format_markdown(busy)
    assert f"{cpus + 0.5:.2f} before the run" in bench.format_markdown(busy)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"N": 0}, "N"), ({"T": -1}, "T"), ({"D": 2.5}, "D"), ({"H": True}, "H"),
        ({"threads": 0}, "threads"), ({"repeats": 0}, "repeats"), ({"warmup": -1}, "warmup"),
        ({"models": ["LSTM", "transformer"]}, "models"), ({"models": []}, "models"), ({"seed": -3}, "seed"),
        ({"pause": -0.1}, "pause"), ({"pause": "1"}, "pause"), ({"warm_calls": -1}, "warm_calls"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(kwargs, name):
    args = {"models": ["RNN"], "threads": 1, "repeats": 1, "warmup": 0, "pause": 0, **TINY, **kwargs}
    with pytest.raises(ValueError, match=rf"^{name} must"):
        bench.run_benchmark(**args)


def test_make_case_and_time_interleaved_check_their_arguments():
    with pytest.raises(ValueError, match="^models must"):
        bench.make_case("ELMAN", **TINY)
    with pytest.raises(ValueError, match="^H must"):
        bench.make_case("RNN", N=2, T=3, D=4, H=0)
    with pytest.raises(ValueError, match="^functions must"):
        bench.time_interleaved([], repeats=1)
    with pytest.raises(ValueError, match="^pause must"):
        bench.time_interleaved([lambda: None], repeats=1, pause=-1)


# --------------------------------------------------------------------------- command line


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "rnnbook.bench", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_command_line_writes_json_and_markdown(tmp_path):
    json_path, md_path = tmp_path / "out" / "bench.json", tmp_path / "table.md"
    done = _cli("--json", str(json_path), "--markdown", str(md_path), "--threads", "1", "--repeats", "2", "--warmup", "0",
                "--batch", "2", "--steps", "3", "--input", "4", "--hidden", "5", "--models", "LSTM", "GRU", "--pause", "0",
                cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(json_path.read_text())
    assert [r["model"] for r in report["results"]] == ["LSTM", "GRU"]
    assert report["settings"]["repeats"] == 2 and report["settings"]["H"] == 5 and report["settings"]["pause"] == 0
    assert md_path.read_text() == bench.format_markdown(report)
    assert "LSTM" in done.stdout and "scratch/torch" in done.stdout
    assert not list(tmp_path.rglob("*.tmp"))  # written atomically, nothing left behind


def test_command_line_rejects_bad_arguments(tmp_path):
    done = _cli("--repeats", "0", cwd=tmp_path)
    assert done.returncode == 2 and "repeats must be an integer" in done.stderr
    done = _cli("--models", "ELMAN", cwd=tmp_path)
    assert done.returncode == 2 and "models must be" in done.stderr


def test_scratch_keeps_float32_at_the_lab_sizes():
    """No accidental float64 promotion anywhere in the timed scratch code (float64 would be slower and unfair)."""
    for model in ("LSTM", "LSTM-READABLE"):
        case = bench.make_case(model, **bench.LAB_SIZES)
        out, grads = case.scratch()
        assert out.dtype == np.float32 and {g.dtype for g in grads.values()} == {np.dtype(np.float32)}, model
    p32 = {k: np.zeros(s, np.float32) for k, s in (("weight_ih", (20, 4)), ("weight_hh", (20, 5)), ("bias_ih", (20,)), ("bias_hh", (20,)))}
    _, _, cache = scratch.lstm_forward_fast(np.zeros((2, 3, 4), np.float32), None, p32)
    assert {a.dtype for a in (cache.h, cache.c, cache.gates, cache.tanh_c, cache.z)} == {np.dtype(np.float32)}
    _, _, cache = scratch.lstm_forward(np.zeros((2, 3, 4), np.float32), None, p32)
    assert {a.dtype for a in (cache.h, cache.c, cache.gates, cache.tanh_c)} == {np.dtype(np.float32)}


def test_the_two_lstms_are_the_fast_and_the_readable_one():
    """"LSTM" times scratch.lstm_fast (the goal's subject), "LSTM-READABLE" the loop of scratch.lstm_cell: same numbers."""
    fast, readable = bench.make_case("LSTM", **TINY), bench.make_case("LSTM-READABLE", **TINY)
    out_f, grads_f = fast.scratch()
    out_r, grads_r = readable.scratch()
    assert not out_f.flags.c_contiguous and out_r.flags.c_contiguous  # the fast one returns a view of column storage
    assert float(np.abs(out_f - out_r).max()) <= 1e-6
    for key in GRAD_KEYS:
        assert float(np.abs(grads_f[key] - grads_r[key]).max()) <= 1e-5, key


def test_lstm_backward_rebuilds_the_column_inputs_when_the_cache_lacks_them():
    """The fast LSTM backward reads the cache's z = [h_{t-1}; x_t; 1]; a cache without it (z=None) gives the same gradients."""
    case = bench.make_case("LSTM", **TINY)
    rng = np.random.default_rng(5)
    h0, c0 = rng.standard_normal((2, TINY["N"], TINY["H"]), dtype=np.float32)
    _, _, cache = scratch.lstm_forward_fast(case.x, (h0, c0), case.params)
    assert cache.z is not None
    bare = scratch.LSTMFastCache(**{**vars(cache), "z": None})
    with_z = scratch.lstm_backward_fast(case.d_out, cache, d_h_T=h0, d_c_T=c0)
    without = scratch.lstm_backward_fast(case.d_out, bare, d_h_T=h0, d_c_T=c0)
    for key in with_z:
        np.testing.assert_array_equal(with_z[key], without[key])
