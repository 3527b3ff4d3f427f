"""The generative model of synthetic_thumos, checked without TFDS."""

import numpy as np
import pytest

from data_prep import synthetic_model as sm
from data_prep import synthetic_thumos as st
from data_prep import timings as timings_lib

SPS = st.SECONDS_PER_SNIPPET
DIMS = {"rgb": 48, "flow": 48, "audio": 16}


@pytest.fixture(scope="module")
def timings():
  return timings_lib.load_thumos14_timings()


@pytest.fixture(scope="module")
def world():
  return sm.make_world(0, 20, DIMS)


@pytest.fixture(scope="module")
def train_latents(world, timings):
  """Latents of every full train video (cheap: no features)."""
  return [(v, sm.video_latents(world, v, "train", SPS))
          for v in timings.splits["train"]]


def _cover_reference(timing, num_t):
  """Covered fraction of each snippet by each instance, plain Python."""
  cover = np.zeros((num_t, timing.num_instances))
  for t in range(num_t):
    for i, (s, e) in enumerate(timing.segments_Nx2):
      lo, hi = max(t * SPS, s), min((t + 1) * SPS, e)
      cover[t, i] = max(hi - lo, 0.0) / SPS
  return cover


def test_same_seed_same_bytes_other_seed_differs(timings):
  video = timings.splits["test"][5]
  a, _ = sm.generate_video(sm.make_world(0, 20, DIMS), video, "test", SPS)
  b, _ = sm.generate_video(sm.make_world(0, 20, DIMS), video, "test", SPS)
  c, _ = sm.generate_video(sm.make_world(1, 20, DIMS), video, "test", SPS)
  for m in DIMS:
    assert a[m].tobytes() == b[m].tobytes()
    assert not np.allclose(a[m], c[m])


def test_videos_have_distinct_streams(world, timings):
  v = timings.splits["train"][0]
  other = timings_lib.VideoTiming(v.video, v.index + 1, v.duration,
                                  v.segments_Nx2, v.labels_N, v.ambiguous_Ax2)
  a, _ = sm.generate_video(world, v, "train", SPS)
  b, _ = sm.generate_video(world, other, "train", SPS)
  c, _ = sm.generate_video(world, v, "test", SPS)
  assert not np.allclose(a["rgb"], b["rgb"])
  assert not np.allclose(a["rgb"], c["rgb"])


def test_latents_recomputable_without_features(world, timings):
  video = timings.splits["train"][17]
  _, lat = sm.generate_video(world, video, "train", SPS)
  again = sm.video_latents(world, video, "train", SPS)
  np.testing.assert_array_equal(lat.core_TxC, again.core_TxC)
  for m in DIMS:
    np.testing.assert_array_equal(lat.clutter_T[m], again.clutter_T[m])


def test_features_shape_dtype_range(timings):
  world = sm.make_world(0, 20, {"rgb": 1024, "flow": 1024, "audio": 128})
  for video in timings.splits["test"][:6]:
    feats, lat = sm.generate_video(world, video, "test", SPS)
    num_t = timings_lib.video_length(video.duration, SPS)
    assert lat.video_length == num_t
    for m, x in feats.items():
      assert x.dtype == np.float32
      assert x.shape == (num_t, world.modalities[m].base_D.shape[0])
      assert x.min() >= 0.0
      assert 0.2 <= x.mean() <= 0.6, (m, x.mean())
      assert 0.02 < np.mean(x == 0) < 0.3  # some ReLU zeros, not mostly


def test_phase_weights_follow_instance_coverage(world, timings):
  """core+onset+offset = coverage x one strength per instance."""
  checked = 0
  for video in timings.splits["train"][:40]:
    lat = sm.video_latents(world, video, "train", SPS)
    cover_TxN = _cover_reference(video, lat.video_length)
    total_TxC = lat.core_TxC + lat.onset_TxC + lat.offset_TxC
    onehot_NxC = np.eye(20)[video.labels_N]
    np.testing.assert_array_equal(total_TxC > 0, cover_TxN @ onehot_NxC > 0)
    for i, c in enumerate(video.labels_N):
      own = cover_TxN[:, i] > 0
      others = np.delete(cover_TxN[:, video.labels_N == c],
                         np.flatnonzero(np.flatnonzero(video.labels_N == c)
                                        == i), axis=1)
      if others.size and (others[own] > 0).any():
        continue  # overlapping instances of one class add up
      ratio = total_TxC[own, c] / cover_TxN[own, i]
      np.testing.assert_allclose(ratio, ratio[0], rtol=1e-9)
      assert np.exp(-1.5) < ratio[0] < np.exp(1.5)
      checked += 1
  assert checked > 300


def test_sub_action_order_onset_core_offset(world, timings):
  """In long instances the onset precedes the core, which precedes the
  offset, and the core dominates the middle."""
  checked = 0
  for video in timings.splits["train"][:80]:
    lat = sm.video_latents(world, video, "train", SPS)
    for (s, e), c in zip(video.segments_Nx2, video.labels_N):
      t0, t1 = int(np.ceil(s / SPS)), int(np.floor(e / SPS)) - 1
      if t1 - t0 < 12 or e > video.duration:
        continue
      idx = np.arange(t0, t1 + 1)
      on, core, off = (lat.onset_TxC[idx, c], lat.core_TxC[idx, c],
                       lat.offset_TxC[idx, c])
      centre = lambda w: np.sum(idx * w) / np.sum(w)
      assert centre(on) < centre(core) < centre(off)
      mid = idx[len(idx) // 2]
      assert lat.core_TxC[mid, c] > lat.onset_TxC[mid, c]
      assert lat.core_TxC[mid, c] > lat.offset_TxC[mid, c]
      checked += 1
  assert checked > 50


def test_context_levels(world, timings):
  for video in timings.splits["test"][:30]:
    lat = sm.video_latents(world, video, "test", SPS)
    present = np.zeros(20, bool)
    present[video.labels_N] = True
    assert np.all(lat.context_TxC[:, ~present] == 0)
    ctx = lat.context_TxC[:, present]
    assert ctx.min() >= 0.2 - 1e-12 and ctx.max() <= 1.0 + 1e-12
    centre = (np.arange(lat.video_length) + 0.5) * SPS
    for (s, e), c in zip(video.segments_Nx2, video.labels_N):
      inside = (centre >= s) & (centre <= e)
      np.testing.assert_allclose(lat.context_TxC[inside, c], 1.0)


def test_clutter_stretches_per_modality(world, train_latents):
  params = world.params.modalities
  frac, runs = {}, {}
  for m in DIMS:
    masks = [lat.clutter_T[m] for _, lat in train_latents]
    frac[m] = np.concatenate(masks).mean()
    lengths = []
    for mask in masks:
      edges = np.diff(np.concatenate([[0], mask.astype(int), [0]]))
      lengths += list(np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1))
    runs[m] = np.mean(lengths)
    assert 0.6 * params[m].clutter_fraction < frac[m] < (
        1.2 * params[m].clutter_fraction), (m, frac[m])
    assert 0.7 * params[m].clutter_length < runs[m] < (
        2.0 * params[m].clutter_length), (m, runs[m])
  assert frac["rgb"] < frac["flow"] < frac["audio"]
  # Stretches are independent across modalities.
  both = np.mean(np.concatenate([lat.clutter_T["rgb"] & lat.clutter_T["flow"]
                                 for _, lat in train_latents]))
  assert both == pytest.approx(frac["rgb"] * frac["flow"], rel=0.35)


def test_distractors_are_absent_classes(train_latents):
  for video, lat in train_latents:
    for m in ("rgb", "flow"):
      shown = np.unique(lat.distractor_T[m][lat.clutter_T[m]])
      assert not np.isin(shown, video.labels_N).any()
      assert np.all(lat.distractor_T[m][~lat.clutter_T[m]] == -1)
      assert np.all(lat.pattern_T[m][~lat.clutter_T[m]] == -1)


def test_clutter_pattern_visible_in_features(world, timings):
  """Projected on its clutter pattern, a snippet's whitened features are
  larger inside the stretch than outside."""
  for m in DIMS:
    mw = world.modalities[m]
    inside, outside = [], []
    for video in timings.splits["train"][:30]:
      feats, lat = sm.generate_video(world, video, "train", SPS)
      white = (feats[m] - mw.base_D) / mw.sigma_D
      proj = white @ mw.clutter_JxD.T  # (T, J)
      for j in range(mw.clutter_JxD.shape[0]):
        sel = lat.pattern_T[m] == j
        inside.append(proj[sel, j])
        outside.append(proj[~lat.clutter_T[m], j])
    gap = np.mean(np.concatenate(inside)) - np.mean(np.concatenate(outside))
    assert gap > 0.5 * world.params.modalities[m].clutter_amplitude, (m, gap)


def test_audio_informative_for_few_classes(world):
  gains = world.modalities["audio"].class_gain_C
  assert np.sum(gains == 1.0) == round(
      world.params.modalities["audio"].informative_classes * 20)
  assert np.all(gains[gains != 1.0] < 0.5)
  for m in ("rgb", "flow"):
    assert np.all(world.modalities[m].class_gain_C == 1.0)
  # Which classes are audible depends on the seed, not on the widths.
  wide = sm.make_world(0, 20, {"rgb": 1024, "flow": 1024, "audio": 128})
  np.testing.assert_array_equal(wide.modalities["audio"].class_gain_C, gains)
  np.testing.assert_array_equal(wide.family_C, world.family_C)


def test_snippet_class_matches_instance_cores(world, timings):
  for video in timings.splits["test"][:30]:
    lat = sm.video_latents(world, video, "test", SPS)
    centre = (np.arange(lat.video_length) + 0.5) * SPS
    counts = np.zeros(lat.video_length, int)
    for s, e in video.segments_Nx2:
      counts += (centre >= s - SPS) & (centre <= e + SPS)
    for (s, e), c in zip(video.segments_Nx2, video.labels_N):
      third = (e - s) / 3
      mid = (centre >= s + third) & (centre <= e - third) & (counts == 1)
      assert np.all(lat.snippet_class_T[mid] == c)
    assert np.all(lat.snippet_class_T[counts == 0] == 20)
    assert np.all(lat.phase_T[counts == 0] == sm.PHASE_BACKGROUND)
