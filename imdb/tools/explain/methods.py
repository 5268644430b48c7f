"""Names and defaults of the attribution methods, importable without TensorFlow.

Why separate: the command line lists these as choices when it builds its parser, and
building the parser must not pay for importing TensorFlow.
"""

GRADIENT_X_INPUT = "gradxinput"
INTEGRATED_GRADIENTS = "ig"
METHODS = (GRADIENT_X_INPUT, INTEGRATED_GRADIENTS)
BASELINES = ("pad", "zero")
DEFAULT_METHOD = INTEGRATED_GRADIENTS
DEFAULT_BASELINE = "pad"
DEFAULT_STEPS = 32
