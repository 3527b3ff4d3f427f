"""ASL selection, classification loss and GCE against slow NumPy references
written from the public code, plus masking invariance."""

import jax.numpy as jnp
import numpy as np
import pytest

from wtal_jax.losses import asl

B, T, C, M = 4, 24, 5, 2
LENGTHS = np.array([24, 17, 9, 8])


def _case(seed):
  rng = np.random.default_rng(seed)
  cas = rng.normal(size=(B, T, C)) * 2
  act = rng.uniform(0.01, 0.99, size=(B, T, M))
  mask = np.arange(T)[None] < LENGTHS[:, None]
  labels = np.zeros((B, C))
  labels[0, [0, 2]] = labels[1, 2] = labels[2, 1] = labels[3, [1, 3]] = 1
  return cas, act, mask, labels


def _ref(cas, act, mask, labels, q=0.7):
  cls, gce_total = 0.0, 0.0
  for b in range(B):
    n = mask[b].sum()
    c, a = cas[b, :n], act[b, :n]
    e = np.exp(c - c.max(1, keepdims=True))
    combined = (e / e.sum(1, keepdims=True) + a.sum(1, keepdims=True)) / (1 + M)
    k = max(1, n // 8)
    top_idx = np.argsort(-combined, axis=0, kind="stable")[:k]  # (k, C)
    logits = np.array([c[top_idx[:, j], j].mean() for j in range(C)])
    logp = logits - np.log(np.exp(logits).sum())
    y = labels[b] / labels[b].sum()
    cls += -(y * logp).sum()
    target = np.zeros(n, bool)
    for j in np.flatnonzero(labels[b]):
      target[top_idx[:, j]] = True
    for m in range(M):
      pos = (1 - (a[:, m] + 1e-7) ** q) / q
      neg = (1 - (1 - a[:, m] + 1e-7) ** q) / q
      gce_total += (pos[target].sum() / (target.sum() + 1e-7)
                    + neg[~target].sum() / ((~target).sum() + 1e-7))
  return cls, gce_total


def _j(cas, act, mask, labels):
  return (jnp.asarray(cas, jnp.float32), jnp.asarray(act, jnp.float32),
          jnp.asarray(mask), jnp.asarray(labels, jnp.float32))


def _losses(cas, act, mask, labels):
  cas, act, mask, labels = _j(cas, act, mask, labels)
  sel = asl.selection(cas, act, mask)
  return (asl.classification_loss(cas, sel, labels),
          asl.action_selection_loss(act, sel, labels, mask))


@pytest.mark.parametrize("seed", range(4))
def test_losses_match_reference(seed):
  case = _case(seed)
  (cls, n), (gce, n2) = _losses(*case)
  ref_cls, ref_gce = _ref(*case)
  assert float(n) == float(n2) == B
  np.testing.assert_allclose(float(cls), ref_cls, rtol=1e-5)
  np.testing.assert_allclose(float(gce), ref_gce, rtol=1e-5)


def test_selection_picks_k_per_class_on_real_snippets():
  cas, act, mask, _ = _case(1)
  sel = np.asarray(asl.selection(*_j(cas, act, mask, np.zeros((B, C)))[:3]))
  for b, n in enumerate(LENGTHS):
    assert np.all(sel[b].sum(0) == max(1, n // 8))
    assert not sel[b, n:].any()


def test_gce_limits():
  # q -> 0 approaches cross-entropy; a perfect prediction costs ~0.
  a = jnp.asarray([[0.3, 0.8]])
  target = jnp.asarray([[True, False]])
  mask = jnp.ones((1, 2), bool)
  got = float(asl.gce(a, target, mask, q=1e-4)[0])
  np.testing.assert_allclose(got, -np.log(0.3) - np.log(0.2), rtol=1e-3)
  perfect = asl.gce(jnp.asarray([[1.0, 0.0]]), target, mask, q=0.7)
  assert float(perfect[0]) < 1e-5


def test_losses_ignore_padding():
  cas, act, mask, labels = _case(5)
  pad = lambda x, v: np.concatenate(
      [x, np.full((B, 6) + x.shape[2:], v, x.dtype)], 1)
  a = _losses(cas, act, mask, labels)
  b = _losses(pad(cas, 40.0), pad(act, 0.99), pad(mask, False), labels)
  np.testing.assert_allclose(a, b, rtol=1e-5)
