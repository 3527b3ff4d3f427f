"""The build CLI and the shared writer, exercised on synthetic data."""

import os
import subprocess
import sys

import numpy as np
import tensorflow_datasets as tfds

from data_prep import synthetic_thumos as st
from data_prep import writer
from wtal_jax.data import schema

REPO = os.path.join(os.path.dirname(__file__), "..")


def _cli(*args, env=None):
  return subprocess.run(
      [sys.executable, "-m", "data_prep.build", *args], cwd=REPO,
      capture_output=True, text=True, timeout=120,
      env={**os.environ, **(env or {})})


def test_help_explains_datasets_and_flags():
  out = _cli("--help")  # absl's --help exits with status 1
  for text in ("synthetic_thumos", "--config", "--data_dir", "--seed",
               "--overwrite", "WTAL_JAX_DATA_DIR", "full", "tiny"):
    assert text in out.stdout, text


def test_build_prints_summary_then_keeps_existing(tmp_path):
  config = st.make_config("tiny", seed=2)
  plan = st.plan(config)
  out = _cli("synthetic_thumos", "--config=tiny", "--seed=2",
             env={writer.DATA_DIR_ENV: str(tmp_path)})
  assert out.returncode == 0, out.stderr[-2000:]
  for split, videos in plan.items():
    instances = sum(v.num_instances for v in videos)
    classes = len({int(c) for v in videos for c in v.labels_N})
    assert (f"{split}: {len(videos)} videos, {instances} instances, "
            f"{classes} classes") in out.stdout
  assert "skipped: nothing" in out.stdout
  assert st.is_built(str(tmp_path), "tiny_seed2")
  again = _cli("synthetic_thumos", "--config=tiny_seed2",
               f"--data_dir={tmp_path}")
  assert again.returncode == 0
  assert "already built" in again.stdout
  assert f"train: {len(plan['train'])} videos" in again.stdout


def test_bad_requests_fail_with_a_reason(tmp_path):
  out = _cli("no_such_dataset", f"--data_dir={tmp_path}")
  assert out.returncode != 0
  assert "Unknown dataset 'no_such_dataset'" in out.stderr + out.stdout
  out = _cli("synthetic_thumos", "--config=tiny", "--num_test=500",
             f"--data_dir={tmp_path}")
  assert out.returncode != 0
  assert "only" in out.stderr + out.stdout


def test_config_names_are_canonical_and_readable():
  config = st.make_config("tiny", seed=3, num_train=40, dims=(8, 8, 4))
  assert config.name == "tiny_seed3_train40_dims8-8-4"
  back = st.parse_config_name(config.name)
  assert (back.seed, back.num_train, back.num_test, back.max_snippets,
          back.dims) == (3, 40, 12, 96, (8, 8, 4))
  assert st.make_config("full", seed=0).name == "full"
  assert st.resolve_config("tiny", seed=0).name == "tiny"
  assert st.resolve_config("tiny_seed3", seed=5).name == "tiny_seed5"


class SkippingFake(writer.FeatureDatasetBuilder):
  """Two videos, one of them skipped while generating."""

  VERSION = tfds.core.Version("1.0.0")

  def dataset_meta(self):
    return schema.DatasetMeta(class_names=("a", "b"),
                              modality_dims={"rgb": 4, "flow": 4})

  def split_names(self):
    return ("test",)

  def split_examples(self, split):
    self.report.skip(split, "video_broken", "features have 0 snippets")
    feats = {m: np.ones((3, 4), np.float32) for m in ("rgb", "flow")}
    yield "video_ok", schema.make_example(
        "video_ok", feats, np.array([0, 1]), np.array([[0.5, 1.5]]), [1],
        seconds_per_snippet=0.64, duration=1.92)


def test_writer_records_skips_in_metadata_and_summary(tmp_path):
  make = lambda: SkippingFake(data_dir=str(tmp_path),
                              file_format=writer.FILE_FORMAT)
  out, builder = writer.prepare(make)
  text = builder.report.format("fake")
  assert "test: 1 videos, 1 instances, 1 classes" in text
  assert "test/video_broken: features have 0 snippets" in text
  meta = schema.DatasetMeta.from_metadata(
      tfds.builder_from_directory(out).info.metadata)
  assert meta.skipped == ({"split": "test", "video": "video_broken",
                           "reason": "features have 0 snippets"},)
  recount = writer.report_from_directory(out)
  assert recount.format() == builder.report.format()
