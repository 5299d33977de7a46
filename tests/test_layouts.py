"""Dataset layouts: each loader on a tiny fixture with the official names, and each broken fixture's message.

Fixtures hold a few images instead of the official 1800/12000/...; tests pass `expected=<n>` (the
documented override for deliberate subsets) or `allow_partial=True` to say so. Pixel codes written by
`tests/fixtures_datasets.py` prove that each rainy image came back with its own clean image.
"""

from __future__ import annotations

import pickle
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from torch.utils.data import DataLoader

from tests.cli_runner import run_cli
from tests.fixtures_datasets import (
    CLEAN_BLUE,
    RAIN_BLUE,
    build_ddn,
    build_paired,
    build_rain200,
    build_rain800,
    build_side_by_side,
    build_spa_test,
    build_spa_train,
    clean_pixels,
    rainy_pixels,
    save,
    save_png16,
    side_by_side,
    truncate,
)
from zoo.data.images import rainy_half_votes
from zoo.data.layouts import (
    SPLITS,
    CheckReport,
    Pair,
    PairedImages,
    check_dataset,
    detect_layout,
    find_datasets,
    guess_orientation,
    open_dataset,
    plan_check,
)
from zoo.data.layouts.table import LAYOUTS
from zoo.errors import DatasetError, UnknownNameError, ZooError


def assert_codes(rainy: np.ndarray, clean: np.ndarray, code: int, kind: int = 0) -> None:
    """The pair came back whole, in (rainy, clean) order, with the images of id `code` (medians survive JPEG)."""
    assert rainy.dtype == clean.dtype == np.uint8
    assert rainy.shape == clean.shape == (8, 10, 3)
    assert rainy.flags.writeable and clean.flags.writeable
    assert abs(np.median(rainy[..., 0]) - 20 * code) <= 4
    assert abs(np.median(rainy[..., 1]) - 17 * kind) <= 4
    assert abs(np.median(rainy[..., 2]) - RAIN_BLUE) <= 4
    assert abs(np.median(clean[..., 0]) - 20 * code) <= 4
    assert abs(np.median(clean[..., 2]) - CLEAN_BLUE) <= 4


def error_line(excinfo: pytest.ExceptionInfo[BaseException], path: Path, *words: str) -> str:
    """The message is one line, names `path` and contains every key word."""
    message = str(excinfo.value)
    assert "\n" not in message
    assert str(path) in message, message
    for word in words:
        assert word in message, message
    return message


def test_layout_table_names_every_dataset() -> None:
    assert list(LAYOUTS) == ["rain200l", "rain200h", "rain800", "did", "ddn", "spa", "paired"]


@pytest.mark.parametrize("title", ["Rain200L", "Rain200H"])
@pytest.mark.parametrize("split", ["train", "test"])
def test_rain200_pairs_by_id(tmp_path: Path, title: str, split: str) -> None:
    folder = build_rain200(tmp_path, title, split, n=12)
    data = open_dataset(title, folder, split, expected=12)
    assert (data.name, data.split, data.root, len(data)) == (title.lower(), split, folder, 12)
    assert [pair.key for pair in data.pairs[:3]] == ["norain-1x2", "norain-2x2", "norain-3x2"]
    rainy, clean = folder / split / "rain" / "norain-10x2.png", folder / split / "norain" / "norain-10.png"
    assert data.pairs[9] == Pair(rainy, clean, "norain-10x2", None)
    assert_codes(*data[9], code=10)


def test_rain200_release_x2_subfolder_and_official_shared_test_folder(tmp_path: Path) -> None:
    nested = build_rain200(tmp_path / "a", split="train", rain="rain/X2")
    assert open_dataset("rain200h", nested, expected=3).pairs[0].rainy.parent.name == "X2"
    datasets = tmp_path / "datasets"
    build_rain200(datasets, "Rain200L", "test", rain="../../test/rain/X2")
    shared = datasets / "test" / "rain" / "X2"
    with pytest.raises(DatasetError) as excinfo:
        open_dataset("rain200l", datasets / "Rain200L", "test", expected=3)
    error_line(excinfo, datasets / "Rain200L" / "test" / "rain", "rain_dir", str(shared))
    data = open_dataset("rain200l", datasets / "Rain200L", "test", expected=3, rain_dir=shared)
    assert_codes(*data[2], code=3)


def test_rain800_pre_split(tmp_path: Path) -> None:
    folder = build_rain800(tmp_path, "test", n=4)
    data = open_dataset("Rain800", folder, "test", expected=4)
    assert data.pairs[3].clean.name == "norain-004.png" and data.pairs[3].key == "rain-004"
    assert_codes(*data[3], code=4)


@pytest.mark.parametrize(
    ("orientation", "rain_left"), [(None, False), ("rain_left", True), ("auto", True), ("auto", False)]
)
def test_rain800_side_by_side_release(tmp_path: Path, orientation: str | None, rain_left: bool) -> None:
    folder = build_side_by_side(tmp_path, "Rain800", "train", 5, rain_left=rain_left)
    options = {"orientation": orientation} if orientation else {}
    data = open_dataset("rain800", folder, expected=5, **options)
    assert {pair.half for pair in data.pairs} == {"left" if rain_left else "right"}
    assert_codes(*data[4], code=5)


def test_did_halves_default_rain_left(tmp_path: Path) -> None:
    folder = build_side_by_side(tmp_path, "DID", "train", 6, rain_left=True)
    data = open_dataset("DID-Data", folder, expected=6)
    assert data.pairs[0] == Pair(folder / "train" / "1.jpg", folder / "train" / "1.jpg", "1", "left")
    for index in (0, 5):
        assert_codes(*data[index], code=index + 1)


def test_did_orientation_option_and_check(tmp_path: Path) -> None:
    folder = build_side_by_side(tmp_path, "DID", "test", 6, rain_left=False)
    assert guess_orientation(sorted((folder / "test").iterdir())) == "rain_right"
    assert_codes(*open_dataset("did", folder, "test", expected=6, orientation="rain_right")[2], code=3)
    wrong = check_dataset("did", folder, "test", expected=6)
    assert len(wrong.problems) == 1 and "orientation='rain_right'" in wrong.problems[0]
    assert check_dataset("did", folder, "test", expected=6, orientation="rain_right").ok


def test_guess_orientation_samples_every_small_set_and_refuses_a_tie(tmp_path: Path) -> None:
    folder = build_side_by_side(tmp_path, "DID", "train", 5, rain_left=False)
    paths = sorted((folder / "train").iterdir())
    assert rainy_half_votes(paths) == (0, 5, [])
    save(paths[0], side_by_side(1, rain_left=True))
    save(paths[1], side_by_side(2, rain_left=True))
    truncate(paths[2])
    with pytest.raises(DatasetError) as excinfo:
        guess_orientation(paths)
    error_line(excinfo, folder / "train", "cannot tell", "2 of 4")


def test_ddn_fourteen_rains_per_background(tmp_path: Path) -> None:
    folder = build_ddn(tmp_path, "test", backgrounds=2)
    data = open_dataset("Rain1400", folder, "test", expected=28)
    assert len(data) == 28 and data.pairs[0].key == "901_1" and data.pairs[14].key == "902_1"
    assert {pair.clean.name for pair in data.pairs[:14]} == {"901.jpg"}
    assert_codes(*data[18], code=2, kind=5)
    with pytest.raises(DatasetError) as excinfo:
        open_dataset("ddn", folder, "test")
    error_line(excinfo, folder / "test" / "rain" / "903_1.jpg", "28 of the 1400")


def test_ddn_train_ids_start_at_one(tmp_path: Path) -> None:
    data = open_dataset("ddn", build_ddn(tmp_path, "train", backgrounds=1, types=3), expected=3)
    assert [pair.key for pair in data.pairs] == ["1_1", "1_2", "1_3"]


def test_spa_train_lists_scenes_from_000(tmp_path: Path) -> None:
    folder = build_spa_train(tmp_path, scenes=2, frames=2, positions=2)
    data = open_dataset("SPA-Data", folder)
    assert len(data) == 8
    pair = data.pairs[0]
    assert pair.key == "000/000-1/000-1_0_0" and pair.clean == folder / "real_world_gt" / "000" / "000_0_0.png"
    rainy, clean = data[7]
    assert data.pairs[7].clean.name == "001_1_0.png"
    assert_codes(rainy, clean, code=4, kind=2)


def test_spa_test_real_1000(tmp_path: Path) -> None:
    folder = build_spa_test(tmp_path, n=3)
    data = open_dataset("spa", folder, "test", expected=3)
    assert [pair.clean.name for pair in data.pairs] == ["000gt.png", "001gt.png", "002gt.png"]
    assert_codes(*data[2], code=3)


def test_paired_folders_by_stem(tmp_path: Path) -> None:
    folder = build_paired(tmp_path / "mine" / "test", {"norain-12x2": "norain-12", "rain-007": "norain-007", "a": "a"})
    data = open_dataset("paired", tmp_path / "mine", "test")
    assert [pair.key for pair in data.pairs] == ["a", "norain-12x2", "rain-007"]
    assert data.pairs[1].clean == folder / "norain" / "norain-12.png"
    assert_codes(*data[1], code=1)
    flat = build_paired(tmp_path / "Rain100H", {"1": "1", "2": "2"}, names=("input", "target"))
    assert_codes(*open_dataset("paired", flat, "test")[1], code=2)


def test_paired_images_is_a_sequence_and_a_torch_dataset(tmp_path: Path) -> None:
    data = open_dataset("rain200h", build_rain200(tmp_path, n=4), expected=4)
    subset = data[1:3]
    assert isinstance(subset, PairedImages) and [pair.key for pair in subset.pairs] == ["norain-2x2", "norain-3x2"]
    assert_codes(*data[-1], code=4)
    assert len(list(data)) == 4
    assert len(pickle.loads(pickle.dumps(data))) == 4
    rainy, clean = next(iter(DataLoader(data, batch_size=2)))
    assert tuple(rainy.shape) == tuple(clean.shape) == (2, 8, 10, 3)


def test_partial_subset_needs_allow_partial(tmp_path: Path) -> None:
    folder = build_rain200(tmp_path, n=3)
    with pytest.raises(DatasetError) as excinfo:
        open_dataset("rain200h", folder)
    error_line(excinfo, folder / "train", "3 of the 1800", "allow_partial=True", "norain-4x2.png")
    with pytest.warns(UserWarning, match="3 of the 1800"):
        assert len(open_dataset("rain200h", folder, allow_partial=True)) == 3
    with pytest.raises(DatasetError) as excinfo:
        open_dataset("rain200h", folder, expected=2)
    error_line(excinfo, folder / "train", "more than the 2 expected")


def test_find_datasets_and_parent_root(tmp_path: Path) -> None:
    for name in ("Rain200L", "rain200h", "Rain800", "DID-Data", "Rain1400", "SPA-Data", "other"):
        (tmp_path / name).mkdir()
    (tmp_path / "Rain200L.zip").write_bytes(b"")
    found = find_datasets(tmp_path)
    assert found == {
        "rain200l": tmp_path / "Rain200L",
        "rain200h": tmp_path / "rain200h",
        "rain800": tmp_path / "Rain800",
        "did": tmp_path / "DID-Data",
        "ddn": tmp_path / "Rain1400",
        "spa": tmp_path / "SPA-Data",
    }
    build_rain200(tmp_path, "Rain200L", "test", n=2)
    assert open_dataset("rain200l", tmp_path, "test", expected=2).root == tmp_path / "Rain200L"
    (tmp_path / "DID").mkdir()
    with pytest.raises(DatasetError) as excinfo:
        find_datasets(tmp_path)
    error_line(excinfo, tmp_path / "DID", "keep one")


def test_check_dataset_reports_counts_and_sizes(tmp_path: Path) -> None:
    folder = build_ddn(tmp_path, "train", backgrounds=2, types=2)
    report = check_dataset("ddn", folder, "train", expected=4)
    assert isinstance(report, CheckReport) and report.ok
    assert (report.expected, report.found_rainy, report.found_clean, report.pairs) == (4, 4, 2, 4)
    assert report.size_min == report.size_max == (8, 10)
    assert "4/4 pairs" in report.summary() and "\n" not in report.summary()
    partial = check_dataset("ddn", folder, "train")
    assert not partial.ok and "4 of the 12600" in partial.problems[0]
    assert check_dataset("ddn", folder, "train", allow_partial=True).ok


def test_missing_clean_image(tmp_path: Path) -> None:
    folder = build_rain200(tmp_path, n=3)
    gone = folder / "train" / "norain" / "norain-2.png"
    gone.unlink()
    with pytest.raises(DatasetError) as excinfo:
        open_dataset("rain200h", folder, allow_partial=True)
    error_line(excinfo, gone, "no clean image", str(folder / "train" / "rain" / "norain-2x2.png"))
    report = check_dataset("rain200h", folder, expected=3)
    assert report.unpaired == (folder / "train" / "rain" / "norain-2x2.png",) and report.pairs == 2
    assert report.problems[0] == str(excinfo.value)
    assert report.problems[1].endswith(
        f"2 of the 3 expected Rain200H train pairs (first missing pair: {excinfo.value.args[0].split()[0]})"
    )


def test_extra_unpaired_and_stray_files(tmp_path: Path) -> None:
    folder = build_ddn(tmp_path, "test", backgrounds=1, types=2)
    extra = save(folder / "test" / "rain" / "905_1.jpg", rainy_pixels(1))
    with pytest.raises(DatasetError) as excinfo:
        open_dataset("ddn", folder, "test", expected=2)
    error_line(excinfo, extra, "no clean image", "905.jpg")
    extra.unlink()
    stray = save(folder / "test" / "norain" / "copy of 901.jpg", clean_pixels(1))
    (folder / "test" / "norain" / ".DS_Store").write_bytes(b"")
    with pytest.raises(DatasetError) as excinfo:
        open_dataset("ddn", folder, "test", expected=2)
    error_line(excinfo, stray, "does not fit the naming", "901.jpg")


def test_paired_refuses_duplicate_stems_and_two_folder_pairs(tmp_path: Path) -> None:
    folder = build_paired(tmp_path / "set" / "train", {"a": "a", "b": "b"})
    twin = save(folder / "rain" / "a.jpg", rainy_pixels(1))
    with pytest.raises(DatasetError) as excinfo:
        open_dataset("paired", tmp_path / "set")
    error_line(excinfo, twin, "same stem", str(folder / "rain" / "a.png"))
    twin.unlink()
    (folder / "input").mkdir()
    with pytest.raises(DatasetError) as excinfo:
        open_dataset("paired", tmp_path / "set")
    error_line(excinfo, folder, "both rain/ and input/")


def test_did_name_outside_the_split_range(tmp_path: Path) -> None:
    folder = build_side_by_side(tmp_path, "DID", "test", 2, rain_left=True)
    stray = save(folder / "test" / "1201.jpg", side_by_side(3, rain_left=True))
    with pytest.raises(DatasetError) as excinfo:
        open_dataset("did", folder, "test", expected=2)
    error_line(excinfo, stray, "does not fit the naming 1.jpg .. 1200.jpg")


def test_truncated_png_fails_when_read_with_its_name(tmp_path: Path) -> None:
    folder = build_rain200(tmp_path, n=2)
    broken = truncate(folder / "train" / "norain" / "norain-2.png")
    data = open_dataset("rain200h", folder, expected=2)
    assert_codes(*data[0], code=1)
    with pytest.raises(DatasetError) as excinfo:
        data[1]
    error_line(excinfo, broken, "truncated or corrupt", "re-download")
    assert str(excinfo.value) in check_dataset("rain200h", folder, expected=2).problems


@pytest.mark.parametrize(
    ("writer", "words"),
    [
        (lambda path: save(path, clean_pixels(1)[..., 0]), ("grayscale", "8-bit RGB")),
        (lambda path: save_png16(path, clean_pixels(1)), ("16-bit", "8-bit RGB")),
        (
            lambda path: save(path, np.dstack([clean_pixels(1), np.full((8, 10), 255, np.uint8)])),
            ("mode RGBA", "alpha"),
        ),
    ],
)
def test_images_that_are_not_8bit_rgb_are_refused(tmp_path: Path, writer, words: tuple[str, ...]) -> None:
    folder = build_spa_test(tmp_path, n=2)
    bad = writer(folder / "real_test_1000" / "gt" / "001gt.png")
    with pytest.raises(DatasetError) as excinfo:
        open_dataset("spa", folder, "test", expected=2)[1]
    error_line(excinfo, bad, *words)


def test_palette_png_without_transparency_is_read_exactly(tmp_path: Path) -> None:
    folder = build_spa_test(tmp_path, n=1)
    palette = Image.fromarray(clean_pixels(1)).quantize(colors=4)
    palette.save(folder / "real_test_1000" / "gt" / "000gt.png")
    rainy, clean = open_dataset("spa", folder, "test", expected=1)[0]
    assert np.array_equal(clean, np.asarray(palette.convert("RGB")))
    assert_codes(rainy, clean, code=1)


def test_size_mismatch(tmp_path: Path) -> None:
    folder = build_rain800(tmp_path, "train", n=2)
    bad = save(folder / "train" / "norain" / "norain-002.png", clean_pixels(2, width=12))
    with pytest.raises(DatasetError) as excinfo:
        open_dataset("rain800", folder, expected=2)[1]
    error_line(excinfo, bad, "10x8", "12x8", "one size")
    report = check_dataset("rain800", folder, expected=2)
    assert report.problems == (str(excinfo.value),) and report.pairs == 2


def test_odd_width_side_by_side(tmp_path: Path) -> None:
    folder = build_side_by_side(tmp_path, "DID", "train", 1, rain_left=True)
    bad = save(folder / "train" / "1.jpg", clean_pixels(1, width=21))
    with pytest.raises(DatasetError) as excinfo:
        open_dataset("did", folder, expected=1)[0]
    error_line(excinfo, bad, "odd width")


def test_empty_folders(tmp_path: Path) -> None:
    folder = tmp_path / "Rain200H"
    for side in ("rain", "norain"):
        (folder / "train" / side).mkdir(parents=True)
    with pytest.raises(DatasetError) as excinfo:
        open_dataset("rain200h", folder)
    error_line(excinfo, folder / "train", "holds no Rain200H train pairs", "norain-1x2.png")
    shutil.rmtree(folder / "train")
    with pytest.raises(DatasetError) as excinfo:
        open_dataset("rain200h", folder)
    error_line(excinfo, folder, "has no train/")


def test_wrong_roots(tmp_path: Path) -> None:
    with pytest.raises(DatasetError) as excinfo:
        open_dataset("ddn", tmp_path / "nowhere", "test")
    error_line(excinfo, tmp_path / "nowhere", "is not a folder")
    spa = build_spa_test(tmp_path, n=1)
    with pytest.raises(DatasetError) as excinfo:
        open_dataset("spa", spa, "train")
    error_line(excinfo, spa, "real_world/")
    did = build_rain200(tmp_path, "DID", "train", n=1)
    with pytest.raises(DatasetError) as excinfo:
        open_dataset("did", did)
    error_line(excinfo, did / "train", "'paired' layout")
    report = check_dataset("ddn", tmp_path / "nowhere")
    assert not report.ok and report.pairs == 0 and "is not a folder" in report.problems[0]


def test_unknown_names_and_bad_options(tmp_path: Path) -> None:
    folder = build_rain200(tmp_path, n=1)
    for call, word in [
        (lambda: open_dataset("rain100h", folder), "rain200l"),
        (lambda: open_dataset("rain200h", folder, "val"), "'train' or 'test'"),
        (lambda: open_dataset("rain200h", folder, orientation="auto"), "rain_dir"),
        (lambda: open_dataset("did", folder, orientation="up"), "rain_left"),
    ]:
        with pytest.raises(UnknownNameError, match=word):
            call()
    with pytest.raises(ZooError, match="positive whole number"):
        open_dataset("rain200h", folder, expected=0)


def test_fixture_suite_emits_no_stray_warnings(tmp_path: Path) -> None:
    folder = build_side_by_side(tmp_path, "DID", "train", 2, rain_left=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_dataset("did", folder, expected=2).ok
        assert len(open_dataset("did", folder, expected=2)) == 2


# --- `zoo data check DIR` recognising the layout, and folders that list their own pairs -----------------


def test_check_recognises_a_plain_paired_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    folder = build_paired(tmp_path / "mine" / "train", {"1": "1", "2": "2"}).parent
    (found,) = plan_check(folder)
    assert (found.name, found.folder, found.splits) == ("paired", folder, ("train",))
    assert "train/rain/1.png <-> train/norain/1.png" in found.why and "no test/" in found.why
    code, out, _ = run_cli(["data", "check", str(folder)], monkeypatch, capsys)
    assert code == 0 and f"paired: {folder} (2 pairs like" in out


def test_check_names_both_layouts_when_two_fit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    folder = build_rain200(tmp_path, "mine", "test", n=2)
    with pytest.raises(ZooError) as excinfo:
        detect_layout(folder)
    error_line(excinfo, folder, "rain200l", "rain200h", "test/rain/norain-1x2.png", "--dataset rain200l or --dataset rain200h")
    code, _, err = run_cli(["data", "check", str(folder)], monkeypatch, capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--dataset rain200h" in err
    code, out, _ = run_cli(["data", "check", str(folder), "--dataset", "paired"], monkeypatch, capsys)
    assert code == 0 and f"paired: {folder} (--dataset paired; no train/ (not checked))" in out


def test_check_recognises_layouts_by_folder_name_then_by_file_names(tmp_path: Path) -> None:
    named = build_rain200(tmp_path, "Rain200H", "test", n=2)
    found = detect_layout(named)
    assert (found.name, found.splits) == ("rain200h", ("test",)) and "named Rain200H" in found.why
    ddn = build_ddn(tmp_path / "x", "train", backgrounds=1, types=2)
    ddn.rename(tmp_path / "ddn-copy")
    found = detect_layout(tmp_path / "ddn-copy")
    assert found.name == "ddn" and "train/rain/1_1.jpg <-> train/norain/1.jpg" in found.why and "DDN-Data's file names" in found.why
    did = build_side_by_side(tmp_path / "y", "mine", "train", 2, rain_left=True)
    assert detect_layout(did).name == "did"
    rain800 = build_rain800(tmp_path / "z", "test", n=2)
    rain800.rename(tmp_path / "r8")
    assert detect_layout(tmp_path / "r8").name == "rain800"
    with pytest.raises(DatasetError, match="no known dataset folder found"):
        detect_layout(tmp_path / "y")  # holds a dataset folder that is not named like one


def test_roots_holding_one_folder_per_dataset_are_found_by_name(tmp_path: Path) -> None:
    build_rain200(tmp_path, "Rain200L", "test", n=2)
    build_rain800(tmp_path, "test", n=2)
    found = plan_check(tmp_path)
    assert [(f.name, f.folder.name, f.splits) for f in found] == [("rain200l", "Rain200L", SPLITS), ("rain800", "Rain800", SPLITS)]
    assert [f.splits for f in plan_check(tmp_path, "rain800")] == [("test",)]  # --dataset: the splits present


def _manifest(folder: Path, split: str, n: int) -> None:
    lines = ["split,rainy,clean,domain"] + [f"{split},{split}/rain/norain-{i}x2.png,{split}/norain/norain-{i}.png,light" for i in range(1, n + 1)]
    (folder / "manifest.csv").write_text("\n".join(lines) + "\n")


def test_a_manifest_sets_the_expected_pairs_ids_and_splits(tmp_path: Path) -> None:
    folder = build_rain200(tmp_path, "Rain200L", "test", n=1)
    for i in range(2, 204):  # more than the release's 200 test ids
        shutil.copy(folder / "test" / "rain" / "norain-1x2.png", folder / "test" / "rain" / f"norain-{i}x2.png")
        shutil.copy(folder / "test" / "norain" / "norain-1.png", folder / "test" / "norain" / f"norain-{i}.png")
    with pytest.raises(DatasetError, match="does not fit the naming"):
        open_dataset("rain200l", folder, "test", allow_partial=True)
    _manifest(folder, "test", 203)
    assert len(open_dataset("rain200l", tmp_path, "test")) == 203  # no allow_partial: the manifest's count
    assert check_dataset("rain200l", folder, "test").ok
    (found,) = plan_check(tmp_path)
    assert found.splits == ("test",) and "manifest.csv: test 203" in found.why
    (folder / "test" / "rain" / "norain-7x2.png").unlink()
    (folder / "test" / "norain" / "norain-7.png").unlink()
    report = check_dataset("rain200l", folder, "test")
    assert not report.ok and "holds 202 of the 203 expected" in report.problems[0]


class _Recorder:
    """A ProgressLike that remembers what it was told."""

    def __init__(self) -> None:
        self.tasks: dict[int, dict] = {}

    def add_task(self, description: str, total: float | None = None, **fields) -> int:
        self.tasks[len(self.tasks)] = {"description": description, "total": total, "done": 0, "removed": False}
        return len(self.tasks) - 1

    def update(self, task_id: int, *, advance: float | None = None, **fields) -> None:
        self.tasks[task_id]["done"] += advance or 0

    def remove_task(self, task_id: int) -> None:
        self.tasks[task_id]["removed"] = True


def test_check_reports_progress_pair_by_pair(tmp_path: Path) -> None:
    folder = build_ddn(tmp_path, "train", backgrounds=2, types=2)
    recorder = _Recorder()
    assert check_dataset("ddn", folder, "train", expected=4, progress=recorder).ok
    assert recorder.tasks == {0: {"description": "checking ddn train", "total": 4, "done": 4, "removed": True}}
