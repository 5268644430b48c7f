"""Split and label names: one definition for the data layer, the binder, the CLI and the report."""

TRAINING = "training"
VALIDATION = "validation"
TEST = "test"
# In the order the integration serves them (test only when the data has the official split).
SPLITS = (TRAINING, VALIDATION, TEST)

# A label's position in this tuple is its integer label (the aclImdb ``neg``/``pos`` order).
LABEL_NAMES = ("negative", "positive")
NEGATIVE = 0
POSITIVE = 1
