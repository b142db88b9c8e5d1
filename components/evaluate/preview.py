"""The names the evaluate task and CLI use from the dataset preview, which is ``components.preview``."""
from components.preview.preview import preview_examples, write_preview

__all__ = ["preview_examples", "write_preview"]
