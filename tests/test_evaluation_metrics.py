"""Classification mAP and AVE snippet accuracy."""

import numpy as np
import pytest

from wtal_jax import evaluation as ev


def _ref_get_ap(conf, labels):
  """W-TALC's getAP, loop form."""
  sortind = np.argsort(-conf)
  tp = labels[sortind] == 1
  fp = labels[sortind] != 1
  npos = np.sum(labels)
  fp = np.cumsum(fp).astype("float32")
  tp = np.cumsum(tp).astype("float32")
  prec = tp / (fp + tp)
  tmp = (labels[sortind] == 1).astype("float32")
  return np.sum(tmp * prec) / npos


def test_classification_map_matches_reference():
  rng = np.random.default_rng(0)
  for _ in range(50):
    v, c = int(rng.integers(2, 40)), int(rng.integers(1, 8))
    scores = np.round(rng.random((v, c)), 1)  # Ties.
    labels = (rng.random((v, c)) < 0.3).astype(np.float32)
    labels[0, :] = 1  # Every class has a positive.
    want = np.mean([_ref_get_ap(scores[:, j], labels[:, j]) for j in range(c)])
    assert ev.classification_map(scores, labels) == pytest.approx(want,
                                                                  abs=1e-6)


def test_classification_map_hand_computed_and_skips_empty_classes():
  scores = np.array([[0.9, 0.1], [0.8, 0.2], [0.1, 0.3]])
  labels = np.array([[0, 0], [1, 0], [1, 0]])  # Class 1 has no positive.
  # Class 0 ranking: neg, pos (P=1/2), pos (P=2/3): AP = (1/2 + 2/3) / 2.
  assert ev.classification_map(scores, labels) == pytest.approx(7 / 12)
  with pytest.raises(ValueError, match="no class has a positive"):
    ev.classification_map(scores, np.zeros_like(labels))


def test_snippet_accuracy():
  pred = np.array([[1, 2, 3, 0], [0, 0, 1, 1]])
  true = np.array([[1, 2, 0, 0], [0, 1, 1, 5]])
  mask = np.array([[1, 1, 1, 0], [1, 1, 1, 0]], bool)
  assert ev.snippet_accuracy_counts(pred, true, mask) == (4, 6)
  assert ev.snippet_accuracy(pred, true, mask) == pytest.approx(4 / 6)
  with pytest.raises(ValueError, match="no snippet"):
    ev.snippet_accuracy(pred, true, np.zeros_like(mask))
  with pytest.raises(ValueError, match="shapes differ"):
    ev.snippet_accuracy(pred, true[:, :3], mask)
