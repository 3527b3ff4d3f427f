"""Writes a prepared RGB + flow dataset back out in a public release layout.

Usage:
  python -m data_prep.export --layout=wtalc|per_video --out=DIR \
      [--dataset=synthetic_thumos] [--config=full_dims256-256-32] \
      [--data_dir=DIR] [--overwrite]

The layouts are the two THUMOS14 releases that ``python -m data_prep.build
thumos14`` reads (docs/datasets.md), so that code written for those releases
(the authors' public code of W-TALC, 3C-Net, HAM-Net, CO2-Net, UM and ASL)
can train on any prepared dataset, e.g. ``synthetic_thumos``, and so that the
two codes can be compared on the same data:

* ``wtalc``: ``DIR/Thumos14reduced-I3D-JOINTFeatures.npy`` (one ``(T, 2 D)``
  float32 array per video, RGB then flow) and
  ``DIR/Thumos14reduced-Annotations/`` with ``videoname``, ``subset``
  (``validation`` for the train split, ``test``), ``labels`` (per segment),
  ``labels_all`` (per video), ``segments``, ``duration`` and ``classlist``
  ``.npy`` files, and ``Ambiguous_test.txt`` (the test split's ambiguous
  segments, two spaces after the video name as in the release).
* ``per_video``: ``DIR/features/{train,test}/{rgb,flow}/<video>.npy`` with
  ``gt.json`` (segments as strings, subsets ``train`` and ``test``),
  ``split_train.txt`` and ``split_test.txt``.

Segments are in seconds, as stored. Reading an export back with
``data_prep.build thumos14 --layout=... --stream_dim=D`` gives the same
features, labels and segments (tests/test_export.py). Audio is not exported:
neither release layout has it. A dataset without ``rgb`` and ``flow``, or an
existing non-empty ``--out`` without ``--overwrite``, stops with one
``error:`` line.
"""

from __future__ import annotations

import json
import os
import shutil

import numpy as np

from wtal_jax.cli_errors import UserInputError
from wtal_jax.data import source as source_lib

LAYOUTS = ("wtalc", "per_video")
WTALC_NAME = "Thumos14reduced"
# Release subset names of the train and test splits.
WTALC_SUBSETS = {"train": "validation", "test": "test"}
SPLITS = ("train", "test")


class ExportError(UserInputError, ValueError):
  """The dataset or the output folder cannot be exported as asked."""


def _videos(dataset: source_lib.FeatureDataset, split: str):
  """Yields ``(video_id, rgb, flow, segments_Sx2, segment_classes, labels_C,
  duration, ambiguous_Ax2)`` of every video of ``split`` in record order."""
  for i in range(len(dataset.split(split))):
    ex = dataset.split(split)[i]
    yield (ex["video_id"], np.asarray(ex["rgb"], np.float32),
           np.asarray(ex["flow"], np.float32),
           np.asarray(ex["segments"], np.float64).reshape(-1, 2),
           np.asarray(ex["segment_labels"], np.int64).reshape(-1),
           np.asarray(ex["labels"]), float(ex["duration"]),
           np.asarray(ex["ambiguous"], np.float64).reshape(-1, 2))


def _object_array(items) -> np.ndarray:
  out = np.empty(len(items), object)
  out[:] = items
  return out


def export_wtalc(dataset: source_lib.FeatureDataset, out: str) -> int:
  """Writes the W-TALC layout; returns the number of videos."""
  names = list(dataset.meta.class_names)
  rows = {k: [] for k in ("feats", "video", "subset", "labels", "labels_all",
                          "segments", "duration")}
  ambiguous = []
  for split in SPLITS:
    for vid, rgb, flow, seg, cls, labels, duration, amb in _videos(dataset,
                                                                   split):
      rows["feats"].append(np.concatenate([rgb, flow], axis=1))
      rows["video"].append(vid.encode())
      rows["subset"].append(WTALC_SUBSETS[split].encode())
      rows["labels"].append([names[c] for c in cls])
      rows["labels_all"].append([names[c] for c in np.flatnonzero(labels)])
      rows["segments"].append([[float(s), float(e)] for s, e in seg])
      rows["duration"].append([duration])
      if split == "test":
        ambiguous += [f"{vid}  {s:g} {e:g}" for s, e in amb]
  ann = os.path.join(out, f"{WTALC_NAME}-Annotations")
  os.makedirs(ann)
  np.save(os.path.join(out, f"{WTALC_NAME}-I3D-JOINTFeatures.npy"),
          _object_array(rows["feats"]), allow_pickle=True)
  np.save(os.path.join(ann, "videoname.npy"), np.array(rows["video"]))
  np.save(os.path.join(ann, "subset.npy"), np.array(rows["subset"]))
  for key in ("labels", "labels_all", "segments"):
    np.save(os.path.join(ann, f"{key}.npy"), _object_array(rows[key]),
            allow_pickle=True)
  np.save(os.path.join(ann, "duration.npy"),
          np.array(rows["duration"], np.float64))
  np.save(os.path.join(ann, "classlist.npy"),
          np.array([n.encode() for n in names]))
  with open(os.path.join(ann, "Ambiguous_test.txt"), "w") as f:
    f.write("".join(line + "\n" for line in ambiguous))
  return len(rows["video"])


def export_per_video(dataset: source_lib.FeatureDataset, out: str) -> int:
  """Writes the per-video layout; returns the number of videos."""
  names = list(dataset.meta.class_names)
  database, count = {}, 0
  for split in SPLITS:
    ids = []
    for modality in ("rgb", "flow"):
      os.makedirs(os.path.join(out, "features", split, modality))
    for vid, rgb, flow, seg, cls, _, _, _ in _videos(dataset, split):
      np.save(os.path.join(out, "features", split, "rgb", vid + ".npy"), rgb)
      np.save(os.path.join(out, "features", split, "flow", vid + ".npy"), flow)
      database[vid] = {"subset": split, "annotations": [
          {"segment": [repr(float(s)), repr(float(e))], "label": names[c]}
          for (s, e), c in zip(seg, cls)]}
      ids.append(vid)
    with open(os.path.join(out, f"split_{split}.txt"), "w") as f:
      f.write("".join(v + "\n" for v in ids))
    count += len(ids)
  with open(os.path.join(out, "gt.json"), "w") as f:
    json.dump({"database": database}, f)
  return count


def export(dataset_dir: str, layout: str, out: str,
           overwrite: bool = False) -> int:
  """Exports the prepared dataset at ``dataset_dir`` to ``out``.

  Args:
    dataset_dir: A prepared dataset's version directory.
    layout: ``"wtalc"`` or ``"per_video"``.
    out: Output folder (created; must be empty unless ``overwrite``).
    overwrite: Replace a non-empty ``out``.

  Returns:
    The number of videos written.

  Raises:
    ExportError: On a bad layout, a dataset without RGB and flow, or a
      non-empty ``out`` without ``overwrite``.
  """
  if layout not in LAYOUTS:
    raise ExportError(f"--layout must be one of {list(LAYOUTS)}, got "
                      f"{layout!r}.")
  dataset = source_lib.FeatureDataset(dataset_dir)
  dims = dataset.meta.modality_dims
  if "rgb" not in dims or "flow" not in dims:
    raise ExportError(
        f"{dataset_dir} has modalities {sorted(dims)}; both release layouts "
        "hold RGB and flow features, so only a dataset with 'rgb' and 'flow' "
        "can be exported.")
  missing = [s for s in SPLITS if s not in dataset.split_names]
  if missing:
    raise ExportError(f"{dataset_dir} has no split {missing[0]!r}; the "
                      f"release layouts need {list(SPLITS)}.")
  if os.path.isdir(out) and os.listdir(out):
    if not overwrite:
      raise ExportError(f"--out {out} is not empty; choose an empty folder "
                        "or pass --overwrite to replace it.")
    shutil.rmtree(out)
  os.makedirs(out, exist_ok=True)
  write = export_wtalc if layout == "wtalc" else export_per_video
  return write(dataset, out)


def main(argv) -> None:
  from absl import flags  # pylint: disable=g-import-not-at-top
  del argv
  f = flags.FLAGS
  data_dir = f.data_dir or source_lib.default_data_dir()
  directory = source_lib.builder_dir(data_dir, f.dataset, f.config or None)
  if directory is None:
    raise ExportError(
        f"No prepared {f.dataset!r} (config {f.config!r}) under {data_dir}; "
        f"build it first: python -m data_prep.build {f.dataset} "
        f"--config={f.config}.")
  n = export(directory, f.layout, f.out, f.overwrite)
  dims = source_lib.FeatureDataset(directory).meta.modality_dims
  print(f"Wrote {n} videos of {directory} in the {f.layout} layout to "
        f"{f.out}. Read it back with: python -m data_prep.build thumos14 "
        f"--layout={f.layout} --stream_dim={dims['rgb']} ...")


def _define_flags() -> None:
  from absl import flags  # pylint: disable=g-import-not-at-top
  flags.DEFINE_enum("layout", None, list(LAYOUTS), "Release layout to write.")
  flags.DEFINE_string("out", None, "Output folder (created; must be empty).")
  flags.DEFINE_string("dataset", "synthetic_thumos", "Prepared dataset name.")
  flags.DEFINE_string("config", "full_dims256-256-32",
                      "Its config ('' for none); the default is the data of "
                      "the :synthetic configs.")
  flags.DEFINE_string("data_dir", "", "TFDS data folder ('' = "
                      "$WTAL_JAX_DATA_DIR or ~/tensorflow_datasets).")
  flags.DEFINE_bool("overwrite", False, "Replace a non-empty --out.")
  flags.mark_flags_as_required(["layout", "out"])


if __name__ == "__main__":
  from wtal_jax import cli_errors  # pylint: disable=g-import-not-at-top
  _define_flags()
  cli_errors.run(main)
