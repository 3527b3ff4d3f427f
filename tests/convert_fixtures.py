"""Feature files in the real release layouts, for the converter tests.

The features are random, but every array has the shape the release would
have for the real annotations: ``T = ceil(duration / 0.64)`` snippets, RGB
and flow side by side (W-TALC) or in separate files (per-video). The stream
width is small (the converters' ``stream_dim`` option) so that a whole
THUMOS14-sized release is a few MB and is written once per test session.
"""

from __future__ import annotations

import json
import os
from typing import Mapping, Sequence

import numpy as np
import pytest

from data_prep import annotations as ann_lib
from data_prep import timings

STREAM_DIM = 4
AUDIO_DIM = 8
SPS = 16 / 25


def shared_data(shared_dir: str, name: str) -> str:
  return os.path.join(shared_dir, "data", name)


def video_length(duration: float) -> int:
  return timings.video_length(duration, SPS)


def random_features(rng: np.random.Generator, t: int, d: int) -> np.ndarray:
  # Offset from zero so that no row is all zeros by chance.
  return (rng.normal(size=(t, d)) + 2.0).astype(np.float32)


def wtalc_durations(ann_dir: str) -> dict[str, float]:
  names = np.load(os.path.join(ann_dir, "videoname.npy"), allow_pickle=True)
  durs = np.load(os.path.join(ann_dir, "duration.npy"),
                 allow_pickle=True).reshape(-1)
  return {n.decode(): float(d) for n, d in zip(names, durs)}


def write_wtalc_features(path: str, ann_dir: str, stream_dim: int = STREAM_DIM,
                         seed: int = 0, pad_every: int = 5,
                         overrides: Mapping[int, np.ndarray] | None = None,
                         drop_last: int = 0) -> list[int]:
  """Writes a W-TALC JOINT features file for the videos of ``ann_dir``.

  Every ``pad_every``-th video gets 3 trailing all-zero rows (the release's
  padding). ``overrides`` replaces rows by index; ``drop_last`` leaves the
  last videos out. Returns the unpadded T of every video.
  """
  rng = np.random.default_rng(seed)
  durations = list(wtalc_durations(ann_dir).values())
  rows = np.empty(len(durations) - drop_last, dtype=object)
  lengths = []
  for i in range(len(rows)):
    t = video_length(durations[i])
    lengths.append(t)
    arr = random_features(rng, t, 2 * stream_dim)
    if pad_every and i % pad_every == 0:
      arr = np.concatenate([arr, np.zeros((3, 2 * stream_dim), np.float32)])
    rows[i] = arr
  for i, arr in (overrides or {}).items():
    rows[i] = arr
  np.save(path, rows, allow_pickle=True)
  return lengths


def write_wtalc_annotations(ann_dir: str, videos: Sequence[Mapping],
                            class_names: Sequence[str],
                            ambiguous: str = "") -> None:
  """Writes a W-TALC annotation folder.

  Args:
    ann_dir: Folder to create.
    videos: ``{"video", "subset", "duration", "segments", "labels"}`` each.
    class_names: The class list.
    ambiguous: Content of ``Ambiguous_test.txt``.
  """
  os.makedirs(ann_dir, exist_ok=True)

  def obj(values):
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
      out[i] = v
    return out

  np.save(os.path.join(ann_dir, "videoname.npy"),
          np.array([v["video"].encode() for v in videos]))
  np.save(os.path.join(ann_dir, "subset.npy"),
          np.array([v["subset"].encode() for v in videos]))
  np.save(os.path.join(ann_dir, "duration.npy"),
          np.array([[v["duration"]] for v in videos], np.float64))
  np.save(os.path.join(ann_dir, "segments.npy"),
          obj([[list(s) for s in v["segments"]] for v in videos]),
          allow_pickle=True)
  np.save(os.path.join(ann_dir, "labels.npy"),
          obj([list(v["labels"]) for v in videos]), allow_pickle=True)
  np.save(os.path.join(ann_dir, "classlist.npy"),
          np.array([c.encode() for c in class_names]))
  with open(os.path.join(ann_dir, "Ambiguous_test.txt"), "w",
            encoding="utf-8") as f:
    f.write(ambiguous)


def write_per_video_features(root: str, per_video_ann: str,
                             durations: Mapping[str, float],
                             stream_dim: int = STREAM_DIM,
                             seed: int = 1) -> dict[str, int]:
  """Writes ``root/{train,test}/{rgb,flow}/<video>.npy`` for every video of
  the split files; T from the W-TALC duration of the same video."""
  rng = np.random.default_rng(seed)
  lengths = {}
  for split in ("train", "test"):
    videos = ann_lib.read_split_file(
        os.path.join(per_video_ann, f"split_{split}.txt"))
    for m in ("rgb", "flow"):
      os.makedirs(os.path.join(root, split, m), exist_ok=True)
    for video in videos:
      t = video_length(durations[video])
      lengths[video] = t
      for m in ("rgb", "flow"):
        np.save(os.path.join(root, split, m, f"{video}.npy"),
                random_features(rng, t, stream_dim))
  return lengths


def write_audio(audio_dir: str, lengths_s: Mapping[str, float],
                hop: float = 0.96, dim: int = AUDIO_DIM,
                seed: int = 2) -> None:
  """Writes ``<video>.npy`` audio arrays covering ``lengths_s`` seconds."""
  rng = np.random.default_rng(seed)
  os.makedirs(audio_dir, exist_ok=True)
  for video, seconds in lengths_s.items():
    n = max(1, int(round(seconds / hop)))
    np.save(os.path.join(audio_dir, f"{video}.npy"),
            random_features(rng, n, dim))


def copy_per_video_annotations(src: str, dst: str) -> None:
  os.makedirs(dst, exist_ok=True)
  for name in ("gt.json", "split_train.txt", "split_test.txt"):
    with open(os.path.join(src, name), "rb") as f:
      data = f.read()
    with open(os.path.join(dst, name), "wb") as f:
      f.write(data)


def write_gt_json(ann_dir: str, database: Mapping, splits: Mapping) -> None:
  os.makedirs(ann_dir, exist_ok=True)
  with open(os.path.join(ann_dir, "gt.json"), "w", encoding="utf-8") as f:
    json.dump({"database": database}, f)
  for split, videos in splits.items():
    with open(os.path.join(ann_dir, f"split_{split}.txt"), "w",
              encoding="utf-8") as f:
      f.write("\n".join(videos) + "\n")


@pytest.fixture(scope="session")
def thumos_release(shared_dir, tmp_path_factory):
  """The real THUMOS14 annotations with W-TALC and per-video feature files.

  Returns a dict: ``wtalc_ann``, ``wtalc_features``, ``per_video_ann``,
  ``per_video_features``, ``wtalc_lengths`` (T per W-TALC row),
  ``per_video_lengths`` (video -> T), ``durations``.
  """
  root = tmp_path_factory.mktemp("thumos_release")
  wtalc_ann = shared_data(shared_dir, "Thumos14reduced-Annotations")
  per_video_ann = shared_data(shared_dir, "THUMOS14")
  features = str(root / "Thumos14reduced-I3D-JOINTFeatures.npy")
  lengths = write_wtalc_features(features, wtalc_ann)
  durations = wtalc_durations(wtalc_ann)
  pv_root = str(root / "features")
  pv_lengths = write_per_video_features(pv_root, per_video_ann, durations)
  return {"wtalc_ann": wtalc_ann, "wtalc_features": features,
          "per_video_ann": per_video_ann, "per_video_features": pv_root,
          "wtalc_lengths": lengths, "per_video_lengths": pv_lengths,
          "durations": durations, "root": str(root)}


@pytest.fixture(scope="session")
def thumos_wtalc_dataset(thumos_release, tmp_path_factory):
  """The W-TALC release converted (stream width STREAM_DIM)."""
  from data_prep import thumos14  # pylint: disable=g-import-not-at-top
  data_dir = str(tmp_path_factory.mktemp("tfds_real"))
  result = thumos14.build(data_dir, thumos14.Thumos14Options(
      layout="wtalc", features=thumos_release["wtalc_features"],
      annotations=thumos_release["wtalc_ann"], stream_dim=STREAM_DIM))
  return data_dir, result
