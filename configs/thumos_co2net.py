"""CO2-Net on THUMOS14 I3D RGB and flow, fused by its cross-modal consensus
module (``ccm``).

Reproduces: CO2-Net (Hong et al., ACM MM 2021), Table 1, "CO2-Net":
THUMOS14 average mAP@0.1:0.7 = 44.6 (0.1:0.5 = 54.4, 0.1:0.9 = 35.7;
mAP@0.5 = 38.3). The recipe (public ``run.sh``, ``options.py``) is
``wtal_jax/recipes/co2net.py``.
"""

from wtal_jax import config_lib
from wtal_jax.recipes import co2net


def get_config(variant: str = ""):
  return config_lib.compose(co2net, dataset="thumos14", variant=variant)
