"""LGCA (2 stages, leaky gates) + CAAV open-max head, audio-visual, on THUMOS14.

Reproduces: LGCA paper Table 3 / Table 9 row "Ours (on CAAV)": THUMOS14 avg
mAP@[0.1:0.1:0.7] = 37.5, the audio-visual recipe as published. The visual
modality is RGB and flow concatenated ("rgb+flow"), the other is audio, as in
CAAV. Set ``config.model.fusion.kind = "cross_attention"`` (skip "dense") for
the ungated CAAV baseline (35.6).

Data: ``thumos14`` config ``wtalc_audio``: the W-TALC I3D release with
per-video VGGish audio aligned to the 0.64 s snippets, prepared by
``python -m data_prep.build thumos14 --layout=wtalc --features=...
--annotations=... --audio_dir=...``. ``:synthetic`` and ``:smoke`` run on the
generated THUMOS-shaped dataset, which has an audio modality.
"""

from wtal_jax import config_lib
from wtal_jax.recipes import caav, lgca


def get_config(variant: str = ""):
  return config_lib.compose(
      caav,
      dataset="thumos14",
      fusion=lgca.two_stages,
      modalities=("rgb+flow", "audio"),
      variant=variant)
