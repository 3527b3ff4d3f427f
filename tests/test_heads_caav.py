"""CAAV's open-max head: its outputs and the class activation it hands to the
post-processing, against a NumPy reference written from CAAV Eq. 5."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wtal_jax.evaluation.wtalc import wtalc_proposals
from wtal_jax.models.heads.caav import CAAVHead, caav_predict
from wtal_jax.models.fusion.base import FusionOutput

B, T, F, C = 3, 10, 6, 4
LENGTHS = np.array([10, 7, 3])


def _run(classifier, scale=1.0, seed=0):
  rng = np.random.default_rng(seed)
  x = rng.normal(size=(B, T, F)).astype(np.float32)
  mask = np.arange(T)[None] < LENGTHS[:, None]
  head = CAAVHead(num_classes=C, classifier=classifier)
  fused = FusionOutput(fused_BxTxF=jnp.asarray(x), per_modality=())
  params = head.init(jax.random.PRNGKey(seed), fused, mask, train=False)
  params = jax.tree_util.tree_map(lambda w: w * scale, params)
  out = head.apply(params, fused, mask, train=False)
  return x, mask, params["params"], out


def _ref_openmax(x, p):
  """p = [1 - mu, mu * softmax(h)] (CAAV Eq. 5) in float64."""
  h = x @ p["action_fc"]["kernel"] + p["action_fc"]["bias"]
  z = x @ p["foreground_fc"]["kernel"][:, 0] + p["foreground_fc"]["bias"][0]
  mu = 1.0 / (1.0 + np.exp(-z))
  e = np.exp(h - h.max(-1, keepdims=True))
  p_ac = e / e.sum(-1, keepdims=True)
  return np.concatenate([(1 - mu)[..., None], mu[..., None] * p_ac], -1)


def _np(tree):
  return jax.tree_util.tree_map(lambda a: np.asarray(a, np.float64), tree)


@pytest.mark.parametrize("seed", [0, 1])
def test_openmax_outputs_and_log_cas_match_reference(seed):
  x, mask, params, out = _run("openmax", seed=seed)
  ref = _ref_openmax(x.astype(np.float64), _np(params))
  np.testing.assert_allclose(out["probs_BxTxC1"], ref, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(out["log_probs_BxTxC1"], np.log(ref), rtol=1e-5,
                             atol=1e-5)
  loc = caav_predict(out, mask, {})  # The default: cas = "log_prob".
  np.testing.assert_allclose(loc.cas_BxTxC, np.log(ref[..., 1:]), rtol=1e-5,
                             atol=1e-5)
  prob = caav_predict(out, mask, {"cas": "prob"})
  np.testing.assert_allclose(prob.cas_BxTxC, ref[..., 1:], rtol=1e-5,
                             atol=1e-6)
  # Only the CAS changes with the scale.
  np.testing.assert_array_equal(loc.video_scores_BxC, prob.video_scores_BxC)
  np.testing.assert_array_equal(loc.attention_BxT, prob.attention_BxT)


def test_softmax_classifier_log_cas_is_its_log_softmax():
  x, mask, params, out = _run("softmax")
  p = _np(params)["classifier_fc"]
  logits = x.astype(np.float64) @ p["kernel"] + p["bias"]
  log_softmax = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
  np.testing.assert_allclose(caav_predict(out, mask, {}).cas_BxTxC,
                             log_softmax[..., 1:], rtol=1e-5, atol=1e-5)


def test_log_cas_stays_finite_where_probabilities_underflow():
  # Weights x 400: mu and the softmax saturate, float32 probabilities reach
  # 0 and their log would be -inf; the log-probabilities from the logits
  # stay finite and keep the order of the scores.
  x, mask, params, out = _run("openmax", scale=400.0)
  assert np.any(np.asarray(out["probs_BxTxC1"])[..., 1:] == 0.0)
  cas = np.asarray(caav_predict(out, mask, {}).cas_BxTxC)
  assert np.all(np.isfinite(cas))
  # The reference in log space, in float64: log mu + log softmax(h).
  p = _np(params)
  x64 = x.astype(np.float64)
  h = x64 @ p["action_fc"]["kernel"] + p["action_fc"]["bias"]
  z = x64 @ p["foreground_fc"]["kernel"][:, 0] + p["foreground_fc"]["bias"][0]
  log_ref = (-np.logaddexp(0.0, -z)[..., None] + h
             - np.logaddexp.reduce(h, axis=-1, keepdims=True))
  # Logits of magnitude ~1e3 in float32 carry absolute errors of ~1e-4.
  np.testing.assert_allclose(cas, log_ref, rtol=1e-5, atol=1e-2)


def test_log_cas_keeps_instances_that_the_probability_scale_merges_away():
  # One confident instance and two weaker ones of the same class: on the
  # probability scale the half-range threshold keeps only the confident one;
  # on the log scale (a monotone map, so the same order of snippets) all
  # three are segments.
  p_TxC = np.full((30, 2), 1e-3)
  p_TxC[2:6, 0] = 0.9
  p_TxC[12:16, 0] = 0.2
  p_TxC[22:26, 0] = 0.15
  scores = np.array([0.9, 0.1])
  prob, _ = wtalc_proposals(p_TxC, None, scores, 1.0)
  log, _ = wtalc_proposals(np.log(p_TxC), None, scores, 1.0)
  assert sorted(zip(prob.t_start, prob.t_end)) == [(2.0, 6.0)]
  assert sorted(zip(log.t_start, log.t_end)) == [(2.0, 6.0), (12.0, 16.0),
                                                  (22.0, 26.0)]


def test_unknown_cas_scale_is_refused():
  _, mask, _, out = _run("openmax")
  with pytest.raises(ValueError, match="model.head.cas"):
    caav_predict(out, mask, {"cas": "logit"})
