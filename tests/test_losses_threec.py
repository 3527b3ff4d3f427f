"""3C-Net losses against slow NumPy transcriptions of the public code's
CLSLOSS, CENTERLOSS and COUNTINGLOSS, plus masking invariance."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

from wtal_jax.losses import threec

B, T, C, F = 5, 16, 4, 6
LENGTHS = np.array([16, 11, 7, 4, 9])


def _case(seed):
  rng = np.random.default_rng(seed)
  feats = rng.normal(size=(B, T, F))
  logits = rng.normal(size=(B, T, C)) * 2
  centers = rng.normal(size=(C, F))
  mask = np.arange(T)[None] < LENGTHS[:, None]
  labels = np.zeros((B, C))
  labels[0, [0, 2]] = labels[1, 2] = labels[2, 1] = labels[3, 3] = 1
  labels[4, [1, 3]] = 1
  counts = labels * rng.integers(1, 6, size=(B, C))
  counts[0, 0] = 30  # >= T: treated as absent, as in the public code.
  return feats, logits, centers, mask, labels, counts


def _j(*xs):
  return [jnp.asarray(x) if x.dtype == bool else jnp.asarray(x, jnp.float32)
          for x in xs]


def _softmax0(x):
  e = np.exp(x - x.max(0))
  return e / e.sum(0)


def _ref_mil(logits, labels, mask, min_len=5):
  total, count = 0.0, 0
  for b in range(B):
    n = mask[b].sum()
    if n < min_len or labels[b].sum() == 0:
      continue
    k = math.ceil(n / 8)
    s = np.sort(logits[b, :n], axis=0)[::-1][:k].mean(0)
    logp = s - np.log(np.exp(s).sum())
    total += -(labels[b] / labels[b].sum() * logp).sum()
    count += 1
  return total, count


def _ref_center(feats, logits, labels, mask, centers, multi, form="paper"):
  """The public code's CENTERLOSS with the paper's distance (``paper``) or
  with its CenterLoss's class-index weighting (``public_code``), returned as
  (sum, count) whose ratio is the loss."""
  total, count = 0.0, 0
  for b in range(B):
    n = mask[b].sum()
    num = (labels[b] > 0).sum()
    if num == 0 or (num > 1) != multi:
      continue
    atn = _softmax0(logits[b, :n])
    for c in np.flatnonzero(labels[b]):
      w = atn[:, c].copy()
      w[w < w.mean()] = 0
      feat = (feats[b, :n] * w[:, None]).sum(0) / w.sum()
      dist = np.clip(((feat - centers[c]) ** 2).sum(), 1e-12, 1e12)
      # CenterLoss: value *= labels[i][mask[i]], the class index.
      total += dist * (c if form == "public_code" else 1)
      count += 1
  if form == "public_code":
    # CENTERLOSS returns criterion(feat, lab) / feat.size(0): the mean over
    # items divided by their number again.
    return total / count, count
  return total, count


def _ref_count(tcam, counts, mask, neg_weight=1e-3):
  total = 0.0
  for b in range(B):
    n = mask[b].sum()
    pred = (tcam[b, :n] * _softmax0(tcam[b, :n])).sum(0)
    pos = (counts[b] < n) & (counts[b] > 0)
    inv = np.where(counts[b] > 0, 1 / np.maximum(counts[b], 1e-10), 0)
    total += np.abs((pred[pos] - counts[b][pos]) * inv[pos]).sum()
    total += neg_weight * np.abs(pred[~pos]).sum()
  return total, B


@pytest.mark.parametrize("seed", range(3))
def test_mil_loss_matches_reference(seed):
  _, logits, _, mask, labels, _ = _case(seed)
  total, count = threec.mil_loss(*_j(logits, labels, mask))
  ref_total, ref_count = _ref_mil(logits, labels, mask)
  assert float(count) == ref_count == 4  # The 4-snippet video is skipped.
  np.testing.assert_allclose(float(total), ref_total, rtol=1e-5)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("multi", [False, True])
@pytest.mark.parametrize("form", ["paper", "public_code"])
def test_center_loss_matches_reference(seed, multi, form):
  feats, logits, centers, mask, labels, _ = _case(seed)
  total, count = threec.center_loss(*_j(feats, logits, labels, mask, centers),
                                    multi_label=multi, form=form)
  ref_total, ref_count = _ref_center(feats, logits, labels, mask, centers,
                                     multi, form)
  assert float(count) == ref_count == (4 if multi else 3)
  np.testing.assert_allclose(float(total), ref_total, rtol=1e-5)


@pytest.mark.parametrize("seed", range(3))
def test_counting_loss_matches_reference(seed):
  _, logits, _, mask, _, counts = _case(seed)
  total, count = threec.counting_loss(*_j(logits, counts, mask))
  ref_total, ref_count = _ref_count(logits, counts, mask)
  assert float(count) == ref_count
  np.testing.assert_allclose(float(total), ref_total, rtol=1e-5)


def test_public_code_center_form_drops_class_zero_and_weights_by_index():
  """One video per class, each alone in its item set: the public form is
  the paper's distance times the class index, over the item count twice."""
  feats, logits, centers, mask, _, _ = _case(0)
  labels = np.zeros((B, C))
  for b, c in enumerate([0, 1, 2, 3, 1]):
    labels[b, c] = 1
  paper = [threec.center_loss(*_j(feats[[b]], logits[[b]], labels[[b]],
                                  mask[[b]], centers))[0] for b in range(B)]
  total, count = threec.center_loss(*_j(feats, logits, labels, mask, centers),
                                    form="public_code")
  want = sum(float(p) * c for p, c in zip(paper, [0, 1, 2, 3, 1])) / B
  assert float(count) == B
  np.testing.assert_allclose(float(total), want, rtol=1e-5)
  with pytest.raises(ValueError, match="center loss form"):
    threec.center_loss(*_j(feats, logits, labels, mask, centers), form="x")


def test_predicted_count_of_a_constant_tcam_is_its_value():
  tcam = jnp.full((1, 8, 2), 3.0)
  np.testing.assert_allclose(
      threec.predicted_counts(tcam, jnp.ones((1, 8), bool)), [[3.0, 3.0]],
      rtol=1e-6)


def test_losses_ignore_padding():
  feats, logits, centers, mask, labels, counts = _case(4)
  pad = lambda x, v: np.concatenate(
      [x, np.full((B, 5) + x.shape[2:], v, x.dtype)], 1)
  f2, l2, m2 = pad(feats, 9.0), pad(logits, 30.0), pad(mask, False)
  for fn in (
      lambda f, l, m: threec.mil_loss(*_j(l, labels, m)),
      lambda f, l, m: threec.center_loss(*_j(f, l, labels, m, centers)),
      lambda f, l, m: threec.center_loss(*_j(f, l, labels, m, centers),
                                         multi_label=True),
      lambda f, l, m: threec.counting_loss(*_j(l, counts, m))):
    np.testing.assert_allclose(fn(feats, logits, mask), fn(f2, l2, m2),
                               rtol=1e-5)
