"""CO2-Net losses against slow NumPy references written from the paper and
its public code: both MILs, mutual learning (with its stop-gradient),
opposite and norm losses, and the head's CASL on suppressed logits."""

import itertools

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from wtal_jax.losses import co2net
from wtal_jax.models.heads import co2net as co2net_head
from wtal_jax.recipes import co2net as co2net_recipe

B, T, C, F = 4, 13, 5, 6
LENGTHS = np.array([13, 10, 7, 2])


def _case(seed, m=2):
  rng = np.random.default_rng(seed)
  cas = rng.normal(size=(B, T, C + 1)) * 2
  atts = rng.random((B, T, m))
  labels = np.zeros((B, C))
  labels[0, [0, 2]] = labels[1, [2, 3]] = labels[2, 1] = labels[3, [1, 4]] = 1
  mask = np.arange(T)[None] < LENGTHS[:, None]
  feats = rng.normal(size=(B, T, F))
  return cas, atts, labels, mask, feats


def _j(*xs):
  return [jnp.asarray(x) if x.dtype == bool else jnp.asarray(x, jnp.float32)
          for x in xs]


def _softmax(x, axis=-1):
  e = np.exp(x - x.max(axis, keepdims=True))
  return e / e.sum(axis, keepdims=True)


def _ref_topk_ce(s, y, bg, divisor):
  n = s.shape[0]
  k = max(1, int(n // divisor))
  v = np.sort(s, axis=0)[::-1][:k].mean(0)
  target = np.append(y, bg) / (y.sum() + bg)
  return -np.sum(target * np.log(_softmax(v)))


def _ref_supp(s, a):
  m = s.min(1, keepdims=True)
  return a[:, None] * (s - m) + m


@pytest.mark.parametrize("seed,divisor", [(0, 7.0), (1, 3.0), (2, 2.0)])
def test_mil_losses_match_reference(seed, divisor):
  cas, atts, labels, mask, _ = _case(seed)
  att = atts.mean(-1)
  got = co2net.mil_losses(*_j(cas, att, labels, mask), topk_divisor=divisor)
  ref_orig = ref_supp = 0.0
  for b in range(B):
    n = LENGTHS[b]
    ref_orig += _ref_topk_ce(cas[b, :n], labels[b], 1.0, divisor)
    ref_supp += _ref_topk_ce(_ref_supp(cas[b, :n], att[b, :n]), labels[b],
                             0.0, divisor)
  np.testing.assert_allclose(float(got["mil_orig"][0]), ref_orig, rtol=1e-5)
  np.testing.assert_allclose(float(got["mil_supp"][0]), ref_supp, rtol=1e-5)
  assert float(got["mil_orig"][1]) == float(got["mil_supp"][1]) == B


@pytest.mark.parametrize("m", [2, 3])
def test_mutual_loss_value_and_stop_gradient(m):
  _, atts, _, mask, _ = _case(3, m)
  total, count = co2net.mutual_loss(*_j(atts, mask))
  pairs = list(itertools.permutations(range(m), 2))
  ref, ref_grad = 0.0, np.zeros_like(atts)
  for b in range(B):
    n = LENGTHS[b]
    a = atts[b, :n]
    ref += np.mean([np.mean((a[:, i] - a[:, j]) ** 2) for i, j in pairs])
    # Only the first argument of each MSE receives a gradient.
    for i, j in pairs:
      ref_grad[b, :n, i] += 2 * (a[:, i] - a[:, j]) / n / len(pairs)
  assert float(count) == B
  np.testing.assert_allclose(float(total), ref, rtol=1e-5)
  grad = jax.grad(lambda x: co2net.mutual_loss(x, jnp.asarray(mask))[0])(
      jnp.asarray(atts, jnp.float32))
  np.testing.assert_allclose(np.asarray(grad), ref_grad, rtol=1e-4, atol=1e-6)


def test_mutual_loss_with_one_stream_is_empty():
  _, atts, _, mask, _ = _case(4, 1)
  total, count = co2net.mutual_loss(*_j(atts, mask))
  assert float(total) == 0 and float(count) == 0


@pytest.mark.parametrize("seed", range(2))
def test_opposite_and_norm_losses_match_reference(seed):
  cas, atts, _, mask, _ = _case(seed)
  att = atts.mean(-1)
  oppo, _ = co2net.opposite_loss(*_j(atts, att, cas, mask))
  norm, _ = co2net.norm_loss(*_j(atts, att, mask))
  ref_oppo = ref_norm = 0.0
  for b in range(B):
    n = LENGTHS[b]
    bg = _softmax(cas[b, :n])[:, -1]
    av, af, a = atts[b, :n, 0], atts[b, :n, 1], att[b, :n]
    ref_oppo += (np.abs(av + bg - 1).mean() + np.abs(af + bg - 1).mean()
                 + np.abs(a + bg - 1).mean()) / 3
    ref_norm += (av.mean() + af.mean() + a.mean()) / 3
  np.testing.assert_allclose(float(oppo), ref_oppo, rtol=1e-5)
  np.testing.assert_allclose(float(norm), ref_norm, rtol=1e-5)


def _ref_casl(feats, logits, labels, margin=0.5):
  """W-TALC's CASL over pairs (0, 1), (2, 3) on the real snippets."""
  cos_d = lambda u, v: 1 - u @ v / max(np.linalg.norm(u) * np.linalg.norm(v),
                                       1e-8)
  total, count = 0.0, 0
  for i in range(0, B, 2):
    shared = labels[i] * labels[i + 1]
    if not shared.any():
      continue
    hl = {}
    for v in (i, i + 1):
      n = LENGTHS[v]
      att = _softmax(logits[v, :n], axis=0)
      hl[v] = (feats[v, :n].T @ att, feats[v, :n].T @ (1 - att) / max(n - 1, 1))
    loss = 0.0
    for c in np.flatnonzero(shared):
      h1, l1, h2, l2 = hl[i][0][:, c], hl[i][1][:, c], hl[i + 1][0][:, c], \
          hl[i + 1][1][:, c]
      d = cos_d(h1, h2)
      loss += 0.5 * (max(0, d - cos_d(h1, l2) + margin)
                     + max(0, d - cos_d(h2, l1) + margin))
    total += loss / shared.sum()
    count += 1
  return total, count


def test_head_loss_terms_match_references():
  cas, atts, labels, mask, feats = _case(5)
  att = atts.mean(-1)
  outputs = dict(zip(("cas_BxTxC1", "attentions_BxTxM", "attention_BxT",
                      "features_BxTxF"), _j(cas, atts, att, feats)))
  batch = dict(zip(("labels", "mask"), _j(labels, mask)))
  cfg = co2net_recipe.head()
  terms = co2net_head.co2net_loss(outputs, batch, cfg)
  assert set(terms) == set(cfg.loss_weights)
  supp = np.stack([_ref_supp(cas[b], att[b]) for b in range(B)])
  ref_total, ref_count = _ref_casl(feats, supp[..., :-1], labels)
  assert float(terms["casl"][1]) == ref_count == 2
  np.testing.assert_allclose(float(terms["casl"][0]), ref_total, rtol=1e-4)


def test_losses_ignore_padding():
  cas, atts, labels, mask, feats = _case(6)
  pad = lambda x, v: np.concatenate(
      [x, np.full((B, 4) + x.shape[2:], v, x.dtype)], 1)
  cfg = ml_collections.ConfigDict(dict(co2net_recipe.head()))

  def run(c, a, f, m):
    out = dict(zip(("cas_BxTxC1", "attentions_BxTxM", "attention_BxT",
                    "features_BxTxF"), _j(c, a, a.mean(-1), f)))
    return co2net_head.co2net_loss(out, dict(zip(("labels", "mask"),
                                                 _j(labels, m))), cfg)

  a = run(cas, atts, feats, mask)
  b = run(pad(cas, 30.0), pad(atts, 1.0), pad(feats, 9.0), pad(mask, False))
  for name in a:
    np.testing.assert_allclose(a[name], b[name], rtol=1e-5, err_msg=name)


def test_head_casl_scores_the_leading_pairs_per_shared_class():
  # CO2-Net's rule: only the sampler's first `casl_pairs` pairs count; the
  # hinge terms are summed over their shared classes and divided by the
  # number of shared classes (a pair sharing two classes weighs twice).
  rng = np.random.default_rng(7)
  b, t, c, f = 6, 9, 4, 5
  cas = rng.normal(size=(b, t, c + 1)) * 2
  atts = rng.random((b, t, 2))
  feats = rng.normal(size=(b, t, f))
  labels = np.zeros((b, c))
  labels[0, [0, 1]] = labels[1, [0, 1, 3]] = 1  # Pair 0 shares 2 classes.
  labels[2, 2] = labels[3, [2, 3]] = 1  # Pair 1 shares 1.
  labels[4, 1] = labels[5, 1] = 1  # Pair 2: beyond casl_pairs = 2.
  mask = np.ones((b, t), bool)
  outputs = dict(zip(("cas_BxTxC1", "attentions_BxTxM", "attention_BxT",
                      "features_BxTxF"), _j(cas, atts, atts.mean(-1), feats)))
  cfg = co2net_recipe.head()
  cfg.casl_pairs = 2
  supp = np.stack([_ref_supp(cas[i], atts[i].mean(-1)) for i in range(b)])
  per_class = _ref_casl_terms(feats, supp[..., :-1], labels)
  batch = dict(zip(("labels", "mask"), _j(labels, mask)))
  total, count = co2net_head.co2net_loss(outputs, batch, cfg)["casl"]
  assert float(count) == 3
  np.testing.assert_allclose(
      float(total), sum(per_class[0].values()) + sum(per_class[1].values()),
      rtol=1e-5)
  # On a device holding only global slots 4 and 5, nothing counts.
  local = {k: v[4:] for k, v in outputs.items()}
  batch = dict(zip(("labels", "mask"), _j(labels[4:], mask[4:])))
  batch["slot"] = jnp.asarray([4, 5])
  total, count = co2net_head.co2net_loss(local, batch, cfg)["casl"]
  assert float(count) == 0 and float(total) == 0
  # casl_pairs = 0 with per-pair averaging is W-TALC's rule over all pairs.
  cfg.update(casl_pairs=0, casl_normalize="pairs")
  batch = dict(zip(("labels", "mask"), _j(labels, mask)))
  total, count = co2net_head.co2net_loss(outputs, batch, cfg)["casl"]
  assert float(count) == 3
  np.testing.assert_allclose(
      float(total), sum(np.mean(list(p.values())) for p in per_class),
      rtol=1e-5)


def _ref_casl_terms(feats, logits, labels, margin=0.5):
  """Per pair, ``{class: hinge}`` over the shared classes (full sequences)."""
  cos_d = lambda u, v: 1 - u @ v / (np.linalg.norm(u) * np.linalg.norm(v))
  out = []
  for i in range(0, len(feats), 2):
    hl = []
    for v in (i, i + 1):
      att = _softmax(logits[v], axis=0)
      hl.append((feats[v].T @ att, feats[v].T @ (1 - att) / (len(att) - 1)))
    (h1, l1), (h2, l2) = hl
    out.append({
        c: 0.5 * (max(0, cos_d(h1[:, c], h2[:, c])
                      - cos_d(h1[:, c], l2[:, c]) + margin)
                  + max(0, cos_d(h1[:, c], h2[:, c])
                        - cos_d(h2[:, c], l1[:, c]) + margin))
        for c in np.flatnonzero(labels[i] * labels[i + 1])})
  return out
