"""Behavioural probes (CheckList-style): what a sentiment model understands, case by case.

Three kinds of test, after Ribeiro et al. (ACL 2020): *minimum functionality* (short templated
reviews with a known label, one group per capability: negation, contrast, downtoners …),
*invariance* (real validation reviews with names, titles, numbers or a typo changed: the
prediction must not flip) and *directional* (a clearly negative or positive closing sentence
appended: the positive-class probability must move that way).

Why below the runtime: the platform is served the probe cases as an additional preprocess
state, so the cases, their ids and their metadata must come from the pushed code; running
models on them and rendering the results are tools (``imdb.tools.probes``).
"""

from imdb.probes.cases import DIRECTIONAL, INVARIANCE, MINIMUM_FUNCTIONALITY, PROBE_PREFIX, ProbeCase, is_probe_id
from imdb.probes.probe_set import ProbeSet, build_probe_set
from imdb.probes.suite import Suite, load_suite

__all__ = ["DIRECTIONAL", "INVARIANCE", "MINIMUM_FUNCTIONALITY", "PROBE_PREFIX", "ProbeCase", "ProbeSet", "Suite",
           "build_probe_set", "is_probe_id", "load_suite"]
