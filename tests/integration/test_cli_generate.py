"""`stygaze generate`, `stygaze extract-style` and `stygaze train style|generator` end to end."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from gen_fixtures import make_session_arrays, make_tiny_corpus, save_tiny_model, write_tiny_config
from stygaze.audio import save_audio
from stygaze.motion import Motion


def cli(*args, cwd=None):
    """The real command in a subprocess."""
    env = dict(os.environ, OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1")
    return subprocess.run([sys.executable, "-m", "stygaze", *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env)


def cli_inproc(capsys, *args):
    """The same entry point in this process (cheaper: no torch start-up per call)."""
    from stygaze.cli import main

    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:  # argparse --help / usage errors
        code = exc.code
    out = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out.out, out.err)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("gen")
    audio, motion = make_session_arrays(3.0, 0.5, 1)
    save_audio(d / "talk.wav", audio)
    Motion(motion).save(d / "ref.npz")
    save_tiny_model(d / "model")
    (d / "corrupt.wav").write_bytes(b"RIFF" + b"\x00" * 40)
    (d / "empty.wav").write_bytes(b"")
    return d


@pytest.mark.slow
def test_generate_default_output_and_style_vector_round_trip(files, capsys):
    r = cli("generate", "--audio", files / "talk.wav", "--model", files / "model", "--style", files / "ref.npz", "--seed", "1")
    assert r.returncode == 0, r.stderr
    out = files / "talk.motion.npz"
    m = Motion.load(out)
    assert m.data.shape == (75, 7) and np.isfinite(m.data).all()
    r = cli("extract-style", "--motion", files / "ref.npz", "-o", files / "style.npz", "--model", files / "model")
    assert r.returncode == 0, r.stderr
    with np.load(files / "style.npz") as z:
        assert z["style"].shape == (8,) and str(z["encoder_id"]).startswith("style-")
    r = cli_inproc(capsys, "generate", "--audio", files / "talk.wav", "--model", files / "model", "--style", files / "style.npz",
                   "--seed", "1", "-o", files / "b.npz", "--head-scale", "1.0")
    assert r.returncode == 0, r.stderr
    assert np.allclose(Motion.load(files / "b.npz").data, m.data, atol=1e-5)


def test_generate_avatar_stages_and_their_flags(files, capsys):
    """Default: gaze events, blink and jaw; --raw: the model's output; --no-* switch single stages off."""
    base = ["generate", "--audio", files / "talk.wav", "--model", files / "model", "--seed", "2"]
    outs = {}
    for name, flags in {"default": [], "raw": ["--raw"], "nojaw": ["--no-jaw"], "noblink": ["--no-blinks"],
                        "nogaze": ["--no-gaze-events"], "rawsac": ["--raw", "--saccades"]}.items():
        r = cli_inproc(capsys, *base, *flags, "-o", files / f"{name}.npz")
        assert r.returncode == 0, r.stderr
        outs[name] = Motion.load(files / f"{name}.npz")
    d, raw = outs["default"], outs["raw"]
    assert d.blink is not None and d.extras["jaw"].shape == (75, 3) and d.extras["jaw"][:, 0].max() > 0
    assert raw.blink is None and "jaw" not in raw.extras
    assert np.array_equal(d.head, raw.head) and not np.allclose(d.gaze, raw.gaze)
    assert "jaw" not in outs["nojaw"].extras and np.array_equal(outs["nojaw"].data, d.data)
    assert outs["noblink"].blink is None and "jaw" in outs["noblink"].extras
    ng = outs["nogaze"]  # the model's gaze, dipped only where the lid closes
    assert np.allclose(ng.data[:, 4], raw.data[:, 4]) and np.allclose(ng.data[ng.blink == 0], raw.data[ng.blink == 0])
    assert outs["rawsac"].blink is None and not np.allclose(outs["rawsac"].gaze, raw.gaze)
    for flags, word in ((["--raw", "--no-jaw"], "--raw"), (["--saccades", "--no-gaze-events"], "contradict")):
        r = cli_inproc(capsys, *base, *flags, "-o", files / "never.npz")
        assert r.returncode == 2 and word in r.stderr and not (files / "never.npz").exists()
    r = cli_inproc(capsys, "generate", "--audio", files / "talk.wav", "--model", "procedural", "--saccades", "-o", files / "p.npz")
    assert r.returncode == 2 and "--saccades" in r.stderr and not (files / "p.npz").exists()
    r = cli_inproc(capsys, "generate", "--audio", files / "talk.wav", "--model", "procedural", "-o", files / "p.npz")
    assert r.returncode == 0, r.stderr
    p = Motion.load(files / "p.npz")
    assert p.blink is not None and p.extras["jaw"][:, 0].max() > 0  # the procedural baseline speaks too


def test_generate_with_the_builtin_realtime_model(files, capsys):
    from stygaze.checkpoint import ASSETS_DIR

    if not (ASSETS_DIR / "stygazetalk_realtime" / "config.json").exists():
        pytest.fail("the built-in realtime model (stygaze/assets/stygazetalk_realtime) is missing")
    r = cli_inproc(capsys, "generate", "--audio", files / "talk.wav", "--model", "realtime", "--seed", "1", "-o", files / "rt.npz")
    assert r.returncode == 0, r.stderr
    m = Motion.load(files / "rt.npz")
    assert m.data.shape == (75, 7) and np.isfinite(m.data).all() and m.blink is not None


def test_generate_style_match_and_temperature_flags(files, capsys):
    """The built-in model scales the head to the reference's statistics unless --no-style-match; --temperature scales the latent."""
    from stygaze.stygazetalk.style_match import head_statistics

    base = ["generate", "--audio", files / "talk.wav", "--seed", "1", "--raw"]
    outs = {}
    for name, flags in {"neutral": [], "matched": ["--style", files / "ref.npz"],
                        "free": ["--style", files / "ref.npz", "--no-style-match"], "calm": ["--temperature", "0.2"]}.items():
        r = cli_inproc(capsys, *base, *flags, "-o", files / f"sm_{name}.npz")
        assert r.returncode == 0, r.stderr
        outs[name] = Motion.load(files / f"sm_{name}.npz").data
    target = head_statistics(Motion.load(files / "ref.npz").data)
    err = {k: np.abs(head_statistics(outs[k]) - target).sum() for k in ("matched", "free")}
    assert err["matched"] < err["free"]  # closer to the reference's amplitude and speed
    assert np.array_equal(outs["matched"][:, 3:], outs["free"][:, 3:])  # only the head is rescaled
    assert not np.allclose(outs["calm"], outs["neutral"])
    r = cli_inproc(capsys, *base, "--temperature", "-1", "-o", files / "never.npz")
    assert r.returncode == 2 and "--temperature" in r.stderr and not (files / "never.npz").exists()


def test_extract_style_from_several_clips(files, capsys):
    """Several --motion clips give one style whose head statistics pool theirs; a bad one is named."""
    motion = Motion.load(files / "ref.npz")
    motion.slice(0, 50).save(files / "ref_a.npz")
    motion.slice(25, 75).save(files / "ref_b.npz")
    r = cli_inproc(capsys, "extract-style", "--motion", files / "ref_a.npz", files / "ref_b.npz", "-o", files / "speaker.npz",
                   "--model", files / "model")
    assert r.returncode == 0, r.stderr
    with np.load(files / "speaker.npz") as z:
        assert z["style"].shape == (8,) and np.isfinite(z["style"]).all()
    Motion(motion.data[:10]).save(files / "ref_short.npz")
    r = cli_inproc(capsys, "extract-style", "--motion", files / "ref_a.npz", files / "ref_short.npz", "-o", files / "never.npz",
                   "--model", files / "model")
    assert r.returncode == 2 and "ref_short.npz" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (files / "never.npz").exists()
    r = cli_inproc(capsys, "extract-style", "--motion", files / "ref_a.npz", files / "ref_b.npz", "-o", files / "ref_b.npz")
    assert r.returncode == 2 and "one of the inputs" in r.stderr


def test_generate_no_beat_align_keeps_the_generator_timing(files, capsys):
    """--no-beat-align gives the motion before retiming: the same frames where no movement end moved."""
    save_audio(files / "talk12.wav", make_session_arrays(12.0, 0.5, 2)[0])
    outs = {}
    for name, flags in {"aligned": [], "free": ["--no-beat-align"]}.items():
        r = cli_inproc(capsys, "generate", "--audio", files / "talk12.wav", "--seed", "1", *flags, "-o", files / f"ba_{name}.npz")
        assert r.returncode == 0, r.stderr
        outs[name] = Motion.load(files / f"ba_{name}.npz")
    a, f = outs["aligned"], outs["free"]
    assert a.data.shape == f.data.shape and np.array_equal(a.blink is None, f.blink is None)
    assert np.allclose(a.data[0, :3], f.data[0, :3], atol=1e-5)  # the first frame stays where it was
    assert not np.allclose(a.head, f.head)  # some movement end was moved onto a beat
    r = cli_inproc(capsys, "generate", "--audio", files / "talk.wav", "--model", "procedural", "--no-beat-align", "-o", files / "never.npz")
    assert r.returncode == 2 and "--no-beat-align" in r.stderr and not (files / "never.npz").exists()


@pytest.mark.parametrize("args,match", [
    (["--audio", "corrupt.wav"], "cannot read audio"),
    (["--audio", "empty.wav"], "empty"),
    (["--audio", "missing.wav"], "not found"),
    (["--audio", "talk.wav", "--style", "talk.wav"], "style"),
    (["--audio", "talk.wav", "--model", "nowhere"], "checkpoint not found"),
])
def test_generate_bad_input_is_one_line_and_no_output(files, args, match, capsys):
    out = files / "never.npz"
    r = cli_inproc(capsys, "generate", *[files / a if a.endswith((".wav", ".npz")) or a == "nowhere" else a for a in args],
            *([] if "--model" in args else ["--model", files / "model"]), "-o", out)
    assert r.returncode == 2
    assert r.stderr.startswith("stygaze: error:") and match in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not out.exists()
    assert not [p for p in files.iterdir() if ".part" in p.name]


def test_corrupt_audio_in_a_real_process(files):
    r = cli("generate", "--audio", files / "corrupt.wav", "--model", files / "model", "-o", files / "never2.npz")
    assert r.returncode == 2 and r.stderr.startswith("stygaze: error:") and "Traceback" not in r.stderr
    assert not (files / "never2.npz").exists()


def test_extract_style_too_short_clip(files, tmp_path, capsys):
    Motion(np.zeros((10, 7), np.float32)).save(tmp_path / "short.npz")
    r = cli_inproc(capsys, "extract-style", "--motion", tmp_path / "short.npz", "-o", tmp_path / "s.npz", "--model", files / "model")
    assert r.returncode == 2 and "usable frames" in r.stderr and not (tmp_path / "s.npz").exists()


@pytest.mark.slow
def test_train_style_then_generator_then_generate(tmp_path, capsys):
    corpus = make_tiny_corpus(tmp_path / "corpus", n_sessions=6, seconds=5.0)
    cfg = write_tiny_config(tmp_path / "tiny.yaml")
    r = cli("train", "style", "--config", cfg, "--data", corpus, "--out", tmp_path / "se", "--max-epochs", "1")
    assert r.returncode == 0, r.stderr
    r = cli("train", "generator", "--config", cfg, "--data", corpus, "--out", tmp_path / "gen",
            "--style-encoder", tmp_path / "se" / "best", "--max-epochs", "1")
    assert r.returncode == 0, r.stderr
    assert len((tmp_path / "gen" / "log.jsonl").read_text().splitlines()) == 1
    r = cli_inproc(capsys, "generate", "--audio", corpus / "s05" / "audio.wav", "--model", tmp_path / "gen", "-o", tmp_path / "o.npz")
    assert r.returncode == 0, r.stderr
    assert len(Motion.load(tmp_path / "o.npz")) == 125
    # a styled config without --style-encoder: one clear line
    r = cli_inproc(capsys, "train", "generator", "--config", cfg, "--data", corpus, "--out", tmp_path / "g2")
    assert r.returncode == 2 and "train it first" in r.stderr


def test_help_lists_options_with_defaults(capsys):
    r = cli_inproc(capsys, "generate", "--help")
    assert r.returncode == 0 and "--head-scale" in r.stdout and "default" in r.stdout
    r = cli_inproc(capsys, "train", "generator", "--help")
    assert r.returncode == 0 and "--style-encoder" in r.stdout and "--max-minutes" in r.stdout


def test_procedural_model_and_its_flag_checks(files, capsys):
    out = files / "proc.npz"
    r = cli_inproc(capsys, "generate", "--audio", files / "talk.wav", "--model", "procedural", "--seed", "2", "-o", out)
    assert r.returncode == 0, r.stderr
    assert Motion.load(out).data.shape == (75, 7)
    r = cli_inproc(capsys, "generate", "--audio", files / "talk.wav", "--model", "procedural", "--style", files / "ref.npz", "-o", files / "p2.npz")
    assert r.returncode == 2 and "--style is not used" in r.stderr and not (files / "p2.npz").exists()
