"""scripts/lab_results.py: the table over seeds and the verdict on the lab's performance goal."""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import lab_results  # noqa: E402


def _run(model, seed, auc, acc, seconds=10.0, n_params=100):
    return {"model": model, "seed": seed, "accuracy": acc, "precision": 0.8, "recall": 0.7, "f1": 0.75,
            "roc_auc": auc, "train_seconds": seconds, "n_params": n_params}


def _runs(lstm_auc=(0.97, 0.98), lstm_acc=(0.92, 0.92), lstm_seconds=20.0):
    runs = []
    for seed in (0, 1):
        runs += [_run("tfidf-lr", seed, 0.970, 0.925), _run("rnn", seed, 0.90, 0.88),
                 _run("lstm", seed, lstm_auc[seed], lstm_acc[seed], lstm_seconds), _run("gru", seed, 0.95, 0.91)]
    return runs


def test_aggregate_gives_mean_and_sample_std_per_model_in_order():
    table = lab_results.aggregate(_runs())
    assert list(table) == ["tfidf-lr", "rnn", "lstm", "gru"]
    mean, std = table["lstm"]["roc_auc"]
    assert mean == pytest.approx(0.975) and std == pytest.approx(statistics.stdev([0.97, 0.98]))
    assert table["lstm"]["n"] == 2 and table["tfidf-lr"]["accuracy"] == (pytest.approx(0.925), 0.0)


def test_goal_met_when_the_best_recurrent_model_matches_the_baseline():
    verdict = lab_results.goal(lab_results.aggregate(_runs()))
    assert verdict["best"] == "lstm" and verdict["met"]


@pytest.mark.parametrize("kwargs, failed", [
    ({"lstm_auc": (0.96, 0.965)}, "auc_ok"),             # best AUC below the baseline's 0.970
    ({"lstm_acc": (0.91, 0.91)}, "accuracy_ok"),         # 1.5 points below the baseline's accuracy
    ({"lstm_seconds": 75.0}, "time_ok"),                 # a torch model over 60 s
])
def test_goal_fails_on_each_condition(kwargs, failed):
    verdict = lab_results.goal(lab_results.aggregate(_runs(**kwargs)))
    assert not verdict[failed] and not verdict["met"]


def test_markdown_names_the_best_model_and_the_verdict():
    table = lab_results.aggregate(_runs())
    facts = {"date": "2026-11-22", "cpus": 2, "load_before": "1.00", "load_after": "1.10", "seeds": [0, 1],
             "minutes": 3.0, "n_train": 7951, "n_val": 1704, "n_test": 1704}
    text = lab_results.format_markdown(table, lab_results.goal(table), facts)
    assert "| **lstm** | 0.9200 ± 0.0000 |" in text
    assert "0.9750 against 0.9700: met" in text and "7,951" in text


def test_bad_input_is_refused_by_name():
    with pytest.raises(ValueError, match="runs must hold"):
        lab_results.aggregate([])
    with pytest.raises(ValueError, match="missing \\['gru'\\]"):
        lab_results.goal(lab_results.aggregate([r for r in _runs() if r["model"] != "gru"]))
