"""Layer 6, training: word models (``word``, started from checkpoint vectors by ``word_init``),
BERT fine-tuning (``bert``), and saving artifacts and model cards (``artifacts``).

Nothing in the runtime or the model loader imports this package, so it is never pushed.
"""
