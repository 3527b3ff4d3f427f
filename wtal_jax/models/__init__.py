"""Flax models: fusion modules, localization heads and their composition."""
