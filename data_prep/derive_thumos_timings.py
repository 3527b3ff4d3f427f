r"""Derives the packaged THUMOS14 timings file from the W-TALC annotations.

The synthetic dataset reuses the real THUMOS14 annotation timings, so the
package ships them as a compact JSON file
(``data_prep/resources/thumos14_timings.json``) and the build never needs the
original annotation folder. This script regenerates that file:

  python -m data_prep.derive_thumos_timings \
      --annotations=../shared/data/Thumos14reduced-Annotations

It reads the W-TALC layout: ``videoname.npy``, ``subset.npy``,
``segments.npy``, ``labels.npy``, ``duration.npy``, ``classlist.npy`` (pickled
object arrays; names are bytes) and ``Ambiguous_test.txt`` (``video start
end`` per line). The ``validation`` subset becomes the ``train`` split.

Values are copied, never rounded: JSON floats are written with Python's
shortest round-trip repr, so every segment bound and duration loads back as
the identical float64. Instances that end after the annotated duration (a few
videos have them) are kept as they are and listed on stdout.
"""

from __future__ import annotations

import functools
import json
import os
import types
from typing import Any, Mapping

from absl import app
from absl import flags
import numpy as np

# W-TALC subset name to the split name used by every wtal_jax dataset.
SUBSET_TO_SPLIT = {"validation": "train", "test": "test"}

DEFAULT_OUTPUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "resources",
    "thumos14_timings.json")

FORMAT_VERSION = 1


def _load(ann_dir: str, name: str) -> np.ndarray:
  path = os.path.join(ann_dir, name)
  if not os.path.exists(path):
    raise FileNotFoundError(
        f"{path} is missing; --annotations must point at a W-TALC "
        "annotation folder such as Thumos14reduced-Annotations.")
  return np.load(path, allow_pickle=True)


def _text(value: Any) -> str:
  return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def read_ambiguous(path: str) -> dict[str, list[list[float]]]:
  """Reads ``Ambiguous_test.txt`` into video name -> list of [start, end]."""
  out: dict[str, list[list[float]]] = {}
  with open(path, encoding="utf-8") as f:
    for line_no, line in enumerate(f, 1):
      fields = line.split()
      if not fields:
        continue
      if len(fields) != 3:
        raise ValueError(
            f"{path}:{line_no}: expected 'video start end', got {line!r}.")
      start, end = float(fields[1]), float(fields[2])
      if not start < end:
        raise ValueError(
            f"{path}:{line_no}: ambiguous segment of {fields[0]} has start "
            f"{start} >= end {end}; fix the file.")
      out.setdefault(fields[0], []).append([start, end])
  return out


def read_wtalc_annotations(ann_dir: str) -> dict[str, Any]:
  """Reads a W-TALC THUMOS14 annotation folder into the timings structure.

  Args:
    ann_dir: Folder with the W-TALC ``.npy`` files and ``Ambiguous_test.txt``.

  Returns:
    ``{"format", "source", "class_names", "notes", "splits": {split:
    [video, ...]}}``
    where each video is ``{"video", "duration", "segments", "labels",
    "ambiguous"}``: segments in seconds as ``[start, end]`` lists, labels as
    class indices into ``class_names``. Videos keep the annotation order.
    ``notes`` lists what was not used or looks odd (ambiguous segments of
    unannotated videos, instances that end after the duration).

  Raises:
    ValueError: On inconsistent annotations, naming the video and field.
  """
  names = [_text(v) for v in _load(ann_dir, "videoname.npy")]
  subsets = [_text(v) for v in _load(ann_dir, "subset.npy")]
  segments = _load(ann_dir, "segments.npy")
  labels = _load(ann_dir, "labels.npy")
  durations = np.asarray(_load(ann_dir, "duration.npy"), np.float64).reshape(-1)
  class_names = [_text(c) for c in _load(ann_dir, "classlist.npy")]
  class_index = {c: i for i, c in enumerate(class_names)}
  ambiguous = read_ambiguous(os.path.join(ann_dir, "Ambiguous_test.txt"))

  lengths = {len(names), len(subsets), len(segments), len(labels),
             len(durations)}
  if len(lengths) != 1:
    raise ValueError(
        f"{ann_dir}: videoname/subset/segments/labels/duration have different "
        f"lengths {sorted(lengths)}; the folder is incomplete or mixed.")

  splits: dict[str, list[dict[str, Any]]] = {s: [] for s in
                                             SUBSET_TO_SPLIT.values()}
  for i, video in enumerate(names):
    if subsets[i] not in SUBSET_TO_SPLIT:
      raise ValueError(
          f"{ann_dir}/subset.npy: video {video} has subset {subsets[i]!r}; "
          f"expected one of {sorted(SUBSET_TO_SPLIT)}.")
    segs = [[float(s), float(e)] for s, e in segments[i]]
    labs = [_text(l) for l in labels[i]]
    if len(segs) != len(labs):
      raise ValueError(
          f"{ann_dir}: video {video} has {len(segs)} segments but "
          f"{len(labs)} labels in labels.npy.")
    for (start, end), lab in zip(segs, labs):
      if lab not in class_index:
        raise ValueError(
            f"{ann_dir}/labels.npy: video {video} has label {lab!r} that is "
            "not in classlist.npy.")
      if not start < end:
        raise ValueError(
            f"{ann_dir}/segments.npy: video {video} has a segment with start "
            f"{start} >= end {end}.")
    splits[SUBSET_TO_SPLIT[subsets[i]]].append({
        "video": video,
        "duration": float(durations[i]),
        "segments": segs,
        "labels": [class_index[l] for l in labs],
        "ambiguous": ambiguous.pop(video, []),
    })
  timings = {
      "format": FORMAT_VERSION,
      "source": ("THUMOS14 annotations, W-TALC layout "
                 "(Thumos14reduced-Annotations); validation subset = train"),
      "class_names": class_names,
      "notes": [],
      "splits": splits,
  }
  # THUMOS14 lists ambiguous segments for a test video that has no instance
  # of the 20 classes, so W-TALC never annotated it; say so in the file.
  for video, segs in sorted(ambiguous.items()):
    timings["notes"].append(
        f"Ambiguous_test.txt lists {len(segs)} segments of {video}, which is "
        "not an annotated video; they are not used.")
  timings["notes"].extend(
      f"kept as annotated: {line}" for line in overlong_instances(timings))
  return timings


def format_timings(timings: Mapping[str, Any]) -> str:
  """Serialises timings as JSON with one video per line (diff-friendly)."""
  head = {k: v for k, v in timings.items() if k != "splits"}
  lines = ["{"]
  for key, value in head.items():
    lines.append(f"  {json.dumps(key)}: {json.dumps(value)},")
  lines.append('  "splits": {')
  split_items = list(timings["splits"].items())
  for si, (split, videos) in enumerate(split_items):
    lines.append(f"    {json.dumps(split)}: [")
    for vi, video in enumerate(videos):
      comma = "," if vi < len(videos) - 1 else ""
      lines.append("      " + json.dumps(video, separators=(",", ":")) + comma)
    lines.append("    ]" + ("," if si < len(split_items) - 1 else ""))
  lines.append("  }")
  lines.append("}")
  return "\n".join(lines) + "\n"


def overlong_instances(timings: Mapping[str, Any]) -> list[str]:
  """Lists instances that end after their video's annotated duration."""
  out = []
  for split, videos in timings["splits"].items():
    for v in videos:
      late = [s for s in v["segments"] if s[1] > v["duration"]]
      if late:
        out.append(f"{split}/{v['video']}: {len(late)} of "
                   f"{len(v['segments'])} instances end after the duration "
                   f"{v['duration']} s (last ends at {late[-1][1]} s)")
  return out


@functools.cache
def _flags() -> types.SimpleNamespace:
  """The command-line flags, defined on the first call.

  Only running the module as a program calls it, so that the module can be
  imported next to the other command-line modules (which also define
  ``--output``)."""
  annotations = flags.DEFINE_string(
      "annotations", None,
      "W-TALC THUMOS14 annotation folder (Thumos14reduced-Annotations).")
  output = flags.DEFINE_string(
      "output", DEFAULT_OUTPUT, "Where to write the timings JSON.")
  return types.SimpleNamespace(**locals())  # Each local is a flag.


def main(argv):
  args = _flags()
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  if not args.annotations.value:
    raise app.UsageError("--annotations is required.")
  timings = read_wtalc_annotations(args.annotations.value)
  with open(args.output.value, "w", encoding="utf-8") as f:
    f.write(format_timings(timings))
  for split, videos in timings["splits"].items():
    print(f"{split}: {len(videos)} videos, "
          f"{sum(len(v['segments']) for v in videos)} instances")
  for note in timings["notes"]:
    print(note)
  print(f"wrote {args.output.value}")


if __name__ == "__main__":
  _flags()
  app.run(main)
