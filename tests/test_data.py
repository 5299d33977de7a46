"""synthmix (determinism, domain difficulty), `zoo data synth` on disk, and mixed sampling."""

from __future__ import annotations

import re
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from tests.fixtures_datasets import build_ddn, build_rain200, build_rain800, build_side_by_side, build_spa_train
from zoo.data.layouts import open_dataset
from zoo.data.mixing import MixedPatches, Source, StepSampler, evaluation_sets, parse_data, training_sources
from zoo.data.synth import DOMAINS, SynthDomain, synth_pair, write_synth
from zoo.errors import UnknownNameError, ZooError


def test_same_seed_same_bytes_other_seed_other_bytes() -> None:
    a = synth_pair("heavy", 3, seed=5)
    b = synth_pair("heavy", 3, seed=5)
    c = synth_pair("heavy", 3, seed=6)
    assert a[0].tobytes() == b[0].tobytes() and a[1].tobytes() == b[1].tobytes()
    assert a[0].tobytes() != c[0].tobytes()
    assert a[0].dtype == np.uint8 and a[0].shape == (128, 128, 3)


def test_train_and_test_splits_differ() -> None:
    train, test = synth_pair("light", 0, split="train"), synth_pair("light", 0, split="test")
    assert train[1].tobytes() != test[1].tobytes()


def test_ddn_shares_each_background_across_its_14_rain_types() -> None:
    first, second, other = synth_pair("ddn", 0), synth_pair("ddn", 13), synth_pair("ddn", 14)
    assert first[1].tobytes() == second[1].tobytes()
    assert first[0].tobytes() != second[0].tobytes()
    assert first[1].tobytes() != other[1].tobytes()


def _psnr_uint8(a: np.ndarray, b: np.ndarray) -> float:
    """RGB PSNR of two uint8 images: a plain description of a domain's difficulty, not a metric protocol."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def _mean_psnr(domain: str, n: int = 24) -> float:
    return float(np.mean([_psnr_uint8(*synth_pair(domain, i, split="test")) for i in range(n)]))


def test_domains_have_their_intended_difficulty() -> None:
    means = {d: _mean_psnr(d) for d in DOMAINS}
    targets = {"light": 27, "heavy": 14, "varied": 21, "did-low": 25, "did-mid": 21.5, "did-high": 17.5, "ddn": 24.5, "real-like": 16}
    for domain, target in targets.items():
        assert abs(means[domain] - target) < 3, (domain, means[domain])
    assert means["heavy"] < means["did-high"] < means["did-mid"] < means["did-low"] < means["light"]


def test_unknown_domain_is_named() -> None:
    with pytest.raises(UnknownNameError, match="unknown synthmix domain 'drizzle'"):
        synth_pair("drizzle", 0)


def test_written_synthmix_reads_back_with_paired_and_rain200_loaders(tmp_path: Path) -> None:
    folder = write_synth(tmp_path / "Rain200L", domains=("light", "heavy"), per_domain=2, size=48, split="test")
    assert (folder / "domains.csv").read_text().count("\n") == 5
    paired = open_dataset("paired", tmp_path / "Rain200L", "test")
    with pytest.warns(UserWarning, match="holds 4 of the 200 expected"):
        rain200 = open_dataset("rain200l", tmp_path / "Rain200L", "test", allow_partial=True)
    expected = [synth_pair("light", 0, split="test", size=(48, 48)), synth_pair("light", 1, split="test", size=(48, 48)),
                synth_pair("heavy", 0, split="test", size=(48, 48)), synth_pair("heavy", 1, split="test", size=(48, 48))]
    for loader in (paired, rain200):
        assert len(loader) == 4
        keys = [p.key for p in loader.pairs]
        for position, key in enumerate(keys):
            rainy, clean = loader[position]
            number = int(re.match(r"norain-(\d+)", key).group(1)) - 1
            assert rainy.tobytes() == expected[number][0].tobytes()
            assert clean.tobytes() == expected[number][1].tobytes()


def _fixture_root(tmp_path: Path) -> Path:
    root = tmp_path / "datasets"
    build_rain200(root, "Rain200L", n=4)
    build_rain200(root, "Rain200H", n=2)
    build_rain800(root, n=2)
    build_side_by_side(root, "DID", "train", 6, rain_left=True)
    build_ddn(root, "train", backgrounds=1, types=14)
    build_spa_train(root, scenes=2, frames=2, positions=2)
    return root


def test_mixed_loader_over_every_layout_yields_coic_proportions(tmp_path: Path) -> None:
    root = _fixture_root(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        sources = training_sources("mix5+spa", root, allow_partial=True)
    sizes = {s.name: len(s.pairs) for s in sources}
    assert sizes == {"rain200l": 4, "rain200h": 2, "rain800": 2, "did": 6, "ddn": 14, "spa": 8}
    synthetic = 4 + 2 + 2 + 6 + 14
    expected = {name: (n if name != "spa" else synthetic) / (2 * synthetic) for name, n in sizes.items()}
    stream = MixedPatches(sources, crop=8, seed=3)
    counts = Counter(sources[stream.locate(k)[0]].name for k in range(4000))
    for name, share in expected.items():
        assert abs(counts[name] / 4000 - share) < 0.03, (name, counts[name] / 4000, share)
    sample = stream[0]
    assert sample["rainy"].shape == (3, 8, 8) and sample["rainy_full"].shape == (3, 8, 8)
    assert stream[17]["rainy"].equal(MixedPatches(sources, crop=8, seed=3)[17]["rainy"])


def test_synthmix_beside_a_real_set_of_a_domain_name_keeps_both_test_sets(tmp_path: Path) -> None:
    """`synthmix,ddn`: the synthetic ddn domain and DDN-Data were both keyed 'ddn', and the later replaced
    the earlier without a word; now the synthetic one is 'synthmix/ddn' (its training source's name)."""
    build_ddn(tmp_path, "test", backgrounds=1, types=14)
    for spec in ("synthmix,ddn", "ddn,synthmix"):
        with pytest.warns(UserWarning, match="14 of the 1400 expected DDN-Data test pairs"):  # the fixture is a subset
            sets = evaluation_sets(spec, tmp_path, allow_partial=True)
        assert isinstance(sets["synthmix/ddn"], SynthDomain) and sets["synthmix/ddn"].name == "ddn"
        assert not isinstance(sets["ddn"], SynthDomain) and len(sets["ddn"]) == 14
        assert "light" in sets and "synthmix/light" not in sets  # only the colliding name is qualified
    assert isinstance(evaluation_sets("synthmix")["ddn"], SynthDomain)  # synthmix alone keeps its names


def test_weights_in_data_spec() -> None:
    assert parse_data("rain200l:2,ddn") == [("rain200l", 2.0), ("ddn", None)]
    with pytest.raises(ZooError, match="--data names 'rain200l' twice; name it once, with a weight .*\\(rain200l:2\\)"):
        parse_data("rain200l,ddn,Rain200L:2")  # twice would double its share without saying so
    with pytest.raises(ZooError, match="not a number"):
        parse_data("rain200l:lots")
    with pytest.raises(UnknownNameError, match="unknown dataset 'rain300'"):
        parse_data("rain300")


def test_step_sampler_shards_global_batches_without_overlap() -> None:
    single = list(StepSampler(4, 2, 5))
    ranks = [list(StepSampler(2, 2, 5, rank=r, world=2)) for r in (0, 1)]
    assert sorted(ranks[0] + ranks[1]) == single
    assert single[:4] == [8, 9, 10, 11]


def test_crop_larger_than_images_is_refused_before_training() -> None:
    stream = MixedPatches([Source("tiny", SynthDomain("light", 4, size=32), 1.0)], crop=64)
    with pytest.raises(ZooError, match="--crop 64 is larger than the images of 'tiny' \\(32x32\\)"):
        stream.check_crop()
