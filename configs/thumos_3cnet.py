"""3C-Net on THUMOS14 RGB + flow, with its own (late) fusion: each stream
keeps its raw I3D features and its own two FC layers inside the head.

Reproduces: LGCA paper Table 2 "Baseline (w/o cross-attention)" and Table 3
row "3C-Net [22]": THUMOS14 avg mAP@[0.1:0.1:0.7] = 33.1 (57.1 / 51.4 / 41.7 /
33.7 / 26.0 / 15.1 / 6.4). Hyperparameters of 3C-Net's public code: random
750-snippet crops, batch 32, Adam 1e-4 with weight decay 5e-4, center loss
x 1e-3, counting loss x 1, 50000 iterations with the best evaluation kept.
"""

from wtal_jax import config_lib
from wtal_jax.models.heads import threec


def get_config(variant: str = ""):
  c = config_lib.base_config()
  config_lib.raw_concat(c)
  threec.apply_recipe(c)
  c = config_lib.apply_variant(c, variant)
  if variant == "smoke":
    c.model.head.hidden_dim = 16
  return c
