"""CAAV losses and the masked ops under them, against slow NumPy references
written from the papers' formulas, plus masking invariance."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wtal_jax import ops
from wtal_jax.losses import caav, casl

B, T, C, F = 4, 12, 5, 7
LENGTHS = np.array([12, 9, 5, 1])


def _case(seed):
  rng = np.random.default_rng(seed)
  logits = rng.normal(size=(B, T, C + 1)) * 2
  p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
  fg = 1.0 - p[..., 0]
  labels = np.zeros((B, C))
  labels[0, [0, 2]] = labels[1, 2] = labels[2, 1] = labels[3, [1, 4]] = 1
  mask = np.arange(T)[None] < LENGTHS[:, None]
  feats = rng.normal(size=(B, T, F))
  return p, fg, labels, mask, feats


def _j(*xs):
  return [jnp.asarray(x, jnp.float32) if x.dtype != bool else jnp.asarray(x)
          for x in xs]


def _ref_smooth(x, n, kernel):
  """Window average over real snippets, renormalised at the edges."""
  half = len(kernel) // 2
  out = np.zeros_like(x[:n])
  for l in range(n):
    num, den = 0.0, 0.0
    for i, w in enumerate(kernel):
      j = l + i - half
      if 0 <= j < n:
        num = num + w * x[j]
        den += w
    out[l] = num / den
  return out


@pytest.mark.parametrize("seed", range(3))
def test_masked_topk_mean_and_softmax_match_reference(seed):
  p, _, _, mask, _ = _case(seed)
  k = np.array([max(1, math.ceil(n / 8)) for n in LENGTHS])
  got = ops.masked_topk_mean(*_j(p, mask), jnp.asarray(k))
  for b, n in enumerate(LENGTHS):
    ref = np.sort(p[b, :n], axis=0)[::-1][:k[b]].mean(0)
    np.testing.assert_allclose(got[b], ref, rtol=1e-5)
  sm = ops.masked_softmax(jnp.asarray(p[..., 0]), jnp.asarray(mask), axis=1)
  for b, n in enumerate(LENGTHS):
    e = np.exp(p[b, :n, 0])
    np.testing.assert_allclose(sm[b, :n], e / e.sum(), rtol=1e-5)
    assert np.all(np.asarray(sm[b, n:]) == 0)


def test_masked_temporal_smooth_matches_reference_and_keeps_constants():
  p, _, _, mask, _ = _case(1)
  kernel = ops.gaussian_kernel(5, 1.0)
  got = ops.masked_temporal_smooth(*_j(p, mask), kernel)
  for b, n in enumerate(LENGTHS):
    np.testing.assert_allclose(got[b, :n], _ref_smooth(p[b], n, kernel),
                               rtol=1e-5)
  const = ops.masked_temporal_smooth(jnp.full((B, T, 1), 0.3),
                                     jnp.asarray(mask), kernel)
  np.testing.assert_allclose(np.where(mask, const[..., 0], 0.3), 0.3, rtol=1e-6)


@pytest.mark.parametrize("background", [True, False])
@pytest.mark.parametrize("seed", range(3))
def test_mil_loss_matches_reference(seed, background):
  p, _, labels, mask, _ = _case(seed)
  total, count = caav.mil_loss(*_j(p, labels, mask), background=background)
  ref = 0.0
  for b, n in enumerate(LENGTHS):
    k = math.ceil(n / 8)
    first = 0 if background else 1
    s = np.sort(p[b, :n, first:], axis=0)[::-1][:k].mean(0)
    q = s / s.sum()
    y = np.concatenate([[1.0], labels[b]]) if background else labels[b]
    ref += -(y / y.sum() * np.log(q + 1e-8)).sum()
  assert float(count) == B
  np.testing.assert_allclose(float(total), ref, rtol=1e-5)


def _openmax(mu, p_ac):
  return jnp.concatenate([1.0 - mu[..., None], mu[..., None] * p_ac], -1)


def test_mil_with_background_gives_mu_a_gradient_by_hand():
  """One video, two snippets, two classes, label [1, 0], k = 1.

  p_ac = [1, 0] on both snippets, so the open-max scores are
  [1 - mu_t, mu_t, 0]; top-1 gives s = [1 - min mu, max mu, 0]. With
  mu = (0.2, 0.6): s = [0.8, 0.6, 0], q = s / 1.4, target [1/2, 1/2, 0] and
  L = -(log(0.8/1.4) + log(0.6/1.4)) / 2. Only the background score depends
  on mu_1 (dL/dmu_1 = 1/(2*0.8) - 1/1.4) and only the action score on mu_2
  (dL/dmu_2 = -1/(2*0.6) + 1/1.4).
  """
  p_ac = jnp.asarray([[[1.0, 0.0], [1.0, 0.0]]])
  labels, mask = jnp.asarray([[1.0, 0.0]]), jnp.ones((1, 2), bool)
  mu = jnp.asarray([[0.2, 0.6]])
  loss = lambda mu, bg: caav.mil_loss(_openmax(mu, p_ac), labels, mask,
                                      topk_divisor=8.0, background=bg)[0]
  expected = -(math.log(0.8 / 1.4) + math.log(0.6 / 1.4)) / 2
  np.testing.assert_allclose(float(loss(mu, True)), expected, rtol=1e-5)
  grad = jax.grad(loss)(mu, True)
  np.testing.assert_allclose(
      np.asarray(grad[0]), [1 / 1.6 - 1 / 1.4, -1 / 1.2 + 1 / 1.4], rtol=1e-4)
  # The ablation normalises over the actions only: mu cancels out.
  np.testing.assert_allclose(np.asarray(jax.grad(loss)(mu, False)), 0.0,
                             atol=1e-6)


@pytest.mark.parametrize("seed", range(3))
def test_continuity_loss_matches_reference(seed):
  p, fg, labels, mask, _ = _case(seed)
  total, _ = caav.continuity_loss(*_j(p, fg, labels, mask), window=5, sigma=1.0)
  g = np.exp(-0.5 * np.arange(-2, 3) ** 2)
  ref = 0.0
  for b, n in enumerate(LENGTHS):
    mu = fg[b, :n]
    mu_ag = _ref_smooth(mu, n, g)
    term = np.abs(mu - mu_ag).mean()
    classes = np.flatnonzero(labels[b])
    term += np.mean([np.abs(mu - _ref_smooth(p[b, :, c + 1], n, g)).mean()
                     for c in classes])
    ref += term
  np.testing.assert_allclose(float(total), ref, rtol=1e-5)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("threshold", [0.2, 0.5])
def test_pseudo_localization_loss_matches_reference(seed, threshold):
  p, _, _, mask, _ = _case(seed)
  total, _ = caav.pseudo_localization_loss(*_j(p, mask), window=5,
                                           threshold=threshold)
  ref = 0.0
  for b, n in enumerate(LENGTHS):
    q = _ref_smooth(p[b], n, np.ones(5))
    loss = 0.0
    for l in range(n):
      if q[l].max() >= threshold:
        loss -= np.log(p[b, l, q[l].argmax()] + 1e-8)
    ref += loss / n
  np.testing.assert_allclose(float(total), ref, rtol=1e-5, atol=1e-6)


def _ref_casl(feats, logits, labels, mask, margin=0.5):
  # A zero feature (e.g. the low-attention feature of a 1-snippet video) has
  # zero cosine similarity to anything.
  cos_d = lambda a, b: 1 - a @ b / max(np.linalg.norm(a) * np.linalg.norm(b),
                                       1e-8)
  total, count = 0.0, 0
  for i in range(0, B, 2):
    j = i + 1
    shared = labels[i] * labels[j]
    if shared.sum() == 0:
      continue
    hl = {}
    for v in (i, j):
      n = mask[v].sum()
      for c in range(C):
        a = np.exp(logits[v, :n, c]) / np.exp(logits[v, :n, c]).sum()
        hl[v, c] = (feats[v, :n].T @ a,
                    feats[v, :n].T @ (1 - a) / max(n - 1, 1))
    loss = 0.0
    for c in np.flatnonzero(shared):
      (h1, l1), (h2, l2) = hl[i, c], hl[j, c]
      d = cos_d(h1, h2)
      loss += 0.5 * (max(0, d - cos_d(h1, l2) + margin)
                     + max(0, d - cos_d(h2, l1) + margin))
    total += loss / shared.sum()
    count += 1
  return total, count


@pytest.mark.parametrize("seed", range(4))
def test_casl_matches_reference(seed):
  p, _, labels, mask, feats = _case(seed)
  labels = labels.copy()
  labels[1] = labels[0]  # Pair (0, 1) shares classes; (2, 3) shares class 1.
  logits = np.log(p[..., 1:])
  total, count = casl.casl(*_j(feats, logits, labels, mask))
  ref_total, ref_count = _ref_casl(feats, logits, labels, mask)
  assert float(count) == ref_count == 2
  np.testing.assert_allclose(float(total), ref_total, rtol=1e-4, atol=1e-6)


def test_casl_ignores_pairs_without_a_shared_class():
  p, _, labels, mask, feats = _case(0)
  labels = np.eye(C)[[0, 1, 2, 3]]
  total, count = casl.casl(*_j(feats, np.log(p[..., 1:]), labels, mask))
  assert float(count) == 0 and float(total) == 0


def test_losses_ignore_padding():
  p, fg, labels, mask, feats = _case(5)
  pad = lambda x, v: np.concatenate(
      [x, np.full((B, 6) + x.shape[2:], v, x.dtype)], 1)
  p2, fg2, feats2 = pad(p, 0.9), pad(fg, 0.9), pad(feats, 50.0)
  mask2 = pad(mask, False)
  fns = [
      lambda p, fg, f, m: caav.mil_loss(*_j(p, labels, m)),
      lambda p, fg, f, m: caav.continuity_loss(*_j(p, fg, labels, m)),
      lambda p, fg, f, m: caav.pseudo_localization_loss(*_j(p, m)),
      lambda p, fg, f, m: casl.casl(*_j(f, np.log(p[..., 1:]), labels, m)),
  ]
  for fn in fns:
    np.testing.assert_allclose(fn(p, fg, feats, mask), fn(p2, fg2, feats2, mask2),
                               rtol=1e-5)
