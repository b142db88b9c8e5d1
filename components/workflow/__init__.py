"""Whole-pipeline tooling: submit to Vertex AI, run the local demo."""
