"""Errors caused by what a user gave to inference (a workdir, features).

The command line prints them as one line and exits with status 2
(:mod:`wtal_jax.cli_errors`); the Python API raises them. :class:`BadVideoInput` names the video, the modality, what
is wrong and how to fix it; with ``on_bad_video="skip"`` it becomes an entry
of the prediction report instead.
"""

from __future__ import annotations

from wtal_jax.cli_errors import UserInputError
# Raised while reading a run's inference.json (training writes and reads it).
from wtal_jax.training.inference_file import MissingMetadataError  # noqa: F401


class PredictInputError(UserInputError, ValueError):
  """The input to inference cannot be used (workdir, files, features)."""


class NoCheckpointError(PredictInputError):
  """The workdir has no (usable) checkpoint of the requested kind."""


class BadVideoInput(PredictInputError):
  """One video's features are unusable.

  Attributes:
    video: The video name.
    modality: The modality at fault (``rgb``, ``flow+rgb``, ...).
    problem: What was found.
    fix: How to fix it.
  """

  def __init__(self, video: str, modality: str, problem: str, fix: str = ""):
    self.video, self.modality, self.problem, self.fix = (video, modality,
                                                         problem, fix)
    message = f"video {video!r}, modality {modality!r}: {problem}"
    if fix:
      message += f" Fix: {fix}"
    super().__init__(message)

  @property
  def reason(self) -> str:
    """The one-line reason listed in the report when the video is skipped."""
    return f"{self.modality}: {self.problem}"

  def to_dict(self) -> dict[str, str]:
    return {"video": self.video, "modality": self.modality,
            "reason": self.problem, "fix": self.fix}


def from_data_error(error, video: str | None = None) -> BadVideoInput:
  """The :class:`BadVideoInput` of a converter's ``BadVideoError``."""
  return BadVideoInput(video or error.video, error.field, error.problem,
                       getattr(error, "fix", ""))
