"""HAM-Net losses against slow NumPy references written from the paper's
equations (and the public code where the paper is silent), plus masking
invariance and the gradient path of the attention drops."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wtal_jax.losses import hamnet

B, T, C = 4, 14, 5
LENGTHS = np.array([14, 11, 6, 1])


def _case(seed):
  rng = np.random.default_rng(seed)
  cas = rng.normal(size=(B, T, C + 1)) * 2
  att = rng.random((B, T))
  labels = np.zeros((B, C))
  labels[0, [0, 2]] = labels[1, 2] = labels[2, 1] = labels[3, [1, 4]] = 1
  mask = np.arange(T)[None] < LENGTHS[:, None]
  return cas, att, labels, mask


def _j(*xs):
  return [jnp.asarray(x) if x.dtype == bool else jnp.asarray(x, jnp.float32)
          for x in xs]


def _ref_topk_ce(s, y, bg, divisor):
  """Eq. 1-3 for one video's real snippets ``s`` (n, C + 1)."""
  n = s.shape[0]
  k = max(1, int(np.floor(n / divisor)))
  v = np.array([np.mean(sorted(s[:, c], reverse=True)[:k])
                for c in range(s.shape[1])])
  logp = v - (np.log(np.sum(np.exp(v - v.max()))) + v.max())
  target = np.append(y, bg)
  target = target / target.sum()
  return -np.sum(target * logp)


def _ref_drops(a, gamma, side, from_min):
  lo, hi = (a.min() if from_min else 0.0), a.max()
  th = lo + gamma * (hi - lo)
  keep = np.array([(x < th) if side == "high" else (x > th) for x in a], float)
  return keep * a, keep


def _ref_attend(s, a, include_min):
  m = s.min(axis=1, keepdims=True) if include_min else 0.0
  return a[:, None] * (s - m) + m


def _softmax(x):
  e = np.exp(x - x.max(-1, keepdims=True))
  return e / e.sum(-1, keepdims=True)


def _ref_losses(cas, att, labels, mask, divisor, gamma, side, include_min,
                from_min):
  out = {k: 0.0 for k in ("bcl", "sal", "ssal", "hal", "sparsity", "guide")}
  for b in range(B):
    n = int(mask[b].sum())
    s, a, y = cas[b, :n], att[b, :n], labels[b]
    semi, hard = _ref_drops(a, gamma, side, from_min)
    out["bcl"] += _ref_topk_ce(s, y, 1.0, divisor)
    out["sal"] += _ref_topk_ce(_ref_attend(s, a, False), y, 0.0, divisor)
    out["ssal"] += _ref_topk_ce(_ref_attend(s, semi, include_min), y, 0.0,
                                divisor)
    out["hal"] += _ref_topk_ce(_ref_attend(s, hard, include_min), y, 1.0,
                               divisor)
    out["sparsity"] += np.mean(a)
    out["guide"] += np.mean(np.abs(1 - a - _softmax(s)[:, -1]))
  return out


@pytest.mark.parametrize("seed,divisor,gamma,side,include_min,from_min", [
    (0, 10.0, 0.2, "high", True, False), (1, 3.0, 0.2, "high", True, True),
    (2, 4.0, 0.5, "low", True, False), (3, 2.0, 0.3, "high", False, True)])
def test_hamnet_losses_match_reference(seed, divisor, gamma, side,
                                       include_min, from_min):
  cas, att, labels, mask = _case(seed)
  got = hamnet.hamnet_losses(*_j(cas, att, labels, mask), topk_divisor=divisor,
                             drop_threshold=gamma, drop=side,
                             drop_include_min=include_min,
                             drop_from_min=from_min)
  ref = _ref_losses(cas, att, labels, mask, divisor, gamma, side, include_min,
                    from_min)
  assert set(got) == set(ref)
  for name, (total, count) in got.items():
    assert float(count) == B
    np.testing.assert_allclose(float(total), ref[name], rtol=2e-5,
                               atol=1e-5, err_msg=name)


def test_drops_remove_the_discriminative_snippets():
  a = np.array([[0.1, 0.9, 0.17, 0.5, 0.05, 0.0]])
  mask = np.array([[True] * 5 + [False]])
  # Default: gamma_v = 0.2 * 0.9 = 0.18, so snippets 0, 2 and 4 stay.
  semi, hard = hamnet.drop_attention(*_j(a, mask), drop_threshold=0.2)
  np.testing.assert_array_equal(np.asarray(hard), [[1, 0, 1, 0, 1, 0]])
  np.testing.assert_allclose(np.asarray(semi), [[0.1, 0, 0.17, 0, 0.05, 0]])
  _, hard_low = hamnet.drop_attention(*_j(a, mask), drop_threshold=0.2,
                                      drop="low")
  np.testing.assert_array_equal(np.asarray(hard_low), [[0, 1, 0, 1, 0, 0]])
  # From the minimum: gamma_v = 0.05 + 0.2 * (0.9 - 0.05) = 0.22 keeps the
  # same snippets; at gamma 0.15 the thresholds part: 0.135 against 0.1775.
  _, hard_min = hamnet.drop_attention(*_j(a, mask), drop_threshold=0.2,
                                      drop_from_min=True)
  np.testing.assert_array_equal(np.asarray(hard_min), [[1, 0, 1, 0, 1, 0]])
  _, hard_max = hamnet.drop_attention(*_j(a, mask), drop_threshold=0.15)
  np.testing.assert_array_equal(np.asarray(hard_max), [[1, 0, 0, 0, 1, 0]])
  _, hard_min = hamnet.drop_attention(*_j(a, mask), drop_threshold=0.15,
                                      drop_from_min=True)
  np.testing.assert_array_equal(np.asarray(hard_min), [[1, 0, 1, 0, 1, 0]])


def test_drop_selection_carries_no_gradient():
  _, att, _, mask = _case(4)
  grad = jax.grad(lambda a: jnp.sum(hamnet.drop_attention(
      a, jnp.asarray(mask))[0]))(jnp.asarray(att, jnp.float32))
  _, keep = hamnet.drop_attention(*_j(att, mask))
  np.testing.assert_array_equal(np.asarray(grad), np.asarray(keep))
  hard_grad = jax.grad(lambda a: jnp.sum(hamnet.drop_attention(
      a, jnp.asarray(mask))[1]))(jnp.asarray(att, jnp.float32))
  assert not np.any(np.asarray(hard_grad))


def test_video_scores_match_reference():
  cas, att, _, mask = _case(5)
  got = hamnet.attention_video_scores(*_j(cas, att, mask), topk_divisor=3.0)
  for b in range(B):
    n = int(mask[b].sum())
    s = cas[b, :n] * att[b, :n, None]
    k = max(1, n // 3)
    v = np.sort(s, axis=0)[::-1][:k].mean(0)
    np.testing.assert_allclose(got[b], _softmax(v)[:-1], rtol=1e-5)


def test_losses_ignore_padding():
  cas, att, labels, mask = _case(6)
  pad = lambda x, v: np.concatenate(
      [x, np.full((B, 5) + x.shape[2:], v, x.dtype)], 1)
  a = hamnet.hamnet_losses(*_j(cas, att, labels, mask), topk_divisor=3.0)
  b = hamnet.hamnet_losses(*_j(pad(cas, 40.0), pad(att, 1.0), labels,
                               pad(mask, False)), topk_divisor=3.0)
  for name in a:
    np.testing.assert_allclose(a[name], b[name], rtol=1e-5, err_msg=name)
