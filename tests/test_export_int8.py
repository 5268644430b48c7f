"""The int8 recipe of ``imdb-leap export --format onnx-int8``: what it quantises and what it keeps float32.

Why a hand-built graph: the recipe picks nodes by the names tf2onnx gives keras_hub's
transformer layers, and checking that on a real MiniLM export would take minutes; a graph with
those names and the same op types (embedding Gather, feed-forward MatMuls, classifier head)
exercises the same quantiser in a second. The end-to-end path (Keras -> ONNX -> int8, checked
against Keras) runs on the committed dense model.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from imdb.contract.config import load_config
from imdb.tools.export import export_int8, float_matmuls, quantize_int8

VOCAB = 50
WIDTH = 16
INNER = 64
CLASSES = 2
BATCH = 3
TOKENS = 5
OPSET = 17
# IR version 8, the one of opset 17: onnx writes its newest by default, which onnxruntime may not read yet.
IR_VERSION = 8
# The node names tf2onnx gives the shipped BERT (model/bert.onnx).
LAYER = "imdb_bert_served_1/bert_backbone_1/transformer_layer_0_1"
EMBEDDING = "imdb_bert_served_1/bert_backbone_1/token_embedding_1/GatherV2"
FFN_IN = f"{LAYER}/feedforward_intermediate_dense_1/Tensordot/MatMul"
FFN_OUT = f"{LAYER}/feedforward_output_dense_1/Tensordot/MatMul"
HEAD = "imdb_bert_served_1/logits_1/MatMul"
# int8 logits of random weights stay within this fraction of the float32 logits' spread.
RELATIVE_TOLERANCE = 0.05
INT8_REPORT_KEYS = {"model", "format", "path", "bytes", "source", "verified_samples", "max_abs_difference"}


@pytest.fixture(scope="module")
def bert_like(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """token ids -> embedding Gather -> FFN in (tanh) -> FFN out -> head, with BERT's node names."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    weights = {"embedding": rng.normal(size=(VOCAB, WIDTH)), "ffn_in": rng.normal(size=(WIDTH, INNER)),
               "ffn_out": rng.normal(size=(INNER, WIDTH)), "head": rng.normal(size=(WIDTH, CLASSES))}
    nodes = [helper.make_node("Gather", ["embedding", "ids"], ["embedded"], name=EMBEDDING),
             helper.make_node("MatMul", ["embedded", "ffn_in"], ["inner"], name=FFN_IN),
             helper.make_node("Tanh", ["inner"], ["activated"], name=f"{LAYER}/Tanh"),
             helper.make_node("MatMul", ["activated", "ffn_out"], ["hidden"], name=FFN_OUT),
             helper.make_node("MatMul", ["hidden", "head"], ["logits"], name=HEAD)]
    graph = helper.make_graph(
        nodes, "bert_like", [helper.make_tensor_value_info("ids", TensorProto.INT64, [None, TOKENS])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [None, TOKENS, CLASSES])],
        [numpy_helper.from_array(value.astype(np.float32), name) for name, value in weights.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION)
    onnx.checker.check_model(model)
    path = tmp_path_factory.mktemp("bert-like") / "bert.onnx"
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="module")
def quantized(bert_like: Path) -> tuple[Path, list[str]]:
    target = bert_like.with_suffix(".int8.onnx")
    return target, quantize_int8(bert_like, target)


def _graph(path: Path):
    import onnx

    return onnx.load(str(path)).graph


def test_feed_forward_output_is_the_only_matmul_kept_float(bert_like: Path, quantized: tuple[Path, list[str]]) -> None:
    target, kept = quantized
    assert kept == float_matmuls(bert_like) == [FFN_OUT]
    graph = _graph(target)
    float_nodes = [node for node in graph.node if node.op_type == "MatMul"]
    assert [node.name for node in float_nodes] == [FFN_OUT]
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    import onnx

    assert initializers[float_nodes[0].input[1]].data_type == onnx.TensorProto.FLOAT


def test_other_matmuls_are_int8_with_one_scale_per_output_channel(quantized: tuple[Path, list[str]]) -> None:
    import onnx

    graph = _graph(quantized[0])
    integer = [node for node in graph.node if node.op_type == "MatMulInteger"]
    assert len(integer) == 2, [node.op_type for node in graph.node]
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    for node, channels in zip(integer, (INNER, CLASSES)):
        weight = initializers[node.input[1]]
        assert weight.data_type == onnx.TensorProto.INT8
        assert list(initializers[node.input[3]].dims) == [channels], "weights must have per-channel zero points"
    scales = [tensor for tensor in graph.initializer if tensor.name.endswith("_scale") and "ffn" in tensor.name]
    assert sorted(list(tensor.dims) for tensor in scales) == [[INNER]]


def test_embedding_table_is_stored_as_8_bits(quantized: tuple[Path, list[str]]) -> None:
    import onnx

    graph = _graph(quantized[0])
    gather = next(node for node in graph.node if node.op_type == "Gather")
    table = {tensor.name: tensor for tensor in graph.initializer}[gather.input[0]]
    assert table.data_type in (onnx.TensorProto.INT8, onnx.TensorProto.UINT8)
    assert list(table.dims) == [VOCAB, WIDTH]


def test_int8_logits_follow_float32(bert_like: Path, quantized: tuple[Path, list[str]]) -> None:
    from imdb.models.loading import open_onnx

    ids = np.random.default_rng(1).integers(0, VOCAB, size=(BATCH, TOKENS))
    reference = open_onnx(bert_like).run(None, {"ids": ids})[0]
    int8 = open_onnx(quantized[0]).run(None, {"ids": ids})[0]
    assert int8.shape == reference.shape
    assert np.max(np.abs(int8 - reference)) <= RELATIVE_TOLERANCE * np.ptp(reference)


def test_export_int8_from_keras_writes_a_checked_int8_file(official_tarball: Path, family_cache: Path,
                                                           tmp_path: Path) -> None:
    """The command's path on the committed dense model: float32 ONNX exported first, then int8."""
    model_dir = tmp_path / "models"
    model_dir.mkdir()
    shutil.copy2(load_config().model_dir / "dense.h5", model_dir / "dense.h5")
    config = load_config(environ={}, model="dense", model_dir=str(model_dir), data=str(official_tarball),
                         data_root=str(family_cache))
    report = export_int8(config)
    assert set(report) == INT8_REPORT_KEYS
    assert Path(report["source"]) == model_dir / "dense.onnx" and Path(report["source"]).is_file()
    assert Path(report["path"]) == model_dir / "dense.int8.onnx" and report["verified_samples"] > 0
    assert np.isfinite(report["max_abs_difference"])
    op_types = {node.op_type for node in _graph(Path(report["path"])).node}
    assert "MatMulInteger" in op_types and "MatMul" not in op_types


@pytest.fixture(scope="module")
def family_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("int8-cache")
