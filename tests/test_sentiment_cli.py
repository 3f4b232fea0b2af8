"""The command ``python -m rnnbook.sentiment``: the JSON it promises, on a tiny fixture dataset."""

from __future__ import annotations

import json
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

import rnnbook.lab.sentiment as sentiment

POS = ["great", "thanks", "love", "awesome", "best", ":)"]
NEG = ["delayed", "lost", "worst", "cancelled", "rude", ":("]
FILL = ["@united", "flight", "crew", "bag", "gate", "seat", "today", "the", "my", "was", "!"]


def _split(n, seed):
    rng = np.random.default_rng(seed)
    y = np.array([i % 2 for i in range(n)], dtype=np.int64)
    texts = []
    for label in y:
        words = list(rng.choice(FILL, rng.integers(2, 7))) + [rng.choice(POS if label else NEG)]
        rng.shuffle(words)
        texts.append(" ".join(words))
    return SimpleNamespace(texts=texts, labels=y, topics=["United"] * n)


@pytest.fixture
def tiny(monkeypatch):
    """Replace the real data loader (10k tweets) by 60 / 20 / 20 synthetic ones."""
    calls = []

    def fake_load(name, seed, *, data_dir=None, progress=True):
        calls.append((name, seed))
        return SimpleNamespace(train=_split(60, 1), val=_split(20, 2), test=_split(20, 3))

    monkeypatch.setattr(sentiment, "load_dataset", fake_load)
    return calls


PROMISED = {"accuracy", "precision", "recall", "f1", "roc_auc", "train_seconds", "n_params", "n_train", "n_val",
            "n_test", "model", "dataset", "seed", "hparams", "history"}


@pytest.mark.parametrize("model", ["gru", "mingru", "tfidf-lr", "tfidf-char-lr", "nbsvm"])
def test_command_writes_the_promised_json(tiny, tmp_path, model, capsys):
    path = tmp_path / "out" / f"{model}.json"
    args = ["--model", model, "--seed", "3", "--json", str(path), "--quiet"]
    if model not in sentiment.BASELINES:
        args += ["--epochs", "2", "--threads", "1"]
    sentiment.main(args)
    res = json.loads(path.read_text())
    assert PROMISED <= res.keys()
    assert tiny == [("airline", 3)]
    assert (res["model"], res["dataset"], res["seed"]) == (model, "airline", 3)
    assert (res["n_train"], res["n_val"], res["n_test"]) == (60, 20, 20)
    for k in ("accuracy", "precision", "recall", "f1", "roc_auc"):
        assert 0.0 <= res[k] <= 1.0
    assert res["train_seconds"] > 0 and res["n_params"] > 0
    assert res["hparams"] == json.loads(json.dumps(sentiment.hparams(model, **(
        {"epochs": 2} if model not in sentiment.BASELINES else {}))))
    if model in ("gru", "mingru"):
        assert 1 <= len(res["history"]) <= 2
        assert {"epoch", "train_loss", "val_loss", "val_auc", "val_accuracy", "seconds"} <= res["history"][0].keys()
        assert res["hparams"]["cell"] == model
    else:
        assert res["C"] in sentiment.HPARAMS[model]["C_grid"] and res["val_auc"] == max(res["val_aucs"].values())
    out = capsys.readouterr().out
    assert "ROC-AUC" in out and model in out


def test_limit_keeps_the_first_texts_of_each_split(tiny, tmp_path):
    res = sentiment.main(["--model", "tfidf-lr", "--limit", "10", "--json", str(tmp_path / "r.json"), "--quiet"])
    assert (res["n_train"], res["n_val"], res["n_test"]) == (10, 10, 10)


@pytest.mark.filterwarnings("ignore::UserWarning")  # one epoch on 60 texts may predict no positive at all
def test_numpy_lstm_runs_through_the_command(tiny, tmp_path):
    pytest.importorskip("rnnbook.scratch.classifier")
    res = sentiment.main(["--model", "numpy-lstm", "--epochs", "1", "--json", str(tmp_path / "n.json"), "--quiet"])
    assert res["model"] == "numpy-lstm" and len(res["history"]) == 1 and res["n_params"] > 0


def test_the_lab_trains_the_same_hyper_parameters_as_the_command():
    # One dict of defaults, shared by the five cells: the lab compares cells, not tuning.
    names = ("rnn", "lstm", "gru", "mingru", "minlstm")
    cells = {m: {k: v for k, v in sentiment.HPARAMS[m].items() if k != "cell"} for m in names}
    assert all(cells[m] == cells["lstm"] for m in names)
    assert [sentiment.HPARAMS[m]["cell"] for m in names] == list(names)
    before = sentiment.HPARAMS["lstm"]["epochs"]
    assert sentiment.hparams("lstm", epochs=before + 1)["epochs"] == before + 1
    assert sentiment.HPARAMS["lstm"]["epochs"] == before  # overrides never change the shared defaults


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--model", "cnn"], "invalid choice: 'cnn'"),
        (["--model", "lstm", "--dataset", "mnist"], "invalid choice: 'mnist'"),
        (["--model", "lstm", "--seed", "-1"], "expected an integer ≥ 0, got -1"),
        (["--model", "lstm", "--epochs", "0"], "expected an integer ≥ 1, got 0"),
        (["--model", "lstm", "--limit", "x"], "expected an integer ≥ 1, got 'x'"),
        ([], "the following arguments are required: --model"),
    ],
)
def test_bad_arguments_are_argparse_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        sentiment.main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_bad_hyper_parameters_and_data_raise_value_errors():
    with pytest.raises(ValueError, match=r"unknown hyper-parameter\(s\) for 'lstm': \['epoch'\]"):
        sentiment.hparams("lstm", epoch=3)
    with pytest.raises(ValueError, match="model must be one of"):
        sentiment.hparams("transformer")
    with pytest.raises(ValueError, match="no .test"):
        sentiment.run("lstm", SimpleNamespace(train=None, val=None))
    with pytest.raises(ValueError, match="embed_init"):
        sentiment.run("lstm", SimpleNamespace(train=_split(10, 0), val=_split(10, 1), test=_split(10, 2)),
                      embed_init="glove", progress=False)


def test_module_runs_as_a_command():
    out = subprocess.run([sys.executable, "-m", "rnnbook.sentiment", "--help"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0
    usage = " ".join(out.stdout.split())  # argparse wraps the long list of choices
    assert "--model {rnn,lstm,gru,mingru,minlstm,lstm-pretrained,numpy-lstm,tfidf-lr,tfidf-char-lr,nbsvm}" in usage
    assert "--json PATH" in out.stdout


def test_lstm_pretrained_pretrains_once_then_reads_its_cache(tiny, tmp_path, monkeypatch, one_torch_thread):
    """The model of the command: its encoder pretrained on the (here synthetic) unlabelled corpus, cached in
    $RNNBOOK_DATA_DIR; the second run reads the cache and, from the same weights, ends with the same model."""
    from rnnbook.lab import pretrain

    monkeypatch.setenv("RNNBOOK_DATA_DIR", str(tmp_path))
    corpus = _split(200, 9).texts
    monkeypatch.setattr(pretrain, "pretraining_corpus", lambda data: corpus)
    data = sentiment.load_dataset("airline", 0)
    runs = [sentiment.run("lstm-pretrained", data, seed=0, progress=False, num_threads=1, epochs=1, pretrain_epochs=1)
            for _ in range(2)]
    assert [r.extra["pretraining"]["cache"] for r in runs] == ["built", "hit"]
    assert runs[0].extra["pretraining"]["corpus_texts"] == 200 and len(runs[0].extra["pretraining"]["losses"]) == 1
    assert list((tmp_path / "pretrained").glob("*.pt"))
    np.testing.assert_array_equal(runs[0].p_test, runs[1].p_test)
    # fine-tuning longer does not change the pretrained weights, so it reads the same cache; a new seed does not
    assert sentiment.run("lstm-pretrained", data, seed=0, progress=False, num_threads=1, epochs=2,
                         pretrain_epochs=1).extra["pretraining"]["cache"] == "hit"
    assert sentiment.run("lstm-pretrained", data, seed=1, progress=False, num_threads=1, epochs=1,
                         pretrain_epochs=1).extra["pretraining"]["cache"] == "built"


class _Sealed:
    """A split that must not be read: the test split of a run that makes a choice."""

    @property
    def texts(self):
        raise AssertionError("the test split was read")

    labels = texts


@pytest.mark.parametrize("model", ["gru", "tfidf-char-lr"])
def test_evaluate_on_val_scores_the_validation_split_and_never_reads_the_test_split(tiny, model, one_torch_thread):
    from rnnbook.lab.train import evaluate

    data = sentiment.load_dataset("airline", 0)
    data.test = _Sealed()
    extra = {} if model in sentiment.BASELINES else {"epochs": 2, "num_threads": 1}
    res = sentiment.run(model, data, seed=0, progress=False, evaluate_on="val", **extra)
    assert res.p_test.shape == (20,)
    assert res.metrics == evaluate(data.val.labels, res.p_test)
    if model not in sentiment.BASELINES:  # the weights put back are those of the best validation AUC
        assert res.metrics["roc_auc"] == pytest.approx(res.extra["best_val_auc"], abs=1e-12)
    with pytest.raises(ValueError, match="evaluate_on must be 'test' or 'val'; got 'train'"):
        sentiment.run(model, data, evaluate_on="train")


def test_pretrain_keep_embedding_keeps_the_pretrained_table_and_the_initial_lstm(tiny, tmp_path, monkeypatch,
                                                                                  one_torch_thread):
    """The ablation's middle row: what fine-tuning starts from, caught at the entry of the training loop."""
    import torch

    from rnnbook.lab import pretrain, train

    monkeypatch.setenv("RNNBOOK_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(pretrain, "pretraining_corpus", lambda data: _split(200, 9).texts)
    starts = {}
    real_fit = train.fit

    def spy(net, *args, **kwargs):
        starts[label] = {k: v.detach().clone() for k, v in net.state_dict().items()}
        return real_fit(net, *args, **kwargs)

    monkeypatch.setattr(train, "fit", spy)
    data = sentiment.load_dataset("airline", 0)
    for label, model, extra in (("none", "lstm", {}), ("encoder", "lstm-pretrained", {"pretrain_epochs": 1}),
                                ("embedding", "lstm-pretrained", {"pretrain_epochs": 1, "pretrain_keep": "embedding"})):
        res = sentiment.run(model, data, seed=0, progress=False, num_threads=1, epochs=1, **extra)
    assert res.extra["pretraining"]["cache"] == "hit" and res.extra["pretraining"]["kept"] == "embedding"
    emb, rnn = "embedding.weight", [k for k in starts["none"] if k.startswith("rnn.")]
    assert len(rnn) == 8  # both directions: weight_ih, weight_hh, bias_ih, bias_hh
    torch.testing.assert_close(starts["embedding"][emb], starts["encoder"][emb], rtol=0, atol=0)
    assert not torch.equal(starts["embedding"][emb], starts["none"][emb])  # pretraining moved the table
    for k in rnn:
        torch.testing.assert_close(starts["embedding"][k], starts["none"][k], rtol=0, atol=0)
    assert all(not torch.equal(starts["encoder"][k], starts["none"][k]) for k in rnn)
    with pytest.raises(ValueError, match="pretrain_keep must be 'encoder' or 'embedding'; got 'rnn'"):
        sentiment.run("lstm-pretrained", data, pretrain_keep="rnn")


def test_vocab_from_corpus_builds_the_vocabulary_from_the_pretraining_corpus(tiny, tmp_path, monkeypatch,
                                                                             one_torch_thread):
    from rnnbook.lab import pretrain

    monkeypatch.setenv("RNNBOOK_DATA_DIR", str(tmp_path))
    corpus = _split(200, 9).texts + ["zeppelin zeppelin airship", "airship zeppelin"]  # words no split has
    monkeypatch.setattr(pretrain, "pretraining_corpus", lambda data: corpus)
    data = sentiment.load_dataset("airline", 0)
    common = dict(seed=0, progress=False, num_threads=1, epochs=1, pretrain_epochs=1)
    own = sentiment.run("lstm-pretrained", data, **common)
    wide = sentiment.run("lstm-pretrained", data, vocab_from="corpus", **common)
    assert "zeppelin" in wide.vocab.stoi and "airship" in wide.vocab.stoi and "zeppelin" not in own.vocab.stoi
    assert set(own.vocab.itos) <= set(wide.vocab.itos)
    assert wide.extra["pretraining"]["cache"] == "built"  # another vocabulary: other pretrained weights
    with pytest.raises(ValueError, match="vocab_from must be 'train' or 'corpus'; got 'test'"):
        sentiment.run("lstm-pretrained", data, vocab_from="test")
