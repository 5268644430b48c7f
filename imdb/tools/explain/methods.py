"""Names and defaults of the attribution methods, importable without TensorFlow.

Why separate: the command line lists these as choices when it builds its parser, and
building the parser must not pay for importing TensorFlow.
"""

GRADIENT_X_INPUT = "gradxinput"
INTEGRATED_GRADIENTS = "ig"
# The gradient methods, for every family.
METHODS = (GRADIENT_X_INPUT, INTEGRATED_GRADIENTS)
# The exact decomposition of a linear model's logits (imdb.runtime.ngram_explain): no gradients,
# only for the families whose logits are a sum of per-token weights.
EXACT = "exact"
EXACT_FAMILIES = frozenset({"ngram"})
ALL_METHODS = (*METHODS, EXACT)
BASELINES = ("pad", "zero")
DEFAULT_METHOD = INTEGRATED_GRADIENTS
DEFAULT_BASELINE = "pad"
DEFAULT_STEPS = 32


def family_methods(family: str) -> tuple[str, ...]:
    """The attribution methods ``family`` supports: the exact one first where it has one."""
    return (EXACT, *METHODS) if family in EXACT_FAMILIES else METHODS


def default_method(family: str) -> str:
    """The heatmaps' method when none is asked for: exact where the family allows it."""
    return EXACT if family in EXACT_FAMILIES else DEFAULT_METHOD


def method_for(family: str, requested: str) -> str:
    """``requested`` where ``family`` supports it; the gradient default for a family without an
    exact method asked for ``exact`` (the compared model of a report on the n-gram family)."""
    return requested if requested in family_methods(family) else DEFAULT_METHOD
