"""Snippet sampling of training sequences: the stretch-and-jitter sampler of
CO2-Net's public code and the pad-short-videos behaviour of the others."""

import numpy as np
import pytest

from wtal_jax.data import sampling


def _draws(video_length, num_snippets, n=400):
  return np.stack([sampling.sample_snippets(
      np.random.default_rng(s), video_length, num_snippets,
      "uniform_stretch")[0]
                   for s in range(n)])


def test_stretch_fills_every_position_of_a_short_video():
  # T = 5 over L = 12: position i draws from floor(5i/12) .. floor(5(i+1)/12),
  # the last position from floor(55/12) = 4 .. T - 1 = 4.
  lo = np.array([0, 0, 0, 1, 1, 2, 2, 2, 3, 3, 4, 4])
  hi = np.array([0, 0, 1, 1, 2, 2, 2, 3, 3, 4, 4, 4])
  draws = _draws(5, 12)
  for s in range(3):
    idx, n = sampling.sample_snippets(np.random.default_rng(s), 5, 12,
                                      "uniform_stretch")
    assert n == 12 and idx.shape == (12,) and idx.dtype.kind == "i"
    assert np.all(np.diff(idx) >= 0)
    assert set(idx) == set(range(5))  # Every snippet, some repeated.
  np.testing.assert_array_equal(draws.min(0), lo)
  np.testing.assert_array_equal(draws.max(0), hi)
  # Both ends of a two-snippet range are drawn about equally often.
  share = np.mean(draws[:, 2] == 1)
  assert 0.4 < share < 0.6


def test_stretch_subsamples_a_long_video_with_jitter():
  t, length = 23, 5
  # Segment ends floor(23 i / 5) = 0, 4, 9, 13, 18; the last reaches 22.
  lo = np.array([0, 4, 9, 13, 18])
  hi = np.array([4, 9, 13, 18, 22])
  draws = _draws(t, length, n=800)
  np.testing.assert_array_equal(draws.min(0), lo)
  np.testing.assert_array_equal(draws.max(0), hi)
  assert np.all(np.diff(draws, axis=1) >= 0)
  # Uniform within a segment: each of the 5 values of position 0 ~ 1/5.
  counts = np.bincount(draws[:, 0], minlength=5)
  assert counts.min() > 0.6 * 800 / 5


def test_stretch_takes_an_exact_fit_as_is():
  idx, n = sampling.sample_snippets(np.random.default_rng(0), 9, 9,
                                    "uniform_stretch")
  np.testing.assert_array_equal(idx, np.arange(9))
  assert n == 9


@pytest.mark.parametrize("strategy", ["random_crop", "uniform", "all"])
def test_other_samplers_pad_short_videos(strategy):
  idx, n = sampling.sample_snippets(np.random.default_rng(0), 5, 12, strategy)
  np.testing.assert_array_equal(idx, np.arange(5))
  assert n == 5
