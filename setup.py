"""Packaging: the repository keeps config/, components/ and preview/ at its top level (a Pulumi program's
layout), while the installed distribution exposes them only as vllm_eks.config, vllm_eks.components and
vllm_eks.preview, so a consumer's own `config.py` or `components/` never clashes with ours. Metadata is in
pyproject.toml."""

from setuptools import find_packages, setup

TOP_LEVEL = ("config", "components", "preview")

setup(
    packages=["vllm_eks", *(f"vllm_eks.{top}{'.' + sub if sub else ''}" for top in TOP_LEVEL
                            for sub in ["", *find_packages(top)])],
    package_dir={"vllm_eks": "vllm_eks", **{f"vllm_eks.{top}": top for top in TOP_LEVEL}},
)
