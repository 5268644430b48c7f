"""All probe cases of one suite on one corpus's validation reviews, addressable by sample id."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Sequence

from imdb.probes.cases import ProbeCase, minimum_functionality_cases
from imdb.probes.perturb import directional_cases, invariance_cases
from imdb.probes.suite import Suite


class UnknownProbeError(KeyError):
    """A probe id that the suite does not generate (an edited suite, or a typo)."""


@dataclass
class ProbeSet:
    suite: Suite
    cases: list[ProbeCase]
    _by_id: dict[str, ProbeCase] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_id = {case.sample_id: case for case in self.cases}
        if len(self._by_id) != len(self.cases):
            raise ValueError(f"{self.suite.path}: the probe suite generates duplicate sample ids")

    @property
    def ids(self) -> list[str]:
        return [case.sample_id for case in self.cases]

    @property
    def capabilities(self) -> list[str]:
        """Capability names in suite order."""
        return list(dict.fromkeys(case.capability for case in self.cases))

    def __getitem__(self, sample_id: str) -> ProbeCase:
        case = self._by_id.get(sample_id)
        if case is None:
            raise UnknownProbeError(f"unknown probe id {sample_id!r} in the suite {self.suite.path} "
                                    f"(fingerprint {self.suite.fingerprint}); was the suite edited?")
        return case

    def __contains__(self, sample_id: object) -> bool:
        return sample_id in self._by_id

    def __iter__(self) -> Iterator[ProbeCase]:
        return iter(self.cases)

    def __len__(self) -> int:
        return len(self.cases)


def build_probe_set(suite: Suite, validation_reviews: Sequence) -> ProbeSet:
    """Templated cases first, then invariance and directional cases of ``validation_reviews``."""
    cases = minimum_functionality_cases(suite)
    cases += invariance_cases(validation_reviews, suite)
    cases += directional_cases(validation_reviews, suite)
    return ProbeSet(suite=suite, cases=cases)
