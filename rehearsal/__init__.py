"""The cloud rehearsal: the compiled pipeline, the images, the Dataflow job, the CustomJob and the
serving model, run offline as Vertex AI would run them (``python -m rehearsal``; see run.py)."""
