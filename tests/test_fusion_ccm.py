"""The CCM fusion and the masked temporal layers under it: shapes, padding
invariance, a plain-NumPy reference, and dropout only in training."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from wtal_jax.models.fusion import FUSIONS
from wtal_jax.models.masked_conv import masked_avg_pool

B, T, DM, DN = 3, 9, 6, 4
LENGTHS = np.array([9, 6, 2])


def _inputs(seed=0):
  rng = np.random.default_rng(seed)
  xs = (jnp.asarray(rng.normal(size=(B, T, DM)), jnp.float32),
        jnp.asarray(rng.normal(size=(B, T, DN)), jnp.float32))
  return xs, jnp.asarray(np.arange(T)[None] < LENGTHS[:, None])


def _module(embed_dim=0):
  cfg = ml_collections.ConfigDict(dict(kind="ccm", embed_dim=embed_dim))
  return FUSIONS.get("ccm").from_config(cfg)


@pytest.mark.parametrize("embed_dim", [0, 5])
def test_shapes_and_padding_invariance(embed_dim):
  module = _module(embed_dim)
  xs, mask = _inputs()
  variables = module.init(jax.random.PRNGKey(0), xs, mask, train=False)
  out = module.apply(variables, xs, mask, train=False)
  widths = (embed_dim or DM, embed_dim or DN)
  assert [p.shape for p in out.per_modality] == [(B, T, w) for w in widths]
  np.testing.assert_allclose(out.fused_BxTxF,
                             jnp.concatenate(out.per_modality, -1))
  pad = 5
  xs_p = tuple(jnp.concatenate([x, 1e3 * jnp.ones((B, pad, x.shape[-1]))], 1)
               for x in xs)
  mask_p = jnp.concatenate([mask, jnp.zeros((B, pad), bool)], 1)
  out_p = module.apply(variables, xs_p, mask_p, train=False)
  real = np.asarray(mask)[..., None]
  np.testing.assert_allclose(np.where(real, out_p.fused_BxTxF[:, :T], 0),
                             np.where(real, out.fused_BxTxF, 0),
                             rtol=1e-5, atol=1e-6)
  assert np.all(np.isfinite(out_p.fused_BxTxF))


def _lrelu(x, slope=0.2):
  return np.where(x >= 0, x, slope * x)


def _ref_direction(p, main, aux):
  """One CCM direction on one video's real snippets, by loops."""
  n = main.shape[0]
  g = _lrelu(main.mean(0) @ p["global_fc"]["kernel"] + p["global_fc"]["bias"])
  kernel, bias = p["local_conv"]["conv"]["kernel"], p["local_conv"]["conv"][
      "bias"]
  local = np.zeros((n, main.shape[1]))
  for t in range(n):
    acc = bias.copy()
    for i in range(kernel.shape[0]):
      s = t + i - kernel.shape[0] // 2
      if 0 <= s < n:
        acc = acc + aux[s] @ kernel[i]
    local[t] = _lrelu(acc)
  return main / (1 + np.exp(-(g[None] * local)))


def test_matches_numpy_reference():
  module = _module()
  xs, mask = _inputs(1)
  variables = module.init(jax.random.PRNGKey(1), xs, mask, train=False)
  params = jax.tree_util.tree_map(np.asarray, variables["params"])
  out = module.apply(variables, xs, mask, train=False)
  xm, xn = (np.asarray(x, np.float64) for x in xs)
  for b, n in enumerate(LENGTHS):
    ref_m = _ref_direction(params["recalibrate_0"], xm[b, :n], xn[b, :n])
    ref_n = _ref_direction(params["recalibrate_1"], xn[b, :n], xm[b, :n])
    np.testing.assert_allclose(out.per_modality[0][b, :n], ref_m, rtol=1e-4,
                               atol=1e-5)
    np.testing.assert_allclose(out.per_modality[1][b, :n], ref_n, rtol=1e-4,
                               atol=1e-5)


def test_dropout_only_in_training_and_two_modalities_required():
  module = _module()
  xs, mask = _inputs(2)
  variables = module.init(jax.random.PRNGKey(0), xs, mask, train=False)
  run = lambda seed: module.apply(variables, xs, mask, train=True,
                                  rngs={"dropout": jax.random.PRNGKey(seed)})
  assert not np.allclose(run(0).fused_BxTxF, run(1).fused_BxTxF)
  with pytest.raises(ValueError, match="exactly two"):
    module.init(jax.random.PRNGKey(0), xs + (xs[0],), mask, train=False)


@pytest.mark.parametrize("kernel", [1, 3, 5])
def test_masked_avg_pool_matches_count_include_pad(kernel):
  rng = np.random.default_rng(kernel)
  x = rng.normal(size=(B, T, 2))
  mask = np.arange(T)[None] < LENGTHS[:, None]
  got = masked_avg_pool(jnp.asarray(x, jnp.float32), jnp.asarray(mask), kernel)
  half = kernel // 2
  for b, n in enumerate(LENGTHS):
    # PyTorch AvgPool1d(k, 1, padding=k // 2, count_include_pad=True) on the
    # unpadded video: zeros beyond the ends, always divided by k.
    xp = np.concatenate([np.zeros((half, 2)), x[b, :n], np.zeros((half, 2))])
    ref = np.stack([xp[t:t + kernel].sum(0) / kernel for t in range(n)])
    np.testing.assert_allclose(got[b, :n], ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("num_stages", [1, 2])
def test_lgca_on_ccm_is_lgca_of_the_ccm_outputs(num_stages):
  """``recalibration="ccm"`` is CCM, then LGCA on its two streams, with
  CCM's parameters where the ``ccm`` fusion has them."""
  xs, mask = _inputs(1)
  common = dict(embed_dim=0, num_stages=num_stages, gate="leaky",
                temperature=0.1, gate_prior=0.9, ccm_dropout=0.5,
                ccm_weight_init="he_uniform")
  lgca_ccm = FUSIONS.get("lgca").from_config(ml_collections.ConfigDict(
      dict(kind="lgca", recalibration="ccm", **common)))
  # Both streams need one width for the cross-attention.
  xs = (xs[0], jnp.concatenate([xs[1], xs[1][..., :DM - DN]], -1))
  variables = lgca_ccm.init(jax.random.PRNGKey(0), xs, mask, train=False)
  params = dict(variables["params"])
  ccm_params = {k: params.pop(k) for k in ("recalibrate_0", "recalibrate_1")}
  ccm_module = FUSIONS.get("ccm").from_config(ml_collections.ConfigDict(
      dict(kind="ccm", embed_dim=0, ccm_dropout=0.5,
           ccm_weight_init="he_uniform")))
  lgca = FUSIONS.get("lgca").from_config(ml_collections.ConfigDict(
      dict(kind="lgca", **common)))
  recal = ccm_module.apply({"params": ccm_params}, xs, mask, train=False)
  want = lgca.apply({"params": params}, recal.per_modality, mask, train=False)
  got = lgca_ccm.apply(variables, xs, mask, train=False)
  np.testing.assert_allclose(got.fused_BxTxF, want.fused_BxTxF, rtol=1e-6,
                             atol=1e-6)
  # CCM changed the streams, so the check compares different inputs.
  assert not np.allclose(recal.fused_BxTxF, jnp.concatenate(xs, -1))
  # He-uniform CCM draws differently from Xavier: the option reaches CCM.
  xavier = FUSIONS.get("lgca").from_config(ml_collections.ConfigDict(
      dict(kind="lgca", recalibration="ccm",
           **{**common, "ccm_weight_init": "xavier"})))
  k1 = variables["params"]["recalibrate_0"]["global_fc"]["kernel"]
  k2 = xavier.init(jax.random.PRNGKey(0), xs, mask, train=False)[
      "params"]["recalibrate_0"]["global_fc"]["kernel"]
  assert not np.allclose(k1, k2)
