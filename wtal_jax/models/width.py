"""One factor for every hidden width of a model: ``config.model.width``.

``width = 1`` is the published model; the CPU-sized ``:synthetic`` variant
runs the same recipe at ``width = 0.25`` on quarter-width features
(DESIGN §1). :func:`resolve` turns a model config into the one the modules,
losses and predict functions see:

* every hidden width the config sets (the fusion's stage-0 ``embed_dim``;
  the head's ``HeadSpec.width_fields``) is multiplied by ``width`` and
  rounded; a width of 0 means "the input's width" and follows the data;
* loss constants tied to a feature norm (the head's
  ``HeadSpec.norm_constants``) keep their published share of the loss.
  Feature norms grow with the square root of the width: a margin on a norm
  scales with ``sqrt(width)``, the weight of a squared norm or of a squared
  distance with ``1 / width``.

The resolved config has ``width = 1``, so resolving twice changes nothing.
"""

from __future__ import annotations

import math

import ml_collections

from wtal_jax.models.heads import HEADS


class WidthError(ValueError):
  """A width that the model cannot take (non-positive, or a layer of 0)."""


def scaled_width(units: int, width: float) -> int:
  """``units * width`` rounded; 0 stays 0 (the input's width)."""
  return int(round(units * width)) if units else 0


def _get(cfg, path: str):
  for part in path.split("."):
    cfg = cfg[part]
  return cfg


def _set(cfg, path: str, value) -> None:
  *parents, leaf = path.split(".")
  for part in parents:
    cfg = cfg[part]
  cfg[leaf] = value


def scaled_fields(model_cfg) -> dict[str, tuple[int, int]]:
  """``{"field path": (published units, scaled units)}`` of every hidden
  width the config sets, at its ``width``."""
  width = float(model_cfg.get("width", 1.0))
  out = {}
  fusion = model_cfg.fusion
  if fusion.get("embed_dim", 0):
    out["fusion.embed_dim"] = (fusion.embed_dim,
                               scaled_width(fusion.embed_dim, width))
  head = model_cfg.head
  for name in HEADS.get(head.kind).width_fields:
    if head.get(name, 0):
      out[f"head.{name}"] = (head[name], scaled_width(head[name], width))
  return out


def resolve(model_cfg) -> ml_collections.ConfigDict:
  """The model config at ``width = 1`` that the configured width means.

  Raises:
    WidthError: ``width <= 0``, or it rounds a layer to 0 units.
  """
  width = model_cfg.get("width", 1.0)
  if not isinstance(width, (int, float)) or isinstance(width, bool) or (
      not width > 0):
    raise WidthError(f"config.model.width must be a number > 0 (1 = the "
                     f"published widths), got {width!r}.")
  out = ml_collections.ConfigDict(model_cfg.to_dict())
  if width == 1.0:
    return out
  for path, (units, scaled) in scaled_fields(model_cfg).items():
    if scaled < 1:
      raise WidthError(
          f"config.model.width={width:g} makes config.model.{path} "
          f"({units} units) round to {scaled}; use a width of at least "
          f"{0.5 / units:.3g} or set the field itself.")
    _set(out, path, scaled)
  for path, power in HEADS.get(out.head.kind).norm_constants:
    try:
      value = _get(out.head, path)
    except KeyError:
      continue
    _set(out.head, path, value * math.pow(width, power))
  out.width = 1.0
  return out
