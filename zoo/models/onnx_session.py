"""`OnnxModel`: an exported `.onnx` graph run by onnxruntime behind the interface of an `nn.Module`.

`zoo.evaluation.inference.restore` takes a module; wrapping the onnxruntime session in one lets the
ONNX path reuse that tiling and clamping unchanged, so `zoo derain --engine onnxruntime` differs from
the PyTorch path only in who computes the graph. The graph takes one 1 x 3 x H x W image (CoIC's
per-instance convolutions fold the batch into a static group count), so a batch is run image by image.

What the exporter knew about the graph travels in the file's metadata (`META_*`): the size rule
(any size of at least `min_side`, or one fixed size) is checked here so a wrong input is one line, not
an onnxruntime shape error. A fixed-size graph gets smaller inputs mirror-padded up to its size and the
output cropped back; larger inputs need tiles of at most that size (`fixed_tile`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import ZooError

EXPORT_HINT = "install the export extra: pip install 'coic-zoo[export]'"
META_MODEL = "coic_zoo.model"
META_SIZE = "coic_zoo.size"
META_MIN_SIDE = "coic_zoo.min_side"
META_COIC = "coic_zoo.coic"
META_VERSION = "coic_zoo.version"
DYNAMIC = "dynamic"


def require_onnxruntime(what: str) -> Any:
    """The onnxruntime module, or one line saying which extra provides it."""
    try:
        import onnxruntime
    except ImportError:
        raise ZooError(f"{what} needs onnxruntime; {EXPORT_HINT}") from None
    return onnxruntime


def make_session(model: str | Path | bytes, threads: int | None = None) -> Any:
    """A CPU onnxruntime session; `threads` defaults to torch's intra-op count, so both engines get the same cores."""
    ort = require_onnxruntime("running an ONNX model")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or torch.get_num_threads()
    options.log_severity_level = 3  # errors only: its warnings about unused initialisers are not the user's business
    source = model if isinstance(model, bytes) else str(model)
    try:
        return ort.InferenceSession(source, sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as err:  # onnxruntime raises its own exception classes (Fail, InvalidGraph, NoSuchFile)
        where = "the exported graph" if isinstance(model, bytes) else str(model)
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise ZooError(f"{where}: onnxruntime cannot load it ({first})") from None


class OnnxModel(nn.Module):
    """An onnxruntime session as a parameter-free module: `forward(x)` restores N x 3 x H x W images on the CPU."""

    def __init__(self, path: str | Path, threads: int | None = None) -> None:
        super().__init__()
        path = Path(path)
        if not path.is_file():
            raise ZooError(f"{path}: no such ONNX file; `zoo export MODEL --out FILE.onnx` writes one")
        self.path = path
        self.session = make_session(path, threads)
        graph_input = self.session.get_inputs()[0]
        self.input_name = graph_input.name
        meta = self.session.get_modelmeta().custom_metadata_map
        self.model_name = meta.get(META_MODEL, path.stem)
        dims = graph_input.shape
        if len(dims) != 4 or dims[1] not in (3, "3"):
            raise ZooError(f"{path}: the graph takes {dims}, not an image of 1 x 3 x H x W; export it with `zoo export`")
        self.fixed_size: tuple[int, int] | None = (
            (dims[2], dims[3]) if isinstance(dims[2], int) and isinstance(dims[3], int) else None
        )
        self.min_side = int(meta.get(META_MIN_SIDE, 1))

    @property
    def fixed_tile(self) -> int | None:
        """The largest square tile a fixed-size graph can take (its smaller side); None for a dynamic graph."""
        return None if self.fixed_size is None else min(self.fixed_size)

    def _check(self, h: int, w: int) -> None:
        if self.fixed_size is not None:
            fh, fw = self.fixed_size
            if h > fh or w > fw:
                raise ZooError(
                    f"{self.path}: exported for {fh}x{fw} inputs, got {h}x{w}; use --tile {min(fh, fw)} "
                    f"or export again with a larger --size"
                )
        elif min(h, w) < self.min_side:
            raise ZooError(f"{self.path}: this graph needs images of at least {self.min_side} pixels a side, got {h}x{w}")

    def _fit(self, x: Tensor) -> Tensor:
        """Mirror-pad x up to the fixed size (replicating where a side is too short to mirror)."""
        assert self.fixed_size is not None
        dh, dw = self.fixed_size[0] - x.shape[-2], self.fixed_size[1] - x.shape[-1]
        if dh == 0 and dw == 0:
            return x
        mirror = dh < x.shape[-2] and dw < x.shape[-1]
        return F.pad(x, (0, dw, 0, dh), mode="reflect" if mirror else "replicate")

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4 or x.shape[1] != 3:
            raise ZooError(f"expected images as N x 3 x H x W, got shape {tuple(x.shape)}")
        h, w = x.shape[-2:]
        self._check(h, w)
        outs = []
        for image in x.detach().float().cpu():
            batch = image[None]
            if self.fixed_size is not None:
                batch = self._fit(batch)
            (out,) = self.session.run(None, {self.input_name: batch.contiguous().numpy()})
            outs.append(torch.from_numpy(out)[..., :h, :w])
        return torch.cat(outs).to(x.device)
