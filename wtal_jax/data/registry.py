"""Known datasets: what they are and how to prepare them.

``data_prep.prepared.open_dataset(config.data)`` opens one, building the
generated ones on first use.
"""

from __future__ import annotations

import dataclasses

from wtal_jax.registry import Registry


@dataclasses.dataclass(frozen=True)
class DatasetEntry:
  """How to find or make one dataset.

  Attributes:
    description: One line for ``--help`` and error messages.
    how_to_prepare: Instructions printed when a real dataset is missing
      (generated datasets are built on first use).
    default_builder_config: The builder config when a config names none.
  """

  description: str
  how_to_prepare: str = ""
  default_builder_config: str | None = None


DATASETS: Registry[DatasetEntry] = Registry("dataset")


DATASETS.register("synthetic_thumos")(DatasetEntry(
    description="Generated THUMOS14-shaped RGB/flow/audio features "
                "(real annotation timings), built on first use.",
    default_builder_config="full"))

_REAL_HINT = (
    "Prepare it from the public feature release with\n  {command}\n"
    "(see docs/datasets.md, 'Preparing real features'), or train on the "
    "generated dataset instead with --config={config_hint}:synthetic.")

DATASETS.register("thumos14")(DatasetEntry(
    description="THUMOS14 I3D RGB/flow features (W-TALC or per-video layout), "
                "optionally with aligned audio (configs wtalc, wtalc_audio, "
                "per_video, per_video_audio).",
    how_to_prepare=_REAL_HINT.format(
        command="python -m data_prep.build thumos14 --layout=wtalc "
                "--features=PATH/Thumos14reduced-I3D-JOINTFeatures.npy "
                "--annotations=PATH/Thumos14reduced-Annotations "
                "[--audio_dir=PATH/audio]\n"
                "or, for the per-video layout,\n"
                "  python -m data_prep.build thumos14 --layout=per_video "
                "--annotations=PATH/THUMOS14 --features=PATH/THUMOS14/features",
        config_hint="configs/thumos_lgca.py"),
    default_builder_config="wtalc"))

DATASETS.register("activitynet12")(DatasetEntry(
    description="ActivityNet1.2 I3D RGB/flow features (W-TALC layout), "
                "optionally with aligned audio (configs wtalc, wtalc_audio).",
    how_to_prepare=_REAL_HINT.format(
        command="python -m data_prep.build activitynet12 "
                "--features=PATH/ActivityNet1.2-I3D-JOINTFeatures.npy "
                "--annotations=PATH/ActivityNet1.2-Annotations "
                "[--audio_dir=PATH/audio]",
        config_hint="configs/anet_lgca.py"),
    default_builder_config="wtalc"))

DATASETS.register("ave")(DatasetEntry(
    description="AVE audio-visual events: per-second visual and audio "
                "features, per-second labels (config default).",
    how_to_prepare=_REAL_HINT.format(
        command="python -m data_prep.build ave --ave_dir=PATH/AVE_Dataset "
                "--features=PATH/AVE_features",
        config_hint="configs/ave_caav.py"),
    default_builder_config="default"))
