"""Installs the ``components`` package; Dataflow workers get it through ``--setup_file``."""
import setuptools

setuptools.setup(
    name="synthdet-pipelines",
    version="0.1.0",
    description="Unity Perception / COCO data to a trained RetinaNet detector on Google Cloud",
    packages=setuptools.find_packages(include=["components", "components.*"]),
    python_requires=">=3.11,<3.12",
)
