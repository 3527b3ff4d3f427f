"""3C-Net on ActivityNet1.2 RGB + flow, with its own (late) fusion.

Reproduces: LGCA paper Table 4 (also Table 10), row "3C-Net [22]":
ActivityNet1.2 avg mAP@[0.5:0.05:0.95] = 21.6. ActivityNet settings of
3C-Net's public code: random 200-snippet crops, counting loss x 0.1, and a
depthwise temporal Conv (kernel 13, dilation 2) + ReLU on the T-CAM.

The ``:synthetic`` and ``:smoke`` variants run the same recipe on the
THUMOS-shaped generated data and score it at THUMOS tIoUs.
"""

from wtal_jax import config_lib
from wtal_jax.models.heads import threec


def get_config(variant: str = ""):
  c = config_lib.base_config()
  config_lib.raw_concat(c)
  threec.apply_recipe(c, activitynet=True)
  if not variant:
    c.eval.tious = config_lib.ANET_TIOUS
  c = config_lib.apply_variant(c, variant, real_name="activitynet12",
                               real_builder_config="wtalc")
  if variant == "smoke":
    c.model.head.hidden_dim = 16
  return c
