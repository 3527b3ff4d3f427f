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
