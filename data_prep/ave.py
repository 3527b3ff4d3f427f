"""``ave``: the Audio-Visual Event (AVE) dataset, per-second labels.

AVE (Tian et al., ECCV 2018) has 4143 ten-second videos of 28 audio-visual
event categories; each video has one event, annotated in whole seconds. Its
release (``AVE_Dataset/``) has ``Annotations.txt``, ``trainSet.txt``,
``valSet.txt`` and ``testSet.txt``, one ``Category&VideoID&Quality&Start&End``
line per video after a header. The converter reads per-second features as
per-video arrays:

* ``<features>/visual/<VideoID>.npy``: ``(10, D)`` visual features, one row
  per second (ResNet-152 global pool, D = 2048, as CAAV; any D is accepted as
  long as every video has the same);
* ``<features>/audio/<VideoID>.npy``: ``(10, 128)`` VGGish features, one row
  per second (aligned to the visual grid by :mod:`data_prep.audio`, which
  for a 1 s hop is the identity).

The visual modality is stored as ``rgb`` so that configs name it like the
visual stream of the other datasets. Splits: ``train``, ``val``, ``test``.
The class list is the sorted categories of ``Annotations.txt``. Snippet ``k``
covers second ``[k, k+1)`` and is labelled with the event when its centre
``k + 0.5`` lies in ``[start, end)``, else background (index 28 = C). The
event is also stored as a ground-truth segment in seconds.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Mapping

import numpy as np

from data_prep import audio as audio_lib
from data_prep import convert
from data_prep import validation
from data_prep.annotations import VideoAnnotation, require_file

NAME = "ave"
SPLIT_FILES = {"train": "trainSet.txt", "val": "valSet.txt",
               "test": "testSet.txt"}
SECONDS_PER_SNIPPET = 1.0


@dataclasses.dataclass(frozen=True)
class AveOptions:
  """How to convert the AVE release.

  Attributes:
    ave_dir: ``AVE_Dataset`` folder with the annotation text files.
    features: Folder with ``visual/`` and ``audio/`` (default:
      ``<ave_dir>/features``).
    visual_dim: Visual width; None = that of the first training video.
    audio_dim: Audio width (128 for VGGish).
    audio_hop: Seconds between audio frames (1.0 in the release).
    on_bad_video: ``error`` or ``skip``.
    out_of_video: ``keep``, ``drop`` or ``error``.
    config_name: Builder config name (default ``default``).
  """

  ave_dir: str
  features: str | None = None
  visual_dim: int | None = None
  audio_dim: int = audio_lib.VGGISH_DIM
  audio_hop: float = SECONDS_PER_SNIPPET
  on_bad_video: str = "error"
  out_of_video: str = "error"
  config_name: str | None = None

  @property
  def resolved_config_name(self) -> str:
    return self.config_name or "default"

  @property
  def features_dir(self) -> str:
    return self.features or os.path.join(self.ave_dir, "features")


def read_ave_list(path: str) -> list[tuple[str, str, float, float]]:
  """``(category, video, start, end)`` per line of an AVE list file.

  Raises:
    DataError: Malformed line (file and line number in the message).
  """
  require_file(path, "--ave_dir must be the AVE_Dataset folder with "
               "Annotations.txt, trainSet.txt, valSet.txt and testSet.txt.")
  out = []
  with open(path, encoding="utf-8") as f:
    for line_no, line in enumerate(f, 1):
      fields = line.strip().split("&")
      if not line.strip() or (line_no == 1 and fields[0] == "Category"):
        continue
      if len(fields) != 5:
        raise validation.DataError(
            f"{path}:{line_no}: expected 'Category&VideoID&Quality&Start&End',"
            f" got {line.strip()!r}.")
      try:
        start, end = float(fields[3]), float(fields[4])
      except ValueError as e:
        raise validation.DataError(
            f"{path}:{line_no}: video {fields[1]}, field 'StartTime/EndTime': "
            f"not numbers ({line.strip()!r}).") from e
      out.append((fields[0], fields[1], start, end))
  return out


def read_splits(ave_dir: str) -> tuple[tuple[str, ...],
                                        dict[str, tuple[VideoAnnotation, ...]]]:
  """The class list and the annotated videos of each split."""
  classes = tuple(sorted({c for c, *_ in read_ave_list(
      os.path.join(ave_dir, "Annotations.txt"))}))
  splits = {}
  for split, name in SPLIT_FILES.items():
    per_video: dict[str, list[tuple[str, float, float]]] = {}
    for category, video, start, end in read_ave_list(
        os.path.join(ave_dir, name)):
      per_video.setdefault(video, []).append((category, start, end))
    splits[split] = tuple(
        VideoAnnotation(video=v, index=-1, duration=None,
                        segments=tuple((s, e) for _, s, e in events),
                        labels=tuple(c for c, _, _ in events))
        for v, events in per_video.items())
  return classes, splits


def snippet_labels(ann: VideoAnnotation, video_length: int,
                   class_index: Mapping[str, int]) -> np.ndarray:
  """Per-second labels, background = C (see the module docstring)."""
  labels_T = np.full(video_length, len(class_index), np.int32)
  centres_T = (np.arange(video_length) + 0.5) * SECONDS_PER_SNIPPET
  for (start, end), label in zip(ann.segments, ann.labels):
    labels_T[(centres_T >= start) & (centres_T < end)] = class_index[label]
  return labels_T


def _visual_width(features_dir: str, first_video: str) -> int:
  path = os.path.join(features_dir, "visual", f"{first_video}.npy")
  require_file(path, "the AVE features folder needs visual/<VideoID>.npy per "
               "video (or pass --visual_dim).")
  return int(np.load(path, mmap_mode="r").shape[-1])


def make_spec(o: AveOptions) -> convert.ConversionSpec:
  classes, splits = read_splits(o.ave_dir)
  feats_dir = o.features_dir
  if not os.path.isdir(feats_dir):
    raise validation.DataError(
        f"{feats_dir} is not a folder: --features must hold visual/ and "
        "audio/ with one <VideoID>.npy per video.")
  first = next(a.video for s in splits.values() for a in s)
  visual_dim = o.visual_dim or _visual_width(feats_dir, first)

  def read_visual(split, a):
    path = os.path.join(feats_dir, "visual", f"{a.video}.npy")
    if not os.path.exists(path):
      raise validation.BadVideoError(
          split, a.video, "rgb", f"no visual features at {path}.",
          "add the file, or build with --on_bad_video=skip.")
    arr = np.load(path, mmap_mode="r")
    return {"rgb": validation.check_feature_array(
        split, a.video, "rgb", arr, visual_dim, path)}

  annotated = {a.video for s in splits.values() for a in s}
  on_disk = {f[:-4] for f in os.listdir(os.path.join(feats_dir, "visual"))
             if f.endswith(".npy")} if os.path.isdir(
                 os.path.join(feats_dir, "visual")) else set()
  skipped = [("unassigned", v, "visual features but in no split file; not "
              "used") for v in sorted(on_disk - annotated)]
  return convert.ConversionSpec(
      name=NAME, config_name=o.resolved_config_name, class_names=classes,
      splits=splits, read_visual=read_visual,
      visual_dims={"rgb": visual_dim},
      seconds_per_snippet=SECONDS_PER_SNIPPET,
      source=(f"AVE: annotations {os.path.abspath(o.ave_dir)}, features "
              f"{os.path.abspath(feats_dir)}"),
      audio=audio_lib.AudioSpec(os.path.join(feats_dir, "audio"),
                                hop_s=o.audio_hop, dim=o.audio_dim),
      on_bad_video=o.on_bad_video, out_of_video=o.out_of_video,
      snippet_labels=snippet_labels, skipped=skipped,
      notes=(f"{len(skipped)} feature files belong to no split."
             ,) if skipped else ())


class Ave(convert.ConvertedDataset):
  """AVE visual + audio per-second features with per-second labels."""

  name = NAME


def make_builder(data_dir: str, o: AveOptions) -> Ave:
  return Ave(make_spec(o), data_dir=os.path.expanduser(data_dir))


def build(data_dir: str, o: AveOptions,
          overwrite: bool = False) -> convert.ConversionResult:
  """Converts AVE into ``<data_dir>/ave/<config>/1.0.0``."""
  return convert.convert(lambda: make_builder(data_dir, o), overwrite)
