"""Keeping TensorFlow's native start-up logs out of a user's terminal.

Why a filter on the file descriptor: TensorFlow 2.21 writes its C++ logs (``oneDNN custom
operations are on``, ``Could not find cuda drivers``, ``failed call to cuInit`` on a machine
without a GPU, and abseil's ``All log messages before absl::InitializeLog()``) straight to file
descriptor 2 before ``TF_CPP_MIN_LOG_LEVEL`` is read, so no setting hides them. The CLI points
descriptor 2 at a pipe and forwards everything except those lines; Python's own output (errors,
warnings, progress bars) passes through unchanged, partial lines included.
"""

from __future__ import annotations

import atexit
import os
import re
import sys
import threading

# glog/abseil line: severity, MMDD, HH:MM:SS.micro (TF prints epoch seconds there), thread id, file:line] message.
_NATIVE_LINE = re.compile(rb"^[IWEF]\d{4} \d{2}:\d{2}:\d+\.\d+\s+\d+ [\w./-]+:\d+\] ")
_ABSL_PREAMBLE = b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
# Errors that only say there is no GPU: hidden like the notices. Any other native error is shown.
_NO_GPU = re.compile(rb"cuInit|CUDA|cuda", re.IGNORECASE)
_READ_BYTES = 65536
_DRAIN_TIMEOUT_S = 5.0


def is_noise(line: bytes) -> bool:
    """Whether a complete stderr line is TensorFlow start-up noise."""
    if line.startswith(_ABSL_PREAMBLE):
        return True
    if not _NATIVE_LINE.match(line):
        return False
    return line[:1] in (b"I", b"W") or bool(_NO_GPU.search(line))


def _may_become_noise(partial: bytes) -> bool:
    """Whether an unfinished line could still turn out to be a native log line (so it waits)."""
    if _ABSL_PREAMBLE.startswith(partial[:len(_ABSL_PREAMBLE)]):
        return True
    return partial[:1] in (b"I", b"W", b"E", b"F") and (len(partial) == 1 or partial[1:2].isdigit())


class StderrFilter:
    """Descriptor 2 -> pipe -> a thread that drops noise and writes the rest to the real stderr."""

    def __init__(self) -> None:
        sys.stderr.flush()
        self._target = os.dup(2)
        read_end, write_end = os.pipe()
        os.dup2(write_end, 2)
        os.close(write_end)
        self._read_end = read_end
        self._thread = threading.Thread(target=self._forward, name="stderr-filter", daemon=True)
        self._thread.start()
        atexit.register(self.stop)

    def _write(self, data: bytes) -> None:
        while data:
            data = data[os.write(self._target, data):]

    def _forward(self) -> None:
        pending = b""
        while chunk := os.read(self._read_end, _READ_BYTES):
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                if not is_noise(line):
                    self._write(line + b"\n")
            if pending and not _may_become_noise(pending):
                self._write(pending)
                pending = b""
        if pending and not is_noise(pending):
            self._write(pending)

    def stop(self) -> None:
        """Give descriptor 2 back and forward what is still in the pipe (at exit)."""
        sys.stderr.flush()
        os.dup2(self._target, 2)
        # A child process that still holds the pipe would keep it open: do not wait forever.
        self._thread.join(timeout=_DRAIN_TIMEOUT_S)


def hide_native_logs() -> StderrFilter:
    return StderrFilter()
