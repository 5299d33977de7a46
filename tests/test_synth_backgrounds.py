"""`zoo data synth --backgrounds`: synthmix's rain over the user's photos, written as Rain200L folders.

Photos are small random-texture PNG/JPEG files made in tmp_path. The procedural benchmark is pinned
by a digest of its pairs, so exposing the rain parameters provably left its bytes alone.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.cli_runner import run_cli
from zoo.data.layouts import open_dataset
from zoo.data.synth.cuts import Cut, make_cut
from zoo.data.synth.domains import rain_over
from zoo.data.synth.manifest import COLUMNS, MAX_LAYERS
from zoo.data.synth.over_photos import write_over_backgrounds
from zoo.data.synth.rain import StreakLayer, streaks
from zoo.errors import ZooError


def _photos(folder: Path, sizes: dict[str, tuple[int, int]]) -> Path:
    """Photos named as given, each (height, width), with smooth random content (a blurred noise field)."""
    folder.mkdir(parents=True, exist_ok=True)
    for index, (name, (h, w)) in enumerate(sorted(sizes.items())):
        rng = np.random.default_rng(index)
        small = rng.integers(20, 235, (max(h // 8, 1), max(w // 8, 1), 3), dtype=np.uint8)
        image = Image.fromarray(small).resize((w, h), Image.BILINEAR)
        image.save(folder / name, quality=95) if name.endswith(".jpg") else image.save(folder / name)
    return folder


def _rows(folder: Path) -> list[dict[str, str]]:
    with open(folder / "manifest.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_recording_a_streak_layer_draws_nothing_more() -> None:
    layer = StreakLayer((0.002, 0.004), (10, 20), (-15, 15), (0.3, 0.6), (0.4, 0.6), blur=0.5)
    plain = streaks(np.random.default_rng(3), 64, 96, layer, 5.0)
    drawn: dict[str, float] = {}
    recorded = streaks(np.random.default_rng(3), 64, 96, layer, 5.0, drawn)
    assert plain.tobytes() == recorded.tobytes()
    assert 0.002 <= drawn["density"] <= 0.004 and 10 * 0.5 <= drawn["length"] <= 20 * 0.5  # scaled to the 64 px side
    assert -10 <= drawn["angle"] <= 20 and 0.4 <= drawn["brightness"] <= 0.6 and drawn["blur"] == 0.5


def test_writes_all_domains_and_one_folder_per_domain_with_a_manifest(tmp_path: Path) -> None:
    photos = _photos(tmp_path / "photos", {"a.png": (40, 52), "b.jpg": (36, 36)})
    written = write_over_backgrounds(tmp_path / "out", photos, ("light", "heavy", "ddn"), make_cut(crop=32, crops=2), seed=1, split="train")
    assert (written.pairs, written.photos, written.boxes, written.per_domain) == (12, 2, 4, {"light": 4, "heavy": 4, "ddn": 4})
    combined = tmp_path / "out" / "Rain200L"
    assert sorted(p.name for p in (combined / "train" / "rain").iterdir()) == sorted(f"norain-{i}x2.png" for i in range(1, 13))
    rows = _rows(combined)
    assert list(rows[0]) == list(COLUMNS) and len(rows) == 12
    assert [r["domain"] for r in rows[:3]] == ["light", "heavy", "ddn"]  # photo, box, then domain order
    a = np.asarray(Image.open(photos / "a.png"))
    for row in rows:
        x, y, w, h = (int(row[k]) for k in ("crop_x", "crop_y", "crop_w", "crop_h"))
        assert (w, h) == (32, 32) and row["cut"] == "crop" and row["seed"] == "1"
        clean = np.asarray(Image.open(combined / row["clean"]))
        if row["background"] == "a.png" and row["domain"] != "ddn":  # PNG in, PNG out: the crop itself
            assert clean.tobytes() == np.ascontiguousarray(a[y : y + h, x : x + w]).tobytes()
        if row["domain"] == "heavy":
            assert int(row["layers"]) == 3 + int(row["extra_layer"]) and row["haze"] and row["airlight"]
        if row["domain"] == "ddn":
            assert 0 <= int(row["rain_type"]) < 14 and 80 <= int(row["jpeg_clean"]) <= 95 and 80 <= int(row["jpeg_rainy"]) <= 95
        if row["domain"] == "light":
            assert row["layers"] == "1" and 8 * 0.25 <= float(row["layer1_length"]) <= 18 * 0.25 and not row["layer2_length"]
    for name in ("light", "heavy", "ddn"):
        folder = tmp_path / "out" / "domains" / name / "Rain200L"
        own = _rows(folder)
        assert [r["rainy"] for r in own] == [f"train/rain/norain-{i}x2.png" for i in range(1, 5)]
        mine = [r for r in rows if r["domain"] == name]
        for theirs, ours in zip(own, mine):
            assert (folder / theirs["rainy"]).read_bytes() == (combined / ours["rainy"]).read_bytes()
            assert {k: v for k, v in theirs.items() if k not in ("rainy", "clean")} == {k: v for k, v in ours.items() if k not in ("rainy", "clean")}
    assert MAX_LAYERS == 4


def test_same_inputs_and_seed_give_the_same_bytes(tmp_path: Path) -> None:
    photos = _photos(tmp_path / "photos", {"a.png": (30, 40), "b.png": (28, 28)})
    for out, seed in (("one", 4), ("two", 4), ("three", 5)):
        write_over_backgrounds(tmp_path / out, photos, ("light", "real-like"), make_cut(crop=24), seed=seed, split="test")
    one, two, three = (_files(tmp_path / out) for out in ("one", "two", "three"))
    assert one == two
    assert one["Rain200L/test/rain/norain-1x2.png"] != three["Rain200L/test/rain/norain-1x2.png"]


def test_a_photos_crops_and_rain_do_not_depend_on_the_other_photos(tmp_path: Path) -> None:
    alone = _photos(tmp_path / "alone", {"b.png": (30, 40)})
    (tmp_path / "more").mkdir()
    (tmp_path / "more" / "b.png").write_bytes((alone / "b.png").read_bytes())
    _photos(tmp_path / "other", {"a.png": (30, 30)})
    (tmp_path / "more" / "a.png").write_bytes((tmp_path / "other" / "a.png").read_bytes())
    for source in ("alone", "more"):
        write_over_backgrounds(tmp_path / f"out-{source}", tmp_path / source, ("light",), make_cut(crop=16, crops=2), split="train")
    strip = ("rainy", "clean")
    alone_rows = [{k: v for k, v in r.items() if k not in strip} for r in _rows(tmp_path / "out-alone" / "Rain200L")]
    more_rows = [{k: v for k, v in r.items() if k not in strip} for r in _rows(tmp_path / "out-more" / "Rain200L") if r["background"] == "b.png"]
    assert alone_rows == more_rows


@pytest.mark.parametrize(
    ("cut", "boxes"),
    [
        (Cut(), [(0, 0, 50, 30)]),
        (make_cut(crop=20, centre=True), [(15, 5, 20, 20)]),
        (make_cut(tile=16), [(0, 0, 16, 16), (16, 0, 16, 16), (32, 0, 16, 16)]),
    ],
)
def test_whole_centre_and_tile_cuts(tmp_path: Path, cut: Cut, boxes: list[tuple[int, ...]]) -> None:
    photos = _photos(tmp_path / "photos", {"p.png": (30, 50)})
    write_over_backgrounds(tmp_path / "out", photos, ("light",), cut, split="test")
    rows = _rows(tmp_path / "out" / "Rain200L")
    assert [tuple(int(r[k]) for k in ("crop_x", "crop_y", "crop_w", "crop_h")) for r in rows] == boxes
    for row in rows:
        assert Image.open(tmp_path / "out" / "Rain200L" / row["rainy"]).size == (int(row["crop_w"]), int(row["crop_h"]))


def test_rain_over_a_photo_is_drawn_from_the_given_stream() -> None:
    clean = np.full((24, 32, 3), 0.4, np.float32)
    first = rain_over(clean, "did-mid", np.random.default_rng(9))
    again = rain_over(clean, "did-mid", np.random.default_rng(9))
    assert first[0].tobytes() == again[0].tobytes() and first[2] == again[2]
    assert first[1].tobytes() == np.full((24, 32, 3), 102, np.uint8).tobytes() and first[2].blend == "screen"


def test_rerunning_a_split_replaces_it_and_keeps_the_other(tmp_path: Path) -> None:
    photos = _photos(tmp_path / "photos", {"a.png": (32, 64)})
    out = tmp_path / "out"
    write_over_backgrounds(out, photos, ("light", "heavy"), make_cut(tile=16), split="train")
    write_over_backgrounds(out, photos, ("light",), make_cut(crop=16), split="test")
    write_over_backgrounds(out, photos, ("light",), make_cut(tile=32), split="train")
    combined = out / "Rain200L"
    assert sorted(p.name for p in (combined / "train" / "rain").iterdir()) == ["norain-1x2.png", "norain-2x2.png"]
    assert [r["split"] for r in _rows(combined)] == ["train", "train", "test"]
    assert not list((out / "domains" / "heavy" / "Rain200L" / "train" / "rain").iterdir())
    assert _rows(out / "domains" / "heavy" / "Rain200L") == []
    (combined / "train" / "rain" / "mine.png").write_bytes((photos / "a.png").read_bytes())
    with pytest.raises(ZooError, match="mine.png was not written by zoo data synth"):
        write_over_backgrounds(out, photos, ("light",), split="train")
    assert (combined / "train" / "rain" / "norain-1x2.png").is_file()  # refused before deleting anything


def test_refuses_a_folder_it_did_not_write(tmp_path: Path) -> None:
    photos = _photos(tmp_path / "photos", {"a.png": (20, 20)})
    real = tmp_path / "datasets" / "Rain200L" / "test" / "norain"
    real.mkdir(parents=True)
    (real / "norain-1.png").write_bytes((photos / "a.png").read_bytes())
    with pytest.raises(ZooError, match="already holds images that zoo data synth did not write"):
        write_over_backgrounds(tmp_path / "datasets", photos, ("light",), split="train")
    assert not (tmp_path / "datasets" / "Rain200L" / "manifest.csv").exists()


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        (None, ["--backgrounds", "{T}/nowhere"], "--backgrounds {T}/nowhere: no such folder"),
        ("empty", ["--backgrounds", "{T}/empty"], "--backgrounds {T}/empty: holds no images"),
        ("broken", ["--backgrounds", "{T}/broken"], "{T}/broken/b.png: not a readable image"),
        ("small", ["--backgrounds", "{T}/small", "--crop", "24"], "{T}/small/b.png is 20x16 px, smaller than --crop 24"),
        ("small", ["--backgrounds", "{T}/small", "--tile", "18"], "{T}/small/b.png is 20x16 px, smaller than --tile 18"),
        ("small", ["--backgrounds", "{T}/small", "--crop", "8", "--tile", "8"], "contradict each other"),
        ("small", ["--backgrounds", "{T}/small", "--centre"], "--centre needs --crop N"),
        ("small", ["--backgrounds", "{T}/small", "--size", "64"], "--size is for procedural backgrounds"),
        ("small", ["--backgrounds", "{T}/small", "--domains", "light,drizzle"], "unknown synthmix domain 'drizzle'"),
        ("small", ["--crop", "8"], "--crop cuts your own photos: it needs --backgrounds DIR"),
    ],
)
def test_bad_backgrounds_are_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], setup: str | None, args: list[str], message: str
) -> None:
    if setup == "empty":
        (tmp_path / "empty").mkdir()
        (tmp_path / "empty" / "notes.txt").write_text("no photos")
    elif setup == "broken":
        _photos(tmp_path / "broken", {"a.png": (20, 20)})
        (tmp_path / "broken" / "b.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    elif setup == "small":
        _photos(tmp_path / "small", {"a.png": (40, 40), "b.png": (16, 20)})
    args = [a.replace("{T}", str(tmp_path)) for a in args]
    code, _, err = run_cli(["data", "synth", str(tmp_path / "out"), *args], monkeypatch, capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and message.replace("{T}", str(tmp_path)) in lines[0], err
    assert not (tmp_path / "out").exists()


def test_cli_writes_checks_and_trains_on_the_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _photos(tmp_path / "train-photos", {"a.png": (40, 40), "b.jpg": (48, 40)})
    _photos(tmp_path / "test-photos", {"c.png": (32, 32)})
    out = tmp_path / "out"
    code, stdout, _ = run_cli(["data", "synth", str(out), "--backgrounds", str(tmp_path / "train-photos"), "--crop", "32",
                               "--domains", "light,heavy", "--split", "train"], monkeypatch, capsys)  # fmt: skip
    assert code == 0 and "wrote 4 train pairs" in stdout
    assert "4/4" in stdout and "0:00:0" in stdout  # the bar's count and its elapsed / remaining times
    assert "--no-evaluate" in stdout  # no test split yet
    code, stdout, _ = run_cli(["data", "synth", str(out), "--backgrounds", str(tmp_path / "test-photos"),
                               "--domains", "light,heavy", "--split", "test"], monkeypatch, capsys)  # fmt: skip
    assert code == 0 and "(now train 4, test 2)" in stdout and f"--data rain200l --root {out}\n" in stdout
    code, stdout, _ = run_cli(["data", "check", str(out)], monkeypatch, capsys)
    assert code == 0, stdout
    assert "rain200l:" in stdout and "manifest.csv: train 4, test 2" in stdout and "4 / 4" in stdout and "2 / 2" in stdout
    code, _, _ = run_cli(["data", "check", str(out / "domains" / "heavy")], monkeypatch, capsys)
    assert code == 0
    assert len(open_dataset("rain200l", out, "train")) == 4  # no allow_partial: the manifest sets the count
    code, stdout, err = run_cli(["train", "brn", "--data", "rain200l", "--root", str(out), "--iters", "2", "--batch", "2",
                                 "--crop", "32", "--out", str(tmp_path / "run"), "--no-progress", "--workers", "0"],
                                monkeypatch, capsys)  # fmt: skip
    assert code == 0, err
    assert "evaluating rain200l (2 images)" in stdout and (tmp_path / "run" / "model.safetensors").is_file()


def test_photos_in_any_mode_are_taken_as_rgb(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(np.tile(np.arange(24, dtype=np.uint8)[:, None] * 9, (1, 20))).save(photos / "gray.png")
    Image.fromarray(np.full((20, 24, 4), 120, np.uint8)).save(photos / "rgba.png")
    Image.fromarray(np.full((20, 24, 3), 60, np.uint8)).save(photos / "photo.webp", lossless=True)
    written = write_over_backgrounds(tmp_path / "out", photos, ("light",), split="train")
    assert written.pairs == 3
    rows = _rows(tmp_path / "out" / "Rain200L")
    assert [r["background"] for r in rows] == ["gray.png", "photo.webp", "rgba.png"]
    clean = np.asarray(Image.open(tmp_path / "out" / "Rain200L" / rows[2]["clean"]))
    assert clean.shape == (20, 24, 3) and (clean == 120).all()
