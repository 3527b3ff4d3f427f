"""Inference on new videos' features with a trained run.

* :class:`Localizer`: restores a run from its workdir (no dataset needed) and
  localizes actions in ``{modality: (T, D)}`` features, one video or many.
* :mod:`~wtal_jax.inference.sources`: reads the feature layouts the command
  line accepts (``python -m wtal_jax.predict``).
* :mod:`~wtal_jax.training.inference_file`: ``inference.json``, what
  training records for inference; :mod:`~wtal_jax.inference.recreate`
  writes it for a run that lacks it.
"""

from wtal_jax.inference.errors import (BadVideoInput, MissingMetadataError,
                                       NoCheckpointError, PredictInputError)
from wtal_jax.inference.localizer import (Localizer, Predictions, Segment,
                                          VideoPrediction)
from wtal_jax.training.inference_file import InferenceMetadata

__all__ = [
    "BadVideoInput", "InferenceMetadata", "Localizer", "MissingMetadataError",
    "NoCheckpointError", "PredictInputError", "Predictions", "Segment",
    "VideoPrediction",
]
