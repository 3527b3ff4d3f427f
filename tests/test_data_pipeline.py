"""Batches of the input pipeline: per-class instance counts, masks, labels."""

import numpy as np

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
