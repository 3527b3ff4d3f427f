"""Parameters of the synthetic_thumos generative model.

The model itself (and the meaning of every symbol below) is described in
:mod:`data_prep.synthetic_model`. All amplitudes are in whitened units: a
distance in noise standard deviations, independent of the feature width.
Changing a default changes the generated data, so it needs a new dataset
version in :mod:`data_prep.synthetic_thumos`.
"""

from __future__ import annotations

import dataclasses
from typing import Mapping


@dataclasses.dataclass(frozen=True)
class ModalityParams:
  """How one modality shows actions, context and clutter (whitened units)."""

  core: float  # A: amplitude of the class core.
  edge: float  # E: amplitude of onsets and offsets.
  edge_class_mix: float  # Share of the class prototype in edge prototypes.
  context: float  # B: amplitude of the class context.
  context_class_mix: float  # Share of the class prototype in context.
  informative_classes: float  # Fraction of classes with gain 1.
  uninformative_gain: float  # Gain g of the other classes.
  clutter_fraction: float  # Expected fraction of snippets in clutter.
  clutter_length: float  # Mean stretch length in snippets.
  clutter_attenuation: float  # rho.
  clutter_amplitude: float  # G: amplitude of the clutter pattern.
  distractor: float  # Dl: amplitude of the distractor class core.
  magnitude_action: float  # Whitened norm of the magnitude rise in actions.
  magnitude_context: float  # ... in full class context.
  magnitude_clutter: float  # ... in clutter.
  density: float = 0.25  # Fraction of active dimensions per prototype.


DEFAULT_MODALITIES: Mapping[str, ModalityParams] = {
    "rgb": ModalityParams(
        core=4.5, edge=2.0, edge_class_mix=0.45, context=2.5,
        context_class_mix=0.85, informative_classes=1.0,
        uninformative_gain=1.0, clutter_fraction=0.10, clutter_length=4.0,
        clutter_attenuation=0.8, clutter_amplitude=3.0, distractor=3.0,
        magnitude_action=1.0, magnitude_context=1.0, magnitude_clutter=0.5),
    "flow": ModalityParams(
        core=5.5, edge=2.8, edge_class_mix=0.45, context=1.5,
        context_class_mix=0.10, informative_classes=1.0,
        uninformative_gain=1.0, clutter_fraction=0.20, clutter_length=6.0,
        clutter_attenuation=0.85, clutter_amplitude=3.0, distractor=3.0,
        magnitude_action=3.0, magnitude_context=0.0, magnitude_clutter=3.0),
    "audio": ModalityParams(
        core=4.0, edge=1.5, edge_class_mix=0.45, context=1.2,
        context_class_mix=0.4, informative_classes=0.25,
        uninformative_gain=0.2, clutter_fraction=0.30, clutter_length=12.0,
        clutter_attenuation=0.9, clutter_amplitude=3.0, distractor=0.0,
        magnitude_action=1.0, magnitude_context=0.5, magnitude_clutter=1.0),
}


@dataclasses.dataclass(frozen=True)
class GenerativeParams:
  """Parameters of the generative model shared by all modalities."""

  modalities: Mapping[str, ModalityParams] = dataclasses.field(
      default_factory=lambda: dict(DEFAULT_MODALITIES))
  num_families: int = 5  # Class families sharing onset/offset prototypes.
  num_clutter_patterns: int = 6  # Clutter patterns per modality.
  drift_rank: int = 4  # Directions of the slow drift.
  drift_amplitude: float = 0.6  # Stationary std of each drift coefficient.
  drift_correlation: float = 0.97  # AR(1) coefficient per snippet.
  video_offset: float = 1.0  # Norm of the per-video whitened offset.
  noise_correlation: float = 0.5  # MA(1) coefficient of the noise.
  noise_scale: float = 0.35  # sigma = noise_scale * sqrt(base).
  base_shape: float = 1.5  # Gamma shape of base activations.
  base_mean: float = 0.3  # Mean base activation.
  instance_jitter: float = 0.25  # Std of log instance strength.
  core_start: tuple[float, float] = (0.15, 0.35)  # Core begins (fraction).
  core_end: tuple[float, float] = (0.65, 0.85)  # Core ends (fraction).
  core_softness: float = 0.04  # Sigmoid width of the core edges (fraction).
  context_floor: tuple[float, float] = (0.2, 0.6)  # Context far from actions.
  context_decay_s: float = 6.0  # Context decay with distance to an instance.
  action_threshold: float = 0.5  # Action weight that labels a snippet.
