"""UM selection and losses against slow NumPy references written from the
public code's formulas, plus masking invariance."""

import jax.numpy as jnp
import numpy as np
import pytest

from wtal_jax.losses import um

B, T, C, F = 4, 20, 5, 6
LENGTHS = np.array([20, 13, 9, 4])


def _case(seed):
  rng = np.random.default_rng(seed)
  feats = np.abs(rng.normal(size=(B, T, F))) * rng.uniform(0.1, 3, (B, T, 1))
  cas = rng.normal(size=(B, T, C)) * 2
  mask = np.arange(T)[None] < LENGTHS[:, None]
  keep = rng.random((B, T)) > 0.3
  labels = np.zeros((B, C))
  labels[0, [0, 2]] = labels[1, 2] = labels[2, 1] = labels[3, [1, 3, 4]] = 1
  return feats, cas, mask, keep, labels


def _softmax(x):
  e = np.exp(x - x.max())
  return e / e.sum()


def _ref_selection(feats, cas, mask, keep, r_act=9.0, r_bkg=4.0):
  out = {k: [] for k in ("score_act", "score_bkg", "feat_act", "feat_bkg",
                         "norm_act", "norm_bkg")}
  for b in range(B):
    n = mask[b].sum()
    f, c = feats[b, :n], cas[b, :n]
    k_act, k_bkg = max(1, int(n // r_act)), max(1, int(n // r_bkg))
    mag = np.linalg.norm(f, axis=1)
    drop = keep[b, :n].astype(float)
    idx_act = np.argsort(-(mag * drop), kind="stable")[:k_act]
    idx_bkg = np.argsort(-((mag.max() - mag) * drop), kind="stable")[:k_bkg]
    top = np.sort(c, axis=0)[::-1][:k_act].mean(0)
    out["score_act"].append(_softmax(top))
    out["score_bkg"].append(_softmax(c[idx_bkg].mean(0)))
    out["feat_act"].append(f[idx_act].mean(0))
    out["feat_bkg"].append(f[idx_bkg].mean(0))
    out["norm_act"].append(mag[idx_act].mean())
    out["norm_bkg"].append(mag[idx_bkg].mean())
  return {k: np.array(v) for k, v in out.items()}


def _sel(feats, cas, mask, keep):
  return um.magnitude_selection(jnp.asarray(feats, jnp.float32),
                                jnp.asarray(cas, jnp.float32),
                                jnp.asarray(mask), jnp.asarray(keep))


@pytest.mark.parametrize("seed", range(3))
def test_selection_matches_reference(seed):
  feats, cas, mask, keep, _ = _case(seed)
  got = _sel(feats, cas, mask, keep)
  ref = _ref_selection(feats, cas, mask, keep)
  for name in ref:
    key = [k for k in got if k.startswith(name)][0]
    np.testing.assert_allclose(got[key], ref[name], rtol=1e-5, atol=1e-6,
                               err_msg=name)


def _bce(p, y):
  return -(y * np.maximum(np.log(p), -100)
           + (1 - y) * np.maximum(np.log(1 - p), -100))


@pytest.mark.parametrize("seed", range(3))
def test_losses_match_reference(seed):
  feats, cas, mask, keep, labels = _case(seed)
  ref = _ref_selection(feats, cas, mask, keep)
  margin = 3.0
  ref_cls = sum(_bce(ref["score_act"][b], labels[b] / labels[b].sum()).mean()
                for b in range(B))
  ref_be = sum(_bce(ref["score_bkg"][b], np.full(C, 1 / C)).mean()
               for b in range(B))
  ref_um = sum((max(0.0, margin - np.linalg.norm(ref["feat_act"][b]))
                + np.linalg.norm(ref["feat_bkg"][b])) ** 2 for b in range(B))
  got = _sel(feats, cas, mask, keep)
  cls, n = um.classification_loss(got["score_act_BxC"], jnp.asarray(labels))
  be, _ = um.background_entropy_loss(got["score_bkg_BxC"])
  unc, _ = um.uncertainty_loss(got["feat_act_BxF"], got["feat_bkg_BxF"],
                               margin)
  assert float(n) == B
  np.testing.assert_allclose(float(cls), ref_cls, rtol=1e-5)
  np.testing.assert_allclose(float(be), ref_be, rtol=1e-5)
  np.testing.assert_allclose(float(unc), ref_um, rtol=1e-5)


def test_uncertainty_loss_margin_saturates():
  act = jnp.asarray([[200.0, 0.0], [3.0, 4.0]])
  bkg = jnp.zeros((2, 2))
  total, _ = um.uncertainty_loss(act, bkg, margin=100.0)
  np.testing.assert_allclose(float(total), (100.0 - 5.0) ** 2, rtol=1e-6)


def test_minmax_normalize_matches_reference():
  rng = np.random.default_rng(4)
  x = rng.normal(size=(B, T, C))
  mask = np.arange(T)[None] < LENGTHS[:, None]
  got = um.minmax_normalize(jnp.asarray(x, jnp.float32), jnp.asarray(mask))
  for b, n in enumerate(LENGTHS):
    hi = np.maximum(x[b, :n].max(0), 0)
    lo = np.maximum(x[b, :n].min(0), 0)
    d = np.where(hi - lo <= 0, 1, hi - lo)
    ref = np.clip((x[b, :n] - lo) / d, 0, 1)
    np.testing.assert_allclose(got[b, :n], ref, rtol=1e-5, atol=1e-6)
  lo, hi = rng.uniform(0, 1, B), rng.uniform(1, 2, B)
  got = um.minmax_normalize(jnp.asarray(x, jnp.float32), jnp.asarray(mask),
                            jnp.asarray(lo), jnp.asarray(hi))
  np.testing.assert_allclose(
      got, np.clip((x - lo[:, None, None]) / (hi - lo)[:, None, None], 0, 1),
      rtol=1e-5, atol=1e-6)


def test_selection_ignores_padding():
  feats, cas, mask, keep, _ = _case(7)
  pad = lambda x, v: np.concatenate(
      [x, np.full((B, 5) + x.shape[2:], v, x.dtype)], 1)
  a = _sel(feats, cas, mask, keep)
  b = _sel(pad(feats, 1e3), pad(cas, 50.0), pad(mask, False), pad(keep, True))
  for k in a:
    if k != "magnitude_BxT":
      np.testing.assert_allclose(a[k], b[k], rtol=1e-5, err_msg=k)
