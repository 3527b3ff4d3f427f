"""The default recipe: LGCA (one stage, leaky gates) + W-TAL's uncertainty
modeling head (UM) on THUMOS14 RGB and flow, the LGCA paper's best pairing.

Reproduces: LGCA paper Table 3 (also Table 9), row "Ours (on W-TAL)":
THUMOS14 avg mAP@[0.1:0.1:0.7] = 41.7. It is ``configs/thumos_lgca_um.py``
under the short name; LGCA with the CAAV head is ``configs/thumos_lgca_caav.py``.

Data: ``thumos14`` prepared from the W-TALC feature release (no suffix), or
``:synthetic`` for the generated THUMOS-shaped dataset (the README's embedded
default), or ``:smoke`` (tiny, for tests).
"""

import os

from wtal_jax import config_lib


def get_config(variant: str = ""):
  path = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      "thumos_lgca_um.py")
  return config_lib.load_config(f"{path}:{variant}" if variant else path)
