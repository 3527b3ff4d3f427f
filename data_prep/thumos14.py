"""``thumos14``: the THUMOS14 I3D feature releases as a wtal_jax dataset.

Two public layouts are read (see docs/datasets.md, "Preparing real features"):

* ``wtalc``: ``Thumos14reduced-I3D-JOINTFeatures.npy`` (one ``(T, 2048)``
  array per video, RGB then flow, rows in the order of ``videoname.npy``)
  with ``Thumos14reduced-Annotations/``. Splits: ``train`` = the 200
  ``validation`` videos (3007 instances), ``test`` = the 212 test videos
  (3358 instances), with the ambiguous segments of ``Ambiguous_test.txt``.
* ``per_video``: ``features/{train,test}/{rgb,flow}/<video>.npy`` (each
  ``(T, 1024)``) with ``gt.json``, ``split_train.txt`` and ``split_test.txt``
  (200 train and 210 test videos; test videos 270 and 1496 are not in it).
  ``gt.json`` has no durations, so a video's duration is its feature grid,
  ``T * 16 / 25`` s. The class list is the sorted labels of ``gt.json`` (the
  W-TALC ``classlist`` order).

With ``audio_dir``, per-video VGGish-style ``<video>.npy`` arrays are aligned
to the visual grid and stored as the ``audio`` modality (config suffix
``_audio``). Snippets are 16 frames at 25 fps (``seconds_per_snippet`` 0.64);
both numbers can be changed for other extractions.
"""

from __future__ import annotations

import dataclasses
import os

from data_prep import annotations as ann_lib
from data_prep import audio as audio_lib
from data_prep import convert
from data_prep import feature_files

NAME = "thumos14"
LAYOUTS = ("wtalc", "per_video")
SUBSET_TO_SPLIT = {"validation": "train", "test": "test"}
FRAMES_PER_SNIPPET = 16
FPS = 25.0
I3D_DIM = 1024


@dataclasses.dataclass(frozen=True)
class Thumos14Options:
  """How to convert one THUMOS14 release.

  Attributes:
    layout: ``wtalc`` or ``per_video``.
    features: W-TALC: the JOINT features ``.npy``; per-video: the
      ``features`` folder (default: ``<annotations>/features``).
    annotations: The annotation folder of the layout.
    audio_dir: Folder of per-video audio ``.npy`` arrays, or None.
    audio_hop: Seconds between audio frames.
    audio_max_mismatch: Largest audio/video length disagreement tolerated,
      as a fraction of the video.
    audio_dim: Audio feature width (128 for VGGish).
    stream_dim: Width of each visual stream (1024 for I3D).
    frames_per_snippet: Frames per snippet.
    fps: Frame rate of the feature extraction.
    on_bad_video: ``error`` or ``skip``.
    out_of_video: ``keep``, ``drop`` or ``error``.
    config_name: Builder config name; default from the options.
  """

  layout: str
  features: str | None
  annotations: str
  audio_dir: str | None = None
  audio_hop: float = audio_lib.VGGISH_HOP_S
  audio_max_mismatch: float = 0.1
  audio_dim: int = audio_lib.VGGISH_DIM
  stream_dim: int = I3D_DIM
  frames_per_snippet: float = FRAMES_PER_SNIPPET
  fps: float = FPS
  on_bad_video: str = "error"
  out_of_video: str = "keep"
  config_name: str | None = None

  @property
  def resolved_config_name(self) -> str:
    return self.config_name or default_config_name(
        self.layout, self.audio_dir is not None, self.stream_dim)


def default_config_name(layout: str, with_audio: bool,
                        stream_dim: int = I3D_DIM) -> str:
  """``wtalc``, ``wtalc_audio``, ``per_video``, ... (``_dim<D>`` when the
  streams are not 1024 wide)."""
  name = layout + ("_audio" if with_audio else "")
  if stream_dim != I3D_DIM:
    name += f"_dim{stream_dim}"
  return name


def audio_spec(o) -> audio_lib.AudioSpec | None:
  if o.audio_dir is None:
    return None
  if not os.path.isdir(o.audio_dir):
    raise convert.validation.DataError(
        f"{o.audio_dir} is not a folder: --audio_dir must hold one "
        "<video>.npy array of audio features per video.")
  return audio_lib.AudioSpec(o.audio_dir, hop_s=o.audio_hop, dim=o.audio_dim,
                             max_mismatch=o.audio_max_mismatch)


def make_spec(o: Thumos14Options) -> convert.ConversionSpec:
  """The conversion of one release (annotations are read now, features
  lazily while writing)."""
  if o.layout not in LAYOUTS:
    raise convert.validation.DataError(
        f"--layout must be one of {list(LAYOUTS)}, got {o.layout!r}.")
  common = dict(
      name=NAME, config_name=o.resolved_config_name,
      visual_dims={"rgb": o.stream_dim, "flow": o.stream_dim},
      seconds_per_snippet=o.frames_per_snippet / o.fps,
      frames_per_snippet=o.frames_per_snippet, fps=o.fps,
      audio=audio_spec(o), on_bad_video=o.on_bad_video,
      out_of_video=o.out_of_video)
  if o.layout == "wtalc":
    if not o.features:
      raise convert.validation.DataError(
          "--features is required with --layout=wtalc: the "
          "Thumos14reduced-I3D-JOINTFeatures.npy file.")
    return wtalc_spec(o.features, o.annotations, SUBSET_TO_SPLIT,
                      o.stream_dim, common)
  anns = ann_lib.read_per_video(o.annotations)
  root = o.features or os.path.join(o.annotations, "features")
  feats = feature_files.PerVideoFeatures(root, o.stream_dim)
  skipped = []
  for split, videos in anns.splits.items():
    annotated = {v.video for v in videos}
    for video in sorted(feats.videos_on_disk(split) - annotated):
      skipped.append((split, video,
                      f"features in {root}/{split} but not in "
                      f"split_{split}.txt; not used"))
  return convert.ConversionSpec(
      class_names=anns.class_names, splits=anns.splits,
      read_visual=lambda split, a: feats.read(split, a.video),
      source=(f"THUMOS14 I3D, per-video layout: features {root}, "
              f"annotations {anns.source}"),
      skipped=skipped, notes=anns.notes, **common)


def wtalc_spec(features: str, annotations: str, subset_to_split,
               stream_dim: int, common: dict) -> convert.ConversionSpec:
  """A W-TALC layout conversion (shared with ActivityNet1.2)."""
  anns = ann_lib.read_wtalc(annotations, subset_to_split)
  joint = feature_files.WtalcJointFeatures(features, stream_dim)
  checked = []

  def read_visual(split, a):
    if not checked:
      joint.check_count(anns.num_rows, annotations)
      checked.append(True)
    return joint.read(split, a.video, a.index)

  return convert.ConversionSpec(
      class_names=anns.class_names, splits=anns.splits,
      read_visual=read_visual,
      release=lambda split, a: joint.release(a.index),
      source=(f"{common['name']} I3D, W-TALC layout: features "
              f"{os.path.abspath(features)}, annotations {anns.source}"),
      notes=anns.notes, **common)


def make_builder(data_dir: str, o: Thumos14Options) -> "Thumos14":
  return Thumos14(make_spec(o), data_dir=os.path.expanduser(data_dir))


def build(data_dir: str, o: Thumos14Options,
          overwrite: bool = False) -> convert.ConversionResult:
  """Converts a THUMOS14 release into ``<data_dir>/thumos14/<config>/1.0.0``.

  Raises:
    DataError: On bad input (see :mod:`data_prep.validation`).
  """
  return convert.convert(lambda: make_builder(data_dir, o), overwrite)


class Thumos14(convert.ConvertedDataset):
  """THUMOS14 I3D RGB/flow (and optional audio) features."""

  name = NAME
