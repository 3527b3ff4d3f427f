"""CO2-Net's recipe (Hong, Feng, Xu, Shan, Zheng: "Cross-modal Consensus
Network for Weakly Supervised Temporal Action Localization", ACM MM 2021;
public code ``harlanhong/MM2021-CO2-Net``, ``options.py``, ``run.sh``,
``wsad_dataset.py``, ``proposal_methods.py``).

* Head: one attention unit per stream (Conv k3 to 512 twice, Conv k1 to 1,
  dropout 0.5), a fusion Conv k1, a classifier (Conv k3, Conv k1 to C + 1);
  ``k = T // 7`` in training; CASL on the first 3 same-class pairs,
  normalised by their shared classes; Kaiming-uniform initialisation.
* Fusion: its cross-modal consensus module (CCM), both directions.
* Data and optimizer: 500 snippets, every sequence filled (short videos
  stretched); batch 10 holding 3 same-class pairs; Adam 5e-5 with weight
  decay 1e-3; 5000 iterations. ActivityNet1.2 (``ANT_CO2``): 60 snippets,
  ``k = T // 5``, CAS and attentions pooled over 13 snippets, Adam 3e-5 with
  weight decay 5e-4, 22000 iterations.
* Post-processing: HAM-Net's (its ``multiple_threshold_hamnet``); on
  THUMOS14 predictions overlapping an ambiguous segment are dropped before
  scoring, as its test code does.
"""

from __future__ import annotations

import ml_collections

from wtal_jax import config_lib
from wtal_jax.recipes import hamnet

# CO2-Net scores proposals with HAM-Net's post-processing.
POSTPROCESS = hamnet.POSTPROCESS


def head() -> ml_collections.ConfigDict:
  """CO2-Net's THUMOS14 hyperparameters (public ``options.py``, ``run.sh``)."""
  h = ml_collections.ConfigDict()
  h.kind = "co2net"
  h.hidden_dim = 0  # 0 = the fused feature width (2048 for I3D RGB + flow).
  h.attention_dim = 512
  h.dropout = 0.7  # dropout_ratio.
  h.attention_dropout = 0.5
  h.negative_slope = 0.2
  h.pool_kernel = 1  # 1 = no pooling; 13 on ActivityNet1.2.
  h.topk_divisor = 7.0  # --k 7: k = T // 7 in training.
  h.test_topk_divisor = 10.0  # k = T // 10 for the test-time class scores.
  h.casl_margin = 0.5
  # The public code scores the first 3 pairs of the batch (its same-class
  # pairs; 0 = every consecutive pair) and divides by their shared classes.
  h.casl_pairs = 3
  h.casl_normalize = "classes"
  h.weight_init = "he_uniform"  # kaiming_uniform_ in the public code.
  # alpha3 (CASL), alpha4 (mutual), alpha2 (opposite), alpha1 (norm).
  h.loss_weights = ml_collections.ConfigDict({
      "mil_orig": 1.0, "mil_supp": 1.0, "casl": 1.0, "mutual": 1.0,
      "oppo": 0.8, "norm": 0.8})
  return h


def apply(c: ml_collections.ConfigDict, dataset: str) -> None:
  """CO2-Net's head, sampling, optimizer and post-processing."""
  h = head()
  if dataset == "activitynet12":
    h.topk_divisor = 5.0
    h.pool_kernel = 13  # (60 // 5) // 2 * 2 + 1
    c.model.head = h
    config_lib.set_training(c, num_snippets=60, sampling="uniform_stretch",
                            num_pairs=3, lr=3e-5, weight_decay=5e-4,
                            batch_size=10, num_steps=22000)
    c.train.eval_every = 1000
    c.train.checkpoint_every = 1000
  else:
    c.model.head = h
    config_lib.set_training(c, num_snippets=500, sampling="uniform_stretch",
                            num_pairs=3, lr=5e-5, weight_decay=1e-3,
                            batch_size=10, num_steps=5000)
    c.train.eval_every = 200
    c.train.checkpoint_every = 200
    # CO2-Net's public test code drops predictions that overlap a THUMOS14
    # ambiguous segment before computing mAP; HAM-Net's does not.
    c.eval.remove_ambiguous = True
  config_lib.set_postprocess(c, *POSTPROCESS)


def own_fusion(c: ml_collections.ConfigDict) -> None:
  """CCM on the raw streams, initialised as the head."""
  c.model.fusion.kind = "ccm"
  c.model.fusion.embed_dim = 0
  ccm_settings(c)


def ccm_settings(c: ml_collections.ConfigDict) -> None:
  """CCM's ``ccm_*`` fusion fields, initialised as the head (also used by
  LGCA's recipe, which keeps CCM in front of LGCA)."""
  c.model.fusion.ccm_kernel_size = 3
  c.model.fusion.ccm_negative_slope = 0.2
  c.model.fusion.ccm_dropout = 0.5
  c.model.fusion.ccm_weight_init = c.model.head.weight_init


def synthetic(c: ml_collections.ConfigDict) -> None:
  """1800 steps (about 275 ms each on 2 CPU cores); the learning rate is
  raised from 5e-5 to 3e-4 to move in them (1e-4 scored 8.3 avg mAP after
  1000 steps on raw features, 3e-4 36.4)."""
  config_lib.set_synthetic_budget(c, 1800)
  c.train.lr = 3e-4


def smoke(c: ml_collections.ConfigDict) -> None:
  c.model.head.attention_dim = 16
