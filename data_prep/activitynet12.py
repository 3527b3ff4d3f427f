"""``activitynet12``: the ActivityNet1.2 I3D feature release (W-TALC layout).

Reads ``ActivityNet1.2-I3D-JOINTFeatures.npy`` (one ``(T, 2048)`` array per
video, RGB then flow, in the order of ``videoname.npy``) with
``ActivityNet1.2-Annotations/`` (100 classes). Splits are named by their
role, as for THUMOS14: ``train`` = the 4819 ``training`` videos, ``test`` =
the 2383 ``validation`` videos (the subset the literature evaluates on). Snippets are 16 frames at 25 fps unless
told otherwise.

Many ActivityNet1.2 instances end a few milliseconds after the annotated
duration, and a few have start == end; both are kept exactly as annotated
(official evaluation semantics) and listed in the build report. With
``audio_dir``, per-video audio features are aligned to the visual grid
(config suffix ``_audio``), as for THUMOS14.
"""

from __future__ import annotations

import dataclasses
import os

from data_prep import audio as audio_lib
from data_prep import convert
from data_prep import thumos14

NAME = "activitynet12"
SUBSET_TO_SPLIT = {"training": "train", "validation": "test"}


@dataclasses.dataclass(frozen=True)
class ActivityNet12Options:
  """How to convert the release (fields as :class:`thumos14.Thumos14Options`;
  only the W-TALC layout exists for ActivityNet1.2)."""

  features: str
  annotations: str
  audio_dir: str | None = None
  audio_hop: float = audio_lib.VGGISH_HOP_S
  audio_max_mismatch: float = 0.1
  audio_dim: int = audio_lib.VGGISH_DIM
  stream_dim: int = thumos14.I3D_DIM
  frames_per_snippet: float = thumos14.FRAMES_PER_SNIPPET
  fps: float = thumos14.FPS
  on_bad_video: str = "error"
  out_of_video: str = "keep"
  config_name: str | None = None
  layout: str = "wtalc"

  @property
  def resolved_config_name(self) -> str:
    return self.config_name or thumos14.default_config_name(
        "wtalc", self.audio_dir is not None, self.stream_dim)


def make_spec(o: ActivityNet12Options) -> convert.ConversionSpec:
  if o.layout != "wtalc":
    raise convert.validation.DataError(
        f"activitynet12 exists only in the W-TALC layout, not {o.layout!r}.")
  if not o.features:
    raise convert.validation.DataError(
        "--features is required: the ActivityNet1.2-I3D-JOINTFeatures.npy "
        "file.")
  common = dict(
      name=NAME, config_name=o.resolved_config_name,
      visual_dims={"rgb": o.stream_dim, "flow": o.stream_dim},
      seconds_per_snippet=o.frames_per_snippet / o.fps,
      frames_per_snippet=o.frames_per_snippet, fps=o.fps,
      audio=thumos14.audio_spec(o), on_bad_video=o.on_bad_video,
      out_of_video=o.out_of_video)
  return thumos14.wtalc_spec(o.features, o.annotations, SUBSET_TO_SPLIT,
                             o.stream_dim, common)


class ActivityNet12(convert.ConvertedDataset):
  """ActivityNet1.2 I3D RGB/flow (and optional audio) features."""

  name = NAME


def make_builder(data_dir: str, o: ActivityNet12Options) -> ActivityNet12:
  return ActivityNet12(make_spec(o), data_dir=os.path.expanduser(data_dir))


def build(data_dir: str, o: ActivityNet12Options,
          overwrite: bool = False) -> convert.ConversionResult:
  """Converts the release into ``<data_dir>/activitynet12/<config>/1.0.0``."""
  return convert.convert(lambda: make_builder(data_dir, o), overwrite)
