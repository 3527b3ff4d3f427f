"""Building blocks of the files in ``configs/``.

A config file defines ``get_config(variant="")``: it starts from
:func:`base_config`, sets its fusion, head and hyperparameters, and finishes
with :func:`apply_variant`, which points it at its data:

* ``""`` (no suffix): the real features the recipe was published on. They must
  have been prepared with ``python -m data_prep.build``.
* ``synthetic``: the same recipe on the generated THUMOS-shaped dataset, with a
  training budget that fits a laptop CPU (the embedded default).
* ``smoke``: tiny data, tiny widths and a few steps, for tests.
"""

from __future__ import annotations

import ml_collections

VARIANTS = ("", "synthetic", "smoke")

THUMOS_TIOUS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
ANET_TIOUS = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)


def base_config() -> ml_collections.ConfigDict:
  """Defaults shared by every recipe (THUMOS14, LGCA + CAAV)."""
  c = ml_collections.ConfigDict()
  c.seed = 0
  c.tensorboard = True

  c.data = ml_collections.ConfigDict()
  c.data.name = "thumos14"
  c.data.builder_config = "wtalc"
  c.data.data_dir = ""  # "" = $WTAL_JAX_DATA_DIR or ~/tensorflow_datasets.
  c.data.modalities = ("rgb", "flow")  # Modality groups; "rgb+flow" concatenates.
  c.data.train_split = "train"
  c.data.test_split = "test"
  c.data.num_snippets = 750
  c.data.snippet_sampling = "random_crop"
  c.data.num_pairs = 3
  c.data.normalize = "none"  # Or "standardize" (train-split statistics).

  c.model = ml_collections.ConfigDict()
  c.model.fusion = ml_collections.ConfigDict()
  c.model.fusion.kind = "lgca"
  c.model.fusion.embed_dim = 1024
  c.model.fusion.num_stages = 2
  c.model.fusion.skip = "dense"
  c.model.fusion.gate = "leaky"
  c.model.fusion.temperature = 0.1
  c.model.fusion.skip_gates = True
  c.model.fusion.stage_gate = True
  # Initial probability of each skip gate's unattended path; 0 = Xavier
  # gates (see models/fusion/gates.py and docs/method_notes.md).
  c.model.fusion.gate_prior = 0.0
  c.model.fusion.negative_slope = 0.01
  c.model.fusion.noise_scale = 0.0
  c.model.head = caav_head()

  c.train = ml_collections.ConfigDict()
  c.train.lr = 1e-4
  c.train.weight_decay = 0.0
  c.train.batch_size = 30
  c.train.num_steps = 10000
  c.train.log_every = 50
  c.train.eval_every = 500
  c.train.checkpoint_every = 500

  c.eval = ml_collections.ConfigDict()
  c.eval.postprocess = ""  # "" = the head's published recipe.
  c.eval.postprocess_params = ml_collections.ConfigDict()
  c.eval.tious = THUMOS_TIOUS
  c.eval.buckets = (128, 256, 512, 1024, 2048, 4096)
  c.eval.max_snippets_per_batch = 16384
  return c


def raw_concat(c: ml_collections.ConfigDict) -> None:
  """The heads' own fusion: raw features concatenated, no embedding."""
  c.model.fusion.kind = "concat"
  c.model.fusion.embed_dim = 0


def lgca_fusion(c: ml_collections.ConfigDict, num_stages: int = 1) -> None:
  """LGCA with leaky gates (tau 0.1) in front of the config's head.

  Where LGCA sits and how its skip gates start follow from the head.

  One stage is the LGCA paper's choice for RGB-flow heads, two for
  audio-visual CAAV. Call it after the head is set: where LGCA sits follows
  from the head (its ``HeadSpec.fusion_embed_dim``). It cross-attends the
  head's raw input streams, except in front of CAAV (audio and visual are
  embedded to a common 1024) and 3C-Net (the embedding is 3C-Net's first
  modality-specific FC).
  """
  # Imported here: the heads' modules import this one for their recipes.
  from wtal_jax.models.heads import HEADS  # pylint: disable=g-import-not-at-top
  c.model.fusion.kind = "lgca"
  c.model.fusion.embed_dim = HEADS.get(c.model.head.kind).fusion_embed_dim
  # Behind an embedding (post-(Leaky)ReLU, so ReLU(X) ~ X) the skip gates
  # start on the unattended path, i.e. as the baseline; on raw streams, which
  # the CPU-sized variants centre, ReLU(X) would halve X, so they start as
  # Xavier gates (measurements in docs/method_notes.md).
  c.model.fusion.gate_prior = 0.95 if c.model.fusion.embed_dim else 0.0
  c.model.fusion.num_stages = num_stages
  c.model.fusion.gate = "leaky"
  c.model.fusion.temperature = 0.1


def set_training(c: ml_collections.ConfigDict, *, num_snippets: int,
                 sampling: str, num_pairs: int, lr: float,
                 weight_decay: float, batch_size: int, num_steps: int) -> None:
  """Sets a published recipe's snippet sampling and optimizer in one call."""
  c.data.num_snippets = num_snippets
  c.data.snippet_sampling = sampling
  c.data.num_pairs = num_pairs
  c.train.lr = lr
  c.train.weight_decay = weight_decay
  c.train.batch_size = batch_size
  c.train.num_steps = num_steps


def caav_recipe(c: ml_collections.ConfigDict) -> None:
  """CAAV's head and optimizer: Adam at 1e-4, batch 30 (CAAV §4.2)."""
  c.model.head = caav_head()
  c.train.lr = 1e-4
  c.train.batch_size = 30


def caav_head() -> ml_collections.ConfigDict:
  """CAAV's open-max head and loss weights (CAAV §4.2)."""
  h = ml_collections.ConfigDict()
  h.kind = "caav"
  h.classifier = "openmax"
  h.dropout = 0.7
  h.topk_divisor = 8.0
  # MIL over the C + 1 open-max classes, background included (False: the
  # action classes only, kept for ablation; see losses/caav.py).
  h.mil_background = True
  h.cont_window = 5
  h.cont_sigma = 1.0
  h.pseudo_window = 5
  h.pseudo_threshold = 0.5
  h.casl_margin = 0.5
  h.loss_weights = ml_collections.ConfigDict(
      {"mil": 1.0, "casl": 0.8, "cont": 0.8, "pseu": 1.0})
  # Steps before a term switches on (0 = from the start, as published), and
  # the length of its linear ramp afterwards (see training/steps.py).
  h.loss_delay = ml_collections.ConfigDict({"cont": 0, "pseu": 0})
  h.loss_warmup = ml_collections.ConfigDict({"cont": 0, "pseu": 0})
  return h


def apply_variant(c: ml_collections.ConfigDict, variant: str,
                  real_name: str = "thumos14",
                  real_builder_config: str = "wtalc"
                  ) -> ml_collections.ConfigDict:
  """Points a recipe at its data and budget (see the module docstring).

  Raises:
    ValueError: On an unknown variant.
  """
  if variant not in VARIANTS:
    raise ValueError(f"Unknown config variant {variant!r}; use one of "
                     f"{[v or '(none)' for v in VARIANTS]}, e.g. "
                     "--config=configs/thumos_lgca.py:synthetic")
  if variant == "":
    c.data.name, c.data.builder_config = real_name, real_builder_config
    return c
  c.data.name = "synthetic_thumos"
  # The generated features share a large per-dimension offset; standardising
  # them lets a CPU-sized budget learn (see wtal_jax/data/normalization.py).
  c.data.normalize = "standardize"
  if variant == "synthetic":
    c.data.builder_config = "full"
    # The budget of a laptop CPU: shorter training sequences, a smaller
    # batch and fewer steps than the published recipe; the model, losses and
    # optimizer are unchanged.
    c.data.num_snippets = 256
    c.train.batch_size = 10
    c.train.num_steps = 400
    c.train.log_every = 20
    c.train.eval_every = 200
    c.train.checkpoint_every = 100
    c.train.lr = max(c.train.lr, 1e-4)
    return c
  c.data.builder_config = "tiny"
  c.data.num_snippets = 32
  c.data.num_pairs = 1
  c.model.fusion.embed_dim = min(c.model.fusion.embed_dim, 16) if (
      c.model.fusion.embed_dim) else 0
  c.train.batch_size = 8  # Whole same-class pairs on up to 4 devices.
  c.train.num_steps = 4
  c.train.log_every = 2
  c.train.eval_every = 4
  c.train.checkpoint_every = 2
  c.train.lr = 1e-3
  c.eval.buckets = (32, 64, 128)
  c.eval.max_snippets_per_batch = 512
  c.tensorboard = False
  return c


def load_config(spec: str) -> ml_collections.ConfigDict:
  """Loads ``"path/to/config.py[:variant]"`` like ``--config=`` does.

  For notebooks, tests and tools that do not parse absl flags.
  """
  import importlib.util  # pylint: disable=g-import-not-at-top
  import os  # pylint: disable=g-import-not-at-top
  path, _, variant = spec.partition(":")
  if not os.path.exists(path):
    raise FileNotFoundError(f"Config file {path!r} does not exist.")
  module_spec = importlib.util.spec_from_file_location(
      "wtal_config_" + os.path.basename(path)[:-3], path)
  module = importlib.util.module_from_spec(module_spec)
  module_spec.loader.exec_module(module)
  return module.get_config(variant) if variant else module.get_config()
