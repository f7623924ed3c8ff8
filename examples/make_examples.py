"""Make the example clips used by ``make demo`` and the docs (reproducible, < 1 MB).

    .venv/bin/python examples/make_examples.py

For each clip: speech synthesised with ``espeak-ng`` (16 kHz mono wav in ``audio/``), a
"ground-truth" motion and a "predicted" motion (``gt/`` and ``pred/``, 25 fps ``.npz``).
Both motions come from a small fixation/saccade generator (main-sequence saccade
durations, gamma-distributed fixations, drift noise, head joining large gaze shifts with a
lag and the eye counter-rotating, small head nods on speech onsets); the prediction is a
second draw with another seed, standing in for a model's output. They are illustrations of
the file format and of ``stygaze eval``, not data.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from stygaze.audio import FPS, SAMPLE_RATE, load_audio, num_frames, save_audio
from stygaze.motion import Motion

HERE = Path(__file__).resolve().parent

CLIPS = {
    "clip_a": (
        "Good morning everyone. Today I want to tell you about a small experiment we ran last week, "
        "where people looked at each other while they talked."
    ),
    "clip_b": (
        "Honestly, I was not sure it would work. But when we watched the recordings, the eyes moved "
        "first, and the head followed a moment later."
    ),
}


def synth_speech(text: str) -> np.ndarray:
    """espeak-ng speech as 16 kHz mono float32 (not normalised)."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise SystemExit("espeak-ng is needed to make the example audio (apt-get install espeak-ng)")
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        subprocess.run([exe, "-s", "150", "-w", str(wav), text], check=True)
        return load_audio(wav, normalize=False)


def speech_onsets(samples: np.ndarray) -> np.ndarray:
    """Motion frames where the speech envelope rises (syllable-ish onsets)."""
    hop = SAMPLE_RATE // FPS
    n = len(samples) // hop
    env = np.sqrt(np.mean(samples[: n * hop].reshape(n, hop) ** 2, axis=1))
    env = env / (env.max() + 1e-9)
    rise = np.diff(env, prepend=0.0)
    return np.flatnonzero((rise > 0.15) & (env > 0.3))


def generate_motion(num: int, onsets: np.ndarray, seed: int) -> np.ndarray:
    """``(num, 7)`` degrees at 25 fps: fixations and saccades of world gaze, split into head and eye."""
    rng = np.random.default_rng(seed)
    fine = 10  # simulate at 250 Hz, keep every 10th sample
    t = np.arange(num * fine) / (FPS * fine)  # seconds
    gaze = np.zeros((len(t), 2))  # world (pitch, yaw)
    head_target = np.zeros((len(t), 2))
    pos = np.zeros(2)
    head_pos = np.zeros(2)
    i = 0
    while i < len(t):
        fix = int(rng.gamma(4.0, 0.075) * FPS * fine) + 1  # ~300 ms fixations
        gaze[i : i + fix] = pos
        head_target[i : i + fix] = head_pos
        i += fix
        if i >= len(t):
            break
        target = np.clip(pos + rng.normal(0, [4.0, 9.0]), [-12, -25], [12, 25])
        amp = float(np.linalg.norm(target - pos))
        dur = max(1, int((2.2 * amp + 21) / 1000 * FPS * fine))  # main sequence
        s = np.linspace(0, 1, dur + 1)[1:]
        ramp = s * s * (3 - 2 * s)
        gaze[i : i + dur] = (pos + np.outer(ramp, target - pos))[: len(t) - i]
        # the head takes a share of large shifts (Freedman & Sparks) and drifts back to centre
        head_share = 0.0 if amp < 15 else min(0.8, 0.3 + (amp - 15) / 20)
        head_pos = np.clip(0.8 * head_pos + head_share * (target - pos), -20, 20)
        head_target[i : i + dur] = head_pos
        pos = target
        i += dur
    # head follows its target with a lag (first-order, ~150 ms), then small nods on onsets
    head = np.zeros_like(head_target)
    alpha = 1.0 / (0.15 * FPS * fine)
    for k in range(1, len(t)):
        head[k] = head[k - 1] + alpha * (head_target[k] - head[k - 1])
    head = head[::fine][:num]
    gaze = gaze[::fine][:num]
    for f in onsets:
        if rng.random() < 0.5:
            bump = np.exp(-0.5 * ((np.arange(num) - f - 2) / 2.0) ** 2)
            head[:, 0] -= rng.uniform(1.0, 3.0) * bump
    roll = np.convolve(rng.normal(0, 0.3, num), np.ones(25) / 25, mode="same")
    eye = gaze - head  # the eye counter-rotates while the head catches up (small-angle VOR)
    eye = eye + rng.normal(0, 0.05, eye.shape)  # fixation tremor/drift
    verg = 1.5
    data = np.column_stack([head[:, 0], head[:, 1], roll, eye[:, 0], eye[:, 1] - verg, eye[:, 0], eye[:, 1] + verg])
    return data.astype(np.float32)


def main() -> None:
    for sub in ("gt", "pred", "audio"):
        (HERE / sub).mkdir(exist_ok=True)
    for k, (name, text) in enumerate(CLIPS.items()):
        speech = synth_speech(text)
        save_audio(HERE / "audio" / f"{name}.wav", speech, SAMPLE_RATE)
        n = num_frames(len(speech))
        onsets = speech_onsets(speech)
        Motion(generate_motion(n, onsets, seed=100 + k)).save(HERE / "gt" / f"{name}.npz")
        Motion(generate_motion(n, onsets, seed=200 + k)).save(HERE / "pred" / f"{name}.npz")
        print(f"{name}: {n} frames ({n / FPS:.1f} s)")


if __name__ == "__main__":
    main()
