"""Checks a config before any compute, with messages that name the field.

``validate`` runs before the dataset is opened or anything is compiled: kinds
must be registered, sizes and dimensions positive integers, rates and
probabilities in range, and the global batch must split evenly over the
job's devices (of all processes). ``validate_against_dataset`` then checks
what needs the dataset's metadata.
"""

from __future__ import annotations

import jax

from wtal_jax.cli_errors import UserInputError
from wtal_jax.data import pipeline
from wtal_jax.data.normalization import NORMALIZATIONS
from wtal_jax.data.registry import DATASETS
from wtal_jax.data.sampling import SNIPPET_SAMPLING
from wtal_jax.evaluation import wtalc
from wtal_jax.evaluation.nms import NMS_KINDS
from wtal_jax.evaluation.postprocess import POSTPROCESS, parameter_names
from wtal_jax.losses.threec import CENTER_FORMS
from wtal_jax.models.fusion import FUSIONS
from wtal_jax.models.fusion.ccm import CCM_INITS
from wtal_jax.models.fusion.cross_attention import SKIP_KINDS
from wtal_jax.models.fusion.gates import GATE_KINDS
from wtal_jax.models.fusion.lgca import OPTION_CHOICES as LGCA_CHOICES
from wtal_jax.models.heads import HEADS
from wtal_jax.models.heads.caav import CAS_SCALES, CLASSIFIERS
from wtal_jax.models.inits import KERNEL_INITS
from wtal_jax.models.width import WidthError, resolve as resolve_width


class ConfigError(UserInputError, ValueError):
  """A config value is invalid; the message names the field and a fix."""


def _require(cond: bool, field: str, message: str) -> None:
  if not cond:
    raise ConfigError(f"config.{field}: {message}")


def _is_int(x) -> bool:
  return isinstance(x, int) and not isinstance(x, bool)


def _positive_ints(config_part, prefix: str, names) -> None:
  for name in names:
    if name in config_part:
      v = config_part[name]
      _require(_is_int(v) and v >= 1, f"{prefix}.{name}",
               f"must be a positive integer, got {v!r}.")


def _validate_caav_head(head) -> None:
  _require(head.get("classifier", "openmax") in CLASSIFIERS,
           "model.head.classifier",
           f"must be one of {CLASSIFIERS}, got {head.get('classifier')!r}.")
  _require(head.get("cas", "log_prob") in CAS_SCALES, "model.head.cas",
           f"must be one of {CAS_SCALES}, got {head.get('cas')!r}.")
  _require(head.get("topk_divisor", 8.0) > 0, "model.head.topk_divisor",
           f"must be positive, got {head.get('topk_divisor')}.")
  _positive_ints(head, "model.head", ("cont_window", "pseudo_window"))
  _require(head.get("cont_sigma", 1.0) > 0, "model.head.cont_sigma",
           f"must be positive, got {head.get('cont_sigma')}.")
  _require(0.0 <= head.get("pseudo_threshold", 0.5) <= 1.0,
           "model.head.pseudo_threshold",
           f"must be in [0, 1], got {head.get('pseudo_threshold')}.")
  _require(head.get("casl_margin", 0.5) >= 0, "model.head.casl_margin",
           f"must be >= 0, got {head.get('casl_margin')}.")


def _validate_schedules(head) -> None:
  for field in ("loss_delay", "loss_warmup"):
    for name, v in dict(head.get(field, {})).items():
      _require(name in head.loss_weights, f"model.head.{field}.{name}",
               f"{name!r} is not a loss term of the head (terms: "
               f"{sorted(head.loss_weights)}).")
      _require(_is_int(v) and v >= 0, f"model.head.{field}.{name}",
               f"must be an integer >= 0, got {v!r}.")


# String parameters of post-processing recipes and their choices.
_POSTPROCESS_CHOICES = {"wtalc": {"class_scores": wtalc.CLASS_SCORES,
                                  "class_filter": wtalc.CLASS_FILTERS},
                        "oic": {"nms": NMS_KINDS}}


def _validate_postprocess(eval_cfg) -> None:
  name = eval_cfg.get("postprocess", "")
  _require(name in POSTPROCESS, "eval.postprocess",
           f"unknown recipe {name!r}; choose from {sorted(POSTPROCESS)} "
           "(each method's recipe in wtal_jax/recipes/ names its own).")
  for recipe, params in dict(eval_cfg.get("postprocess_params", {})).items():
    _require(recipe in POSTPROCESS, f"eval.postprocess_params.{recipe}",
             f"is not a post-processing recipe; the parameters are keyed by "
             f"recipe: {sorted(POSTPROCESS)}.")
    known = parameter_names(recipe)
    for key in dict(params):
      _require(key in known, f"eval.postprocess_params.{recipe}.{key}",
               f"{recipe!r} takes no parameter {key!r}; it takes "
               f"{', '.join(known)}.")
    for key, choices in _POSTPROCESS_CHOICES.get(recipe, {}).items():
      value = dict(params).get(key, choices[0])
      _require(value in choices, f"eval.postprocess_params.{recipe}.{key}",
               f"must be one of {choices}, got {value!r}.")


def validate(config) -> None:
  """Validates fields that do not depend on the dataset.

  Raises:
    ConfigError: On the first invalid field.
  """
  fusion, head, train, data = (config.model.fusion, config.model.head,
                               config.train, config.data)
  _require(data.name in DATASETS, "data.name",
           f"unknown dataset {data.name!r}; choose from {DATASETS.names()}.")
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
    _require(0.0 <= fusion.get("gate_prior", 0.0) < 1.0,
             "model.fusion.gate_prior",
             "is the initial probability of each skip gate's unattended path:"
             f" use a value in (0, 1), or 0 for none; got "
             f"{fusion.get('gate_prior')}.")
    for name, choices in LGCA_CHOICES.items():
      _require(fusion.get(name, choices[0]) in choices,
               f"model.fusion.{name}",
               f"must be one of {choices}, got {fusion.get(name)!r}.")
  if fusion.kind == "ccm" or (fusion.kind == "lgca" and
                              fusion.get("recalibration") == "ccm"):
    _require(fusion.get("ccm_weight_init", "xavier") in CCM_INITS,
             "model.fusion.ccm_weight_init",
             f"must be one of {CCM_INITS}, got "
             f"{fusion.get('ccm_weight_init')!r}.")
    _require(0.0 <= fusion.get("ccm_dropout", 0.5) < 1.0,
             "model.fusion.ccm_dropout",
             f"must be in [0, 1), got {fusion.get('ccm_dropout')}.")
    _positive_ints(fusion, "model.fusion", ("ccm_kernel_size",))
  _require(_is_int(fusion.get("embed_dim", 0)) and fusion.get("embed_dim", 0) >= 0,
           "model.fusion.embed_dim",
           f"must be an integer >= 0 (0 = no embedding), got "
           f"{fusion.get('embed_dim')!r}.")
  _require(fusion.get("noise_scale", 0.0) >= 0, "model.fusion.noise_scale",
           f"must be >= 0, got {fusion.get('noise_scale')}.")
  _require(fusion.get("negative_slope", 0.01) >= 0,
           "model.fusion.negative_slope",
           f"must be >= 0, got {fusion.get('negative_slope')}.")
  try:
    resolve_width(config.model)
  except WidthError as e:
    raise ConfigError(str(e)) from None
  if head.kind == "caav":
    _validate_caav_head(head)
  if head.kind == "threec":
    _require(head.get("center_form", "paper") in CENTER_FORMS,
             "model.head.center_form",
             f"must be one of {CENTER_FORMS}, got {head.get('center_form')!r}.")
  if "weight_init" in head:
    _require(head.weight_init in KERNEL_INITS, "model.head.weight_init",
             f"must be one of {sorted(KERNEL_INITS)}, got "
             f"{head.weight_init!r}.")
  _validate_schedules(head)
  _require(0.0 <= head.get("dropout", 0.0) < 1.0, "model.head.dropout",
           f"must be in [0, 1), got {head.get('dropout')}.")
  for name, w in head.loss_weights.items():
    _require(w >= 0, f"model.head.loss_weights.{name}",
             f"must be >= 0, got {w}.")
  _require(_is_int(config.get("seed", 0)) and config.get("seed", 0) >= 0,
           "seed", f"must be an integer >= 0, got {config.get('seed')!r}.")
  _require(train.lr > 0, "train.lr", f"must be positive, got {train.lr}.")
  _require(train.get("weight_decay", 0.0) >= 0, "train.weight_decay",
           "must be >= 0.")
  for f in ("b1", "b2"):
    _require(0.0 <= train.get(f, 0.9) < 1.0, f"train.{f}",
             f"must be in [0, 1), got {train.get(f)}.")
  _require(train.get("eps", 1e-8) > 0, "train.eps",
           f"must be positive, got {train.get('eps')}.")
  _require(_is_int(train.num_steps) and train.num_steps >= 0,
           "train.num_steps", f"must be an integer >= 0, got "
           f"{train.num_steps!r}.")
  _positive_ints(train, "train", ("batch_size", "log_every", "eval_every",
                                  "checkpoint_every"))
  n_dev = jax.device_count()
  _require(train.batch_size % n_dev == 0, "train.batch_size",
           f"{train.batch_size} is not divisible by the {n_dev} devices "
           f"({jax.process_count()} process(es)); use a multiple of {n_dev}.")
  _require(_is_int(data.num_pairs) and data.num_pairs >= 0, "data.num_pairs",
           f"must be an integer >= 0, got {data.num_pairs!r}.")
  _require(2 * data.num_pairs <= train.batch_size, "data.num_pairs",
           f"{data.num_pairs} pairs need a batch of at least "
           f"{2 * data.num_pairs}.")
  if data.num_pairs:
    _require((train.batch_size // n_dev) % 2 == 0, "train.batch_size",
             "with same-class pairs, each device's share of the batch must "
             "be even so that no pair is split across devices.")
  _require(_is_int(data.num_snippets) and data.num_snippets >= 2,
           "data.num_snippets",
           f"must be an integer >= 2, got {data.num_snippets!r}.")
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
  _validate_postprocess(config.eval)
  buckets = tuple(config.eval.get("buckets", (1,)))
  _require(len(buckets) > 0 and all(_is_int(b) and b >= 1 for b in buckets),
           "eval.buckets",
           f"must be a non-empty list of positive lengths, got {buckets}.")
  _positive_ints(config.eval, "eval", ("max_snippets_per_batch",))
  num_buckets = config.eval.get("num_buckets", 0)
  _require(_is_int(num_buckets) and num_buckets >= 0, "eval.num_buckets",
           f"must be 0 (use eval.buckets) or a positive number of fitted "
           f"buckets, got {num_buckets!r}.")


def validate_against_dataset(config, meta) -> None:
  """Checks that the config's modalities exist in the dataset."""
  for group in pipeline.parse_modalities(config.data.modalities):
    for m in group:
      _require(m in meta.modality_dims, "data.modalities",
               f"modality {m!r} is not in the dataset (it has "
               f"{sorted(meta.modality_dims)}).")
      _require(meta.modality_dims[m] >= 1, "data.modalities",
               f"modality {m!r} has feature width {meta.modality_dims[m]} in "
               "the dataset metadata; rebuild the dataset.")
  _require(meta.num_classes >= 1, "data.name",
           f"the dataset has {meta.num_classes} classes; rebuild it.")
