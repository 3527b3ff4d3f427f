"""Dataset preparation for wtal_jax: converters and the synthetic generator.

Every dataset built here is a TFDS dataset in ``array_record`` format whose
examples follow :mod:`wtal_jax.data.schema`, read back with
``tfds.builder_from_directory(dir).as_data_source(split)`` (no TensorFlow).
The command-line entry point is ``python -m data_prep.build``.
"""
