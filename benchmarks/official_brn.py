"""The official CoIC BRN train step, built at run time from a checkout of Schizophreni/CoIC.

Nothing of the official code is in this repository: point `COIC_OFFICIAL_DIR` at a checkout
(`git clone https://github.com/Schizophreni/CoIC && git -C CoIC checkout 8c99e733`), or place it
beside this repository as `../official-coic`. The step is the one in the official `train_BRN.py`
(batch transforms for the key and negatives, the current batch's most different rain, MoCo, BRN in
`tran` mode, -SSIM + 0.2 InfoNCE, two Adam optimisers); its `.cuda()` on the labels is made a no-op
so it runs on the CPU.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import torch

CHECKOUT = Path(os.environ.get("COIC_OFFICIAL_DIR", Path(__file__).resolve().parents[2] / "official-coic"))


def available() -> bool:
    return (CHECKOUT / "models" / "BRN_CoIM.py").is_file() and (CHECKOUT / "models" / "contrastive.py").is_file()


@contextmanager
def _checkout_importable() -> Iterator[None]:
    """Import from the official checkout without leaving it importable afterwards.

    The checkout ships its own `timm`, `models` and `SSIM`; left on sys.path, its old `timm` shadowed
    the real one for every backbone built later in the same process (IDT failed with "No module
    named 'timm.layers'" after this benchmark).
    """
    before = set(sys.modules)
    sys.path.insert(0, str(CHECKOUT))
    try:
        yield
    finally:
        sys.path.remove(str(CHECKOUT))
        for name in set(sys.modules) - before:
            if str(getattr(sys.modules[name], "__file__", None) or "").startswith(str(CHECKOUT)):
                del sys.modules[name]


@contextmanager
def _cuda_is_a_no_op() -> Iterator[None]:
    original = torch.Tensor.cuda
    torch.Tensor.cuda = lambda self, *args, **kwargs: self  # type: ignore[method-assign]
    try:
        yield
    finally:
        torch.Tensor.cuda = original  # type: ignore[method-assign]


def official_step(batch: dict[str, torch.Tensor], n_neg: int = 4) -> Callable[[], float]:
    """A closure running one official BRN CoIC training step on `batch` (our MixedPatches keys)."""
    import torchvision.transforms as T

    with _checkout_importable():
        from models.BRN_CoIM import BRN
        from models.contrastive import MoCo
        from SSIM import SSIM

    model = BRN(SimpleNamespace(inter_iter=8, use_GPU=False, dim_in=128)).train()
    moco = MoCo(3, 32, 128, temperature=1.0).train()
    base = [p for n, p in model.named_parameters() if "g2pa" not in n]
    tran = [p for n, p in model.named_parameters() if "g2pa" in n] + list(moco.parameters())
    base_opt, tran_opt = torch.optim.Adam(base, 1e-3), torch.optim.Adam(tran, 1e-3)
    ssim, cross_entropy = SSIM(), torch.nn.CrossEntropyLoss()
    neg_transform = T.Compose([T.GaussianBlur(11, (0.3, 1.5)), T.RandomHorizontalFlip(), T.RandomVerticalFlip()])
    k_transform = T.Compose([T.RandomHorizontalFlip(), T.RandomVerticalFlip()])
    rainy, clean, query, clean_full = batch["rainy"], batch["clean"], batch["rainy_full"], batch["clean_full"]
    b, size = rainy.shape[0], rainy.shape[-1]

    def step() -> float:
        im_k = k_transform(query)
        negs = clean_full.unsqueeze(1).repeat(1, n_neg, 1, 1, 1).reshape(b * n_neg, 3, size, size)
        negs = neg_transform(negs).reshape(b, n_neg, 3, size, size)
        rain = rainy - clean
        index = (rain.unsqueeze(1) - rain.unsqueeze(0)).abs().sum(dim=[2, 3, 4]).argmax(dim=-1)
        negs = torch.cat([(rain[index].unsqueeze(1) + clean.unsqueeze(1)).clamp_(0.0, 1.0), negs], dim=1)
        base_opt.zero_grad()
        tran_opt.zero_grad()
        with _cuda_is_a_no_op():  # the official MoCo puts its labels on CUDA
            logits, labels, z = moco(query, im_k, negs)
        loss = -ssim(model(rainy, tran_x=z, mode="tran"), clean) + 0.2 * cross_entropy(logits, labels)
        loss.backward()
        base_opt.step()
        tran_opt.step()
        return float(loss)

    return step
