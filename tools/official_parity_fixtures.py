"""Build the official-parity fixtures from a checkout of the official CoIC code (run by hand, never at test time).

    python tools/official_parity_fixtures.py /path/to/CoIC-checkout [--out tests/fixtures/official]

The checkout is GitHub Schizophreni/CoIC at 8c99e733ab25869bf87cd720b9a6a65d62914dd6 (MIT), e.g.
`git --git-dir=<mirror> archive 8c99e733 | tar -x -C /tmp/coic` (the large .pth files may be absent;
they are not needed). For each backbone this script builds the *official* class at a reduced width,
seeds its random initialisation, and saves, in the official key layout:

    <name>.safetensors   state dict (official keys), `__input__`, `__z__`, `__out_normal__`, `__out_tran__`,
                         `__out_normal_f64__`, `__out_tran_f64__`
    <name>.json          constructor arguments of the official class and of ours, and how it was called

The float32 outputs depend on the CPU's kernel path (oneDNN/MKL ISA, thread count): on another CPU the
same float32 forward rounds differently, and RCDNet's modulated output, reaching 39, moves by 1.6e-4.
So the official class is also run in float64 on exactly the same weights (`model.double()`, the input
and z cast to double, under a float64 default dtype because BRN and CoIM create tensors inside
forward); those `_f64` outputs differ between CPUs only by float64 rounding, and the tests compare
against them. The float32 outputs stay for the one test of the float32 path. The committed ones
were made on a CPU whose float32 rounding this script does not reproduce elsewhere; to add or
rebuild the float64 outputs without replacing them, keep them (every other tensor must then
regenerate bit-for-bit, or the script stops):

    python tools/official_parity_fixtures.py CHECKOUT --keep-float32

The encoder fixture is a reduced `MoCo` (`encoder_q.*`/`encoder_k.*`) with the input, the resized
input and `encoder_k`'s z, and in float64 `__resized_f64__` (the input resized in double) and
`__z_f64__` (`encoder_k` on it). No official code is copied into the fixtures: only tensors. Widths are
reduced by patching the constructor's literal widths in memory where the official class hard-codes
them (BRN's 32 channels, DGUNet's 40/20/16 and 64, IDT's and DRSformer's block counts and fixed
widths); the patched source is never written anywhere. For the modulated grouped convolutions of
IDT and DRSformer, `models/CoIM.py` builds an MLP hidden layer of C_out // 16 units, which is empty
below 16 channels; the reduced fixtures patch it to at least one unit, as ours builds it (at the
official widths the two agree).

DGUNet, IDT and DRSformer have hundreds of small tensors, so their fixtures are packed to stay small:
every floating-point parameter is rounded, *before* the official forward, to an 8-bit integer times
a power of two (per tensor), and all of them are stored as one int8 vector `__weights__` with one
exponent per tensor in `__exponents__`; the JSON lists the official keys and shapes in order
(`"packed"`: `"key d0,d1,..."`, no dimensions for a scalar). The input is rounded to multiples of 1/256 (exact in float16). The float32 weights the
test rebuilds are therefore exactly the ones the official outputs were computed with.

    python tools/official_parity_fixtures.py CHECKOUT --only dgunet,idt,drsformer

`tests/test_official_parity.py` converts each fixture with `zoo.models.convert.convert_official` and checks
our outputs against the saved official ones.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import types
from collections.abc import Callable
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file


def _load_patched(checkout: Path, module: str, replacements: dict[str, str]) -> types.ModuleType:
    """Import models/<module>.py from the checkout with literal text replacements (reduced widths)."""
    source = (checkout / "models" / f"{module}.py").read_text()
    for old, new in replacements.items():
        if old not in source:
            raise SystemExit(f"{module}.py: '{old}' not found; is this commit 8c99e73?")
        source = source.replace(old, new)
    mod = types.ModuleType(f"models.{module}")
    mod.__file__ = str(checkout / "models" / f"{module}.py")
    exec(compile(source, mod.__file__, "exec"), mod.__dict__)
    return mod


def _randomise_buffers(model: torch.nn.Module, generator: torch.Generator) -> None:
    """Non-trivial batch-norm statistics, so eval-mode normalisation is exercised."""
    for name, buffer in model.named_buffers():
        if name.endswith("running_mean"):
            buffer.copy_(torch.randn(buffer.shape, generator=generator) * 0.1)
        elif name.endswith("running_var"):
            buffer.copy_(torch.rand(buffer.shape, generator=generator) + 0.5)


def _spread_modulators(model: torch.nn.Module, generator: torch.Generator) -> None:
    """Larger last-layer MLP weights, so the modulated output differs clearly from the plain one."""
    for name, param in model.named_parameters():
        if "g2pa_wgen.4" in name:
            param.data.copy_(torch.randn(param.shape, generator=generator) * 0.5)


def _save(out: Path, name: str, state: dict[str, torch.Tensor], tensors: dict[str, torch.Tensor], meta: dict) -> None:
    payload = {k: v.detach().contiguous().clone() for k, v in state.items()}
    payload.update({k: v.detach().contiguous().clone() for k, v in tensors.items()})
    save_file(payload, str(out / f"{name}.safetensors"))
    (out / f"{name}.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"{name}: {sum(v.numel() for v in payload.values()):,} numbers")


def _backbone_fixture(
    out: Path, name: str, model: torch.nn.Module, call, dim_z: int, ours: dict, official: dict, size=(24, 28), packed: bool = False
) -> None:
    generator = torch.Generator().manual_seed(11)
    with torch.no_grad():
        _randomise_buffers(model, generator)
        _spread_modulators(model, generator)
        exponents = _quantise(model) if packed else {}
    model.eval()
    x = torch.rand((2, 3, *size), generator=generator)
    if packed:
        x = torch.round(x * 256) / 256
    z = torch.nn.functional.normalize(torch.randn(2, dim_z, generator=generator), dim=-1)
    with torch.no_grad():
        plain = call(model, x, None, "normal")
        tran = call(model, x, z, "tran")
    state = {k: v.clone() for k, v in model.state_dict().items()}  # float32, before the float64 run converts the model
    x64, z64 = x.double(), z.double()
    plain64, tran64 = _in_float64(model, lambda m: (call(m, x64, None, "normal"), call(m, x64, z64, "tran")))
    meta = {"official": official, "ours": ours, "dim_z": dim_z,
            "max_abs_tran_minus_normal": float((tran - plain).abs().max()),
            "source": "Schizophreni/CoIC @ 8c99e733ab25869bf87cd720b9a6a65d62914dd6 (MIT), random init"}
    extra = {"__input__": x.half() if packed else x, "__z__": z, "__out_normal__": plain, "__out_tran__": tran,
             "__out_normal_f64__": plain64, "__out_tran_f64__": tran64}
    if packed:
        floats = [k for k, v in state.items() if v.is_floating_point()]
        meta["packed"] = [f"{k} {','.join(map(str, state[k].shape))}" for k in floats]  # "key d0,d1,..." in order
        extra["__weights__"] = torch.cat([(state[k] / 2.0 ** exponents[k]).round().to(torch.int8).flatten() for k in floats])
        extra["__exponents__"] = torch.tensor([exponents[k] for k in floats], dtype=torch.int8)
        state = {k: v for k, v in state.items() if not v.is_floating_point()}
    _save(out, name, state, extra, meta)


def _in_float64(
    model: torch.nn.Module, run: Callable[[torch.nn.Module], tuple[torch.Tensor, ...]]
) -> tuple[torch.Tensor, ...]:
    """`run(model)` with `model` converted to float64 in place and float64 as the default dtype.

    The default dtype matters because the official forwards create tensors themselves (BRN's LSTM
    states, CoIM's bias broadcast): left float32 they would fail against double weights or round.
    Every returned tensor must be float64, so a float32 path through the official code cannot hide.
    """
    model.double()
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        with torch.no_grad():
            outputs = run(model)
    finally:
        torch.set_default_dtype(previous)
    for output in outputs:
        if output.dtype != torch.float64:
            raise SystemExit(f"the float64 run returned {output.dtype}")
    return outputs


def _quantise(model: torch.nn.Module) -> dict[str, int]:
    """Round every floating-point tensor of `model` in place to k * 2**e, |k| <= 127; returns e per key."""
    exponents = {}
    for key, tensor in model.state_dict().items():
        if tensor.is_floating_point():
            peak = float(tensor.abs().max())
            exponent = math.ceil(math.log2(peak / 127)) if peak > 0 else 0
            tensor.copy_((tensor / 2.0**exponent).round().clamp(-127, 127) * 2.0**exponent)
            exponents[key] = exponent
    return exponents


def _brn(checkout: Path, out: Path) -> None:
    """BRN: 8 channels instead of 32, 3 iterations, z of 16."""
    brn = _load_patched(checkout, "BRN_CoIM", {"32": "8"})
    torch.manual_seed(1)
    opt = types.SimpleNamespace(inter_iter=3, dim_in=16, use_GPU=False)
    _backbone_fixture(
        out, "brn", brn.BRN(opt), lambda m, x, z, mode: m(x, z, mode), 16,
        {"channels": 8, "iterations": 3, "image_blocks": 5, "rain_blocks": 3},
        {"class": "models/BRN_CoIM.py BRN", "opt": vars(opt), "patched": "channel literal 32 -> 8"},
    )


def _rcdnet(checkout: Path, out: Path) -> None:
    """RCDNet: the 32 rain maps come from kernel.mat; 4 channels, 1 block, 2 stages, z of 16."""
    import os

    cwd = os.getcwd()
    os.chdir(checkout)  # RCDNet reads models/kernel.mat relative to the working directory
    try:
        from models.RCDNet_CoIM import RCDNet

        torch.manual_seed(2)
        opt = types.SimpleNamespace(inter_iter=2, num_map=32, num_channel=4, num_block=1, dim_in=16)
        model = RCDNet(opt)
    finally:
        os.chdir(cwd)
    _backbone_fixture(
        out, "rcdnet", model, lambda m, x, z, mode: m(255.0 * x, z, mode)[1][-1] / 255.0, 16,
        {"stages": 2, "maps": 32, "channels": 4, "blocks": 1},
        {"class": "models/RCDNet_CoIM.py RCDNet", "opt": vars(opt), "called": "model(255 x, z, mode)[1][-1] / 255, as test_model.py"},
    )


_COIM_HIDDEN = {"nn.Linear(dim_in + in_channels, out_channels // 16),": "nn.Linear(dim_in + in_channels, max(out_channels // 16, 1)),",
                "nn.Linear(out_channels // 16, 16),": "nn.Linear(max(out_channels // 16, 1), 16),"}


def _patch_coim(checkout: Path) -> None:
    """models.CoIM with at least one hidden unit in the grouped-conv MLP (see the module docstring)."""
    sys.modules["models.CoIM"] = _load_patched(checkout, "CoIM", _COIM_HIDDEN)


def _dgunet(checkout: Path, out: Path) -> None:
    """DGUNet: widths 4/2/2 instead of 40/20/16, GDM blocks 4 wide instead of 64, depth 1, z of 8."""
    patches = {"n_feat, scale_unetfeats, scale_orsnetfeats = 40, 20, 16": "n_feat, scale_unetfeats, scale_orsnetfeats = 4, 2, 2",
               "conv(n_feats, 64, kernel_size": "conv(n_feats, 4, kernel_size", "conv(64, n_feats, kernel_size": "conv(4, n_feats, kernel_size"}
    module = _load_patched(checkout, "DGUNet_CoIM", patches)
    torch.manual_seed(4)
    opt = types.SimpleNamespace(depth=1, dim_in=8)
    _backbone_fixture(
        out, "dgunet", module.DGUNet(opt), lambda m, x, z, mode: m(x, z, mode)[0], 8,
        {"channels": 4, "growth": 2, "fusion_growth": 2, "depth": 1, "reduction": 4, "gdm_hidden": 4, "subspace": 16},
        {"class": "models/DGUNet_CoIM.py DGUNet", "opt": vars(opt), "patched": "n_feat/scale_unetfeats/scale_orsnetfeats 40/20/16 -> 4/2/2, ResBlock 64 -> 4",
         "called": "model(x, z, mode)[0], as test_model.py (input a multiple of 8)"},
        size=(16, 24), packed=True,
    )


def _idt(checkout: Path, out: Path) -> None:
    """IDT: embed 2, one block per stage, fewer heads, 2 x 2 windows and patches on 32 x 32 inputs, MLP ratio 1, z of 8."""
    patches = {"win_size=8, channel=32,": "win_size=2, channel=32,", "num=3,": "num=1,", "num=2,": "num=1,",
               "def __init__(self, in_channel, out_channel, dim_in=128):": "def __init__(self, in_channel, out_channel, dim_in=8):"}
    _patch_coim(checkout)
    module = _load_patched(checkout, "IDT_CoIM", patches)
    torch.manual_seed(5)
    heads = [1, 1, 2, 2, 4, 4, 2, 2, 1]
    kwargs = {"img_size": 32, "embed_dim": 2, "depths": [1] * 9, "num_heads": heads, "win_size": 2, "mlp_ratio": 1.0, "context_dim": 8}
    _backbone_fixture(
        out, "idt", module.IDT(None, **kwargs), lambda m, x, z, mode: m(x, z, mode), 8,
        {"embed_dim": 2, "depths": [1] * 9, "num_heads": heads, "window": 2, "patch": 2, "patch_k_bounds": [16, 8, 4, 2], "mlp_ratio": 1.0,
         "train_size": 32},
        {"class": "models/IDT_CoIM.py IDT", "kwargs": kwargs,
         "patched": "spatial layer win_size 8 -> 2, block counts num=3/num=2 -> 1, down/up-sampling dim_in 128 -> 8, CoIM grouped MLP hidden >= 1"},
        size=(32, 32), packed=True,
    )


def _drsformer(checkout: Path, out: Path) -> None:
    """DRSformer: dim 2, one block per level, fewer heads, FFN x2, one MEFC step, z of 8 (also where 128 is hard-coded)."""
    patches = {"self.encoder_level0 = subnet(dim)": "self.encoder_level0 = subnet(dim, steps=1)",
               "self.refinement = subnet(dim=int(dim*2**1))": "self.refinement = subnet(dim=int(dim*2**1), steps=1)",
               "affine=True, dim_in=128": "affine=True, dim_in=8", "dim_in=128, kernel_size=3, stride=1, padding=1, use_bias=False)": "dim_in=8, kernel_size=3, stride=1, padding=1, use_bias=False)",
               "TConv(n_feat, n_feat * 2, 128,": "TConv(n_feat, n_feat * 2, 8,"}
    _patch_coim(checkout)
    module = _load_patched(checkout, "DRSformer_CoIM", patches)
    torch.manual_seed(6)
    kwargs = {"dim": 2, "num_blocks": [1, 1, 1, 1], "heads": [1, 1, 1, 2], "ffn_expansion_factor": 2.0, "dim_in": 8}
    _backbone_fixture(
        out, "drsformer", module.DRSformer(None, **kwargs), lambda m, x, z, mode: m(x, z, mode), 8,
        {"dim": 2, "num_blocks": [1, 1, 1, 1], "heads": [1, 1, 1, 2], "ffn_expansion_factor": 2.0, "mefc_steps": 1},
        {"class": "models/DRSformer_CoIM.py DRSformer", "kwargs": kwargs,
         "patched": "MEFC steps 4 -> 1, hard-coded dim_in 128 -> 8 (experts, down/up-sampling), CoIM grouped MLP hidden >= 1"},
        size=(16, 16), packed=True,
    )


def _encoder(checkout: Path, out: Path) -> None:
    """Encoder: MoCo with FeatureExtract(3, 4, 16); z from encoder_k on the input resized to 32 as test_model.py does (128 there)."""
    from models.contrastive import MoCo
    from torchvision import transforms

    torch.manual_seed(3)
    moco = MoCo(in_channels=3, out_channels=4, dim=16)
    generator = torch.Generator().manual_seed(12)
    with torch.no_grad():
        for p in moco.encoder_k.parameters():
            p.add_(torch.randn(p.shape, generator=generator) * 0.05)  # key differs from query, as after training
        _randomise_buffers(moco, generator)
    moco.eval()
    x = torch.rand((2, 3, 50, 61), generator=generator)
    resized = transforms.Resize(size=(32, 32))(x)
    with torch.no_grad():
        z, _ = moco.encoder_k(resized)
    state = {k: v.clone() for k, v in moco.state_dict().items()}
    resized64 = transforms.Resize(size=(32, 32))(x.double())
    (z64,) = _in_float64(moco, lambda m: (m.encoder_k(resized64)[0],))
    import torchvision

    tensors = {"__input__": x, "__resized__": resized, "__z__": z, "__resized_f64__": resized64, "__z_f64__": z64}
    _save(out, "encoder", state, tensors,
          {"official": {"class": "models/contrastive.py MoCo", "in_channels": 3, "out_channels": 4, "dim": 16},
           "ours": {"width": 4, "dim_z": 16, "size": 32}, "torchvision": torchvision.__version__,
           "source": "Schizophreni/CoIC @ 8c99e733ab25869bf87cd720b9a6a65d62914dd6 (MIT), random init"})


FLOAT32_OUTPUTS = {"encoder": ("__resized__", "__z__")}
"""The float32 tensors computed by an official forward; every other one (weights, input, z) is made by seeded
generators and exact rounding, so it regenerates bit-for-bit on any CPU."""


def _merge_keeping_float32(fresh: Path, out: Path, name: str) -> None:
    """Write `fresh`'s fixture to `out`, but with the float32 outputs `out` already holds (`--keep-float32`).

    The float32 outputs depend on the CPU that ran them, so regenerating elsewhere would silently
    replace the committed float32 reference with another machine's rounding. Everything else must
    match bit-for-bit: the float64 outputs are only valid for exactly the stored weights, input and z.
    """
    old = load_file(str(out / f"{name}.safetensors"))
    new = load_file(str(fresh / f"{name}.safetensors"))
    outputs = FLOAT32_OUTPUTS.get(name, ("__out_normal__", "__out_tran__"))
    if set(old) - set(new):
        raise SystemExit(f"{name}: {sorted(set(old) - set(new))} are stored but not regenerated")
    for key in sorted(set(old) & set(new)):
        if torch.equal(old[key], new[key]) and old[key].dtype == new[key].dtype:
            continue
        if key not in outputs:
            raise SystemExit(f"{name}: {key} does not regenerate bit-for-bit; the float64 outputs would not belong to it")
        difference = float((old[key] - new[key]).abs().max())
        print(f"{name}: kept the stored {key}; this machine's float32 differs by {difference:.3g}")
        new[key] = old[key]
    save_file(new, str(out / f"{name}.safetensors"))
    meta = json.loads((fresh / f"{name}.json").read_text())
    if "max_abs_tran_minus_normal" in meta:
        meta["max_abs_tran_minus_normal"] = float((new["__out_tran__"] - new["__out_normal__"]).abs().max())
    (out / f"{name}.json").write_text(json.dumps(meta, indent=2) + "\n")


FIXTURES = {"brn": _brn, "rcdnet": _rcdnet, "encoder": _encoder, "dgunet": _dgunet, "idt": _idt, "drsformer": _drsformer}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", type=Path)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "official")
    parser.add_argument("--keep-float32", action="store_true",
                        help="keep the float32 outputs already in --out; every other tensor must regenerate bit-for-bit")
    parser.add_argument("--only", default=",".join(FIXTURES), help=f"comma-separated subset of {', '.join(FIXTURES)}")
    args = parser.parse_args()
    checkout = args.checkout.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(checkout))  # models.CoIM, as the official modules import it
    torch.manual_seed(0)
    torch.set_num_threads(1)
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = sorted(set(names) - set(FIXTURES))
    if unknown:
        raise SystemExit(f"--only: unknown fixture(s) {unknown}; choose from {', '.join(FIXTURES)}")
    # The modulated grouped-conv patch is applied only by the fixtures that need it, so the order
    # keeps BRN, RCDNet and the encoder on the unpatched models/CoIM.py.
    order = sorted(names, key=list(FIXTURES).index)
    if not args.keep_float32:
        for name in order:
            FIXTURES[name](checkout, args.out)
        return
    with tempfile.TemporaryDirectory() as fresh:
        for name in order:
            FIXTURES[name](checkout, Path(fresh))
        for name in order:
            _merge_keeping_float32(Path(fresh), args.out, name)


if __name__ == "__main__":
    main()
