"""Installs wtal_jax and its dataset preparation package."""

import setuptools

setuptools.setup(
    name="wtal_jax",
    version="0.1.0",
    description=(
        "Weakly-supervised temporal action localization with multi-modal "
        "fusion (leaky gated cross-attention) in JAX/Flax."
    ),
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=setuptools.find_packages(include=["wtal_jax", "wtal_jax.*", "data_prep", "data_prep.*"]),
    package_data={"data_prep": ["resources/*.json"]},
    install_requires=[
        "jax>=0.7.0",
        "flax>=0.10.0",
        "optax>=0.2.4",
        "orbax-checkpoint>=0.11.0",
        "numpy>=1.26",
        "tensorflow-datasets>=4.9.7",
        "array_record>=0.5.1",
        "importlib_resources>=6.0",
        "ml-collections>=0.1.1",
        "absl-py>=2.0",
        "tensorboardX>=2.6",
        "matplotlib>=3.7",
        "tqdm>=4.60",
    ],
    extras_require={
        "test": ["pytest>=7.4", "nbclient>=0.9", "nbformat>=5.9", "ipykernel>=6.0"],
    },
)
