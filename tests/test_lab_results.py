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


def _runs(lstm_auc=(0.9800, 0.9790), lstm_f1=0.80, lstm_seconds=20.0):
    runs = []
    for seed in (0, 1):
        runs += [_run("tfidf-lr", seed, 0.970, 0.925), _run("tfidf-char-lr", seed, 0.975, 0.93),
                 _run("rnn", seed, 0.90, 0.88), _run("lstm", seed, lstm_auc[seed], 0.93, lstm_seconds),
                 _run("gru", seed, 0.95, 0.91)]
        runs[-2]["f1"] = lstm_f1
    return runs


def test_aggregate_gives_mean_and_sample_std_per_model_in_order():
    table = lab_results.aggregate(_runs())
    assert list(table) == ["tfidf-lr", "tfidf-char-lr", "rnn", "lstm", "gru"]
    mean, std = table["lstm"]["roc_auc"]
    assert mean == pytest.approx(0.9795) and std == pytest.approx(statistics.stdev([0.98, 0.979]))
    assert table["lstm"]["n"] == 2 and table["tfidf-lr"]["accuracy"] == (pytest.approx(0.925), 0.0)


def test_goal_met_when_the_best_recurrent_model_clears_the_strongest_baseline_on_every_seed():
    runs = _runs()
    verdict = lab_results.goal(lab_results.aggregate(runs), runs)
    assert (verdict["best"], verdict["baseline"]) == ("lstm", "tfidf-char-lr")  # the strongest, not the first
    assert verdict["auc_gap"] == pytest.approx(0.0045) and verdict["seed_gaps"] == pytest.approx({0: 0.005, 1: 0.004})
    assert verdict["met"]


@pytest.mark.parametrize("kwargs, failed", [
    ({"lstm_auc": (0.9765, 0.9790)}, "auc_ok"),          # ahead on both seeds, but +0.00275 on average: +0.003 is needed
    ({"lstm_auc": (0.9900, 0.9740)}, "every_seed_ok"),   # well ahead on average, behind on seed 1
    ({"lstm_f1": 0.74}, "f1_ok"),                        # behind the baseline's F1 of 0.75
    ({"lstm_seconds": 75.0}, "time_ok"),                 # a recurrent model over 60 s
])
def test_goal_fails_on_each_condition(kwargs, failed):
    runs = _runs(**kwargs)
    verdict = lab_results.goal(lab_results.aggregate(runs), runs)
    assert not verdict[failed] and not verdict["met"]


def test_markdown_shows_the_gap_to_the_strongest_baseline_and_the_verdict():
    runs = _runs()
    table = lab_results.aggregate(runs)
    facts = {"date": "2026-11-22", "cpus": 2, "load_before": "1.00", "load_after": "1.10", "seeds": [0, 1],
             "minutes": 3.0, "n_train": 7951, "n_val": 1704, "n_test": 1704}
    text = lab_results.format_markdown(table, lab_results.goal(table, runs), facts)
    assert "| model | accuracy | precision | recall | F1 | ROC-AUC |\n" in text
    assert "| model | ROC-AUC − tfidf-char-lr | parameters | training, s |" in text
    assert "| **lstm** | 0.9300 ± 0.0000 |" in text and "| **lstm** | +0.0045 | 100 | 20.0 ± 0.0 |" in text
    assert "| **tfidf-char-lr** | +0.0000 |" in text and "| tfidf-lr | -0.0050 |" in text
    assert "(+0.0045: met)" in text and "(+0.0050, +0.0040: met)" in text and "7,951" in text


def test_bad_input_is_refused_by_name():
    with pytest.raises(ValueError, match="runs must hold"):
        lab_results.aggregate([])
    runs = [r for r in _runs() if r["model"] in ("tfidf-lr", "tfidf-char-lr")]
    with pytest.raises(ValueError, match="a baseline .* and a recurrent model"):
        lab_results.goal(lab_results.aggregate(runs), runs)


import lab_ablation  # noqa: E402


def test_ablation_table_has_a_column_per_seed_the_mean_and_the_gap_to_no_pretraining():
    aucs = {"no pretraining": (0.960, 0.970), "embedding only": (0.962, 0.969), "full encoder": (0.970, 0.974),
            "tfidf-char-lr": (0.968, 0.966)}
    runs = [{"name": name, "seed": seed, "roc_auc": auc[seed], "train_seconds": 20.0 + seed,
             **({"pretraining": {"cache": "built" if name == "embedding only" else "hit", "seconds": 50.0 + seed}}
                if name in ("embedding only", "full encoder") else {})}
            for name, auc in aucs.items() for seed in (0, 1)]
    text = lab_ablation.format_markdown(runs, {"date": "2026-12-03", "cpus": 2, "load_before": "0.10",
                                               "load_after": "0.20"})
    means, seeds = ({line.split(" | ")[0].lstrip("| "): line.split(" | ")[1:] for line in table.splitlines()
                     if line.startswith("| ") and "---" not in line} for table in text.split("\n\n")[1:3])
    assert means["start of the encoder"] == ["mean", "− no pretraining", "training, s |"]
    assert means["full encoder"] == ["0.9720", "+0.0070", "20 |"]
    assert means["embedding only"][1] == "+0.0005" and means["no pretraining"][1] == "+0.0000"
    assert means["tfidf-char-lr"] == ["0.9670", "", "20 |"]  # no gap: not an encoder
    assert seeds["start of the encoder"] == ["seed 0", "seed 1 |"]
    assert seeds["full encoder"] == ["0.9700", "0.9740 |"] and seeds["tfidf-char-lr"] == ["0.9680", "0.9660 |"]
    assert "Pretraining, once per seed and then read from the cache, took 50 s on average" in text
    assert "never the test split" in text


def test_write_text_atomic_replaces_the_file_whole_and_leaves_no_partial(tmp_path, monkeypatch):
    import os

    from rnnbook._io import write_text_atomic

    path = tmp_path / "deep" / "table.md"
    assert write_text_atomic(path, "old\n") == path and path.read_text() == "old\n"
    real_replace = os.replace

    def crash(src, dst):  # the machine dies between writing and renaming
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        write_text_atomic(path, "new\n")
    monkeypatch.setattr(os, "replace", real_replace)
    assert path.read_text() == "old\n" and sorted(p.name for p in path.parent.iterdir()) == ["table.md"]
    write_text_atomic(path, "new\n")
    assert path.read_text() == "new\n"
