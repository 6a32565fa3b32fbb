"""``skintrack quality`` and ``skintrack calibrate``: JSON contract, text output and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from skintrack.cli import main
from skintrack.core.card import render_card_rgb
from skintrack.demo import synth

QUALITY_CHECKS = {"sharpness", "clipping", "exposure", "glare", "evenness", "chart"}


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("photos")
    skin = synth.make_skin((1100, 820), seed=8)
    out = {}
    for name, kw in {
        "good": {},
        "later": {"pose": synth.Pose(shift=(6, 4))},
        "bright": {"exposure": 2.8},
    }.items():
        pose = kw.pop("pose", synth.Pose())
        rgb = synth.photograph(skin, pose, (960, 720), seed=len(name), **kw)[0]
        out[name] = folder / f"{name}.jpg"
        Image.fromarray(rgb).save(out[name], quality=92)
    rgb = np.array(Image.open(out["good"]))
    card = render_card_rgb(dpi=160, supersample=2)
    rgb[30 : 30 + card.shape[0], 30 : 30 + card.shape[1]] = card
    out["card"] = folder / "card.png"
    Image.fromarray(rgb).save(out["card"])
    out["broken"] = folder / "broken.jpg"
    out["broken"].write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    return out


@pytest.fixture(autouse=True)
def no_default_library(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The user's own library (and its thresholds) must not leak into these tests."""
    monkeypatch.setenv("SKINTRACK_LIBRARY", str(tmp_path / "no-library"))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_quality_json(capsys: pytest.CaptureFixture[str], photos: dict[str, Path]) -> None:
    code, out, _ = run(capsys, "quality", str(photos["good"]), "--json")
    data = json.loads(out)
    assert code == 0 and data["overall"] == "pass" and set(data["checks"]) == QUALITY_CHECKS
    for check in data["checks"].values():
        assert set(check) == {"score", "status", "advice"} and check["status"] in ("pass", "warn", "fail")


def test_quality_with_reference(capsys: pytest.CaptureFixture[str], photos: dict[str, Path]) -> None:
    code, out, _ = run(capsys, "quality", str(photos["later"]), "--reference", str(photos["good"]), "--json")
    data = json.loads(out)
    assert code == 0 and set(data["checks"]) == QUALITY_CHECKS | {"colour_cast", "framing"}
    assert data["checks"]["framing"]["status"] == "pass"


def test_quality_text_names_the_problem(capsys: pytest.CaptureFixture[str], photos: dict[str, Path]) -> None:
    code, out, _ = run(capsys, "quality", str(photos["bright"]))
    assert code == 0 and out.startswith("bright.jpg: FAIL")
    assert "Too bright" in out and "--reference" in out


def test_quality_invalid_file_exit_4(capsys: pytest.CaptureFixture[str], photos: dict[str, Path]) -> None:
    code, _, err = run(capsys, "quality", str(photos["broken"]))
    assert code == 4 and "broken.jpg" in err
    code, _, err = run(capsys, "quality", str(photos["good"]), "--reference", str(photos["broken"]))
    assert code == 4 and "broken.jpg" in err


def test_usage_error_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["quality"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["calibrate", "a.jpg", "--bogus"])
    assert exc.value.code == 2


def test_calibrate_card(capsys: pytest.CaptureFixture[str], photos: dict[str, Path]) -> None:
    code, out, _ = run(capsys, "calibrate", str(photos["card"]), "--json")
    data = json.loads(out)
    assert code == 0 and data["chart"] == "skintrack-card"
    assert data["mm_per_px"] == pytest.approx(25.4 / 160, rel=0.03)
    assert data["patches_found"] >= 8 and data["residual_delta_e2000"] < 3
    code, out, _ = run(capsys, "calibrate", str(photos["card"]))
    assert "skintrack-card" in out and "printer" in out


def test_calibrate_no_chart(capsys: pytest.CaptureFixture[str], photos: dict[str, Path]) -> None:
    code, out, _ = run(capsys, "calibrate", str(photos["good"]), "--json")
    assert code == 0 and json.loads(out) == {
        "chart": None,
        "residual_delta_e2000": None,
        "mm_per_px": None,
        "patches_found": 0,
    }


def test_calibrate_invalid_file_exit_4(capsys: pytest.CaptureFixture[str], photos: dict[str, Path]) -> None:
    code, _, err = run(capsys, "calibrate", str(photos["broken"]), "--json")
    assert code == 4 and "broken.jpg" in err


def test_quality_uses_the_library_thresholds(
    capsys: pytest.CaptureFixture[str], photos: dict[str, Path], tmp_path: Path
) -> None:
    from skintrack.library import Library
    from skintrack.services.quality import SETTING_KEY

    root = tmp_path / "lib"
    with Library.open(root) as lib:
        lib.set_setting(SETTING_KEY, {"blur_warn": 0.5, "blur_fail": 1.0})
    code, out, _ = run(capsys, "--library", str(root), "quality", str(photos["good"]), "--json")
    assert code == 0 and json.loads(out)["checks"]["sharpness"]["status"] == "fail"
    missing = tmp_path / "nowhere"
    code, out, _ = run(capsys, "--library", str(missing), "quality", str(photos["good"]), "--json")
    assert code == 0 and json.loads(out)["overall"] == "pass" and not missing.exists()
