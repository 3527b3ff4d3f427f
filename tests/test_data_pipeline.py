"""Batches of the input pipeline: per-class instance counts, masks, labels."""

import itertools

import ml_collections
import numpy as np
import pytest

from wtal_jax.data import pipeline
from data_prep.prepared import open_dataset
from wtal_jax import config_lib


def _split(data_dir, name):
  config = config_lib.load_config("configs/thumos_lgca_caav.py:smoke")
  config.data.data_dir = data_dir
  return open_dataset(config.data).split(name)


def _slow_counts(example, num_classes):
  counts = np.zeros(num_classes, np.float32)
  for c in example["segment_labels"]:
    counts[int(c)] += 1
  return counts


def test_train_batch_counts_are_each_videos_instances(data_dir):
  split = _split(data_dir, "train")
  groups = pipeline.parse_modalities(("rgb", "flow"))
  batcher = pipeline.TrainBatcher(split, groups, batch_size=6, num_pairs=1,
                                  num_snippets=16,
                                  snippet_sampling="random_crop", seed=3)
  seen_instances = 0
  for step in range(3):
    batch = batcher.batch(step)
    for r, v in enumerate(batch["video_index"]):
      ex = split[int(v)]
      np.testing.assert_array_equal(
          batch["counts"][r], _slow_counts(ex, split.meta.num_classes))
      np.testing.assert_array_equal(batch["labels"][r], ex["labels"])
      # Every class with an instance is a label of the video.
      assert np.all(batch["labels"][r][batch["counts"][r] > 0] == 1)
      seen_instances += batch["counts"][r].sum()
  assert seen_instances > 0


def test_eval_batch_counts_and_masks(data_dir):
  split = _split(data_dir, "test")
  groups = pipeline.parse_modalities(("rgb", "flow"))
  plan = pipeline.eval_plan(split.index.video_length_V, (32, 64, 128), 512,
                            row_multiple=1)
  for chunk in plan:
    batch = pipeline.eval_batch(split, groups, chunk,
                                list(range(len(chunk.videos))))
    for r, v in enumerate(chunk.videos):
      if v < 0:
        assert not batch["mask"][r].any() and not batch["counts"][r].any()
        continue
      ex = split[v]
      np.testing.assert_array_equal(
          batch["counts"][r], _slow_counts(ex, split.meta.num_classes))
      assert batch["mask"][r].sum() == split.index.video_length_V[v]


def _padded(lengths, buckets):
  return sum(pipeline.bucket_length(int(t), buckets) for t in lengths)


@pytest.mark.parametrize("seed", range(6))
def test_fitted_buckets_pad_least_among_every_choice(seed):
  """Against brute force over every set of at most k candidate lengths: the
  fitted buckets hold every video and pad no more snippets than any other
  choice of multiples of 16."""
  rng = np.random.default_rng(seed)
  lengths = rng.integers(1, 300, int(rng.integers(1, 25)))
  k = int(rng.integers(1, 5))
  fitted = pipeline.fitted_buckets(lengths, k)
  assert len(fitted) <= k and all(b % 16 == 0 for b in fitted)
  assert max(fitted) >= lengths.max()
  assert all(pipeline.bucket_length(int(t), fitted) <= max(fitted)
             for t in lengths)
  cand = np.unique(-(-lengths // 16) * 16)
  best = min(_padded(lengths, c + (int(cand[-1]),))
             for n in range(0, k)
             for c in itertools.combinations(cand[:-1].tolist(), n))
  assert _padded(lengths, fitted) == best


def test_eval_plan_spreads_a_bucket_evenly():
  """A bucket's videos fill its batches evenly: no batch is mostly padding
  rows, every video appears once, and a bucket has one row count."""
  lengths = np.array([100] * 17 + [30] * 5)
  plan = pipeline.eval_plan(lengths, (32, 128), 128 * 16, row_multiple=2)
  assert sorted(v for c in plan for v in c.videos if v >= 0) == list(range(22))
  rows = {}
  for c in plan:
    rows.setdefault(c.length, set()).add(len(c.videos))
    assert len(c.videos) % 2 == 0
    assert sum(v < 0 for v in c.videos) < 2 + len(c.videos) // 2
  assert all(len(r) == 1 for r in rows.values())
  # 17 videos of 128 with at most 16 rows: two batches of 10 rows (9 + 8
  # videos), not 16 + 16 with 15 empty rows.
  assert rows[128] == {10}


def test_eval_buckets_follow_the_config():
  cfg = ml_collections.ConfigDict({"buckets": (64, 512), "num_buckets": 0})
  assert pipeline.eval_buckets(np.array([10, 300]), cfg) == (64, 512)
  cfg.num_buckets = 2
  assert pipeline.eval_buckets(np.array([10, 300]), cfg) == (16, 304)
