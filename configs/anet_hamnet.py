"""HAM-Net on ActivityNet1.2 I3D RGB + flow, concatenated.

Reproduces: HAM-Net (Islam et al., AAAI 2021), Table 3, "HAM-Net (Ours)":
ActivityNet1.2 average mAP@0.5:0.05:0.95 = 25.1 (mAP@0.5 = 41.0,
mAP@0.75 = 24.8). The recipe (paper, Implementation Details; public
``system_anet.py``) is ``wtal_jax/recipes/hamnet.py``.
"""

from wtal_jax import config_lib
from wtal_jax.recipes import hamnet


def get_config(variant: str = ""):
  return config_lib.compose(hamnet, dataset="activitynet12", variant=variant)
