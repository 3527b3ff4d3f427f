"""3C-Net on ActivityNet1.2 RGB + flow, with its own (late) fusion.

Reproduces: LGCA paper Table 4 (also Table 10), row "3C-Net [22]":
ActivityNet1.2 avg mAP@[0.5:0.05:0.95] = 21.6. The recipe, with its
ActivityNet settings, is ``wtal_jax/recipes/threec.py``.
"""

from wtal_jax import config_lib
from wtal_jax.recipes import threec


def get_config(variant: str = ""):
  return config_lib.compose(threec, dataset="activitynet12", variant=variant)
