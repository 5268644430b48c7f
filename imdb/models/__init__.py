"""Layer 5, models: builders per family (``word``, ``bert``) and loading (``loading``).

``loading`` imports Keras or onnxruntime only inside the loader, so the push bundle can carry
it; the builders import Keras and belong to training and the tools.
"""
