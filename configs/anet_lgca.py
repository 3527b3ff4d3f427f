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


def get_config(variant: str = ""):
  c = config_lib.base_config()
  c.data.modalities = ("rgb+flow", "audio")
  config_lib.caav_recipe(c)
  config_lib.lgca_fusion(c, num_stages=2)
  c.eval.tious = config_lib.ANET_TIOUS
  return config_lib.apply_variant(c, variant, real_name="activitynet12",
                                  real_builder_config="wtalc_audio")
