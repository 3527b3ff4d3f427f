"""Input normalisation: statistics against NumPy, the non-negativity that
LGCA relies on, and the saved form of the statistics."""

import numpy as np
import pytest

from wtal_jax.data import normalization


class _Split:
  """A stand-in for a VideoSplit: indexable examples with a name."""

  name = "train"

  def __init__(self, videos):
    self.videos = videos

  def __len__(self):
    return len(self.videos)

  def __getitem__(self, i):
    return self.videos[i]


def _videos(seed=0, offset=0.0):
  rng = np.random.default_rng(seed)
  out = []
  for t in (7, 1, 12, 0, 5):  # An empty video must not disturb the minimum.
    rgb = np.maximum(rng.normal(0.3, 0.2, (t, 4)), 0.0) + offset
    flow = rng.normal(-1.0, 2.0, (t, 3))
    out.append({"rgb": rgb.astype(np.float32), "flow": flow.astype(np.float32)})
  return out


def test_standardize_matches_numpy():
  videos = _videos()
  stats = normalization.compute_stats(_Split(videos), ["rgb", "flow"])
  for m in ("rgb", "flow"):
    x = np.concatenate([v[m] for v in videos]).astype(np.float64)
    np.testing.assert_allclose(stats.shift[m], x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(stats.scale[m], x.std(0), rtol=1e-4)
    y = np.concatenate([stats.apply(m, v[m]) for v in videos])
    np.testing.assert_allclose(y.mean(0), 0.0, atol=1e-5)
    np.testing.assert_allclose(y.std(0), 1.0, rtol=1e-4)


@pytest.mark.parametrize("offset", [0.0, 2.5])
def test_min_scale_keeps_training_features_non_negative_with_unit_std(offset):
  videos = _videos(1, offset)
  stats = normalization.compute_stats(_Split(videos), ["rgb", "flow"],
                                      "min_scale")
  for m in ("rgb", "flow"):
    x = np.concatenate([v[m] for v in videos]).astype(np.float64)
    np.testing.assert_allclose(stats.shift[m], x.min(0), rtol=1e-6)
    y = np.concatenate([stats.apply(m, v[m]) for v in videos])
    assert y.min() >= 0.0 and np.allclose(y.min(0), 0.0, atol=1e-6)
    np.testing.assert_allclose(y.std(0), 1.0, rtol=1e-4)
  # Post-ReLU features (minimum 0) are only rescaled: zeros stay zeros.
  if offset == 0.0:
    rgb = videos[0]["rgb"]
    np.testing.assert_array_equal(stats.apply("rgb", rgb) == 0, rgb == 0)


def test_modalities_without_statistics_pass_through():
  stats = normalization.compute_stats(_Split(_videos(2)), ["rgb"], "min_scale")
  x = _videos(3)[0]
  assert stats.mode == "min_scale"
  assert stats.apply("flow", x["flow"]) is x["flow"]


def test_unknown_mode_and_empty_split_are_refused():
  with pytest.raises(ValueError, match="min_scale"):
    normalization.compute_stats(_Split(_videos()), ["rgb"], "zscore")
  empty = _Split([{"rgb": np.zeros((0, 4), np.float32)}])
  with pytest.raises(ValueError, match="no snippets"):
    normalization.compute_stats(empty, ["rgb"], "min_scale")
