"""Per-example randomness: each example's noise is a function of the layer's
key and its global batch position only (that 1 and 4 devices give the same
training is tests/test_parallel.py)."""

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import PartitionSpec as P

from wtal_jax import parallel
from wtal_jax.models import randomness


def test_an_example_sees_the_same_noise_in_any_batch():
  key = jax.random.PRNGKey(3)
  whole = randomness.bernoulli(key, 0.3, (8, 50, 4))
  # The draw of slot s is fold_in(key, s), whatever else is in the batch.
  for s in (0, 5, 7):
    alone = jax.random.bernoulli(jax.random.fold_in(key, s), 0.3, (50, 4))
    np.testing.assert_array_equal(whole[s], alone)
  assert not np.array_equal(whole[0], whole[1])


def test_slots_follow_the_device_under_the_data_parallel_step():
  mesh = parallel.make_mesh()

  def local(x):
    return randomness.example_slots(x.shape[0])[:, None] + 0 * x

  slots = jax.shard_map(local, mesh=mesh, in_specs=P(parallel.BATCH_AXIS),
                        out_specs=P(parallel.BATCH_AXIS))(jnp.zeros((6, 1)))
  np.testing.assert_array_equal(np.asarray(slots)[:, 0], np.arange(6))


def test_dropout_keeps_the_expectation_and_drops_its_rate():
  x = jnp.ones((16, 200, 8))
  drop = randomness.Dropout(0.7)
  y = drop.apply({}, x, rngs={"dropout": jax.random.PRNGKey(0)})
  zeros = float(jnp.mean(y == 0))
  assert abs(zeros - 0.7) < 0.01
  assert abs(float(jnp.mean(y)) - 1.0) < 0.03
  np.testing.assert_allclose(np.unique(np.asarray(y)), [0.0, 1 / 0.3],
                             rtol=1e-6)
  same = randomness.Dropout(0.7, deterministic=True).apply({}, x)
  np.testing.assert_array_equal(same, x)


def test_noise_helpers_have_the_right_distribution():
  key = jax.random.PRNGKey(1)
  g = np.asarray(randomness.gumbel(key, (64, 500)))
  n = np.asarray(randomness.normal(key, (64, 500)))
  assert abs(g.mean() - np.euler_gamma) < 0.02 and abs(g.std() - np.pi / np.sqrt(6)) < 0.02
  assert abs(n.mean()) < 0.02 and abs(n.std() - 1.0) < 0.02
