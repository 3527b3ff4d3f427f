"""The mechanics of the files in ``configs/``: the base config, the data of
each variant, and loading a config file.

A config file defines ``get_config(variant="")`` as a short list, a recipe, a
fusion and a dataset (see :func:`compose`); what each published method
trains with lives in its recipe module, :mod:`wtal_jax.recipes`. The variants:

* ``""`` (no suffix): the real features the recipe was published on. They must
  have been prepared with ``python -m data_prep.build``.
* ``synthetic``: the same recipe at a quarter of the width, on the generated
  THUMOS-shaped dataset at a quarter of I3D's widths, raw features, for as
  many steps as train and evaluate in 10 minutes on 2 CPU cores (the
  embedded default; each recipe's ``synthetic`` sets its steps).
* ``smoke``: tiny data, tiny widths and a few steps, for tests.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Callable, Sequence

import ml_collections

from wtal_jax.evaluation.detection_eval import ANET_TIOUS, THUMOS_TIOUS

VARIANTS = ("", "synthetic", "smoke")

# The generated dataset of the CPU-sized variant: THUMOS14-shaped, at a
# quarter of I3D's widths (RGB 256, flow 256, audio 32; DESIGN §1).
SYNTHETIC_BUILDER = "full_dims256-256-32"
SYNTHETIC_WIDTH = 0.25

# What a config needs to know about each real dataset: its builder config
# (``<config>_audio`` when a modality group reads audio), the tIoUs it is
# scored at, and any evaluation or data fields of its own.
REAL_DATASETS = {
    "thumos14": dict(builder_config="wtalc", tious=THUMOS_TIOUS),
    "activitynet12": dict(builder_config="wtalc", tious=ANET_TIOUS),
    # AVE's 10-second videos are scored per snippet.
    "ave": dict(builder_config="default", tious=THUMOS_TIOUS,
                num_snippets=10, metric="snippet_accuracy",
                buckets=(16, 32, 64, 128, 256, 512, 1024, 2048, 4096)),
}


def base_config() -> ml_collections.ConfigDict:
  """Fields every config has; recipes, fusions and datasets fill them in.

  Every fusion option is present, whatever the fusion, so that any of them
  can be set from the command line.
  """
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
  c.data.num_snippets = 750  # The training length L.
  c.data.snippet_sampling = "random_crop"
  c.data.num_pairs = 3
  c.data.normalize = "none"  # Or "standardize" (train-split statistics).

  c.model = ml_collections.ConfigDict()
  # One factor for every hidden width (wtal_jax/models/width.py): 1 as
  # published, 0.25 in the CPU-sized :synthetic variant.
  c.model.width = 1.0
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
  # The skip gates read attended features minus their video mean (an
  # option; the paper's read them as they are).
  c.model.fusion.gate_centred_input = False
  # Every gate keeps its bias at its start; only its weights learn (an
  # option, see models/fusion/lgca.py).
  c.model.fusion.gate_fixed_bias = False
  # Activation of LGCA's attended features before gating: "none" (Eq. 7-11
  # as written) or "tanh" (an option, see models/fusion/lgca.py).
  c.model.fusion.attended_activation = "none"
  # What plays X_att(1) in LGCA's Eq. 8: "gated" (Z(1)) or "cross_attended"
  # (CAAV's tanh(X + X~(1))), an option (see models/fusion/lgca.py).
  c.model.fusion.stage1_feature = "gated"
  # Activation of LGCA's gated stage outputs: "relu" (Eq. 7, 9) or "tanh"
  # (CAAV's; an option, see models/fusion/lgca.py).
  c.model.fusion.gated_activation = "relu"
  # A head's own cross-modal module in front of LGCA: "none" or "ccm"
  # (CO2-Net's, set by LGCA's recipe; see models/fusion/lgca.py).
  c.model.fusion.recalibration = "none"
  c.model.fusion.negative_slope = 0.01
  c.model.fusion.noise_scale = 0.0
  c.model.head = ml_collections.ConfigDict()

  c.train = ml_collections.ConfigDict()
  c.train.lr = 1e-4
  c.train.weight_decay = 0.0
  c.train.batch_size = 30
  c.train.num_steps = 10000
  c.train.log_every = 50
  c.train.eval_every = 500
  c.train.checkpoint_every = 500

  c.eval = ml_collections.ConfigDict()
  # The post-processing recipe, and the parameters of each recipe by name
  # (the method's recipe module sets its published ones).
  c.eval.postprocess = ""
  c.eval.postprocess_params = ml_collections.ConfigDict()
  c.eval.tious = THUMOS_TIOUS
  # Evaluation pads whole videos to bucket lengths, one compile per bucket:
  # num_buckets > 0 fits that many bucket lengths to the split's videos
  # (the fewest padded snippets); 0 uses the fixed lengths of ``buckets``.
  c.eval.buckets = (128, 256, 512, 1024, 2048, 4096)
  c.eval.num_buckets = 6
  c.eval.max_snippets_per_batch = 16384
  return c


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


def set_postprocess(c: ml_collections.ConfigDict, recipe: str,
                    params: dict) -> None:
  """Names a method's post-processing and its parameters."""
  c.eval.postprocess = recipe
  c.eval.postprocess_params = ml_collections.ConfigDict(
      {recipe: ml_collections.ConfigDict(dict(params))})


def set_dataset(c: ml_collections.ConfigDict, name: str,
                modalities: Sequence[str] | None = None) -> None:
  """Points a config at a real dataset (see :data:`REAL_DATASETS`)."""
  if name not in REAL_DATASETS:
    raise ValueError(f"Unknown dataset {name!r}; configs know "
                     f"{sorted(REAL_DATASETS)}.")
  facts = REAL_DATASETS[name]
  if modalities is not None:
    c.data.modalities = tuple(modalities)
  audio = any("audio" in g.split("+") for g in c.data.modalities)
  c.data.name = name
  c.data.builder_config = facts["builder_config"] + (
      "_audio" if audio and name != "ave" else "")
  c.eval.tious = facts["tious"]
  if "num_snippets" in facts:
    c.data.num_snippets = facts["num_snippets"]
  if "metric" in facts:
    c.eval.metric = facts["metric"]
  if "buckets" in facts:
    c.eval.buckets = facts["buckets"]


def apply_variant(c: ml_collections.ConfigDict, variant: str
                  ) -> ml_collections.ConfigDict:
  """Points a recipe at its data and budget (see the module docstring).

  The generated data is THUMOS-shaped, so the ``synthetic`` and ``smoke``
  variants are scored at THUMOS14's tIoUs whatever the real dataset.

  Raises:
    ValueError: On an unknown variant.
  """
  if variant not in VARIANTS:
    raise ValueError(f"Unknown config variant {variant!r}; use one of "
                     f"{[v or '(none)' for v in VARIANTS]}, e.g. "
                     "--config=configs/thumos_lgca.py:synthetic")
  if variant == "":
    return c
  c.data.name = "synthetic_thumos"
  c.eval.tious = THUMOS_TIOUS
  if variant == "synthetic":
    # The published recipe scaled in width, not in kind (DESIGN §1): raw,
    # non-negative features as published, every hidden width x 0.25, and
    # the crops and batch of a laptop CPU. The recipe's own ``synthetic``
    # sets its steps (and a learning rate that moves in them).
    c.data.builder_config = SYNTHETIC_BUILDER
    c.data.normalize = "none"
    c.model.width = SYNTHETIC_WIDTH
    c.data.num_snippets = 256
    c.train.batch_size = 10
    c.train.log_every = 50
    return c
  # The tiny test data is standardised: a few steps then move the model.
  c.data.normalize = "standardize"
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


def set_synthetic_budget(c: ml_collections.ConfigDict, num_steps: int,
                         evaluations: int = 4) -> None:
  """A ``:synthetic`` run of ``num_steps``, evaluated ``evaluations`` times
  (the last at the end) and checkpointed at each evaluation."""
  c.train.num_steps = num_steps
  c.train.eval_every = max(1, num_steps // evaluations)
  c.train.checkpoint_every = c.train.eval_every


def compose(recipe, *, dataset: str, variant: str = "",
            fusion: Callable[[ml_collections.ConfigDict], None] | None = None,
            modalities: Sequence[str] | None = None,
            ) -> ml_collections.ConfigDict:
  """A config from its three parts: a recipe, a fusion and a dataset.

  Args:
    recipe: A method's recipe module from :mod:`wtal_jax.recipes` (its
      ``apply``, ``own_fusion``, ``synthetic`` and ``smoke``).
    dataset: The real dataset the recipe was published on (a key of
      :data:`REAL_DATASETS`); the ``synthetic`` and ``smoke`` variants swap
      in the generated data.
    variant: ``""``, ``"synthetic"`` or ``"smoke"``.
    fusion: Puts a fusion in front of the head, e.g.
      ``recipes.lgca.one_stage``; None: the recipe's own fusion.
    modalities: Modality groups, when not RGB and flow.

  Returns:
    The resolved config.
  """
  c = base_config()
  set_dataset(c, dataset, modalities)
  recipe.apply(c, dataset)
  (fusion or recipe.own_fusion)(c)
  apply_variant(c, variant)
  if variant == "synthetic":
    recipe.synthetic(c)
  elif variant == "smoke":
    recipe.smoke(c)
  return c


def load_config(spec: str) -> ml_collections.ConfigDict:
  """Loads ``"path/to/config.py[:variant]"`` like ``--config=`` does.

  For notebooks, tests and tools that do not parse absl flags.
  """
  path, _, variant = spec.partition(":")
  if not os.path.exists(path):
    raise FileNotFoundError(f"Config file {path!r} does not exist.")
  module_spec = importlib.util.spec_from_file_location(
      "wtal_config_" + os.path.basename(path)[:-3], path)
  module = importlib.util.module_from_spec(module_spec)
  module_spec.loader.exec_module(module)
  return module.get_config(variant) if variant else module.get_config()
