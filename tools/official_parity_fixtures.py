"""Build the official-parity fixtures from a checkout of the official CoIC code (run by hand, never at test time).

    python tools/official_parity_fixtures.py /path/to/CoIC-checkout [--out tests/fixtures/official]

The checkout is GitHub Schizophreni/CoIC at 8c99e733ab25869bf87cd720b9a6a65d62914dd6 (MIT), e.g.
`git --git-dir=<mirror> archive 8c99e733 | tar -x -C /tmp/coic` (the large .pth files may be absent;
they are not needed). For each backbone this script builds the *official* class at a reduced width,
seeds its random initialisation, and saves, in the official key layout:

    <name>.safetensors   state dict (official keys), `__input__`, `__z__`, `__out_normal__`, `__out_tran__`
    <name>.json          constructor arguments of the official class and of ours, and how it was called

The encoder fixture is a reduced `MoCo` (`encoder_q.*`/`encoder_k.*`) with the input, the resized
input and `encoder_k`'s z. No official code is copied into the fixtures: only tensors. Widths are
reduced by patching the constructor's literal widths in memory where the official class hard-codes
them (BRN's 32 channels); the patched source is never written anywhere.

`tests/test_official_parity.py` converts each fixture with `zoo.models.convert.convert_official` and checks
our outputs against the saved official ones.
"""

from __future__ import annotations

import argparse
import json
import sys
import types
from pathlib import Path

import torch
from safetensors.torch import save_file


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


def _backbone_fixture(out: Path, name: str, model: torch.nn.Module, call, dim_z: int, ours: dict, official: dict, size=(24, 28)) -> None:
    generator = torch.Generator().manual_seed(11)
    with torch.no_grad():
        _randomise_buffers(model, generator)
        _spread_modulators(model, generator)
    model.eval()
    x = torch.rand((2, 3, *size), generator=generator)
    z = torch.nn.functional.normalize(torch.randn(2, dim_z, generator=generator), dim=-1)
    with torch.no_grad():
        plain = call(model, x, None, "normal")
        tran = call(model, x, z, "tran")
    meta = {"official": official, "ours": ours, "dim_z": dim_z,
            "max_abs_tran_minus_normal": float((tran - plain).abs().max()),
            "source": "Schizophreni/CoIC @ 8c99e733ab25869bf87cd720b9a6a65d62914dd6 (MIT), random init"}
    _save(out, name, model.state_dict(), {"__input__": x, "__z__": z, "__out_normal__": plain, "__out_tran__": tran}, meta)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", type=Path)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "official")
    args = parser.parse_args()
    checkout = args.checkout.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(checkout))  # models.CoIM, as the official modules import it
    torch.manual_seed(0)
    torch.set_num_threads(1)

    # BRN: 8 channels instead of 32, 3 iterations, z of 16.
    brn = _load_patched(checkout, "BRN_CoIM", {"32": "8"})
    torch.manual_seed(1)
    opt = types.SimpleNamespace(inter_iter=3, dim_in=16, use_GPU=False)
    _backbone_fixture(
        args.out, "brn", brn.BRN(opt), lambda m, x, z, mode: m(x, z, mode), 16,
        {"channels": 8, "iterations": 3, "image_blocks": 5, "rain_blocks": 3},
        {"class": "models/BRN_CoIM.py BRN", "opt": vars(opt), "patched": "channel literal 32 -> 8"},
    )

    # RCDNet: the 32 rain maps come from kernel.mat; 4 channels, 1 block, 2 stages, z of 16.
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
        args.out, "rcdnet", model, lambda m, x, z, mode: m(255.0 * x, z, mode)[1][-1] / 255.0, 16,
        {"stages": 2, "maps": 32, "channels": 4, "blocks": 1},
        {"class": "models/RCDNet_CoIM.py RCDNet", "opt": vars(opt), "called": "model(255 x, z, mode)[1][-1] / 255, as test_model.py"},
    )

    # Encoder: MoCo with FeatureExtract(3, 4, 16); z from encoder_k on the input resized to 32 as test_model.py does (128 there).
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
    import torchvision

    _save(args.out, "encoder", moco.state_dict(), {"__input__": x, "__resized__": resized, "__z__": z},
          {"official": {"class": "models/contrastive.py MoCo", "in_channels": 3, "out_channels": 4, "dim": 16},
           "ours": {"width": 4, "dim_z": 16, "size": 32}, "torchvision": torchvision.__version__,
           "source": "Schizophreni/CoIC @ 8c99e733ab25869bf87cd720b9a6a65d62914dd6 (MIT), random init"})


if __name__ == "__main__":
    main()
