"""Layer 2, text: both tokenizers side by side, and the plain-text helpers they share.

``words`` is the dense/CNN word tokenizer, ``wordpiece`` the BERT family's encoder (it needs
only the checkpoint's vocabulary, located by ``checkpoint``), ``plain`` strips HTML residue.
Nothing here imports Keras or TensorFlow.
"""
