"""3C-Net's recipe (Narayan, Cholakkal, Khan, Shao: "3C-Net: Category Count
and Center Loss for Weakly-Supervised Action Localization", ICCV 2019; public
code ``naraysa/3c-net``, ``options.py``, ``train.py``).

* Head: per stream two Linear + ReLU of the stream's width, dropout 0.7 and a
  classifier; learnable class multipliers; MIL on each stream and on the
  T-CAM, center loss x 1e-3 (multi-label videos after 5000 iterations),
  counting loss.
* Fusion: its own late fusion of the two streams (the raw streams in).
* Data and optimizer: random 750-snippet crops (ActivityNet1.2: 200), batch
  32, Adam 1e-4 with weight decay 5e-4, 50000 iterations. ActivityNet1.2 also
  weights the counting loss by 0.1 and smooths the T-CAM with a depthwise
  temporal conv.
* Post-processing: W-TALC's two-stage thresholding (``wtalc``), from which
  its code derives.
"""

from __future__ import annotations

import ml_collections

from wtal_jax import config_lib
from wtal_jax.recipes import fusions

POSTPROCESS = ("wtalc", {})


def head() -> ml_collections.ConfigDict:
  """3C-Net's THUMOS14 head (public code: ``options.py``, ``train.py``)."""
  h = ml_collections.ConfigDict()
  h.kind = "threec"
  h.num_fc = 2
  h.hidden_dim = 0  # 0 = the stream's own width (1024 for I3D).
  h.dropout = 0.7
  h.topk_divisor = 8.0
  h.min_snippets = 5
  h.temporal_conv = False
  h.center_lr_scale = 100.0
  # "paper", or "public_code": its CenterLoss weights each distance by the
  # class index and divides the mean by the item count again (an option).
  h.center_form = "paper"
  h.count_neg_weight = 1e-3
  h.count_source = "batch"
  h.loss_weights = ml_collections.ConfigDict(
      {"cls": 1.0, "center": 1e-3, "center_multi": 1e-3, "count": 1.0})
  # Multi-label videos join the center loss after 5000 iterations.
  h.loss_delay = ml_collections.ConfigDict({"center_multi": 5000})
  return h


def apply(c: ml_collections.ConfigDict, dataset: str) -> None:
  """3C-Net's head, sampling, optimizer and post-processing."""
  activitynet = dataset == "activitynet12"
  c.model.head = head()
  if activitynet:
    c.model.head.temporal_conv = True
    c.model.head.loss_weights.count = 0.1
  config_lib.set_training(c, num_snippets=200 if activitynet else 750,
                          sampling="random_crop", num_pairs=0, lr=1e-4,
                          weight_decay=5e-4, batch_size=32, num_steps=50000)
  config_lib.set_postprocess(c, *POSTPROCESS)


# Its late fusion is part of the head; the streams come in raw.
own_fusion = fusions.concat


def synthetic(c: ml_collections.ConfigDict) -> None:
  """3000 steps at the published learning rate (with LGCA in front about
  105 ms each on 2 CPU cores)."""
  config_lib.set_synthetic_budget(c, 3000)


def smoke(c: ml_collections.ConfigDict) -> None:
  if c.model.head.num_fc:  # Behind LGCA the head has no FC of its own.
    c.model.head.hidden_dim = 16
