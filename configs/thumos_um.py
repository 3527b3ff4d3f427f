"""W-TAL uncertainty modeling (UM) on THUMOS14 RGB + flow, with its own fusion:
the raw I3D RGB and flow features concatenated (no embedding).

Reproduces: LGCA paper Table 3 (also Table 9), row "W-TAL [14]", RGB-flow:
THUMOS14 avg mAP@[0.1:0.1:0.7] = 40.4 (65.5 / 59.9 / 51.3 / 42.4 / 32.7 /
20.8 / 10.4). Hyperparameters of UM's public code: 750 snippets sampled one
per uniform segment, batch 16, Adam 1e-4 with weight decay 5e-4, 10000 steps.
"""

from wtal_jax import config_lib
from wtal_jax.models.heads import um


def get_config(variant: str = ""):
  c = config_lib.base_config()
  config_lib.raw_concat(c)
  um.apply_thumos_recipe(c)
  c = config_lib.apply_variant(c, variant)
  if variant == "smoke":
    c.model.head.hidden_dim = 16
  return c
