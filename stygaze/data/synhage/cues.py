"""Speech analysis for SynHAGE: what the synthesizer knows about the speech, all found in the audio.

Frame energy on a 100 Hz envelope → voice activity (with short gaps filled and blips dropped)
→ utterances, pauses and listening stretches; stressed syllables are the speech-rhythm beats
of :func:`stygaze.features.rhythm.rhythmic_beats` that fall inside speech. Energy based and
fast: no spectrogram beyond the beat tracker's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stygaze.audio import FPS, SAMPLE_RATE
from stygaze.data.synhage.config import SynthConfig
from stygaze.features.rhythm import rhythmic_beats


@dataclass
class SpeechCues:
    """What the synthesizer knows about the speech, all found in the audio.

    Attributes:
        duration_s: clip length in seconds.
        energy_db: ``(E,)`` frame energy at ``SynthConfig.envelope_rate_hz`` (100 Hz), dB
            relative to the clip's loud level.
        speech: ``(E,)`` bool voice activity at the envelope rate (after gap filling).
        utterances: ``(U, 2)`` start/end seconds of utterances (speech separated by ≥
            ``utterance_gap_s``).
        listening: ``(L, 2)`` start/end seconds of silences ≥ ``listening_gap_s``.
        stress_s: ``(K,)`` times (s) of stressed syllables: speech-rhythm beats inside speech.
        stress_strength: ``(K,)`` onset strength in ``stress_strength_range`` (0.2..1).
    """

    duration_s: float
    energy_db: np.ndarray
    speech: np.ndarray
    utterances: np.ndarray
    listening: np.ndarray
    stress_s: np.ndarray
    stress_strength: np.ndarray

    def speaking_at(self, t: np.ndarray) -> np.ndarray:
        """Bool per time (s): inside an utterance (short pauses included)."""
        t = np.asarray(t, dtype=np.float64)
        if len(self.utterances) == 0:
            return np.zeros(t.shape, bool)
        i = np.searchsorted(self.utterances[:, 0], t, side="right") - 1
        ok = i >= 0
        ic = np.clip(i, 0, None)
        return ok & (t < self.utterances[ic, 1])


def runs(mask: np.ndarray) -> np.ndarray:
    """``(R, 2)`` [start, end) index ranges of the True runs of a 1-D mask."""
    m = np.concatenate([[False], mask.astype(bool), [False]])
    d = np.diff(m.astype(np.int8))
    return np.stack([np.flatnonzero(d == 1), np.flatnonzero(d == -1)], axis=1)


def analyze_speech(audio: np.ndarray, cfg: SynthConfig | None = None) -> SpeechCues:
    """Voice activity, utterances, listening stretches and stressed-syllable candidates.

    Args:
        audio: ``(S,)`` float waveform at 16 kHz (any scale).
        cfg: the detector's constants (``envelope_rate_hz``, ``vad_*``, ``*_gap_s``, ``stress_*``).

    Returns:
        :class:`SpeechCues`. Stressed syllables are the beats of
        :func:`stygaze.features.rhythm.rhythmic_beats` that fall inside speech (speech rhythm is carried by stressed
        syllables; a beat tracker on the onset envelope finds the strongest, roughly regular
        onsets), with strength = onset strength / its 90th percentile.
    """
    cfg = cfg or SynthConfig()
    rate = cfg.envelope_rate_hz
    x = np.asarray(audio, dtype=np.float32).reshape(-1)
    hop = SAMPLE_RATE // rate
    n = max(1, len(x) // hop)
    xx = np.zeros(n * hop, np.float32)
    xx[: min(len(x), n * hop)] = x[: n * hop]
    x = xx - xx.mean()
    power = np.einsum("ij,ij->i", x.reshape(n, hop), x.reshape(n, hop)) / hop
    db = 10.0 * np.log10(power + 1e-12)  # 1e-12: log of digital silence
    loud = float(np.percentile(db, cfg.loud_percentile))
    floor = float(np.percentile(db, cfg.floor_percentile))
    db = db - loud
    floor -= loud
    if loud - (floor + loud) < cfg.vad_threshold_db:  # no dynamic range: silence or noise only
        speech = np.zeros(n, bool)
    else:
        speech = db > max(floor + cfg.vad_threshold_db, cfg.vad_min_db)
    # fill short gaps and drop blips
    fill, blip = int(round(cfg.vad_fill_gap_s * rate)), int(round(cfg.vad_min_speech_s * rate))
    for a, b in runs(~speech):
        if b - a < fill and a > 0 and b < n:
            speech[a:b] = True
    for a, b in runs(speech):
        if b - a < blip:
            speech[a:b] = False
    speech_runs = runs(speech) / rate
    # utterances: speech runs merged over gaps < utterance_gap_s
    utts: list[list[float]] = []
    for a, b in speech_runs:
        if utts and a - utts[-1][1] < cfg.utterance_gap_s:
            utts[-1][1] = b
        else:
            utts.append([a, b])
    utterances = np.asarray(utts, dtype=np.float64).reshape(-1, 2)
    duration = len(audio) / SAMPLE_RATE
    # listening stretches: long silences (including the start and end of the clip)
    bounds = np.concatenate([[0.0], utterances.reshape(-1), [duration]]).reshape(-1, 2)
    gaps = bounds[(bounds[:, 1] - bounds[:, 0]) >= cfg.listening_gap_s]
    # rhythmic stresses: the beats of a beat tracker on the onset envelope (spectral flux of
    # the log-mel spectrogram at one value per motion frame) that fall inside speech
    beats, onset = rhythmic_beats(audio)
    bi = np.clip(np.round(beats * rate / FPS).astype(int), 0, n - 1)
    inside = speech[bi]
    beats = beats[inside]
    if len(beats):
        ref = float(np.percentile(onset[beats], cfg.stress_ref_percentile)) or 1.0
        strength = np.clip(onset[beats] / ref, *cfg.stress_strength_range)
    else:
        strength = np.zeros(0)
    peaks = beats * (rate / FPS)
    return SpeechCues(
        duration_s=duration,
        energy_db=db.astype(np.float32),
        speech=speech,
        utterances=utterances,
        listening=gaps,
        stress_s=peaks / rate,
        stress_strength=strength,
    )
