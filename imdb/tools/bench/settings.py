"""The benchmark's defaults, importable without NumPy-heavy code, code-loader or TensorFlow.

Why separate: ``imdb-leap`` builds every sub-command's parser at start-up, before it quiets
TensorFlow, so offering these as flag defaults must not import what the benchmark measures.
"""

# Label-balanced samples timed for the per-call latencies and the baselines.
NAIVE_SAMPLES = 1000
# Training reviews each fine-tuning step variant of the ``bert_training`` section runs over.
BERT_TRAINING_SAMPLES = 256
