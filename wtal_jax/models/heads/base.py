"""The head protocol: what every localization head provides.

A head is registered as a :class:`HeadSpec`, which bundles

* ``module``: a Flax module class with ``from_config(cfg, num_classes)`` whose
  ``__call__(fusion_out, mask_BxT, *, train)`` returns a dict of arrays;
* ``loss_fn(outputs, batch, cfg) -> {term: (sum, count)}``: a pure function.
  Returning sums and counts rather than means keeps averages exact when a
  batch is split over devices or hosts: the train step totals both over the
  ``batch`` axis before dividing. ``cfg.loss_weights[term]`` weights each term;
* ``predict_fn(outputs, mask_BxT, cfg) -> Localization``: the test-time
  scores that post-processing turns into segments;
* ``width_fields``: the config fields that are hidden widths, scaled by
  ``config.model.width`` (:mod:`wtal_jax.models.width`);
* ``norm_constants``: ``(field path, power)`` of loss constants tied to a
  feature norm, multiplied by ``width ** power`` so that each loss term keeps
  its published share.

What a method trains with (its hyperparameters, data, optimizer and
post-processing) is its recipe, in :mod:`wtal_jax.recipes`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping

import flax.struct
import jax

from wtal_jax.registry import Registry

LossTerms = Mapping[str, tuple[jax.Array, jax.Array]]


@flax.struct.dataclass
class Localization:
  """Test-time scores of a batch of videos.

  Attributes:
    cas_BxTxC: Class activation sequence over the C action classes.
    attention_BxT: Class-agnostic foreground/actionness score in [0, 1].
    video_scores_BxC: Video-level class scores (classification and the
      class filter of post-processing).
    snippet_scores_BxTxC1: Per-snippet scores over C actions plus the
      background as the last index (snippet classification, e.g. AVE).
  """

  cas_BxTxC: jax.Array
  attention_BxT: jax.Array
  video_scores_BxC: jax.Array
  snippet_scores_BxTxC1: jax.Array


@dataclasses.dataclass(frozen=True)
class HeadSpec:
  module: type
  loss_fn: Callable[[Mapping[str, jax.Array], Mapping[str, Any], Any], LossTerms]
  predict_fn: Callable[[Mapping[str, jax.Array], jax.Array, Any], Localization]
  width_fields: tuple[str, ...] = ()
  norm_constants: tuple[tuple[str, float], ...] = ()


HEADS: Registry[HeadSpec] = Registry("head")

# Module fields that no config sets: Flax's own, and the dataset's class count.
_NOT_CONFIGURED = ("parent", "name", "num_classes")


def from_config_fields(cls, cfg, num_classes: int):
  """Builds a head module whose fields are named like its config keys.

  Each field takes ``cfg[field]`` when the config sets it, else the field's
  own default (the published value), so configs written before a field
  existed keep working.
  """
  kwargs = {field.name: cfg[field.name] for field in dataclasses.fields(cls)
            if field.name not in _NOT_CONFIGURED and field.init
            and field.name in cfg}
  return cls(num_classes=num_classes, **kwargs)
