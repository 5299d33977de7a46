"""ONNX export: one graph per model, a 1 x 3 x H x W image in [0, 1] in, the derained image out.

A CoIC model is exported whole, through its own `forward`: the resize to the encoder's input, the
encoder and the per-instance convolutions are all in the graph, so deployment needs nothing but the
file. The batch is fixed to 1 because the per-instance convolutions fold the batch into the group
count of one convolution, a static attribute in ONNX. The output is not clamped, as the module's
output is not (`restore` clamps after merging tiles).

Height and width stay dynamic where the model allows it. The example traced has odd sides of at
least the backbone's padding multiple, so the internal mirror padding is traced as arithmetic on the
size rather than as "no padding" (which would hold for multiples only), and no side equals the
encoder's input size (the model skips the resize there, and the trace would keep that branch). Shape
branches the trace still took become runtime asserts that ONNX drops, so a dynamic graph is never
trusted blindly: before anything is written it is run by onnxruntime at the traced size, at the size
turned sideways and at a multiple of the padding, and compared with PyTorch. A model that fails this
needs a fixed `size`; one whose operator or code cannot be traced fails with one line naming its module.
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
import time
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .._atomic import atomic_write
from .._progress import NullProgress, ProgressLike
from ..catalog import model_info
from ..coic.model import CoICModel
from ..errors import ZooError
from ..version import __version__
from .build import BUILD_ATTR
from .onnx_session import (
    DYNAMIC,
    EXPORT_HINT,
    META_COIC,
    META_MIN_SIDE,
    META_MODEL,
    META_SIZE,
    META_VERSION,
    make_session,
)

MIN_OPSET = 18
"""The first opset whose Resize can antialias, which the CoIC encoder's input resize needs."""
CHECK_TOLERANCE = 1e-3
"""Largest |onnxruntime - PyTorch| accepted when checking a graph; float32 reordering stays near 1e-6,
a graph that took a wrong shape branch is off by far more or fails outright."""
INPUT_NAME, OUTPUT_NAME = "image", "derained"


@dataclass(frozen=True)
class ExportResult:
    """What was written: `size` is None for a dynamic graph; `checks` holds max |onnxruntime - torch| per
    size; `rounding_spread`, when not 0, says the model is numerically unstable (see `_compare`)."""

    path: Path
    size: tuple[int, int] | None
    min_side: int
    opset: int
    checks: dict[tuple[int, int], float]
    rounding_spread: float
    seconds: float


def parse_size(text: str) -> tuple[int, int]:
    """`"256x384"` -> (256, 384): height x width, both positive."""
    parts = text.lower().replace(" ", "").split("x")
    if len(parts) != 2 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise ZooError(f"--size {text!r} is not HxW (two positive whole numbers, e.g. 256x256)")
    return int(parts[0]), int(parts[1])


def require_export() -> None:
    """onnx, onnxscript (torch's exporter) and onnxruntime (the check), or one line naming the extra."""
    missing = []
    for module in ("onnx", "onnxscript", "onnxruntime"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise ZooError(f"ONNX export needs {', '.join(missing)}; {EXPORT_HINT}")


def pad_multiple(model: nn.Module) -> int:
    """The multiple the backbone pads its input to, by its card's size rule (1 when it takes any size,
    or when the model was not built from the catalog and has no card)."""
    build = getattr(model, BUILD_ATTR, None)
    if build is None:
        return 1
    backbone = model.backbone if isinstance(model, CoICModel) else model
    return model_info(build["backbone"]).multiple_of(backbone)


def _fixed_size_reason(model: nn.Module) -> str | None:
    """Why a model's graph cannot have a dynamic size, where its card knows it before tracing."""
    build = getattr(model, BUILD_ATTR, None)
    if build is not None and model_info(build["backbone"]).square_input:  # spandrel's Uformer: a square of the longer side
        return "pads its input to a square"
    return None


def _min_side(model: nn.Module, multiple: int) -> int:
    """Smallest side a dynamic graph takes: one mirror reflection must cover the padding, and the
    backbone's own minimum holds."""
    build = getattr(model, BUILD_ATTR, None)
    minimum = model_info(build["backbone"]).min_size if build else 1
    return max(multiple, minimum)


def _odd_at_least(n: int, avoid: set[int]) -> int:
    n += 1 - n % 2
    while n in avoid:
        n += 2
    return n


def example_size(multiple: int, encoder_size: int | None) -> tuple[int, int]:
    """The traced size of a dynamic export: odd sides (never a multiple of a power of two) of at least
    the padding multiple (one reflection pads it), different from each other and from the encoder size."""
    avoid = {encoder_size} if encoder_size else set()
    h = _odd_at_least(max(97, multiple + multiple // 2 + 1), avoid)
    return h, _odd_at_least(h + 4, avoid)


def check_sizes(example: tuple[int, int], multiple: int) -> list[tuple[int, int]]:
    """Where a dynamic graph is compared with PyTorch: as traced, sideways, and at a multiple of the padding."""
    h, w = example
    side = multiple * -(-72 // multiple)
    return [example, (w, h), (side, side + multiple)]


def _module_names(model: nn.Module) -> dict[int, str]:
    return {id(module): name or type(model).__name__ for name, module in model.named_modules()}


def _where(err: BaseException, model: nn.Module) -> str:
    """The innermost module of `model` whose code was running when `err` was raised, as `name (Class)`."""
    names = _module_names(model)
    found = ""
    tb: types.TracebackType | None = err.__traceback__
    while tb is not None:
        owner = tb.tb_frame.f_locals.get("self")
        if isinstance(owner, nn.Module) and id(owner) in names:
            found = f"{names[id(owner)]} ({type(owner).__name__}, {Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno})"
        tb = tb.tb_next
    return found


def _first_line(err: BaseException) -> str:
    """The first non-empty line of an error, without the terminal colours torch's exporter adds."""
    lines = [line.strip() for line in re.sub(r"\x1b\[[0-9;]*m", "", str(err)).splitlines() if line.strip()]
    return lines[0] if lines else type(err).__name__


def _chain(err: BaseException) -> list[BaseException]:
    """`err` and the exceptions it was raised from, outermost first."""
    chain: list[BaseException] = []
    while err is not None and err not in chain:
        chain.append(err)
        err = err.__cause__ or err.__context__  # type: ignore[assignment]
    return chain


def _failed_node(err: BaseException) -> str:
    """Where a conversion failed: the module path, class, source line and operator of the graph node
    torch's exporter was translating (found among the frames' locals: the exporter names it only in prose)."""
    found = None
    for exc in _chain(err):
        tb = exc.__traceback__
        while tb is not None:
            node = tb.tb_frame.f_locals.get("node")
            if isinstance(node, torch.fx.Node):
                found = node
            tb = tb.tb_next
    if found is None:
        return ""
    stack = found.meta.get("nn_module_stack") or {}
    path, cls = list(stack.values())[-1] if stack else ("", "")
    cls = cls.rsplit(".", 1)[-1] if isinstance(cls, str) else getattr(cls, "__name__", "")
    lines = re.findall(r'File "([^"]+)", line (\d+)', found.meta.get("stack_trace") or "")
    source = f", {Path(lines[-1][0]).name}:{lines[-1][1]}" if lines else ""
    module = f"{path or 'the model'} ({cls}{source}), " if cls else ""
    return f"{module}operator {found.target}"


def _module_caches(model: nn.Module) -> list[Any]:
    """The `functools` caches defined in the modules of the model's classes (IDT caches its position index)."""
    caches, seen = [], set()
    for module in model.modules():
        source = sys.modules.get(type(module).__module__)
        if source is None or id(source) in seen:
            continue
        seen.add(id(source))
        caches.extend(f for f in vars(source).values() if callable(getattr(f, "cache_clear", None)))
    return caches


@contextlib.contextmanager
def _fresh_caches(model: nn.Module) -> Iterator[None]:
    """Empty the model's module-level caches before and after tracing.

    A cache filled while tracing holds traced tensors, not values: the next eager forward at that size
    would read one and fail (IDT after a fixed-size export failed on "data-dependent expression zuf0").
    """
    caches = _module_caches(model)
    for cache in caches:
        cache.cache_clear()
    try:
        yield
    finally:
        for cache in caches:
            cache.cache_clear()


def _trace(model: nn.Module, example: torch.Tensor, dynamic: bool, label: str) -> Any:
    dims = {2: torch.export.Dim.AUTO, 3: torch.export.Dim.AUTO}
    try:
        with torch.no_grad():
            return torch.export.export(model, (example,), dynamic_shapes=({**dims},) if dynamic else None, strict=False)
    except Exception as err:  # torch.export raises many classes (UserError, GuardOnDataDependentSymNode, ...)
        where = _where(err, model)
        raise ZooError(
            f"{label}: cannot be traced for ONNX{f' in {where}' if where else ''}: {_first_line(err)}"
            + ("" if not dynamic else "; try a fixed --size HxW")
        ) from None


def _convert(program: Any, example: torch.Tensor, opset: int | None, label: str) -> Any:
    chatter = io.StringIO()
    try:
        with contextlib.redirect_stdout(chatter):
            return torch.onnx.export(
                program, (example,), None, dynamo=True, opset_version=opset, input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME], optimize=False, verbose=False,
            )
    except Exception as err:  # torch.onnx's ConversionError, DispatchError, or onnxscript's own errors
        where = _failed_node(err)
        reason = _first_line(_chain(err)[-1])
        raise ZooError(f"{label}: cannot be converted to ONNX{f' at {where}' if where else ''}: {reason}") from None


def _simplify(graph: Any) -> None:
    """Fold constants (the shape arithmetic included) and drop the nodes nothing reads.

    What torch's own `optimize=True` does minus onnxscript's pattern rewriter, whose matching grows
    with the square of the graph: on tiny BRN + CoIC it took 45 of 65 CPU seconds to bring 7,781 nodes
    to 1,749, where this takes 2 seconds to reach 3,060, and onnxruntime, which merges repeated
    subexpressions itself when it loads a graph, ran no faster for it.
    """
    from onnxscript.optimizer import fold_constants_ir, remove_unused_nodes

    fold_constants_ir(graph)
    remove_unused_nodes(graph)


def _graph_size(program: Any) -> tuple[Any, Any]:
    placeholder = next(n for n in program.graph.nodes if n.op == "placeholder" and n.name in program.graph_signature.user_inputs)
    return tuple(placeholder.meta["val"].shape[-2:])


def _rounding_spread(model: nn.Module, image: torch.Tensor) -> float:
    """How far PyTorch's own output moves when every pixel moves by one float32 step: the most that
    any reordering of float arithmetic (which onnxruntime does) can be held to."""
    with torch.no_grad():
        return float((model(torch.nextafter(image, torch.ones_like(image))) - model(image)).abs().max())


def _compare(
    model: nn.Module, session: Any, sizes: list[tuple[int, int]], traced: tuple[int, int], label: str
) -> tuple[dict[tuple[int, int], float], float]:
    """(max |onnxruntime - torch| per size on one random image, the rounding spread where it decided).

    A difference beyond `CHECK_TOLERANCE` passes only when PyTorch itself moves by at least a hundredth
    of it under one float32 step of the input: such a model (untrained paper RCDNet + CoIC reaches
    1e11) is decided by rounding, and no comparison can tell more. Anything else is a ZooError.
    """
    generator = torch.Generator().manual_seed(0)
    checks: dict[tuple[int, int], float] = {}
    spread = 0.0
    for h, w in sizes:
        image = torch.rand(1, 3, h, w, generator=generator)
        with torch.no_grad():
            expected = model(image)
        try:
            (got,) = session.run(None, {INPUT_NAME: image.numpy()})
            diff = float((torch.from_numpy(got) - expected).abs().max())
        except Exception as err:  # onnxruntime's own classes: a shape the graph cannot take
            diff, reason = float("inf"), _first_line(err)
        else:
            reason = f"max |onnxruntime - torch| = {diff:.2g}"
        if not diff <= CHECK_TOLERANCE:
            here = _rounding_spread(model, image) if diff < float("inf") else 0.0
            if not diff <= 100 * here:
                hint = (
                    "an operator was converted wrongly; please report it"
                    if (h, w) == traced
                    else "its shapes follow the traced size; export it with --size HxW"
                )
                raise ZooError(f"{label}: the ONNX graph does not match PyTorch at {h}x{w} ({reason}); {hint}")
            spread = max(spread, here)
        checks[(h, w)] = diff
    return checks, spread


def export_onnx(
    model: nn.Module,
    out: str | Path,
    *,
    size: tuple[int, int] | None = None,
    opset: int | None = None,
    label: str = "model",
    progress: ProgressLike | None = None,
) -> ExportResult:
    """Write `model` as one ONNX graph to `out` (atomically, and only once onnxruntime agrees with PyTorch).

    `size` (height, width) fixes the input size; without it height and width are dynamic, which a
    model whose shapes follow the traced size refuses (use `size` then). `opset` defaults to torch's
    exporter's own; below `MIN_OPSET` a CoIC model's antialiased resize has no ONNX operator.
    `label` names the model in messages. The model is put in eval mode on the CPU (the graph is
    traced there: CoIC's encoder then computes z with its momentum copy, as at test time).
    """
    require_export()
    start = time.perf_counter()
    progress = progress or NullProgress()
    out = Path(out)
    if out.is_dir():
        raise ZooError(f"--out {out} is a folder; name the .onnx file to write")
    model = model.cpu().eval()
    coic = isinstance(model, CoICModel) and model.modulation
    if opset is not None and coic and opset < MIN_OPSET:
        raise ZooError(f"--opset {opset}: CoIC resizes the image with antialiasing, which needs opset {MIN_OPSET} or later")
    reason = None if size else _fixed_size_reason(model)
    if reason:
        raise ZooError(f"{label} {reason}, so it cannot be exported with a dynamic size; pass --size HxW")
    multiple = pad_multiple(model)
    traced = size or example_size(multiple, model.encoder_size if coic else None)
    example = torch.rand(1, 3, *traced, generator=torch.Generator().manual_seed(0))

    task = progress.add_task(f"tracing {label}", total=3)
    with _fresh_caches(model):
        program = _trace(model, example, size is None, label)
        if size is None and not all(isinstance(d, torch.SymInt) for d in _graph_size(program)):
            raise ZooError(f"{label}: its code fixes the input size when traced, so it cannot be exported with a dynamic size; pass --size HxW")
        progress.update(task, advance=1, description=f"converting {label} to ONNX")
        onnx_program = _convert(program, example, opset, label)
    graph = onnx_program.model
    _simplify(graph)
    graph.metadata_props.update({
        META_MODEL: label, META_SIZE: DYNAMIC if size is None else f"{size[0]}x{size[1]}",
        META_MIN_SIDE: str(_min_side(model, multiple)), META_COIC: str(bool(coic)).lower(), META_VERSION: __version__,
    })
    progress.update(task, advance=1, description=f"checking {label} with onnxruntime")
    data = onnx_program.model_proto.SerializeToString()
    session = make_session(data)
    checks, spread = _compare(model, session, [size] if size else check_sizes(traced, multiple), traced, label)
    atomic_write(out, lambda tmp: tmp.write_bytes(data), size=len(data))
    progress.update(task, advance=1)
    progress.remove_task(task)
    used = graph.opset_imports.get("", opset or 0)
    return ExportResult(out, size, _min_side(model, multiple), used, checks, spread, time.perf_counter() - start)
