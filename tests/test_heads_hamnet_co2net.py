"""HAM-Net and CO2-Net heads: padding invariance of the model outputs and
test-time scores, and one training step of each published config."""

import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wtal_jax import config_lib
from wtal_jax.models.heads import HEADS
from wtal_jax.models.model import build_model
from wtal_jax.training.reporting import read_metrics
from wtal_jax.training.train import train_and_evaluate

ROOT = os.path.join(os.path.dirname(__file__), "..")
B, T, C = 2, 10, 4
LENGTHS = np.array([10, 4])


@pytest.mark.parametrize("name", ["thumos_hamnet", "anet_co2net"])
def test_outputs_and_scores_ignore_padding(name):
  config = config_lib.load_config(
      os.path.join(ROOT, f"configs/{name}.py:smoke"))
  model = build_model(config.model, C)
  spec = HEADS.get(config.model.head.kind)
  rng = np.random.default_rng(0)
  xs = tuple(jnp.asarray(rng.normal(size=(B, T, 6)), jnp.float32)
             for _ in range(2))
  mask = jnp.asarray(np.arange(T)[None] < LENGTHS[:, None])
  variables = model.init(jax.random.PRNGKey(0), xs, mask, train=False)
  pad = lambda x, v: jnp.concatenate(
      [x, jnp.full((B, 5) + x.shape[2:], v, x.dtype)], 1)
  xs_p, mask_p = tuple(pad(x, 50.0) for x in xs), pad(mask, False)
  predict = jax.jit(lambda x, m: spec.predict_fn(
      model.apply(variables, x, m, train=False), m, config.model.head))
  loc, loc_p = predict(xs, mask), predict(xs_p, mask_p)
  assert loc.cas_BxTxC.shape == (B, T, C)
  assert loc.snippet_scores_BxTxC1.shape == (B, T, C + 1)
  np.testing.assert_allclose(loc.video_scores_BxC, loc_p.video_scores_BxC,
                             rtol=1e-5)
  for b, n in enumerate(LENGTHS):
    np.testing.assert_allclose(loc.cas_BxTxC[b, :n], loc_p.cas_BxTxC[b, :n],
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(loc.attention_BxT[b, :n],
                               loc_p.attention_BxT[b, :n], rtol=1e-5)


@pytest.mark.parametrize("name", ["thumos_hamnet", "thumos_co2net"])
def test_smoke_config_trains_one_step(name, data_dir, tmp_path):
  config = config_lib.load_config(
      os.path.join(ROOT, f"configs/{name}.py:smoke"))
  config.data.data_dir = data_dir
  config.train.update(num_steps=1, log_every=1, eval_every=1,
                      checkpoint_every=1)
  config.eval.buckets = (128,)  # One evaluation compile.
  metrics = train_and_evaluate(config, str(tmp_path))
  assert 0.0 <= metrics["avg_map"] <= 1.0
  train = [l for l in read_metrics(str(tmp_path)) if l["split"] == "train"]
  terms = {f"loss/{t}" for t in config.model.head.loss_weights}
  assert len(train) == 1 and terms <= set(train[0])
  assert all(np.isfinite(train[0][t]) for t in terms | {"loss"})


def _kernels(tree, path=()):
  for k, v in tree.items():
    if isinstance(v, dict):
      yield from _kernels(v, path + (k,))
    else:
      yield "/".join(path + (k,)), np.asarray(v)


@pytest.mark.parametrize("name,weight_init", [
    ("thumos_co2net", "he_uniform"), ("thumos_co2net", "xavier"),
    ("thumos_hamnet", "he_uniform")])
def test_initial_weight_scale(name, weight_init):
  # Both public codes draw every conv from kaiming_uniform_:
  # U(+-sqrt(6/fan_in)) with fan_in = in_channels * kernel, biases 0; CCM's
  # f_G is the centre tap of such a k3 conv. Xavier draws
  # U(+-sqrt(6/(fan_in + fan_out))).
  config = config_lib.load_config(os.path.join(ROOT, f"configs/{name}.py"))
  assert config.model.head.weight_init == "he_uniform"
  config.model.head.weight_init = weight_init
  config.model.fusion.ccm_weight_init = weight_init
  config.model.head.attention_dim = 96
  d = 64
  model = build_model(config.model, C)
  xs = tuple(jnp.zeros((1, 8, d)) for _ in range(2))
  params = model.init(jax.random.PRNGKey(0), xs, jnp.ones((1, 8), bool),
                      train=False)["params"]
  seen = 0
  for name, w in _kernels(jax.tree_util.tree_map(np.asarray, params)):
    if name.endswith("bias"):
      assert not w.any(), name
      continue
    centre_tap = "global_fc" in name
    taps = 3 if centre_tap else int(np.prod(w.shape[:-2]))
    fan_in, fan_out = taps * w.shape[-2], taps * w.shape[-1]
    if weight_init == "he_uniform":
      bound = np.sqrt(6.0 / fan_in)
    elif centre_tap:
      bound = np.sqrt(6.0 / (w.shape[-2] + w.shape[-1]))
    else:
      bound = np.sqrt(6.0 / (fan_in + fan_out))
    assert np.abs(w).max() <= bound * (1 + 1e-6), name
    if w.size >= 4096:  # Enough draws to pin the scale to ~3%.
      np.testing.assert_allclose(w.std(), bound / np.sqrt(3.0), rtol=0.05,
                                 err_msg=name)
      seen += 1
  assert seen >= 4
