"""Hostile and careless input to every subcommand: one clean error, nothing written, nothing run.

Each case is a command line over fixture files (``tests/hostile/hostile_fixtures.py``, built once per
module) and asserts the CLI's error contract:

* exit code 2 and exactly one line on stderr, ``stygaze: error: ...``; no ``Traceback``;
* nothing written to the case's output folder (no partial or ``.part`` file);
* the input files unchanged (contents hashed before and after, no file added next to them);
* no code executed: the pickle and YAML payloads of the fixtures would create a marker file.

The cases run in-process (``stygaze.cli.main``), which is fast; :data:`SUBPROCESS_CASES` runs
a sample again as a real ``python -m stygaze`` process to show it behaves the same.
Signals and concurrency (Ctrl-C, two writers) run as real processes in ``test_signals.py``;
SIGKILL and resume of a corpus and a killed batch worker beside the commands they concern
(``tests/integration``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import hostile_fixtures as fx

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Case:
    id: str
    argv: tuple[str, ...]


def _case(id: str, *argv: str) -> Case:
    return Case(id, tuple(argv))


# --------------------------------------------------------------------------------------
# the tables
# --------------------------------------------------------------------------------------
MOTION_READERS: dict[str, tuple[str, ...]] = {
    "extract-style": ("extract-style", "--motion", "{in}/X", "-o", "{out}/style.npz"),
    "export-bvh": ("export", "{in}/X", "--format", "bvh", "-o", "{out}/x.bvh"),
    "eval-pred": ("eval", "--pred", "{in}/X", "--gt", "{in}/motion.npz"),
    "eval-gt": ("eval", "--pred", "{in}/motion.npz", "--gt", "{in}/X", "--json", "{out}/r.json"),
    "generate-gaze": ("generate", "--gaze", "{in}/X", "-o", "{out}/g.npz"),
    "generate-style": ("generate", "--audio", "{in}/talk.wav", "--style", "{in}/X", "-o", "{out}/g.npz"),
}
"""Commands that read a motion file (X): each must refuse every file of fixtures.BAD_MOTIONS."""

MOTION_READERS_SOME: dict[str, tuple[str, ...]] = {
    "export-arkit": ("export", "{in}/X", "--format", "arkit", "-o", "{out}/x.csv"),
    "export-flame": ("export", "{in}/X", "--format", "flame", "-o", "{out}/x.npz"),
    "export-gltf": ("export", "{in}/X", "--format", "gltf", "-o", "{out}/x.glb"),
    "render": ("render", "{in}/X", "-o", "{out}/x.mp4", "--no-progress"),
    "render-grid": ("render", "{in}/motion.npz", "{in}/X", "-o", "{out}/x.mp4", "--no-progress"),
}
"""More motion readers, over a sample of the bad motions (the refusal is the same Motion.load)."""
SOME_BAD_MOTIONS = ("motion_str", "fps_tiny", "fps_inf", "blink_str", "shape_str", "zip_bomb", "header_bomb",
                    "motion_object_pickle", "no_motion_key", "garbage")

BAD_AUDIO = ("empty.wav", "garbage.wav", "nan.wav", "inf.wav", "tiny.wav", "huge_header.wav", "header_only.wav",
             "talk.txt", "pickle.wav", "dir.wav", "loop.wav", "missing.wav", "fifo.wav", "motion.npz")
AUDIO_READERS: dict[str, tuple[str, ...]] = {
    "generate": ("generate", "--audio", "{in}/X", "-o", "{out}/g.npz"),
    "generate-raw": ("generate", "--audio", "{in}/X", "--raw", "-o", "{out}/g.npz"),
    "generate-procedural": ("generate", "--audio", "{in}/X", "--model", "procedural", "-o", "{out}/g.npz"),
    "generate-cvae-head": ("generate", "--audio", "{in}/X", "--head", "cvae", "-o", "{out}/g.npz"),
    "eval-audio": ("eval", "--pred", "{in}/motion.npz", "--gt", "{in}/motion_b.npz", "--audio", "{in}/X"),
}

BAD_CHECKPOINTS = tuple(f"ck_{n}" for n in fx.CHECKPOINT_EDITS) + (
    "ck_no_weights", "ck_no_config", "ck_json_corrupt", "ck_json_list", "ck_json_deep", "ck_json_binary",
    "ck_weights_nan", "ck_weights_inf", "ck_weights_huge", "ck_weights_int8", "ck_weights_float64",
    "ck_weights_truncated_shape", "ck_weights_garbage", "ck_weights_pickle", "ck_pt_only", "ck_file",
    "ck_weights_dir", "ck_missing",
)
CHECKPOINT_READERS: dict[str, tuple[str, ...]] = {
    "generate": ("generate", "--audio", "{in}/talk.wav", "--model", "{in}/X", "-o", "{out}/g.npz"),
    "extract-style": ("extract-style", "--motion", "{in}/motion.npz", "--model", "{in}/X", "-o", "{out}/s.npz"),
}
CVAE_READERS: dict[str, tuple[str, ...]] = {
    "generate-gaze": ("generate", "--gaze", "{in}/motion.npz", "--cvae", "{in}/X", "-o", "{out}/g.npz"),
}

TRAINERS: dict[str, tuple[str, ...]] = {
    "style": ("train", "style", "--config", "{in}/X", "--data", "{in}/no_corpus", "--out", "{out}/run"),
    "generator": ("train", "generator", "--config", "{in}/X", "--data", "{in}/no_corpus", "--out", "{out}/run"),
    "cvae": ("train", "cvae", "--config", "{in}/X", "--data", "{in}/no_corpus", "--out", "{out}/run"),
    "omnihead": ("train", "omnihead", "--config", "{in}/X", "--data", "{in}/no_corpus", "--out", "{out}/run"),
}

GEN = ("generate", "--audio", "{in}/talk.wav", "-o", "{out}/g.npz")
GAZE = ("generate", "--gaze", "{in}/motion.npz", "-o", "{out}/g.npz")
EVAL = ("eval", "--pred", "{in}/motion.npz", "--gt", "{in}/motion_b.npz")
EXPORT = ("export", "{in}/motion.npz", "-o", "{out}/x.bvh")
RENDER = ("render", "{in}/motion.npz", "-o", "{out}/x.mp4", "--no-progress")
TRAIN_STYLE = ("train", "style", "--config", "{in}/cfg_style_unknown_key.yaml", "--data", "{in}/no_corpus", "--out", "{out}/run")
SYNTH = ("data", "synth", "--out", "{out}/corpus", "--no-progress")

ARGUMENT_CASES: list[Case] = [
    *(_case(f"generate-seed-{v}", *GEN, "--seed", v) for v in ("-1", "4294967296", "abc", "1.5", "nan")),
    *(_case(f"generate-jobs-{v}", *GEN, "--jobs", v) for v in ("0", "-2", "x")),
    *(_case(f"generate-head-scale-{v}", *GEN, "--head-scale", v) for v in ("inf", "nan", "-1", "abc")),
    *(_case(f"generate-gaze-scale-{v}", *GEN, "--gaze-scale", v) for v in ("-inf", "-0.5", "")),
    *(_case(f"generate-samples-{v}", *GAZE, "--samples", v) for v in ("100000", "0", "-1", "abc", "1e3")),
    *(_case(f"generate-max-gap-{v}", *GAZE, "--max-gap", v) for v in ("-1", "x")),
    _case("generate-head-bogus", *GEN, "--head", "bogus"),
    _case("generate-unknown-flag", *GEN, "--bogus"),
    _case("generate-no-audio", "generate", "-o", "{out}/g.npz"),
    _case("generate-out-txt", "generate", "--audio", "{in}/talk.wav", "-o", "{out}/g.txt"),
    _case("generate-model-unknown-name", *GEN, "--model", "no-such-builtin"),
    _case("generate-raw-and-no-blinks", *GEN, "--raw", "--no-blinks"),
    _case("generate-saccades-and-no-gaze-events", *GEN, "--saccades", "--no-gaze-events"),
    _case("generate-procedural-style", *GEN, "--model", "procedural", "--style", "{in}/motion.npz"),
    _case("generate-style-missing", *GEN, "--style", "{in}/missing.npz"),
    _case("generate-style-short-motion", *GEN, "--style", "{in}/motion_short.npz"),
    _case("generate-style-all-nan", *GEN, "--style", "{in}/motion_all_nan.npz"),
    _case("generate-gaze-short", "generate", "--gaze", "{in}/motion_short.npz", "-o", "{out}/g.npz"),
    _case("generate-gaze-all-nan", "generate", "--gaze", "{in}/motion_all_nan.npz", "-o", "{out}/g.npz"),
    _case("generate-render-in-batch", "generate", "--audio", "{in}/dir.wav", "--render", "{out}/x.mp4"),
    _case("extract-style-short", "extract-style", "--motion", "{in}/motion_short.npz", "-o", "{out}/s.npz"),
    _case("extract-style-all-nan", "extract-style", "--motion", "{in}/motion_all_nan.npz", "-o", "{out}/s.npz"),
    _case("extract-style-no-out", "extract-style", "--motion", "{in}/motion.npz"),
    _case("extract-style-procedural", "extract-style", "--motion", "{in}/motion.npz", "--model", "procedural", "-o", "{out}/s.npz"),
    *(_case(f"eval-dispersion-{v}", *EVAL, "--dispersion", v) for v in ("inf", "nan", "-1", "0", "abc")),
    *(_case(f"eval-min-duration-{v}", *EVAL, "--min-duration", v) for v in ("-0.1", "inf", "0")),
    *(_case(f"eval-perceptual-stride-{v}", *EVAL, "--perceptual-stride", v) for v in ("0", "-3", "x")),
    _case("eval-signal-bogus", *EVAL, "--signal", "bogus"),
    _case("eval-detector-bogus", *EVAL, "--event-detector", "bogus"),
    _case("eval-pred-nan", "eval", "--pred", "{in}/motion_nan.npz", "--gt", "{in}/motion.npz"),
    _case("eval-pred-missing", "eval", "--pred", "{in}/missing.npz", "--gt", "{in}/motion.npz"),
    _case("eval-plot-bad-suffix", *EVAL, "--plot", "{out}/x.txt"),
    _case("eval-no-gt", "eval", "--pred", "{in}/motion.npz"),
    *(_case(f"export-fps-{v}", "export", "{in}/motion.npz", "--format", "arkit", "-o", "{out}/x.csv", "--fps", v)
      for v in ("0", "-30", "inf", "nan", "1e9", "abc")),
    _case("export-format-bogus", *EXPORT, "--format", "bogus"),
    _case("export-no-format", *EXPORT),
    _case("export-head-joint-bogus", *EXPORT, "--format", "flame", "--head-joint", "bogus"),
    _case("export-fps-with-bvh", *EXPORT, "--format", "bvh", "--fps", "30"),
    _case("export-suffix-mismatch", "export", "{in}/motion.npz", "--format", "bvh", "-o", "{out}/x.csv"),
    *(_case(f"render-size-{v}", *RENDER, "--size", v) for v in ("abc", "0", "-512", "3", "100000", "1.5")),
    *(_case(f"render-supersample-{v}", *RENDER, "--supersample", v) for v in ("0", "9", "x")),
    _case("render-head-bogus", *RENDER, "--head", "bogus"),
    _case("render-camera-bogus", *RENDER, "--camera", "bogus"),
    _case("render-labels-count", "render", "{in}/motion.npz", "{in}/motion_b.npz", "-o", "{out}/x.mp4", "--labels", "a,b,c"),
    _case("render-no-output", "render", "{in}/motion.npz"),
    _case("render-flame-missing", *RENDER, "--head", "flame", "--flame-model", "{in}/missing.pkl"),
    *(_case(f"train-style-{flag}-{v}", *TRAIN_STYLE, f"--{flag}", v)
      for flag, values in {"seed": ("-1", "4294967296", "x"), "threads": ("0", "-1", "5000"),
                           "max-epochs": ("0", "-1"), "max-minutes": ("0", "-5", "nan")}.items() for v in values),
    *(_case(f"train-{m}-threads-0", "train", m, "--config", "{in}/X.yaml", "--data", "{in}/no_corpus", "--out", "{out}/run", "--threads", "0")
      for m in ("generator", "cvae", "omnihead")),
    *(_case(f"train-{m}-max-epochs--1", "train", m, "--config", "{in}/X.yaml", "--data", "{in}/no_corpus", "--out", "{out}/run", "--max-epochs", "-1")
      for m in ("generator", "cvae", "omnihead")),
    _case("train-unknown-model", "train", "bogus"),
    _case("train-style-config-missing", "train", "style", "--config", "{in}/missing.yaml", "--data", "{in}/no_corpus", "--out", "{out}/run"),
    _case("train-style-config-dir", "train", "style", "--config", "{in}/dir.npz", "--data", "{in}/no_corpus", "--out", "{out}/run"),
    *(_case(f"data-synth-{flag}-{v}", *SYNTH, f"--{flag}", v)
      for flag, values in {"sessions": ("0", "-1", "x", "1e12"), "minutes": ("0", "-1", "inf", "nan", "1e9"),
                           "seed": ("-1", "x", "4294967296")}.items() for v in values),
    _case("data-synth-audio-dir-missing", *SYNTH, "--audio-dir", "{in}/missing_dir"),
    _case("data-check-missing", "data", "check", "{in}/missing_dir"),
    _case("data-check-file", "data", "check", "{in}/plain.txt"),
    _case("data-openface-missing", "data", "import-openface", "{in}/missing.csv", "--audio", "{in}/talk.wav", "--out", "{out}/s"),
    _case("data-openface-not-csv", "data", "import-openface", "{in}/garbage.wav", "--audio", "{in}/talk.wav", "--out", "{out}/s"),
    *(_case(f"data-openface-{flag}-{v}", "data", "import-openface", "{in}/plain.txt", "--audio", "{in}/talk.wav",
            "--out", "{out}/s", f"--{flag}", v) for flag, values in {"min-confidence": ("-1", "nan"), "max-gap": ("-1", "inf")}.items()
      for v in values),
    _case("data-features-jobs-0", "data", "features", "{in}/no_corpus", "--jobs", "0"),
    _case("data-features-missing", "data", "features", "{in}/no_corpus"),
    _case("data-unknown", "data", "bogus"),
    *(_case(f"serve-{flag}-{v}", "serve", f"--{flag}", v)
      for flag, values in {"port": ("-1", "70000", "x"), "max-clients": ("0", "-1"), "idle-timeout": ("0", "nan", "inf", "-1"),
                           "max-message-bytes": ("0", "x"), "max-style-bytes": ("-1",), "workers": ("0", "abc")}.items()
      for v in values),
    _case("unknown-command", "bogus"),
    _case("unknown-global-flag", "--bogus"),
]

OUTPUT_CASES: list[Case] = [
    _case("generate-out-parent-is-file", "generate", "--audio", "{in}/talk.wav", "-o", "{in}/plain.txt/g.npz"),
    _case("generate-out-is-dir", "generate", "--audio", "{in}/talk.wav", "-o", "{in}/dir.npz"),
    _case("generate-out-too-long-name", "generate", "--audio", "{in}/talk.wav", "-o", "{out}/" + "a" * 300 + ".npz"),
    _case("generate-out-equals-style", "generate", "--audio", "{in}/talk.wav", "--style", "{in}/motion.npz", "-o", "{in}/motion.npz"),
    _case("generate-out-equals-gaze", "generate", "--gaze", "{in}/motion.npz", "-o", "{in}/motion.npz"),
    _case("generate-out-equals-audio", "generate", "--audio", "{in}/talk.wav", "-o", "{in}/talk.wav"),
    _case("extract-style-out-equals-motion", "extract-style", "--motion", "{in}/motion.npz", "-o", "{in}/motion.npz"),
    _case("export-out-equals-input", "export", "{in}/motion.npz", "--format", "flame", "-o", "{in}/motion.npz"),
    _case("export-out-parent-is-file", "export", "{in}/motion.npz", "--format", "bvh", "-o", "{in}/plain.txt/x.bvh"),
    _case("eval-json-equals-pred", "eval", "--pred", "{in}/motion.npz", "--gt", "{in}/motion_b.npz", "--json", "{in}/motion.npz"),
    _case("eval-json-parent-is-file", *EVAL, "--json", "{in}/plain.txt/r.json"),
    _case("render-out-equals-input", "render", "{in}/motion.npz", "-o", "{in}/motion.npz", "--no-progress"),
    _case("data-synth-out-is-file", "data", "synth", "--out", "{in}/plain.txt", "--sessions", "1", "--minutes", "0.1"),
    _case("data-openface-out-exists", "data", "import-openface", "{in}/plain.txt", "--audio", "{in}/talk.wav", "--out", "{in}/dir.npz"),
]

FLAME_CASES: list[Case] = [
    _case("render-flame-pickle", *RENDER, "--head", "flame", "--flame-model", "{in}/pickle.wav"),
    _case("render-flame-npz-object", *RENDER, "--head", "flame", "--flame-model", "{in}/blink_object_pickle.npz"),
]



def _expand(readers: dict[str, tuple[str, ...]], names, prefix: str, suffix: str = "") -> list[Case]:
    return [Case(f"{prefix}{r}[{n}]", tuple(a.replace("{in}/X", f"{{in}}/{n}{suffix}") for a in argv))
            for r, argv in readers.items() for n in names]


def _config_cases() -> list[Case]:
    cases = []
    for trainer, argv in TRAINERS.items():
        for name in fx.BAD_CONFIGS:
            cases.append(Case(f"train-{trainer}[{name}]", tuple(a.replace("{in}/X", f"{{in}}/cfg_{trainer}_{name}.yaml") for a in argv)))
    for name in fx.MODEL_CONFIGS:
        for trainer in ("style", "generator"):
            cases.append(Case(f"train-{trainer}[model-{name}]",
                              tuple(a.replace("{in}/X", f"{{in}}/cfg_model_{name}.yaml") for a in TRAINERS[trainer])))
    return cases


def _fix_train_args(cases: list[Case]) -> list[Case]:
    """Argument cases of the other trainers read a valid-looking config of their own."""
    out = []
    for c in cases:
        trainer = c.argv[1] if c.argv[0] == "train" and len(c.argv) > 1 else ""
        out.append(Case(c.id, tuple(a.replace("{in}/X.yaml", f"{{in}}/cfg_{trainer}_unknown_key.yaml") for a in c.argv)))
    return out


ALL_CASES: list[Case] = [
    *_expand(MOTION_READERS, fx.BAD_MOTIONS, "motion-", ".npz"),
    *_expand(MOTION_READERS_SOME, SOME_BAD_MOTIONS, "motion-", ".npz"),
    *_expand({"generate": MOTION_READERS["generate-style"]}, fx.BAD_STYLES, "style-", ".npz"),
    *_expand(AUDIO_READERS, BAD_AUDIO, "audio-"),
    *_expand(CHECKPOINT_READERS, BAD_CHECKPOINTS, "checkpoint-"),
    *_expand(CVAE_READERS, [f"cvae_{n}" for n in fx.CVAE_EDITS] + ["ck_file", "ck_missing", "ck_d_huge"], "checkpoint-cvae-"),
    *_config_cases(),
    *_fix_train_args(ARGUMENT_CASES),
    *OUTPUT_CASES,
    *FLAME_CASES,
]

SUBPROCESS_CASES: tuple[str, ...] = (
    "motion-extract-style[fps_tiny]",
    "motion-generate-style[blink_str]",
    "motion-eval-pred[zip_bomb]",
    "motion-export-bvh[motion_object_pickle]",
    "style-generate[style_no_encoder_id]",
    "audio-generate[garbage.wav]",
    "audio-generate[fifo.wav]",
    "checkpoint-generate[ck_format_version_null]",
    "checkpoint-generate[ck_weights_nan]",
    "checkpoint-generate[ck_d_huge]",
    "train-generator[lr_negative]",
    "train-style[python_object]",
    "render-size-abc",
    "generate-seed--1",
    "eval-dispersion-inf",
    "generate-samples-100000",
)
"""A sample run again as real processes (about 2 s each)."""


def _params(cases):
    return [pytest.param(c, id=c.id) for c in cases]


# --------------------------------------------------------------------------------------
# running one case
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fixture_root(tmp_path_factory) -> Path:
    return fx.build_all(tmp_path_factory.mktemp("hostile_fixtures"))


def _prepare(case: Case, root: Path, tmp: Path) -> tuple[list[str], Path, Path, Path]:
    """Copy the fixtures the case names into ``tmp/in``; returns (argv, in, out, marker)."""
    inp, out = tmp / "in", tmp / "out"
    inp.mkdir()
    out.mkdir()
    for arg in case.argv:
        if "{in}/" not in arg:
            continue
        name = arg.split("{in}/", 1)[1].split("/", 1)[0]
        src, dst = root / name, inp / name
        absent = name.startswith(("missing", "no_corpus", "fifo.", "ck_missing"))
        assert absent or src.exists() or src.is_symlink(), f"the case names a fixture that does not exist: {name}"
        if dst.exists() or dst.is_symlink():
            continue
        if name.startswith("fifo."):
            os.mkfifo(dst)
        elif src.is_symlink():
            os.symlink(os.readlink(src), dst)
        elif src.is_dir():
            shutil.copytree(src, dst)
        elif src.exists():
            shutil.copy2(src, dst)
    argv = [a.replace("{in}", str(inp)).replace("{out}", str(out)) for a in case.argv]
    return argv, inp, out, tmp / "MARKER"


def _snapshot(folder: Path) -> dict[str, str]:
    """Relative path -> content hash (or kind) of everything under ``folder``."""
    snap = {}
    for path in sorted(folder.rglob("*")):
        mode = path.lstat().st_mode
        rel = str(path.relative_to(folder))
        if stat.S_ISREG(mode):
            snap[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            snap[rel] = "dir" if stat.S_ISDIR(mode) else ("link" if stat.S_ISLNK(mode) else "other")
    return snap


def _check(rc, stderr: str, stdout: str, inp: Path, out: Path, before: dict, marker: Path) -> None:
    assert not marker.exists(), "a hostile payload ran code"
    assert "Traceback" not in stderr + stdout, stderr[-2000:]
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("stygaze: error: "), f"stderr should be one error line, got: {stderr[-2000:]!r}"
    assert rc == 2, f"exit code {rc}: {lines}"
    assert _snapshot(inp) == before, "the inputs changed"
    assert not [p for p in out.rglob("*") if not p.is_dir()], f"files left in the output folder: {sorted(out.rglob('*'))}"


@pytest.mark.parametrize("case", _params(ALL_CASES))
def test_hostile_input_is_one_error_line(case: Case, fixture_root: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    from stygaze.cli import main

    argv, inp, out, marker = _prepare(case, fixture_root, tmp_path)
    monkeypatch.setenv(fx.MARKER_ENV, str(marker))
    monkeypatch.delenv("STYGAZE_DEBUG", raising=False)
    monkeypatch.delenv("STYGAZE_FLAME_MODEL", raising=False)
    monkeypatch.chdir(tmp_path)
    before = _snapshot(inp)
    capsys.readouterr()
    try:
        rc = main(argv)
    except SystemExit as exc:
        rc = exc.code
    captured = capsys.readouterr()
    _check(rc, captured.err, captured.out, inp, out, before, marker)


@pytest.mark.integration
@pytest.mark.parametrize("case", _params([c for c in ALL_CASES if c.id in SUBPROCESS_CASES]))
def test_hostile_input_in_a_real_process(case: Case, fixture_root: Path, tmp_path: Path) -> None:
    argv, inp, out, marker = _prepare(case, fixture_root, tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("STYGAZE_DEBUG", "STYGAZE_FLAME_MODEL")}
    env.update({fx.MARKER_ENV: str(marker), "PYTHONPATH": str(REPO) + os.pathsep + env.get("PYTHONPATH", "")})
    before = _snapshot(inp)
    proc = subprocess.run([sys.executable, "-m", "stygaze", *argv], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    _check(proc.returncode, proc.stderr, proc.stdout, inp, out, before, marker)


def test_the_battery_is_wide() -> None:
    assert len(ALL_CASES) >= 300
    assert len({c.id for c in ALL_CASES}) == len(ALL_CASES), "case ids must be unique"
    assert set(SUBPROCESS_CASES) <= {c.id for c in ALL_CASES}
    commands = {c.argv[0] for c in ALL_CASES}
    assert {"generate", "extract-style", "eval", "export", "render", "train", "data", "serve"} <= commands
