"""Training runs on a converted real-layout dataset (W-TALC THUMOS14)."""

import os

import numpy as np

from convert_fixtures import thumos_release, thumos_wtalc_dataset  # pylint: disable=unused-import
from wtal_jax import config_lib
from wtal_jax.training.train import train_and_evaluate

ROOT = os.path.join(os.path.dirname(__file__), "..")


def test_smoke_training_on_converted_wtalc_dataset(thumos_wtalc_dataset,
                                                  tmp_path):
  data_dir, result = thumos_wtalc_dataset
  config = config_lib.load_config(
      os.path.join(ROOT, "configs/thumos_lgca_caav.py:smoke"))
  config.data.name = "thumos14"
  config.data.builder_config = os.path.basename(
      os.path.dirname(result.builder_dir))
  config.data.data_dir = data_dir
  config.data.normalize = "none"
  # Real THUMOS14 test videos are up to 2615 snippets and attention costs
  # T^2: buckets close to the real lengths keep evaluation short.
  config.eval.buckets = (256, 512, 1024, 2048, 2688)
  config.eval.max_snippets_per_batch = 8192
  metrics = train_and_evaluate(config, str(tmp_path))
  assert metrics["num_videos"] == 212
  assert 0.0 <= metrics["avg_map"] <= 1.0
  assert np.isfinite(metrics["cls_map"])
