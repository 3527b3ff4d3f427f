"""Optional per-dimension standardisation of input features.

Published recipes feed raw I3D features (``config.data.normalize = "none"``).
``"standardize"`` maps every modality to zero mean and unit variance per
dimension, with statistics over all real snippets of the *training* split.
Raw post-ReLU features share a large positive offset in every dimension; under
Adam's per-coordinate steps that offset dominates the early updates, so short
training budgets (the CPU-sized ``:synthetic`` variants) learn far faster on
standardised inputs.
"""

from __future__ import annotations

import dataclasses
from typing import Mapping

import numpy as np

NORMALIZATIONS = ("none", "standardize")


@dataclasses.dataclass(frozen=True)
class FeatureStats:
  """Per-modality mean and standard deviation, ``{name: (D,)}``."""

  mean: Mapping[str, np.ndarray]
  std: Mapping[str, np.ndarray]

  def apply(self, name: str, x_TxD: np.ndarray) -> np.ndarray:
    if name not in self.mean:
      return x_TxD
    return ((x_TxD - self.mean[name]) / self.std[name]).astype(np.float32)


def compute_stats(split, modalities, min_std: float = 1e-3) -> FeatureStats:
  """Streams once over ``split`` and returns per-dimension statistics.

  Args:
    split: A :class:`~wtal_jax.data.source.VideoSplit` (normally train).
    modalities: Modality names to standardise.
    min_std: Floor on the standard deviation (constant dimensions).
  """
  sums = {m: 0.0 for m in modalities}
  sq = {m: 0.0 for m in modalities}
  count = 0
  for i in range(len(split)):
    ex = split[i]
    for m in modalities:
      x = ex[m].astype(np.float64)
      sums[m] = sums[m] + x.sum(0)
      sq[m] = sq[m] + np.square(x).sum(0)
    count += ex[modalities[0]].shape[0]
  if count == 0:
    raise ValueError(f"Split {split.name!r} has no snippets to compute "
                     "normalisation statistics from.")
  mean = {m: sums[m] / count for m in modalities}
  std = {m: np.sqrt(np.maximum(sq[m] / count - mean[m] ** 2, 0.0))
         for m in modalities}
  return FeatureStats(
      mean={m: v.astype(np.float32) for m, v in mean.items()},
      std={m: np.maximum(v, min_std).astype(np.float32)
           for m, v in std.items()})
