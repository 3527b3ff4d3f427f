"""Audio features aligned to the visual snippet grid.

Audio releases (VGGish and its relatives) give one 128-d vector per audio
frame with their own hop, e.g. 0.96 s, while the I3D snippets of THUMOS14 are
0.64 s long. The converter resamples the audio onto the visual grid by time:

* audio frame ``j`` stands for the instant ``(j + 0.5) * hop`` (its centre),
  visual snippet ``i`` for ``(i + 0.5) * seconds_per_snippet``;
* each visual snippet gets the linear interpolation, per feature dimension,
  between the two audio frames whose centres surround its centre;
* before the first and after the last audio centre the nearest frame is held.

Linear interpolation keeps the (smooth) VGGish embedding between frames and
never invents values outside the range of its two neighbours; holding the
edges reconciles an audio track that is slightly shorter than the video
without padding it with zeros the model would read as silence.

The two tracks rarely have exactly the same length. A disagreement of at most
one hop is rounding and is reconciled silently; a larger one is reconciled
the same way but both lengths are reported; one larger than
``max_mismatch`` (a fraction of the video, at least ``min_mismatch_hops``
hops) means the wrong audio file or hop, and the video is refused.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from data_prep import validation

VGGISH_DIM = 128
VGGISH_HOP_S = 0.96


@dataclasses.dataclass(frozen=True)
class AudioSpec:
  """Where audio features are and how to read them.

  Attributes:
    directory: Folder of per-video ``<video>.npy`` arrays ``(T_audio, dim)``.
    hop_s: Seconds between consecutive audio frames.
    dim: Feature width.
    max_mismatch: Largest tolerated length disagreement, as a fraction of
      the visual length.
    min_mismatch_hops: The tolerance is never below this many hops.
  """

  directory: str
  hop_s: float = VGGISH_HOP_S
  dim: int = VGGISH_DIM
  max_mismatch: float = 0.1
  min_mismatch_hops: float = 3.0

  def path(self, video: str) -> str:
    return os.path.join(self.directory, f"{video}.npy")

  def tolerance_s(self, visual_s: float) -> float:
    return max(self.max_mismatch * visual_s, self.min_mismatch_hops * self.hop_s)


def align_to_snippets(audio_TaxD: np.ndarray, hop_s: float, video_length: int,
                      seconds_per_snippet: float) -> np.ndarray:
  """Resamples audio frames onto the visual snippet grid (see module doc).

  Args:
    audio_TaxD: Audio features, one row per audio frame.
    hop_s: Seconds between audio frames.
    video_length: Visual snippets T.
    seconds_per_snippet: Seconds per visual snippet.

  Returns:
    ``(T, D)`` float32 audio features on the visual grid.
  """
  audio = np.asarray(audio_TaxD, np.float32)
  t_a = audio.shape[0]
  # Position of each visual centre in units of audio frames, measured from
  # the first audio centre.
  pos_T = ((np.arange(video_length) + 0.5) * seconds_per_snippet / hop_s
           - 0.5)
  pos_T = np.clip(pos_T, 0.0, t_a - 1)
  lo_T = np.floor(pos_T).astype(np.int64)
  hi_T = np.minimum(lo_T + 1, t_a - 1)
  w_T = (pos_T - lo_T).astype(np.float32)[:, None]
  return (1.0 - w_T) * audio[lo_T] + w_T * audio[hi_T]


@dataclasses.dataclass(frozen=True)
class AlignedAudio:
  """The aligned track and, when the lengths disagree by more than one hop,
  a note with both lengths."""

  features_TxD: np.ndarray
  note: str = ""


def load_aligned(spec: AudioSpec, split: str, video: str, video_length: int,
                 seconds_per_snippet: float) -> AlignedAudio:
  """Reads, checks and aligns one video's audio features.

  Raises:
    BadVideoError: The file is missing, has the wrong width, NaN/inf values,
      is empty or all zeros, or its length disagrees with the video's by more
      than the tolerance (both lengths are in the message).
  """
  path = spec.path(video)
  if not os.path.exists(path):
    raise validation.BadVideoError(
        split, video, "audio", f"no audio features at {path}.",
        "add the file, point --audio_dir at the right folder, or run with "
        "--on_bad_video=skip.")
  return align_checked(spec, split, video, np.load(path, mmap_mode="r"),
                       video_length, seconds_per_snippet, path)


def align_checked(spec: AudioSpec, split: str, video: str,
                  audio_TaxD: np.ndarray, video_length: int,
                  seconds_per_snippet: float,
                  source: str = "") -> AlignedAudio:
  """Checks one video's audio features and aligns them (see module doc).

  Args:
    spec: Hop, width and length tolerance (``spec.directory`` is not used).
    split: Split name (for messages).
    video: Video name.
    audio_TaxD: The audio features at their own hop.
    video_length: Visual snippets T.
    seconds_per_snippet: Seconds per visual snippet.
    source: Where the array came from (for messages).

  Raises:
    BadVideoError: Wrong width, NaN/inf values, empty or all zeros, or a
      length that disagrees with the video's by more than the tolerance.
  """
  audio = validation.check_feature_array(split, video, "audio", audio_TaxD,
                                         spec.dim, source)
  audio_s = audio.shape[0] * spec.hop_s
  visual_s = video_length * seconds_per_snippet
  gap_s = audio_s - visual_s
  lengths = (f"audio {audio.shape[0]} frames x {spec.hop_s:g} s = "
             f"{audio_s:.2f} s, video {video_length} snippets x "
             f"{seconds_per_snippet:g} s = {visual_s:.2f} s")
  if abs(gap_s) > spec.tolerance_s(visual_s):
    raise validation.BadVideoError(
        split, video, "audio",
        f"audio much {'longer' if gap_s > 0 else 'shorter'} than the video "
        f"({lengths}; tolerance {spec.tolerance_s(visual_s):.2f} s).",
        "check --audio_hop and that the audio file belongs to this video.")
  note = ""
  if abs(gap_s) > spec.hop_s:
    note = (f"{split}/{video}: audio and video lengths differ by "
            f"{abs(gap_s):.2f} s ({lengths}); audio resampled onto the video "
            "grid, edges held.")
  return AlignedAudio(
      align_to_snippets(audio, spec.hop_s, video_length, seconds_per_snippet),
      note)
