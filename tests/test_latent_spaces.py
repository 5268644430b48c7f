"""The two latent spaces the binder declares: the model's ``latent`` output and the content space.

Real reviews and the committed models and asset; the content space is also refitted on part of
the training split to check that serving (NumPy) computes what scikit-learn's fit defines.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from imdb.contract.config import load_config
from imdb.contract.model_files import LATENT_LAYER, SERVED_OUTPUTS
from imdb.data import Corpus
from imdb.models.inference import batch_inputs, run_model
from imdb.models.loading import load_keras_model, open_onnx, served_view
from imdb.runtime import components
from imdb.runtime.content_space import CONTENT_SPACE_FILE, ContentSpace, ContentSpaceError
from imdb.runtime.pipeline import Pipeline
from imdb.tools.export import export
from imdb.training.content_space import CONTENT_DIMENSIONS, fit_content_space, fit_vectorizer

REVIEWS = 64
FIT_REVIEWS = 3000
FIT_DIMENSIONS = 16
# The committed asset stays small enough to push with the code.
MAX_ASSET_BYTES = 2_000_000
# float16 storage against float32 serving arithmetic.
HALF_PRECISION_COSINE = 0.999


@pytest.fixture(scope="module")
def pipeline(imdb_data_uri: str, data_root: Path) -> Pipeline:
    return Pipeline(load_config(environ={}, model="dense", data=imdb_data_uri, data_root=str(data_root)))


@pytest.fixture(scope="module")
def ids(pipeline: Pipeline) -> list[str]:
    return pipeline.split_ids("validation", REVIEWS)


def test_served_view_returns_logits_then_the_latent_layer(pipeline: Pipeline, ids: list[str]) -> None:
    model = load_keras_model(pipeline.config)
    inputs = batch_inputs(pipeline, ids)
    logits, latent = served_view(model)(list(inputs.values()), training=False)
    width = model.get_layer(LATENT_LAYER).output.shape[-1]
    assert np.asarray(latent).shape == (len(ids), width)
    np.testing.assert_allclose(np.asarray(logits), run_model(model, inputs), atol=1e-6)
    batched = components.model_latent(np.asarray(latent)[0])
    assert batched.shape == (1, width) and batched.dtype == np.float32


def test_onnx_export_serves_both_outputs_in_order(pipeline: Pipeline, ids: list[str], tmp_path: Path) -> None:
    target = tmp_path / "dense.onnx"
    export(pipeline.config, "onnx", target=target)
    session = open_onnx(target)
    assert tuple(output.name for output in session.get_outputs()) == SERVED_OUTPUTS
    inputs = batch_inputs(pipeline, ids)
    onnx_logits, onnx_latent = session.run(None, inputs)
    keras_logits, keras_latent = served_view(load_keras_model(pipeline.config))(list(inputs.values()))
    np.testing.assert_allclose(onnx_logits, np.asarray(keras_logits), atol=1e-4)
    np.testing.assert_allclose(onnx_latent, np.asarray(keras_latent), atol=1e-4)


def test_committed_content_space_embeds_every_review(pipeline: Pipeline, ids: list[str]) -> None:
    assert CONTENT_SPACE_FILE.stat().st_size < MAX_ASSET_BYTES
    vectors = np.stack([components.content_latent(pipeline, sample_id) for sample_id in ids])
    assert vectors.shape == (len(ids), CONTENT_DIMENSIONS) and vectors.dtype == np.float32
    assert np.isfinite(vectors).all() and (np.abs(vectors).sum(axis=1) > 0).all()
    assert np.abs(pipeline.content_space.embed("")).sum() == 0.0


def test_serving_computes_what_the_fit_defines(pipeline: Pipeline, imdb_corpus: Corpus, ids: list[str],
                                              tmp_path: Path) -> None:
    """NumPy serving == scikit-learn's TF-IDF then SVD projection, for the same fitted space."""
    from sklearn.decomposition import TruncatedSVD

    asset = tmp_path / "space.npz"
    fit_content_space(pipeline.config, out=asset, dimensions=FIT_DIMENSIONS, limit=FIT_REVIEWS,
                      stored_dtype=np.float32)
    served = ContentSpace.load(asset)
    texts = [imdb_corpus[i].text for i in imdb_corpus.ids("training")[:FIT_REVIEWS]]
    vectorizer = fit_vectorizer(texts)
    svd = TruncatedSVD(n_components=FIT_DIMENSIONS, random_state=pipeline.config.seed).fit(vectorizer.transform(texts))
    held_out = [imdb_corpus[i].text for i in ids]
    expected = svd.transform(vectorizer.transform(held_out))
    np.testing.assert_allclose(np.stack([served.embed(text) for text in held_out]), expected, atol=1e-5)
    half = tmp_path / "half.npz"
    fit_content_space(pipeline.config, out=half, dimensions=FIT_DIMENSIONS, limit=FIT_REVIEWS)
    low = np.stack([ContentSpace.load(half).embed(text) for text in held_out])
    cosine = (low * expected).sum(axis=1) / np.linalg.norm(low, axis=1) / np.linalg.norm(expected, axis=1)
    assert cosine.min() > HALF_PRECISION_COSINE


def test_a_missing_asset_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(ContentSpaceError, match="imdb-leap content-space"):
        ContentSpace.load(tmp_path / "nowhere.npz")
