"""HAM-Net on ActivityNet1.2 I3D RGB + flow, concatenated.

Reproduces: HAM-Net (Islam et al., AAAI 2021), Table 3, "HAM-Net (Ours)":
ActivityNet1.2 average mAP@0.5:0.05:0.95 = 25.1 (mAP@0.5 = 41.0,
mAP@0.75 = 24.8).

Recipe (paper, Implementation Details; public ``system_anet.py``): 80
snippets, k = T // 20 (k = 4), CAS and attention average-pooled with kernel
17, dropout 0.5, all four attention losses weighted 0.5, sparsity 0.5, guide
0.1; Adam 1e-5, weight decay 1e-3, batch 20, 20 epochs of 4819 videos;
every sequence filled (short videos stretched), Kaiming-uniform
initialisation.
"""

from wtal_jax import config_lib
from wtal_jax.models.heads import hamnet


def get_config(variant: str = ""):
  c = config_lib.base_config()
  config_lib.raw_concat(c)
  h = hamnet.default_config()
  h.dropout = 0.5
  h.pool_kernel = 17
  h.topk_divisor = 20.0
  h.loss_weights.update({"bcl": 0.5, "sal": 0.5, "ssal": 0.5, "hal": 0.5,
                         "sparsity": 0.5, "guide": 0.1})
  c.model.head = h
  config_lib.set_training(c, num_snippets=80, sampling="uniform_stretch",
                          num_pairs=0, lr=1e-5, weight_decay=1e-3,
                          batch_size=20, num_steps=4820)
  c.train.eval_every = 1205
  c.train.checkpoint_every = 241
  c.eval.tious = config_lib.ANET_TIOUS
  c = config_lib.apply_variant(c, variant, real_name="activitynet12",
                               real_builder_config="wtalc")
  if variant == "smoke":
    c.model.head.attention_dim = 16
  return c
