"""W-TAL uncertainty modeling (UM) on THUMOS14 RGB + flow, with its own fusion:
the raw I3D RGB and flow features concatenated (no embedding).

Reproduces: LGCA paper Table 3 (also Table 9), row "W-TAL [14]", RGB-flow:
THUMOS14 avg mAP@[0.1:0.1:0.7] = 40.4 (65.5 / 59.9 / 51.3 / 42.4 / 32.7 /
20.8 / 10.4). The recipe (UM's public code) is ``wtal_jax/recipes/um.py``.
"""

from wtal_jax import config_lib
from wtal_jax.recipes import um


def get_config(variant: str = ""):
  return config_lib.compose(um, dataset="thumos14", variant=variant)
