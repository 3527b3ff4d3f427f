"""LGCA (2 stages, leaky gates) + CAAV open-max head, audio-visual, on
ActivityNet1.2.

Reproduces: LGCA paper Table 4 / Table 10 row "Ours (on CAAV)":
ActivityNet1.2 avg mAP@[0.5:0.05:0.95] = 26.6, audio-visual as published
(visual = RGB and flow concatenated, as in CAAV).

Data: ``activitynet12`` config ``wtalc_audio``: the W-TALC I3D release
(``train`` = the 4819 training videos, ``test`` = the 2383 validation videos)
with per-video VGGish audio, prepared by ``python -m data_prep.build
activitynet12 --features=... --annotations=... --audio_dir=...``.
``:synthetic`` and ``:smoke`` run the same recipe on the generated
THUMOS-shaped dataset.
"""

from wtal_jax import config_lib
from wtal_jax.recipes import caav, lgca


def get_config(variant: str = ""):
  return config_lib.compose(
      caav,
      dataset="activitynet12",
      fusion=lgca.two_stages,
      modalities=("rgb+flow", "audio"),
      variant=variant)
