"""Action selection learning's recipe (ASL; Ma, Gorti, Volkovs, Yu: "Weakly
Supervised Action Selection Learning in Video", CVPR 2021; public code
``layer6ai-labs/ASL``, ``config_thumos.py``).

* Head: classifier Conv k1 to 512 + ReLU + Conv to C on the fused features;
  per stream an actionness head (Conv to 512, ReLU, to 1, sigmoid); top
  ``T//8`` per class, GCE (q = 0.7) on the actionness.
* Fusion: the raw RGB and flow concatenated.
* Data and optimizer: 750 snippets sampled uniformly, batch 16, Adam 1e-4
  with weight decay 5e-4, 10000 steps.
* Post-processing: thresholds 0.1..0.9 on ``(softmax(cas) + a_rgb +
  a_flow) / 3``, hard NMS at 0.4 (``oic``).
"""

from __future__ import annotations

import ml_collections

from wtal_jax import config_lib
from wtal_jax.recipes import fusions

POSTPROCESS = ("oic", dict(
    activation="cas", thresholds=tuple(round(0.1 * i, 1)
                                       for i in range(1, 10)),
    scale=24, min_len=1, outer_ratio=0.25, gamma=0.2,
    class_threshold=0.25, score_activation="cas", nms="hard",
    nms_iou=0.4))


def head() -> ml_collections.ConfigDict:
  """ASL's THUMOS14 head (public code: ``config_thumos.py``)."""
  h = ml_collections.ConfigDict()
  h.kind = "asl"
  h.hidden_dim = 512
  h.actionness_dim = 512
  h.k_divisor = 8.0
  h.q = 0.7
  h.loss_weights = ml_collections.ConfigDict({"cls": 1.0, "asl": 1.0})
  return h


def apply(c: ml_collections.ConfigDict, dataset: str) -> None:
  """ASL's head, sampling, optimizer and post-processing on THUMOS14."""
  del dataset  # Published on THUMOS14 only.
  c.model.head = head()
  config_lib.set_training(c, num_snippets=750, sampling="uniform",
                          num_pairs=0, lr=1e-4, weight_decay=5e-4,
                          batch_size=16, num_steps=10000)
  config_lib.set_postprocess(c, *POSTPROCESS)


own_fusion = fusions.concat


def synthetic(c: ml_collections.ConfigDict) -> None:
  """5000 steps (with LGCA in front about 70 ms each on 2 CPU cores); the
  learning rate is raised from 1e-4 to 1e-3, at which the classifier moves
  on raw features within them."""
  config_lib.set_synthetic_budget(c, 5000)
  c.train.lr = 1e-3


def smoke(c: ml_collections.ConfigDict) -> None:
  c.model.head.hidden_dim = 16
  c.model.head.actionness_dim = 16
