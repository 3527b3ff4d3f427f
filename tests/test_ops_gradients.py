"""Finite, correct gradients of the numerically delicate ops at the edges
(saturated soft-max scores, all-zero ReLU features)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wtal_jax import ops
from wtal_jax.losses import casl as casl_lib
from wtal_jax.losses import um as um_losses


def _bce_reference(p, t):
  """PyTorch BCELoss, in NumPy: value with logs clamped at -100 and the
  gradient (p - t) / max(p (1 - p), 1e-12)."""
  p = np.asarray(p, np.float64)
  with np.errstate(divide="ignore"):
    value = -(t * np.maximum(np.log(p), -100) +
              (1 - t) * np.maximum(np.log(1 - p), -100))
  grad = (p - t) / np.maximum(p * (1 - p), 1e-12)
  return value, grad


@pytest.mark.parametrize("p", [0.0, 1e-30, 0.3, 0.5, 0.99, 1.0])
@pytest.mark.parametrize("t", [0.0, 0.05, 1.0])
def test_bce_matches_pytorch_value_and_gradient(p, t):
  value, grad = jax.value_and_grad(ops.binary_cross_entropy)(
      jnp.float32(p), jnp.float32(t))
  ref_value, ref_grad = _bce_reference(np.float32(p), t)
  assert np.isfinite(float(value)) and np.isfinite(float(grad))
  np.testing.assert_allclose(float(value), ref_value, rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(float(grad), ref_grad, rtol=1e-4, atol=1e-6)


def test_bce_gradient_is_the_derivative_inside_the_interval():
  p = jnp.linspace(0.05, 0.95, 19)
  t = jnp.full_like(p, 0.2)
  grad = jax.grad(lambda p: jnp.sum(ops.binary_cross_entropy(p, t)))(p)
  np.testing.assert_allclose(grad, -(t / p) + (1 - t) / (1 - p), rtol=1e-5)


def test_safe_norm_value_and_gradient():
  rng = np.random.default_rng(0)
  x = rng.normal(size=(4, 7)).astype(np.float32)
  x[1] = 0.0
  np.testing.assert_allclose(ops.safe_norm(x), np.linalg.norm(x, axis=-1),
                             rtol=1e-6)
  grad = jax.grad(lambda x: jnp.sum(ops.safe_norm(x)))(jnp.asarray(x))
  assert np.all(np.isfinite(grad))
  np.testing.assert_array_equal(grad[1], 0.0)
  expected = x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-30)
  rows = np.array([0, 2, 3])
  np.testing.assert_allclose(np.asarray(grad)[rows], expected[rows], rtol=1e-5)


def test_um_losses_have_finite_gradients_when_saturated_and_zero():
  # Background features that training has driven to exactly zero and action
  # scores that soft-max rounds to exactly one: both used to give NaN.
  feat_act = jnp.ones((2, 8))
  feat_bkg = jnp.zeros((2, 8))
  grads = jax.grad(lambda a, b: um_losses.uncertainty_loss(a, b)[0],
                   argnums=(0, 1))(feat_act, feat_bkg)
  assert all(np.all(np.isfinite(g)) for g in grads)

  def cls_loss(logits_BxC):
    score = jax.nn.softmax(logits_BxC, axis=-1)
    return um_losses.classification_loss(score, labels)[0]
  labels = jnp.array([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]])
  logits = jnp.array([[200.0, 0.0, 0.0], [0.0, -200.0, 150.0]])
  assert np.all(np.isfinite(jax.grad(cls_loss)(logits)))


def test_casl_gradient_finite_with_all_zero_features():
  features = jnp.zeros((2, 6, 4)).at[0, :, :].set(1.0)
  logits = jnp.zeros((2, 6, 3))
  labels = jnp.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
  mask = jnp.ones((2, 6), bool)
  grad = jax.grad(lambda f: casl_lib.casl(f, logits, labels, mask)[0])(features)
  assert np.all(np.isfinite(grad))
