"""HAM-Net on THUMOS14 I3D RGB + flow, concatenated (no cross-modal fusion).

Reproduces: HAM-Net (Islam et al., AAAI 2021), Table 2, "HAM-Net (Ours)":
THUMOS14 average mAP@0.1:0.7 = 39.8 (mAP@0.5 = 31.0). CO2-Net's Table 1
lists HAM-Net's updated public-code numbers, 39.8 at 0.1:0.7 and 32.5 at
0.1:0.9. The recipe is ``wtal_jax/recipes/hamnet.py``.
"""

from wtal_jax import config_lib
from wtal_jax.recipes import hamnet


def get_config(variant: str = ""):
  return config_lib.compose(hamnet, dataset="thumos14", variant=variant)
