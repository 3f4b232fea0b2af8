"""Time the loop against the loop-free forms of the linear recurrence ``h_t = a_t ⊙ h_{t-1} + b_t``, side by side.

``make bench`` runs ``python -m rnnbook.scan_bench --json _build/scan-bench.json --markdown appendix/_scan_table.md``:
for each batch size N and length T, :func:`rnnbook.scratch.linear_recurrence` with ``method="sequential"``
(a loop over the T steps) and with each loop-free method, in float64, on one thread. The method is that of
:mod:`rnnbook.bench`: every method is first **checked** equal to the loop on the same inputs; the
repeats are **interleaved** (loop, scan, scan, loop, …); the **median** is kept; and what we publish is the
**ratio** loop time / method time, measured in the same minute on the same machine.

The goal of Chapter 6 (:data:`GOAL`): at N = 1, T = 4096, H = 64, the loop-free form (``"parallel"``)
at least twice as fast as the loop. With a large batch the loop wins on a CPU: each of its steps is
already a wide operation on N·H numbers, and the loop-free forms do more arithmetic and move more memory.

Run ``python -m rnnbook.scan_bench --help`` for the options.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from rnnbook._checks import check_int
from rnnbook._io import load_average, write_text_atomic
from rnnbook.bench import MismatchError, _summary, machine_facts, time_interleaved
from rnnbook.scratch import scan

#: The methods timed, the loop first.
METHODS = ("sequential", "parallel", "hillis-steele", "blelloch")
#: The goal: at these sizes, ``"parallel"`` at least ``ratio`` times as fast as the loop.
GOAL = {"N": 1, "T": 4096, "H": 64, "method": "parallel", "ratio": 2.0}
#: Agreement with the loop required before timing, relative to the recurrence's own scale (float64).
RTOL = 1e-10


def _inputs(N: int, T: int, H: int, seed: int):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 1, (N, T, H)), rng.normal(size=(N, T, H)), rng.normal(size=(N, H))


def check_methods(a: np.ndarray, b: np.ndarray, h0: np.ndarray, methods: Sequence[str]) -> float:
    """Raise :class:`~rnnbook.bench.MismatchError` unless every method equals the loop; return the largest error.

    The error is ``max |h − h_loop|`` relative to the same recurrence run on ``|a|, |b|, |h0|``, which
    bounds every partial sum (so that states that cancel to nearly zero do not inflate it).
    """
    ref = scan.linear_recurrence(a, b, h0, method="sequential")
    scale = scan.linear_recurrence(np.abs(a), np.abs(b), np.abs(h0))
    worst = 0.0
    for method in methods:
        err = float(np.max(np.abs(scan.linear_recurrence(a, b, h0, method=method) - ref) / scale))
        if not err <= RTOL:
            raise MismatchError(f"linear_recurrence(method={method!r}) differs from the loop by {err:.2e} (relative) "
                                f"at N, T, H = {a.shape[0]}, {a.shape[1]}, {a.shape[2]}; nothing was timed")
        worst = max(worst, err)
    return worst


def run_scan_benchmark(Ns: Sequence[int] = (1, 16, 64), Ts: Sequence[int] = (256, 1024, 4096), H: int = 64,
                       methods: Sequence[str] = METHODS, repeats: int = 9, warmup: int = 1, seed: int = 0,
                       progress: Callable[[str], None] | None = None) -> dict:
    """Check, then time, every method of :func:`~rnnbook.scratch.linear_recurrence` at every (N, T); return a dict.

    Returns ``{"created", "settings", "machine", "results": [{"N", "T", "H", "ms": {method: summary},
    "speedup": {method: loop median / method median}, "max_rel_error"}], "goal": {..., "ratio", "met"}}``.
    The loop (``"sequential"``) is always timed, first; NumPy runs on one thread (threadpoolctl).
    """
    from threadpoolctl import threadpool_limits

    methods = tuple(dict.fromkeys(("sequential",) + tuple(methods)))
    for m in methods:
        if m not in scan.METHODS:
            raise ValueError(f"methods must be among {scan.METHODS}; got {m!r}")
    H = check_int("H", H)
    Ns = [check_int("N", n) for n in Ns]
    Ts = [check_int("T", t) for t in Ts]
    repeats = check_int("repeats", repeats)
    report = {
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "settings": {"Ns": Ns, "Ts": Ts, "H": H, "methods": list(methods), "repeats": repeats, "warmup": warmup,
                     "seed": seed, "dtype": "float64", "threads": 1},
        "machine": machine_facts(1) | {"load_average_before": load_average()},
        "results": [],
    }
    with threadpool_limits(limits=1):
        for N in Ns:
            for T in Ts:
                a, b, h0 = _inputs(N, T, H, seed)
                err = check_methods(a, b, h0, methods[1:])
                calls = [lambda m=m: scan.linear_recurrence(a, b, h0, method=m) for m in methods]
                times = time_interleaved(calls, repeats=repeats, warmup=warmup)
                ms = {m: _summary(t) for m, t in zip(methods, times)}
                speedup = {m: ms["sequential"]["median"] / ms[m]["median"] for m in methods[1:]}
                report["results"].append({"N": N, "T": T, "H": H, "ms": ms, "speedup": speedup, "max_rel_error": err})
                if progress:
                    progress(f"N={N} T={T}: " + ", ".join(f"{m} {v:.2f}×" for m, v in speedup.items()))
    report["machine"]["load_average_after"] = load_average()
    row = next((r for r in report["results"] if (r["N"], r["T"], r["H"]) == (GOAL["N"], GOAL["T"], GOAL["H"])), None)
    ratio = row["speedup"].get(GOAL["method"]) if row else None
    report["goal"] = {**GOAL, "min_ratio": GOAL["ratio"], "ratio": ratio, "met": None if ratio is None else ratio >= GOAL["ratio"]}
    return report


def format_markdown(report: dict) -> str:
    """The results as the MyST include of appendix/benchmarks.md: loop time / method time, per (N, T)."""
    s, m = report["settings"], report["machine"]
    methods = s["methods"][1:]
    load = f"{m.get('load_average_before')} before and {m.get('load_average_after')} after"
    lines = [
        "<!-- Generated by `make bench` (python -m rnnbook.scan_bench --markdown ...). Do not edit: run it again. -->",
        "",
        f"Measured on {report['created'][:10]} (UTC): {m['cpu']}, {m['logical_cpus']} logical CPUs, one thread; "
        f"NumPy {m['numpy']}, float64, H = {s['H']}; {s['repeats']} interleaved rounds, medians. "
        f"One-minute load average: {load}. Each cell is the loop's time divided by the method's: above 1, the "
        "method is faster.",
        "",
        "| N | T | loop, ms | " + " | ".join(f"{x}: loop / it" for x in methods) + " |",
        "| --- | --- | --- | " + " | ".join("---" for _ in methods) + " |",
    ]
    for r in report["results"]:
        cells = [f"**{r['speedup'][x]:.2f}×**" if x == "parallel" else f"{r['speedup'][x]:.2f}×" for x in methods]
        lines.append(f"| {r['N']} | {r['T']} | {r['ms']['sequential']['median']:.1f} | " + " | ".join(cells) + " |")
    goal = report["goal"]
    if goal["ratio"] is not None:
        verdict = "met" if goal["met"] else "not met"
        lines += ["", f"The goal, `\"parallel\"` at least {goal['min_ratio']:g}× as fast as the loop at N = {goal['N']}, "
                      f"T = {goal['T']}, H = {goal['H']}: measured **{goal['ratio']:.2f}×**, {verdict}."]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnbook.scan_bench",
                                     description="Time the loop against the loop-free forms of the linear recurrence.")
    parser.add_argument("--json", type=Path, help="write the full report to this JSON file")
    parser.add_argument("--markdown", type=Path, help="write the table as a Markdown include (appendix/_scan_table.md)")
    parser.add_argument("--batch", dest="Ns", type=int, nargs="+", default=[1, 16, 64], help="batch sizes N")
    parser.add_argument("--steps", dest="Ts", type=int, nargs="+", default=[256, 1024, 4096], help="lengths T")
    parser.add_argument("--hidden", dest="H", type=int, default=64, help="hidden units H (default 64)")
    parser.add_argument("--repeats", type=int, default=9, help="timed rounds (default 9)")
    args = parser.parse_args(argv)
    try:
        report = run_scan_benchmark(Ns=args.Ns, Ts=args.Ts, H=args.H, repeats=args.repeats,
                                    progress=lambda message: print(message, file=sys.stderr, flush=True))
    except ValueError as exc:
        parser.error(str(exc))
    print(format_markdown(report))
    for path, text in ((args.json, json.dumps(report, indent=2) + "\n"), (args.markdown, format_markdown(report))):
        if path is not None:
            write_text_atomic(path, text)
            print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
