"""Shared helpers of the predict tests: a trained :smoke run and its test
split's features written in the per-video layout."""

from __future__ import annotations

import os

import numpy as np

from wtal_jax import config_lib
from data_prep.prepared import open_dataset
from wtal_jax.training.train import train_and_evaluate

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
CONFIG = os.path.join(ROOT, "configs/thumos_lgca.py:smoke")
MODALITIES = ("rgb", "flow", "audio")
BAD_KINDS = ("bad_empty", "bad_inf", "bad_lengths", "bad_missing", "bad_nan",
             "bad_short", "bad_width")


def train_smoke(data_dir: str, workdir: str):
  """A 2-step run of the default model (LGCA + UM) on the tiny dataset,
  evaluated (and so given a best checkpoint) at its last step."""
  config = config_lib.load_config(CONFIG)
  config.data.data_dir = data_dir
  config.train.update(num_steps=2, log_every=2, eval_every=2,
                      checkpoint_every=1)
  train_and_evaluate(config, workdir)
  return config


def split_videos(config) -> dict[str, dict[str, np.ndarray]]:
  """``{video: {modality: (T, D)}}`` of the run's test split, in order."""
  split = open_dataset(config.data).split(config.data.test_split)
  return {ex["video_id"]: {m: np.asarray(ex[m]) for m in MODALITIES}
          for ex in (split[i] for i in range(len(split)))}


def write_per_video(folder: str, videos) -> str:
  """Writes ``folder/<modality>/<video>.npy``."""
  for video, arrays in videos.items():
    for m, x in arrays.items():
      os.makedirs(os.path.join(folder, m), exist_ok=True)
      np.save(os.path.join(folder, m, f"{video}.npy"), x)
  return folder


def bad_videos(good: dict[str, np.ndarray]) -> dict[str, tuple[str, dict]]:
  """One unusable video per kind of problem, built from a good one:
  ``{name: (modality at fault, {modality: array})}``."""
  rgb, flow = good["rgb"], good["flow"]
  t, d = rgb.shape
  nan, inf = rgb.copy(), flow.copy()
  nan[3, 5] = np.nan
  inf[1, 0] = np.inf
  return {
      "bad_missing": ("flow", {"rgb": rgb}),
      "bad_width": ("rgb", {"rgb": np.ones((t, d + 3), np.float32),
                            "flow": flow}),
      "bad_nan": ("rgb", {"rgb": nan, "flow": flow}),
      "bad_inf": ("flow", {"rgb": rgb, "flow": inf}),
      "bad_empty": ("rgb", {"rgb": rgb[:0], "flow": flow[:0]}),
      "bad_short": ("rgb+flow", {"rgb": rgb[:1], "flow": flow[:1]}),
      "bad_lengths": ("rgb+flow", {"rgb": rgb, "flow": flow[:-3]}),
  }
