"""Per-video proposals of a post-processing recipe, before NMS."""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np


@dataclasses.dataclass(frozen=True)
class Proposals:
  """Scored segments of one video (struct of arrays, seconds)."""

  label: np.ndarray
  t_start: np.ndarray
  t_end: np.ndarray
  score: np.ndarray

  def __len__(self) -> int:
    return int(self.score.shape[0])

  @classmethod
  def empty(cls) -> "Proposals":
    return cls(np.zeros((0,), np.int64), np.zeros((0,)), np.zeros((0,)),
               np.zeros((0,)))

  @classmethod
  def concatenate(cls, parts: Sequence["Proposals"]) -> "Proposals":
    if not parts:
      return cls.empty()
    return cls(*(np.concatenate([getattr(p, f.name) for p in parts])
                 for f in dataclasses.fields(cls)))


@dataclasses.dataclass(frozen=True)
class NmsSpec:
  """Which per-class NMS to run on a recipe's proposals."""

  kind: str = "none"
  iou: float = 0.6
  sigma: float = 0.3
  # Added to every segment length (and to the intersection) in the tIoU;
  # 1 reproduces public code that measures lengths in seconds as ``e - s +
  # 1`` (see nms.py).
  length_offset: float = 0.0
