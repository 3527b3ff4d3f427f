"""HAM-Net's recipe (Islam, Long, Radke: "A Hybrid Attention Mechanism for
Weakly-Supervised Temporal Action Localization", AAAI 2021, Implementation
Details; public code ``asrafulashiq/hamnet``, ``options.py``,
``system_th.py``, ``tester.py``).

* Head: a classification branch (Conv k3 + LeakyReLU(0.2) twice, dropout
  0.7, Conv k1 to C + 1) and an attention branch (Conv k3 to 512 twice, Conv
  k1 to 1, sigmoid); ``k = T // 10``; loss weights 0.8 BCL, 0.8 SAL, 0.2
  SSAL, 0.2 HAL, 0.8 sparsity, 0.8 guide; drop threshold ``0.2 max(a)``;
  Kaiming-uniform initialisation.
* Fusion: the raw RGB and flow concatenated.
* Data and optimizer: 500 snippets, every sequence filled (short videos
  stretched, as the public sampler does); batch 20; Adam 1e-5 with weight
  decay 1e-3; 100 epochs of the 200 THUMOS14 training videos (1000 steps).
  ActivityNet1.2 (``system_anet.py``): 80 snippets, ``k = T // 20``, CAS
  and attention pooled over 17 snippets, dropout 0.5, the four attention
  losses and sparsity weighted 0.5, guide 0.1, 20 epochs of 4819 videos.
* Post-processing: ten thresholds on the attention, contrast on CAS x
  attention, Gaussian soft-NMS (``oic``).
"""

from __future__ import annotations

import ml_collections

from wtal_jax import config_lib
from wtal_jax.recipes import fusions

POSTPROCESS = ("oic", dict(
    activation="attention",
    thresholds=tuple(round(0.1 + i * 0.8 / 9, 10) for i in range(10)),
    scale=1, min_len=1, outer_ratio=0.25, gamma=0.2, class_threshold=0.2,
    score_activation="product", nms="soft", nms_sigma=0.3))


def head() -> ml_collections.ConfigDict:
  """HAM-Net's THUMOS14 hyperparameters (paper, Implementation Details)."""
  h = ml_collections.ConfigDict()
  h.kind = "hamnet"
  h.hidden_dim = 0  # 0 = the fused feature width (2048 for I3D RGB + flow).
  h.attention_dim = 512
  h.dropout = 0.7
  h.negative_slope = 0.2
  h.pool_kernel = 1  # 1 = no pooling; 17 on ActivityNet1.2.
  h.topk_divisor = 10.0  # k = T // 10 (k = 50 of 500 snippets).
  h.drop_threshold = 0.2  # gamma.
  h.drop = "high"
  h.drop_include_min = True
  # False: gamma_v = gamma * max(a), the public code's training loss; True:
  # min(a) + gamma * (max(a) - min(a)).
  h.drop_from_min = False
  h.weight_init = "he_uniform"  # init_weights in the public code.
  # lambda_0 .. lambda_3, alpha, beta.
  h.loss_weights = ml_collections.ConfigDict({
      "bcl": 0.8, "sal": 0.8, "ssal": 0.2, "hal": 0.2,
      "sparsity": 0.8, "guide": 0.8})
  return h


def apply(c: ml_collections.ConfigDict, dataset: str) -> None:
  """HAM-Net's head, sampling, optimizer and post-processing."""
  h = head()
  if dataset == "activitynet12":
    h.dropout = 0.5
    h.pool_kernel = 17
    h.topk_divisor = 20.0
    h.loss_weights.update({"bcl": 0.5, "sal": 0.5, "ssal": 0.5, "hal": 0.5,
                           "sparsity": 0.5, "guide": 0.1})
    c.model.head = h
    # 4819 videos at batch 20 is 241 steps an epoch: 20 epochs.
    config_lib.set_training(c, num_snippets=80, sampling="uniform_stretch",
                            num_pairs=0, lr=1e-5, weight_decay=1e-3,
                            batch_size=20, num_steps=4820)
    c.train.eval_every = 1205
    c.train.checkpoint_every = 241
  else:
    c.model.head = h
    config_lib.set_training(c, num_snippets=500, sampling="uniform_stretch",
                            num_pairs=0, lr=1e-5, weight_decay=1e-3,
                            batch_size=20, num_steps=1000)
    c.train.eval_every = 50
    c.train.checkpoint_every = 50
    c.train.log_every = 10
  config_lib.set_postprocess(c, *POSTPROCESS)


own_fusion = fusions.concat


def synthetic(c: ml_collections.ConfigDict) -> None:
  """2000 steps (about 210 ms each on 2 CPU cores); the learning rate is
  raised from 1e-5 to 1e-4, since 1e-5 hardly moves the model in them."""
  config_lib.set_synthetic_budget(c, 2000)
  c.train.lr = 1e-4


def smoke(c: ml_collections.ConfigDict) -> None:
  c.model.head.attention_dim = 16
