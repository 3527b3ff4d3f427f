"""Initialisations by name: the scale of every draw, per head, against the
bounds the public codes use."""

import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import traverse_util

from wtal_jax import config_lib
from wtal_jax.models import inits
from wtal_jax.models.model import build_model

ROOT = os.path.join(os.path.dirname(__file__), "..")


def _leaves(tree):
  return traverse_util.flatten_dict(tree, sep="/").items()


@pytest.mark.parametrize("name", ["thumos_um", "thumos_asl"])
def test_pytorch_init_draws_like_torch_defaults(name):
  """PyTorch's ``Linear``/``Conv1d`` draw kernel and bias from
  U(±1/sqrt(fan_in)), fan_in = input channels x kernel width; the public UM
  and ASL code keep those draws."""
  config = config_lib.load_config(os.path.join(ROOT, f"configs/{name}.py"))
  assert config.model.head.get("weight_init", "xavier") == "xavier"
  config.model.head.weight_init = "pytorch"
  d = 96
  model = build_model(config.model, 20)
  xs = tuple(jnp.zeros((1, 8, d)) for _ in range(2))
  params = jax.tree_util.tree_map(np.asarray, model.init(
      jax.random.PRNGKey(0), xs, jnp.ones((1, 8), bool), train=False)["params"])
  leaves = dict(_leaves(params))
  kernels = {n: w for n, w in leaves.items() if n.endswith("kernel")}
  assert len(kernels) >= 2
  seen = 0
  for name_k, w in kernels.items():
    fan_in = int(np.prod(w.shape[:-1]))
    bound = 1.0 / np.sqrt(fan_in)
    assert np.abs(w).max() <= bound * (1 + 1e-6), name_k
    if w.size >= 2000:  # Enough draws to pin the scale to a few percent.
      np.testing.assert_allclose(w.std(), bound / np.sqrt(3.0), rtol=0.06,
                                 err_msg=name_k)
      seen += 1
    bias = leaves.get(name_k[:-len("kernel")] + "bias")
    if bias is not None:
      # Not zero (as Xavier and He leave it) but spread over the same bound.
      assert np.abs(bias).max() <= bound * (1 + 1e-6), name_k
      if bias.size >= 16:  # The largest of 16 draws is almost surely > b/2.
        assert np.abs(bias).max() > 0.5 * bound, name_k
  assert seen >= 1
  # Xavier, the default, gives zero biases and another scale.
  config.model.head.weight_init = "xavier"
  xavier = dict(_leaves(jax.tree_util.tree_map(np.asarray, build_model(
      config.model, 20).init(jax.random.PRNGKey(0), xs,
                             jnp.ones((1, 8), bool), train=False)["params"])))
  assert all(not w.any() for n, w in xavier.items() if n.endswith("bias"))


def test_bias_init_bounds_and_names():
  b = inits.bias_init("pytorch", 16)(jax.random.PRNGKey(1), (5000,))
  assert float(jnp.max(jnp.abs(b))) <= 0.25
  np.testing.assert_allclose(float(jnp.std(b)), 0.25 / np.sqrt(3), rtol=0.05)
  assert not np.asarray(inits.bias_init("he_uniform", 16)(
      jax.random.PRNGKey(1), (4,))).any()
  with pytest.raises(ValueError, match="Unknown init 'torch'"):
    inits.kernel_init("torch")
