"""The integration's working state for one configuration: corpus, tokenizer, metadata.

Why a single object: the official example reloads the tokenizer, re-reads the review and
recomputes metadata on every call. Here each is built once per process and every binder
function is a dictionary lookup plus, at most, one tokenisation that is then memoised. The
binder, the CLI, the report and the benchmark all go through this object, so they agree.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import random
from functools import cached_property
from typing import Any

import numpy as np

from imdb.contract.config import Config, load_config
from imdb.contract.names import LABEL_NAMES as POLARITY_NAMES, UNLABELED_CLASS, VALIDATION
from imdb.data.cache import METADATA_DIR
from imdb.data.review import Review
from imdb.probes import ProbeCase, ProbeSet, build_probe_set, is_probe_id, load_suite
from imdb.runtime.content_space import ContentSpace, load_content_space
from imdb.runtime.metadata import MetadataStore, SampleMetadata
from imdb.runtime.text_scores import TextScores, text_scores_name
from imdb.text.encoded import Encoded


logger = logging.getLogger(__name__)

# Reviews whose text scores one metadata miss computes (in parallel, then persisted).
METADATA_BATCH = 512


class Pipeline:
    """Lazily built pieces of one configured integration (nothing loads until first used)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._encoded: dict[str, Encoded] = {}
        self._content: dict[str, np.ndarray] = {}

    @cached_property
    def corpus(self) -> Any:
        from imdb.data import load_corpus
        from imdb.data.tables import TableSpec

        config = self.config
        table = TableSpec(**dataclasses.asdict(config.table))
        return load_corpus(config.data, config.data_root, validation_fraction=config.validation_fraction,
                           seed=config.seed, task=config.task, table=table,
                           polarity=dict(config.polarity) if config.polarity else None,
                           unlabeled_limit=config.unlabeled_limit)

    @property
    def labels(self) -> tuple[str, ...]:
        """The class names in the order of the model's logits: the corpus's under the configured task."""
        return self.corpus.label_names

    @property
    def polarity(self) -> tuple[int, ...] | None:
        """Each class's polarity (0 negative, 1 positive), or None where the classes have none."""
        return self.corpus.polarity

    @cached_property
    def encoder(self) -> Any:
        """Word encoder for the word families, WordPiece encoder for BERT, n-gram encoder for the
        n-gram family, both of the last two for the ensemble: chosen by configuration."""
        if self.config.is_ensemble:
            from imdb.text.combined import CombinedEncoder

            return CombinedEncoder(self._bert_encoder(), self._ngram_encoder())
        if self.config.is_bert:
            return self._bert_encoder()
        if self.config.is_ngram:
            return self._ngram_encoder()
        from imdb.text.words import WordEncoder, WordVocabulary

        return WordEncoder(WordVocabulary.load(self.config.text.vocab_file), self.config.text.sequence_length,
                           keep_scores=self.config.text.keep_scores)

    def _bert_encoder(self) -> Any:
        from imdb.text.wordpiece import BertEncoder

        return BertEncoder.from_config(self.config)

    def _ngram_encoder(self) -> Any:
        from imdb.text.ngrams import NgramEncoder
        from imdb.text.words import WordVocabulary

        ngram = self.config.ngram
        return NgramEncoder(WordVocabulary.load(ngram.vocab_file, family="ngram"), ngram.max_n, ngram.max_ngrams)

    @cached_property
    def ngram_weights(self) -> Any:
        """The n-gram family's weights asset (``imdb.runtime.ngram_explain``): the exact heatmaps'
        source where no model file is at hand (the platform)."""
        from imdb.runtime.ngram_explain import load_ngram_weights, ngram_weights_path

        return load_ngram_weights(ngram_weights_path(self.config))

    @cached_property
    def metadata_store(self) -> MetadataStore:
        cache_file = self.config.data_root / METADATA_DIR / text_scores_name(self.corpus.content_key)
        return MetadataStore(self.encoded, self.config.sequence_length, self.labels,
                             TextScores(cache_file), self._served_window)

    @cached_property
    def _served_positions(self) -> dict[str, tuple[list[str], int]]:
        """Each served sample id -> (the served ids of its split, its position there)."""
        positions: dict[str, tuple[list[str], int]] = {}
        for ids in [*(self.split_ids(split) for split in self.corpus.splits), self.unlabeled_ids()]:
            positions.update((sample_id, (ids, index)) for index, sample_id in enumerate(ids))
        return positions

    def _served_window(self, review: Review) -> list[Review]:
        """The reviews scored together with ``review`` on a miss: the next ``METADATA_BATCH``
        served ids of its split from it on. The platform walks a split in order, so each miss
        prepares the reviews it will ask for next, in parallel, and no single call waits for a
        whole split."""
        ids, start = self._served_positions.get(review.sample_id, ([review.sample_id], 0))
        return [self.corpus[sample_id] for sample_id in ids[start:start + METADATA_BATCH]]

    @cached_property
    def probes(self) -> ProbeSet:
        """The behavioural probe cases: templated ones, and perturbations of this corpus's
        validation reviews (so they change only when the suite file or the corpus does).

        Probes speak of negative and positive: each case's label is a polarity (its source
        review's, through the classes' polarity). Classes without one get no probes."""
        corpus = self.corpus
        polarity = self.polarity
        if polarity is None:
            logger.info("behavioural probes left out: the classes of %s (%s) have no negative/positive polarity "
                        "(set `polarity` in the config to map them)", corpus.source, ", ".join(self.labels))
            return ProbeSet(load_suite(), [])
        reviews = [corpus[sample_id] for sample_id in corpus.ids(VALIDATION)]
        return build_probe_set(load_suite(), [dataclasses.replace(review, label=polarity[review.label])
                                              for review in reviews])

    @cached_property
    def probe_metadata_store(self) -> MetadataStore:
        """Metadata of the probe cases, with a TextBlob cache of its own: keyed by the suite's
        fingerprint as well, so an edited suite never reads scores of other texts."""
        key = f"probes-{self.probes.suite.fingerprint}-{self.corpus.content_key}"
        return MetadataStore(self.encoded, self.config.sequence_length, POLARITY_NAMES,
                             TextScores(self.config.data_root / METADATA_DIR / text_scores_name(key)),
                             lambda case: list(self.probes))

    def item(self, sample_id: str) -> Any:
        """The review, or the probe case, that ``sample_id`` names."""
        return self.probes[sample_id] if is_probe_id(sample_id) else self.corpus[sample_id]

    def probe_case(self, sample_id: str) -> ProbeCase | None:
        """The probe case ``sample_id`` names, None for a real review."""
        return self.probes[sample_id] if is_probe_id(sample_id) else None

    def split_ids(self, split: str, limit: int | None = None) -> list[str]:
        """Sample ids of a split, capped by ``sample_limit_per_split`` and by ``limit`` (the
        smaller wins) with labels balanced."""
        ids = self.corpus.ids(split)
        caps = [cap for cap in (self.config.sample_limit_per_split, limit) if cap is not None]
        limit = min(caps) if caps else None
        if limit is None or limit >= len(ids):
            return list(ids)
        return balanced_subset(ids, [self.corpus.label(i) for i in ids], limit, self.config.seed)

    def unlabeled_ids(self) -> list[str]:
        """Ids of the unlabelled reviews served (``unlabeled_limit``, and ``sample_limit_per_split``
        like every state): ``[]`` when the source has none, and then no unlabelled state is served."""
        return self.corpus.unlabeled_ids(self.config.sample_limit_per_split)

    def encoded(self, sample_id: str) -> Encoded:
        cached = self._encoded.get(sample_id)
        if cached is None:
            cached = self.encoder.encode(self.item(sample_id).text)
            self._encoded[sample_id] = cached
        return cached

    def model_input(self, sample_id: str, name: str) -> np.ndarray:
        return self.encoded(sample_id).inputs[name]

    def ground_truth(self, sample_id: str) -> np.ndarray:
        """One-hot float32 over the classes; a probe case (whose label is a polarity) spreads its
        one unit evenly over the classes of that polarity (with two classes, the one-hot)."""
        if is_probe_id(sample_id):
            members = np.array(self.polarity, dtype=np.int64) == self.probes[sample_id].label
            return (members / members.sum()).astype(np.float32)
        label = self.corpus.label(sample_id)
        if label == UNLABELED_CLASS:
            raise ValueError(f"{sample_id} is an unlabelled review of {self.corpus.source}: it has no ground truth "
                             f"(code-loader calls no ground-truth encoder on the unlabelled state)")
        one_hot = np.zeros(len(self.labels), dtype=np.float32)
        one_hot[label] = 1.0
        return one_hot

    @cached_property
    def content_space(self) -> ContentSpace:
        return load_content_space()

    def content_vector(self, sample_id: str) -> np.ndarray:
        """The review's float32 content-space vector (unbatched), memoised like its tokens."""
        cached = self._content.get(sample_id)
        if cached is None:
            cached = self.content_space.embed(self.item(sample_id).text)
            self._content[sample_id] = cached
        return cached

    def metadata(self, sample_id: str) -> SampleMetadata:
        if is_probe_id(sample_id):
            return self.probe_metadata_store.get(self.probes[sample_id])
        return self.metadata_store.get(self.corpus[sample_id])


def balanced_subset(ids: list[str], labels: list[int], limit: int, seed: int) -> list[str]:
    """``limit`` ids, as equal per label as the data allows, in the split's original order."""
    rng = random.Random(seed)
    by_label: dict[int, list[int]] = {}
    for position, label in enumerate(labels):
        by_label.setdefault(label, []).append(position)
    for positions in by_label.values():
        rng.shuffle(positions)
    chosen: list[int] = []
    pools = sorted(by_label.values(), key=len)
    for index, positions in enumerate(pools):
        share = (limit - len(chosen)) // (len(pools) - index)
        chosen.extend(positions[:share])
    return [ids[position] for position in sorted(chosen)]


@functools.lru_cache(maxsize=1)
def get_pipeline() -> Pipeline:
    """The process-wide pipeline for the configuration in force (file + environment)."""
    return Pipeline(load_config())
