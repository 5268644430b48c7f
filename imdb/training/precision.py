"""Which arithmetic BERT fine-tuning runs in: ``bert.training_precision``.

Why bfloat16 and not float16: bfloat16 keeps float32's exponent range, so no loss scaling
is needed and a step's gradients cannot overflow; under Keras's ``mixed_bfloat16`` policy the
backbone computes in bfloat16 while its variables, the optimizer state and the updates stay
float32. On this project's CPU (AVX512-BF16) a step at 256 WordPieces ran 1.42x faster (the
bench's ``bert_training`` section, everything else equal). On
hardware without bfloat16 instructions the same policy is emulated and slower, so ``auto``
only picks it where the instructions exist. The saved model is float32 whatever was chosen:
``imdb.training.bert`` copies the trained variables into a float32 twin before saving.
"""

from __future__ import annotations

import logging
from pathlib import Path

from imdb.contract.config import TRAINING_PRECISIONS

LOG = logging.getLogger(__name__)

AUTO, FLOAT32, MIXED_BFLOAT16 = TRAINING_PRECISIONS
CPUINFO = Path("/proc/cpuinfo")
# x86 feature flags (as /proc/cpuinfo spells them) of native bfloat16 dot products.
CPU_BFLOAT16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})
# NVIDIA GPUs compute in bfloat16 natively from Ampere (compute capability 8.0) on.
GPU_BFLOAT16_CAPABILITY = (8, 0)


def cpu_flags(cpuinfo: str) -> frozenset[str]:
    """The feature flags of a ``/proc/cpuinfo`` text (x86's ``flags`` lines)."""
    flags: set[str] = set()
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            flags.update(value.split())
    return frozenset(flags)


def cpu_has_bfloat16(cpuinfo: str) -> bool:
    return bool(cpu_flags(cpuinfo) & CPU_BFLOAT16_FLAGS)


def gpus_have_bfloat16() -> bool | None:
    """True/False when TensorFlow sees GPUs (all of them bfloat16-capable or not); None without GPUs."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return None
    capabilities = [tf.config.experimental.get_device_details(gpu).get("compute_capability", (0, 0))
                    for gpu in gpus]
    return all(tuple(capability) >= GPU_BFLOAT16_CAPABILITY for capability in capabilities)


def _read_cpuinfo() -> str:
    try:
        return CPUINFO.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def resolve_precision(setting: str) -> str:
    """The Keras dtype policy name for ``bert.training_precision`` on this machine."""
    if setting != AUTO:
        return setting
    gpus = gpus_have_bfloat16()
    native = gpus if gpus is not None else cpu_has_bfloat16(_read_cpuinfo())
    chosen = MIXED_BFLOAT16 if native else FLOAT32
    LOG.info("bert.training_precision auto -> %s (%s %s bfloat16 instructions)", chosen,
             "GPU" if gpus is not None else "CPU", "has" if native else "lacks")
    return chosen
