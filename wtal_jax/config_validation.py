"""Checks a config before any compute, with messages that name the field."""

from __future__ import annotations

import jax

from wtal_jax.data import pipeline
from wtal_jax.data.normalization import NORMALIZATIONS
from wtal_jax.data.sampling import SNIPPET_SAMPLING
from wtal_jax.models.fusion import FUSIONS
from wtal_jax.models.fusion.cross_attention import SKIP_KINDS
from wtal_jax.models.fusion.gates import GATE_KINDS
from wtal_jax.models.heads import HEADS


class ConfigError(ValueError):
  """A config value is invalid; the message names the field and a fix."""


def _require(cond: bool, field: str, message: str) -> None:
  if not cond:
    raise ConfigError(f"config.{field}: {message}")


def validate(config) -> None:
  """Validates fields that do not depend on the dataset.

  Raises:
    ConfigError: On the first invalid field.
  """
  fusion, head, train, data = (config.model.fusion, config.model.head,
                               config.train, config.data)
  _require(fusion.kind in FUSIONS, "model.fusion.kind",
           f"unknown fusion {fusion.kind!r}; choose from {FUSIONS.names()}.")
  _require(head.kind in HEADS, "model.head.kind",
           f"unknown head {head.kind!r}; choose from {HEADS.names()}.")
  if fusion.kind in ("cross_attention", "frozen_cross_attention"):
    _require(fusion.num_stages in (1, 2, 3), "model.fusion.num_stages",
             f"cross-attention supports 1-3 stages, got {fusion.num_stages}.")
    _require(fusion.get("skip", "dense") in SKIP_KINDS, "model.fusion.skip",
             f"must be one of {SKIP_KINDS}, got {fusion.get('skip')!r}.")
  if fusion.kind == "lgca":
    _require(fusion.num_stages in (1, 2), "model.fusion.num_stages",
             f"LGCA supports 1 or 2 stages, got {fusion.num_stages}.")
    _require(fusion.get("gate", "leaky") in GATE_KINDS, "model.fusion.gate",
             f"must be one of {GATE_KINDS}, got {fusion.get('gate')!r}.")
    _require(fusion.get("temperature", 0.1) > 0, "model.fusion.temperature",
             f"must be positive, got {fusion.get('temperature')}.")
  _require(fusion.get("embed_dim", 0) >= 0, "model.fusion.embed_dim",
           "must be >= 0 (0 = no embedding).")
  _require(0.0 <= head.get("dropout", 0.0) < 1.0, "model.head.dropout",
           f"must be in [0, 1), got {head.get('dropout')}.")
  for name, w in head.loss_weights.items():
    _require(w >= 0, f"model.head.loss_weights.{name}",
             f"must be >= 0, got {w}.")
  _require(train.lr > 0, "train.lr", f"must be positive, got {train.lr}.")
  _require(train.get("weight_decay", 0.0) >= 0, "train.weight_decay",
           "must be >= 0.")
  _require(train.num_steps >= 0, "train.num_steps", "must be >= 0.")
  for f in ("log_every", "eval_every", "checkpoint_every"):
    _require(train[f] >= 1, f"train.{f}", f"must be >= 1, got {train[f]}.")
  n_dev = jax.device_count()
  _require(train.batch_size >= 1 and train.batch_size % n_dev == 0,
           "train.batch_size",
           f"{train.batch_size} is not divisible by the {n_dev} devices; use "
           f"a multiple of {n_dev}.")
  _require(2 * data.num_pairs <= train.batch_size, "data.num_pairs",
           f"{data.num_pairs} pairs need a batch of at least "
           f"{2 * data.num_pairs}.")
  if data.num_pairs:
    _require((train.batch_size // n_dev) % 2 == 0, "train.batch_size",
             "with same-class pairs, each device's share of the batch must "
             "be even so that no pair is split across devices.")
  _require(data.num_snippets >= 2, "data.num_snippets", "must be >= 2.")
  _require(data.get("normalize", "none") in NORMALIZATIONS, "data.normalize",
           f"must be one of {NORMALIZATIONS}, got {data.get('normalize')!r}.")
  _require(data.snippet_sampling in SNIPPET_SAMPLING, "data.snippet_sampling",
           f"must be one of {SNIPPET_SAMPLING}.")
  _require(len(data.modalities) == 2 or fusion.kind in ("concat",
                                                         "gaussian_noise"),
           "data.modalities",
           f"fusion {fusion.kind!r} fuses exactly two modality groups, got "
           f"{list(data.modalities)}.")
  _require(len(config.eval.tious) > 0 and all(
      0 < t <= 1 for t in config.eval.tious), "eval.tious",
           "must be a non-empty list of IoU thresholds in (0, 1].")


def validate_against_dataset(config, meta) -> None:
  """Checks that the config's modalities exist in the dataset."""
  for group in pipeline.parse_modalities(config.data.modalities):
    for m in group:
      _require(m in meta.modality_dims, "data.modalities",
               f"modality {m!r} is not in the dataset (it has "
               f"{sorted(meta.modality_dims)}).")
