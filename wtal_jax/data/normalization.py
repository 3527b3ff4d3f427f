"""Optional per-dimension normalisation of input features.

Published recipes feed raw I3D features (``config.data.normalize = "none"``).
Two modes rescale them with statistics over all real snippets of the
*training* split, as ``(x - shift) / scale`` per dimension:

* ``"min_scale"``: shift by the per-dimension minimum, scale by the standard
  deviation. Post-ReLU features (I3D, the synthetic data) have a minimum of 0
  in every dimension, so this only rescales them; features with negative
  values are moved to be non-negative. Either way the inputs stay
  non-negative, which LGCA's ``ReLU(U0 X + U1 X~)`` relies on to keep the
  unattended path intact (a centred feature loses its negative half there).
* ``"standardize"``: zero mean and unit variance per dimension. Fine for heads
  that read the features through a linear layer first, but it centres them.

Raw features are small (mean about 0.3, standard deviation about 0.17 per
dimension): at the CPU-sized ``:synthetic`` budgets the heads barely move in a
few hundred Adam steps at the published learning rates, while unit-scale
inputs let them learn (see the README's results).
"""

from __future__ import annotations

import dataclasses
from typing import Mapping

import numpy as np

NORMALIZATIONS = ("none", "standardize", "min_scale")


@dataclasses.dataclass(frozen=True)
class FeatureStats:
  """Per-modality ``(x - shift) / scale``, each ``{name: (D,)}``.

  Attributes:
    shift: Subtracted per dimension.
    scale: Divides per dimension (already floored, never 0).
    mode: The normalisation that produced them (one of ``NORMALIZATIONS``).
  """

  shift: Mapping[str, np.ndarray]
  scale: Mapping[str, np.ndarray]
  mode: str = "standardize"

  def apply(self, name: str, x_TxD: np.ndarray) -> np.ndarray:
    if name not in self.shift:
      return x_TxD
    return ((x_TxD - self.shift[name]) / self.scale[name]).astype(np.float32)


def compute_stats(split, modalities, mode: str = "standardize",
                  min_std: float = 1e-3) -> FeatureStats:
  """Streams once over ``split`` and returns per-dimension statistics.

  Args:
    split: A :class:`~wtal_jax.data.source.VideoSplit` (normally train).
    modalities: Modality names to normalise.
    mode: ``standardize`` or ``min_scale``.
    min_std: Floor on the standard deviation (constant dimensions).

  Raises:
    ValueError: On an unknown mode or a split without snippets.
  """
  if mode not in NORMALIZATIONS[1:]:
    raise ValueError(f"Normalisation mode must be one of {NORMALIZATIONS[1:]}"
                     f", got {mode!r}.")
  sums = {m: 0.0 for m in modalities}
  sq = {m: 0.0 for m in modalities}
  mins = {m: np.inf for m in modalities}
  count = 0
  for i in range(len(split)):
    ex = split[i]
    for m in modalities:
      x = ex[m].astype(np.float64)
      sums[m] = sums[m] + x.sum(0)
      sq[m] = sq[m] + np.square(x).sum(0)
      if x.shape[0]:
        mins[m] = np.minimum(mins[m], x.min(0))
    count += ex[modalities[0]].shape[0]
  if count == 0:
    raise ValueError(f"Split {split.name!r} has no snippets to compute "
                     "normalisation statistics from.")
  mean = {m: sums[m] / count for m in modalities}
  std = {m: np.maximum(np.sqrt(np.maximum(sq[m] / count - mean[m] ** 2, 0.0)),
                       min_std) for m in modalities}
  shift = mean if mode == "standardize" else mins
  return FeatureStats(
      shift={m: np.asarray(v, np.float32) for m, v in shift.items()},
      scale={m: v.astype(np.float32) for m, v in std.items()}, mode=mode)
