"""Two small KFP components the pipeline needs between the main steps.

pass_dataset_uri: the "dataset already in a bucket" start point hands its URI on as the transfer
    step would, so the convert step has one input either way (``dsl.OneOf``).
serving_model: describes the exported SavedModel with Vertex AI's prebuilt TensorFlow serving
    image, as the Model Registry upload (Google Cloud Pipeline Components) expects it.
"""
from google_cloud_pipeline_components.types import artifact_types
from kfp import dsl
from kfp.dsl import Input, Model, Output

from components.common.images import image_for
from components.common.kfp_command import exec_python


@exec_python
@dsl.component(base_image=image_for("transfer"), install_kfp_package=False)
def pass_dataset_uri(dataset_uri: str) -> str:
    """Hand on the URI of a dataset that is already in a bucket."""
    return dataset_uri


@exec_python
@dsl.component(base_image=image_for("evaluate"), install_kfp_package=False,
               packages_to_install=[])
def serving_model(model: Input[Model], serving_image: str,
                  unmanaged_model: Output[artifact_types.UnmanagedContainerModel]):
    """The exported SavedModel plus its serving image, as an UnmanagedContainerModel artifact."""
    unmanaged_model.uri = model.uri
    unmanaged_model.metadata["containerSpec"] = {"imageUri": serving_image}
