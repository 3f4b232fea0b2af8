"""The sentiment lab's wing, beside the maths of :mod:`rnnbook.scratch` and :mod:`rnnbook.nn`.

* :mod:`rnnbook.lab.text`: the tokenizer, the vocabulary (``<pad>`` = 0, ``<unk>``), encoding with
  lengths, and PPMI-SVD word vectors;
* :mod:`rnnbook.lab.train`: the one training loop of the PyTorch and the NumPy classifiers (a step
  for each), batches of similar length, prediction and the five test metrics;
* :mod:`rnnbook.lab.baselines`: the models without a recurrence (TF-IDF + logistic regression, NB-SVM);
* :mod:`rnnbook.lab.pretrain`: the text an encoder may read without labels, never a validation or test text;
* :mod:`rnnbook.lab.sentiment`: every model's hyper-parameters, :func:`~rnnbook.lab.sentiment.run`,
  and the command ``python -m rnnbook.sentiment``.

The datasets are in :mod:`rnnbook.data`.
"""
