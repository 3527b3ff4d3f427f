"""W-TAL's uncertainty-modeling recipe (UM; Lee, Wang, Lu, Byun: "Weakly-supervised
Temporal Action Localization by Uncertainty Modeling", AAAI 2021; public code
``Pilhyeon/WTAL-Uncertainty-Modeling``, ``options.py``, ``main.py``,
``test.py``).

* Head: Conv k3 to 2048 + ReLU, dropout 0.7, Conv k1 to C; action and
  background snippets selected by feature magnitude (``T//9`` and ``T//4``)
  among those a dropout-0.7 mask keeps; loss ``BCE(act) + 5e-4 L_um (margin
  100) + BCE(bkg, uniform)``.
* Fusion: the raw RGB and flow concatenated.
* Data and optimizer: 750 snippets, one drawn uniformly from each of 750
  equal segments; batch 16; Adam 1e-4 with weight decay 5e-4; 10000 steps.
* Post-processing: thresholds on the normalised CAS and on the feature
  magnitude, outer-inner contrast, hard NMS at 0.6 (``oic``).
"""

from __future__ import annotations

import ml_collections

from wtal_jax import config_lib
from wtal_jax.recipes import fusions

POSTPROCESS = ("oic", dict(
    activation=("cas", "attention"),
    thresholds=(tuple(round(0.025 * i, 3) for i in range(10)),
                tuple(round(0.4 + 0.025 * i, 3) for i in range(9))),
    scale=24, min_len=2, outer_ratio=0.25, gamma=0.2,
    class_threshold=0.2, score_activation="cas",
    score_on_thresholded=True, nms="hard", nms_iou=0.6,
    # The public utils.nms adds one second to every length; 1 reproduces it
    # (evaluation/nms.py). Off: the plain tIoU.
    nms_length_offset=0.0))


def head() -> ml_collections.ConfigDict:
  """UM's THUMOS14 head (public code: ``options.py``)."""
  h = ml_collections.ConfigDict()
  h.kind = "um"
  h.hidden_dim = 2048
  h.dropout = 0.7
  h.selection_dropout = 0.7
  h.r_act = 9.0
  h.r_bkg = 4.0
  h.margin = 100.0
  h.loss_weights = ml_collections.ConfigDict(
      {"cls": 1.0, "um": 5e-4, "be": 1.0})
  return h


def apply(c: ml_collections.ConfigDict, dataset: str) -> None:
  """UM's head, sampling, optimizer and post-processing on THUMOS14."""
  del dataset  # Published on THUMOS14 only.
  c.model.head = head()
  config_lib.set_training(c, num_snippets=750, sampling="uniform",
                          num_pairs=0, lr=1e-4, weight_decay=5e-4,
                          batch_size=16, num_steps=10000)
  config_lib.set_postprocess(c, *POSTPROCESS)


own_fusion = fusions.concat


def synthetic(c: ml_collections.ConfigDict) -> None:
  """3000 steps at the published learning rate, evaluated at 1500 and at the
  end: with LGCA in front (140 ms a step on 2 CPU cores) training and
  evaluation take about 8.5 minutes."""
  config_lib.set_synthetic_budget(c, 3000, evaluations=2)


def smoke(c: ml_collections.ConfigDict) -> None:
  c.model.head.hidden_dim = 16
