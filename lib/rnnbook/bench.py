"""Time the NumPy scratch RNN, LSTM and GRU against PyTorch's, forward + backward, side by side.

``make bench`` runs ``python -m rnnbook.bench --json _build/bench.json --markdown appendix/_bench_table.md``:
for each model, the scratch forward and backward pass (``scratch.rnn_forward`` then
``scratch.rnn_backward``, …) and the same computation in PyTorch (``nn.LSTM(batch_first=True)``,
then ``out.backward(d_out)``, with ``x`` requiring a gradient, since the scratch backward computes
``∂L/∂x`` too), at the lab's sizes (N = 64 sequences, T = 32 steps, D = 64 inputs, H = 128 units),
in float32, on ``threads`` threads (``torch.set_num_threads`` for PyTorch, threadpoolctl's limit
on the BLAS library for NumPy).

The method, for a shared machine:

* **checked first:** before anything is timed, both sides run once on the same inputs and the same
  weights, and their outputs and gradients are compared (float32 tolerances); a mismatch stops the run;
* **interleaved:** the repeats alternate between the two implementations (scratch, torch, torch,
  scratch, …), so that a burst of load from other processes hits both, not one;
* **a pause and a warm-up call before every timed call** (not timed): after a call, the idle threads of a
  thread pool keep spinning, waiting for more work (OpenBLAS's for about 0.13 s here). On two threads, a call
  made while the *other* library's threads still spin shares the cores with them: without the pause,
  ``nn.LSTM`` measured about twice as slow right after a NumPy call as on its own. After the pause (0.15 s),
  one untimed call of the same function wakes its own threads and refills the caches, so the timed call
  runs as it would in a loop of its own;
* **median** of the repeats, not the mean: one interrupted repeat does not move it;
* **ratios**, scratch time / torch time, measured in the same minute on the same machine, are what
  we compare and publish; absolute milliseconds depend on the machine and on its load.

The LSTM is timed twice: ``"LSTM"`` is the version arranged for speed
(``scratch.lstm_forward_fast`` then ``scratch.lstm_backward_fast``, Section 2.3), the one the goal
:data:`LSTM_GOAL` is about; ``"LSTM-READABLE"`` is the readable loop of ``scratch.lstm_cell``
(``scratch.lstm_forward`` then ``scratch.lstm_backward``). Both are compared with the same ``nn.LSTM``.

Run ``python -m rnnbook.bench --help`` for the options.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from rnnbook._checks import check_int
from rnnbook._io import write_text_atomic

MODELS = ("RNN", "LSTM", "LSTM-READABLE", "GRU")
#: The lab's sizes: batch N, steps T, input features D, hidden units H.
LAB_SIZES = {"N": 64, "T": 32, "D": 64, "H": 128}
#: The book's goal for the scratch LSTM: forward + backward within this factor of nn.LSTM's time.
LSTM_GOAL = 1.25
SCHEMA_VERSION = 1

# Agreement required between the two sides before timing (float32 computations of the same function):
# max |scratch − torch| ≤ RTOL · max(1, max |torch|), per output and per gradient array.
RTOL = 1e-4


class MismatchError(RuntimeError):
    """The scratch and torch sides of a case do not compute the same thing (so timing them means nothing)."""


@dataclass
class Case:
    """One model at one size: the two implementations to time, and the data both of them use.

    ``params`` are the float32 scratch parameters (copied from the torch module), ``x`` the (N, T, D)
    inputs and ``d_out`` the (N, T, H) upstream gradient: the loss is ``L = Σ out ⊙ d_out``.
    """

    model: str
    scratch: Callable[[], tuple[np.ndarray, dict]]
    torch: Callable[[], tuple[np.ndarray, dict]]
    params: dict
    x: np.ndarray
    d_out: np.ndarray


def _check_pause(pause) -> float:
    if isinstance(pause, bool) or not isinstance(pause, (int, float)) or not 0 <= pause <= 60:
        raise ValueError(f"pause must be a number of seconds between 0 and 60; got {pause!r}")
    return float(pause)


def _check_models(models) -> tuple[str, ...]:
    if isinstance(models, str):
        models = [models]
    chosen = tuple(str(m).upper() for m in models)
    unknown = [m for m in chosen if m not in MODELS]
    if not chosen or unknown:
        raise ValueError(f"models must be a non-empty selection of {list(MODELS)}; got {list(models)!r}")
    return chosen


def check_sizes(N: int, T: int, D: int, H: int) -> dict[str, int]:
    """Validate the sizes (each an integer ≥ 1) and return them as a dict."""
    return {name: check_int(name, value) for name, value in zip("NTDH", (N, T, D, H))}


def make_case(model: str, N: int, T: int, D: int, H: int, seed: int = 0) -> Case:
    """The scratch and torch forward + backward of ``model`` on the same float32 weights and inputs.

    Each returned callable runs one forward and one backward pass and returns ``(out, grads)``:
    the (N, T, H) output and a dict of gradients with the scratch keys ``weight_ih``, ``weight_hh``,
    ``bias_ih``, ``bias_hh``, ``x`` (all NumPy arrays, so the two sides can be compared).
    """
    import torch

    from rnnbook import scratch

    model = _check_models([model])[0]
    sizes = check_sizes(N, T, D, H)
    N, T, D, H = (sizes[k] for k in "NTDH")
    layer = {"RNN": torch.nn.RNN, "LSTM": torch.nn.LSTM, "LSTM-READABLE": torch.nn.LSTM, "GRU": torch.nn.GRU}[model]
    forward, backward = {
        "RNN": (scratch.rnn_forward, scratch.rnn_backward),
        "LSTM": (scratch.lstm_forward_fast, scratch.lstm_backward_fast),
        "LSTM-READABLE": (scratch.lstm_forward, scratch.lstm_backward),
        "GRU": (scratch.gru_forward, scratch.gru_backward),
    }[model]
    torch.manual_seed(seed)
    module = layer(D, H, batch_first=True)  # float32, PyTorch's initialisation
    p = scratch.params_from_torch(module, dtype=np.float32)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, T, D), dtype=np.float32)
    d_out = rng.standard_normal((N, T, H), dtype=np.float32)  # an upstream gradient: L = Σ out ⊙ d_out
    x_t = torch.from_numpy(x.copy()).requires_grad_(True)
    d_out_t = torch.from_numpy(d_out.copy())

    def run_scratch():
        out, _, cache = forward(x, None, p)
        return out, backward(d_out, cache)

    def run_torch():
        module.zero_grad(set_to_none=True)
        x_t.grad = None
        out, _ = module(x_t)
        out.backward(d_out_t)
        grads = {key: getattr(module, f"{key}_l0").grad.numpy() for key in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
        grads["x"] = x_t.grad.numpy()
        return out.detach().numpy(), grads

    return Case(model=model, scratch=run_scratch, torch=run_torch, params=p, x=x, d_out=d_out)


def compare(case: Case) -> dict[str, float]:
    """Run both sides once and return ``max |scratch − torch|`` for the output and every gradient.

    Raises :class:`MismatchError` if a difference exceeds ``RTOL · max(1, max |torch|)``, or if a
    shape differs or the scratch result is not float32: then the two sides do not compute the same
    thing and timing them side by side would mean nothing.
    """
    out_s, grads_s = case.scratch()
    out_t, grads_t = case.torch()
    pairs = {"out": (out_s, out_t), **{f"d_{key}": (grads_s[key], grads_t[key]) for key in grads_t}}
    diffs = {}
    for name, (a, b) in pairs.items():
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            raise MismatchError(f"{case.model}: {name} has shape {a.shape} in scratch and {b.shape} in torch")
        if a.dtype != np.float32:
            raise MismatchError(f"{case.model}: the scratch {name} is {a.dtype}, not float32: something promoted it")
        diff = float(np.max(np.abs(a.astype(np.float64) - b))) if a.size else 0.0
        bound = RTOL * max(1.0, float(np.max(np.abs(b)))) if b.size else RTOL
        if not diff <= bound:
            raise MismatchError(f"{case.model}: max |scratch − torch| of {name} is {diff:.2e} > {bound:.2e}")
        diffs[name] = diff
    return diffs


def _summary(times_s: Sequence[float]) -> dict[str, float]:
    ms = sorted(1e3 * t for t in times_s)
    q = statistics.quantiles(ms, n=4, method="inclusive") if len(ms) > 1 else [ms[0]] * 3
    return {"median": statistics.median(ms), "min": ms[0], "q1": q[0], "q3": q[2], "n": len(ms)}


def time_interleaved(functions: Sequence[Callable[[], object]], repeats: int, warmup: int = 2,
                     clock: Callable[[], float] = time.perf_counter, pause: float = 0.0, warm_calls: int = 0,
                     sleep: Callable[[float], None] = time.sleep) -> list[list[float]]:
    """Time each function ``repeats`` times, interleaved; returns one list of seconds per function.

    Round r runs every function once, in turn, forwards in even rounds and backwards in odd ones, so
    that neither always runs first (right after the other has warmed or flushed the caches).
    ``warmup`` untimed rounds come first. Before every timed call, ``pause`` seconds are slept, so that
    thread pools left spinning by the previous function go idle, and the function is called
    ``warm_calls`` times untimed, so that it runs warm again; neither is timed.
    """
    repeats = check_int("repeats", repeats)
    warmup = check_int("warmup", warmup, minimum=0)
    pause = _check_pause(pause)
    warm_calls = check_int("warm_calls", warm_calls, minimum=0)
    if not functions:
        raise ValueError("functions must hold at least one callable; got none")
    times: list[list[float]] = [[] for _ in functions]
    for r in range(warmup + repeats):
        order = range(len(functions)) if r % 2 == 0 else reversed(range(len(functions)))
        for k in order:
            if pause:
                sleep(pause)
            for _ in range(warm_calls):
                functions[k]()
            start = clock()
            functions[k]()
            elapsed = clock() - start
            if r >= warmup:
                times[k].append(elapsed)
    return times


def machine_facts(threads: int) -> dict:
    """What the numbers depend on: CPU, core count, versions, the BLAS library and its threads, load."""
    import torch
    from threadpoolctl import threadpool_info

    blas = [
        {"library": info.get("internal_api"), "version": info.get("version"), "threads": info.get("num_threads")}
        for info in threadpool_info()
        if info.get("user_api") == "blas"
    ]
    cpu = platform.processor() or platform.machine()
    try:  # the model name is more telling than "x86_64"
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "logical_cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "numpy_blas": blas,
        "torch_mkldnn": bool(torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled),
        "threads": threads,
    }


def _load_average():
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:  # not available on this platform
        return None


def run_benchmark(models: Sequence[str] = MODELS, N: int = 64, T: int = 32, D: int = 64, H: int = 128,
                  threads: int = 2, repeats: int = 21, warmup: int = 2, seed: int = 0, pause: float = 0.15,
                  warm_calls: int = 1,
                  progress: Callable[[str], None] | None = None) -> dict:
    """Check, then time, the scratch forward + backward of each model against PyTorch's; return a dict.

    The dict (written to JSON by the command line) has the keys ``schema``, ``created`` (UTC, ISO 8601),
    ``settings`` (sizes, dtype, threads, repeats, warmup, seed, pause, warm_calls), ``machine`` (:func:`machine_facts`, plus
    the load average before and after), ``results`` (one entry per model: the two sides' times in
    milliseconds as median, min, quartiles; ``ratio`` = scratch median / torch median; the median of
    the per-round ratios; the max differences of :func:`compare`) and ``goal`` (the LSTM's ratio
    against :data:`LSTM_GOAL`, if the LSTM was measured at the lab's sizes).
    """
    import torch
    from threadpoolctl import threadpool_limits

    models = _check_models(models)
    sizes = check_sizes(N, T, D, H)
    threads = check_int("threads", threads)
    repeats = check_int("repeats", repeats)
    warmup = check_int("warmup", warmup, minimum=0)
    seed = check_int("seed", seed, minimum=0)
    pause = _check_pause(pause)
    warm_calls = check_int("warm_calls", warm_calls, minimum=0)
    say = progress or (lambda message: None)

    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    load_before = _load_average()
    results = []
    try:
        with threadpool_limits(limits=threads, user_api="blas"):
            machine = machine_facts(threads)
            for model in models:
                case = make_case(model, seed=seed, **sizes)
                diffs = compare(case)
                say(f"{model}: scratch and torch agree (max difference {max(diffs.values()):.1e}); timing {repeats} rounds")
                t_scratch, t_torch = time_interleaved([case.scratch, case.torch], repeats=repeats, warmup=warmup, pause=pause,
                                                        warm_calls=warm_calls)
                s, t = _summary(t_scratch), _summary(t_torch)
                per_round = [a / b for a, b in zip(t_scratch, t_torch)]
                results.append({
                    "model": model,
                    "scratch_ms": s,
                    "torch_ms": t,
                    "ratio": s["median"] / t["median"],
                    "ratio_per_round_median": statistics.median(per_round),
                    "max_abs_diff": diffs,
                })
    finally:
        torch.set_num_threads(previous_threads)
    machine["load_average_before"] = load_before
    machine["load_average_after"] = _load_average()
    lstm = next((r for r in results if r["model"] == "LSTM"), None)
    at_lab_sizes = sizes == LAB_SIZES
    goal = {
        "model": "LSTM",
        "max_ratio": LSTM_GOAL,
        "ratio": lstm["ratio"] if lstm else None,
        "met": (lstm["ratio"] <= LSTM_GOAL) if (lstm and at_lab_sizes) else None,
        "at_lab_sizes": at_lab_sizes,
    }
    return {
        "schema": SCHEMA_VERSION,
        "created": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        "settings": {**sizes, "dtype": "float32", "threads": threads, "repeats": repeats, "warmup": warmup, "seed": seed,
                     "pause": pause, "warm_calls": warm_calls},
        "machine": machine,
        "results": results,
        "goal": goal,
    }


def format_table(report: dict) -> str:
    """The results as a plain-text table for the terminal."""
    width = max([5] + [len(r["model"]) for r in report["results"]])
    lines = [f"{'model':{width}} {'scratch ms':>11} {'torch ms':>9} {'scratch/torch':>14} {'per-round':>10}"]
    for r in report["results"]:
        lines.append(
            f"{r['model']:{width}} {r['scratch_ms']['median']:11.2f} {r['torch_ms']['median']:9.2f} "
            f"{r['ratio']:13.2f}× {r['ratio_per_round_median']:9.2f}×"
        )
    goal = report["goal"]
    if goal["ratio"] is not None:
        verdict = {True: "met", False: "NOT met", None: "not judged (not at the lab's sizes)"}[goal["met"]]
        lines.append(f"LSTM goal: ≤ {goal['max_ratio']:.2f}× nn.LSTM; measured {goal['ratio']:.2f}×: {verdict}")
    return "\n".join(lines)


def format_markdown(report: dict) -> str:
    """The results as the MyST include of appendix/benchmarks.md: date, machine, settings, ratios."""
    s, m = report["settings"], report["machine"]
    blas = ", ".join(f"{b['library']} {b['version']}" for b in m["numpy_blas"]) or "unknown BLAS"
    load = m.get("load_average_before")
    load_after = m.get("load_average_after")
    load_text = (f"{load[0]:.2f} before the run and {load_after[0]:.2f} after it"
                 if load and load_after else "not available")
    busy = bool(load and load_after and m.get("logical_cpus") and max(load[0], load_after[0]) >= m["logical_cpus"])
    caution = (" **The machine was busy** (a load average at or above its number of CPUs): the milliseconds are "
               "inflated and the ratios less certain than usual." if busy else "")
    lines = [
        "<!-- Generated by `make bench` (python -m rnnbook.bench --markdown ...). Do not edit: run it again. -->",
        "",
        f"Measured on {report['created'][:10]} (UTC): {m['cpu']}, {m['logical_cpus']} logical CPUs, "
        f"{s['threads']} thread{'' if s['threads'] == 1 else 's'}; Python {m['python']}, NumPy {m['numpy']} ({blas}), PyTorch {m['torch']}. "
        f"Sizes N = {s['N']}, T = {s['T']}, D = {s['D']}, H = {s['H']}, {s['dtype']}; "
        f"{s['repeats']} interleaved rounds after {s['warmup']} warm-up rounds; before each timed call a pause of "
        f"{s.get('pause', 0):g} s and {s.get('warm_calls', 0)} untimed call{'' if s.get('warm_calls', 0) == 1 else 's'} of the same function. "
        f"One-minute load average: {load_text} (the machine has {m['logical_cpus']} logical CPUs).{caution}",
        "",
        "| model | scratch / torch (median) | per-round ratio (median) | scratch, ms | torch, ms |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in report["results"]:
        lines.append(
            f"| {r['model']} | **{r['ratio']:.2f}×** | {r['ratio_per_round_median']:.2f}× "
            f"| {r['scratch_ms']['median']:.1f} | {r['torch_ms']['median']:.1f} |"
        )
    goal = report["goal"]
    if goal["ratio"] is not None:
        verdict = {True: "met", False: "not met", None: "not judged: these are not the lab's sizes"}[goal["met"]]
        lines += ["", f"The goal for the LSTM, at most {goal['max_ratio']:.2f}× `nn.LSTM`'s time: "
                      f"measured **{goal['ratio']:.2f}×**, {verdict}."]
    return "\n".join(lines) + "\n"


def _parse(argv):
    parser = argparse.ArgumentParser(
        prog="python -m rnnbook.bench",
        description="Time the NumPy scratch RNN/LSTM/GRU forward + backward against PyTorch's, side by side.",
    )
    parser.add_argument("--json", type=Path, help="write the full report to this JSON file")
    parser.add_argument("--markdown", type=Path, help="write the table as a Markdown include (appendix/_bench_table.md)")
    parser.add_argument("--models", nargs="+", default=list(MODELS), metavar="MODEL",
                        help="RNN, LSTM (the fast one), LSTM-READABLE, GRU (default: all)")
    parser.add_argument("--threads", type=int, default=2, help="threads for PyTorch and for NumPy's BLAS (default 2)")
    parser.add_argument("--repeats", type=int, default=21, help="timed rounds per model (default 21)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed rounds first (default 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pause", type=float, default=0.15, help="seconds slept (untimed) before every timed call (default 0.15)")
    parser.add_argument("--warm-calls", dest="warm_calls", type=int, default=1,
                        help="untimed calls of the same function right before every timed call (default 1)")
    for flag, key, meaning in (("--batch", "N", "sequences per batch"), ("--steps", "T", "time steps"),
                               ("--input", "D", "input features"), ("--hidden", "H", "hidden units")):
        parser.add_argument(flag, dest=key, type=int, default=LAB_SIZES[key], help=f"{meaning} (default {LAB_SIZES[key]})")
    return parser, parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    parser, args = _parse(argv)
    try:
        report = run_benchmark(
            models=args.models, N=args.N, T=args.T, D=args.D, H=args.H, threads=args.threads,
            repeats=args.repeats, warmup=args.warmup, seed=args.seed, pause=args.pause, warm_calls=args.warm_calls,
            progress=lambda message: print(message, file=sys.stderr, flush=True),
        )
    except ValueError as exc:
        parser.error(str(exc))  # exits with status 2
    print(format_table(report))
    for path, text in ((args.json, json.dumps(report, indent=2) + "\n"), (args.markdown, format_markdown(report))):
        if path is not None:
            write_text_atomic(path, text)  # never a half-written file
            print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
