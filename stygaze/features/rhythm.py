"""Speech rhythm in plain numpy: librosa's onset envelope, tempo and beat tracker.

SynHAGE times its head beats with the same beat definition the BAS metric uses
(``librosa.beat.beat_track`` on ``librosa.onset.onset_strength`` with a hop of one motion
frame). librosa implements the tracker with numba kernels that are compiled when
``librosa.beat`` / ``librosa.feature`` are imported (10–20 s per process on a busy 2-core
machine), and its STFT holds the whole complex spectrogram in memory (≈ 0.7 GB per hour of
audio). This module re-implements the three steps in numpy, in bounded memory and without
compilation, following librosa 0.11 line by line:

* :func:`onset_strength` — centred Hann STFT (n_fft 2048), 128-band mel power in dB with an
  80 dB floor, mean positive first difference, 2 leading zeros;
* :func:`estimate_tempo` — autocorrelation tempogram (8 s Hann windows, ∞-norm), averaged
  over time, log-normal prior around 120 BPM (σ = 1 octave), tempi above 320 BPM excluded;
* :func:`beat_track` — Ellis (2007) dynamic programming with tightness 100, then librosa's
  last-beat selection and trimming of weak leading/trailing beats.

The tests compare each step with librosa.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided
from threadpoolctl import threadpool_limits

from stygaze.audio import FPS, HOP, SAMPLE_RATE
from stygaze.features.mel import cached_mel_filterbank


def periodic_hann(n: int) -> np.ndarray:
    """``(n,)`` float64 periodic Hann window, bit-equal to ``scipy.signal.get_window("hann", n)`` (tested).

    Computed as scipy does (the symmetric window of ``n + 1`` points, last point dropped), so
    the onset envelope and tempo do not need ``scipy.signal`` (≈ 0.5 s to import).
    """
    if n <= 1:
        return np.ones(n)
    fac = np.linspace(-np.pi, np.pi, n + 1)
    w = np.zeros(n + 1)
    w += 0.5 * np.cos(0 * fac)
    w += 0.5 * np.cos(1 * fac)
    return w[:-1]


def onset_strength(audio: np.ndarray, *, n_fft: int = 2048, n_mels: int = 128, chunk: int = 4096) -> np.ndarray:
    """librosa's default onset envelope at one value per motion frame, in bounded memory.

    Equal (to float32 rounding) to ``librosa.onset.onset_strength(y=audio, sr=16000,
    hop_length=640)``.

    Args:
        audio: ``(S,)`` waveform at 16 kHz.
        chunk: frames per FFT block (memory ≈ chunk · n_fft · 8 bytes).

    Returns:
        ``(1 + S // 640,)`` float32.
    """
    # scipy's float32 FFT, not numpy's: numpy rounds differently in float32, which moves
    # beats (and so SynHAGE's motion); scipy.fft alone is light, scipy.signal is not needed
    import scipy.fft

    y = np.pad(np.asarray(audio, np.float32).reshape(-1), (n_fft // 2, n_fft // 2))
    n = 1 + (len(y) - n_fft) // HOP
    frames = as_strided(y, shape=(n, n_fft), strides=(y.strides[0] * HOP, y.strides[0]), writeable=False)
    win = periodic_hann(n_fft).astype(np.float32)
    mel = cached_mel_filterbank(SAMPLE_RATE, n_fft, n_mels, 0.0, SAMPLE_RATE / 2).T  # (n_fft/2+1, n_mels)
    S = np.empty((n, n_mels), np.float32)
    # one BLAS thread: the products are small, and idle OpenBLAS threads spin (on a 2-core box a
    # batch of 10 s files burnt twice the CPU time with the default pool)
    with threadpool_limits(limits=1, user_api="blas"):
        for a in range(0, n, chunk):
            F = scipy.fft.rfft(frames[a : a + chunk] * win, axis=1)
            S[a : a + chunk] = (F.real * F.real + F.imag * F.imag) @ mel
    S = 10.0 * np.log10(np.maximum(S, 1e-10))
    S = np.maximum(S, S.max() - 80.0)
    flux = np.maximum(0.0, S[1:] - S[:-1]).mean(axis=1)
    return np.concatenate([np.zeros(1 + n_fft // (2 * HOP), np.float32), flux])[:n].astype(np.float32)


def estimate_tempo(onset: np.ndarray, *, start_bpm: float = 120.0, std_bpm: float = 1.0, ac_size_s: float = 8.0,
                   max_tempo: float = 320.0, chunk: int = 8192) -> float:  # fmt: skip
    """Global tempo (BPM) as ``librosa.feature.tempo(onset_envelope=onset, sr=16000, hop_length=640)``.

    Args:
        onset: ``(T,)`` onset envelope at 25 fps.
    """
    onset = np.asarray(onset, np.float64)
    win = int(np.floor(ac_size_s * SAMPLE_RATE / HOP))  # time_to_frames: 200
    n = len(onset)
    padded = np.pad(onset, (win // 2, win // 2), mode="linear_ramp", end_values=(0, 0))
    window = periodic_hann(win)
    total = np.zeros(win)
    n_fft = 512  # ≥ 2·win − 1: the linear autocorrelation up to lag win − 1 is exact (librosa pads to 2·win + 1)
    for a in range(0, n, chunk):
        b = min(n, a + chunk)
        idx = np.arange(a, b)[:, None] + np.arange(win)[None, :]  # (c, win) frames, hop 1
        frames = padded[idx] * window
        spec = np.fft.rfft(frames, n=n_fft, axis=1)  # float64: bit-equal to scipy.fft (tested)
        ac = np.fft.irfft(spec.real**2 + spec.imag**2, n=n_fft, axis=1)[:, :win]
        peak = np.max(np.abs(ac), axis=1, keepdims=True)
        peak[peak < np.finfo(np.float64).tiny] = 1.0
        total += (ac / peak).sum(axis=0)
    tg = total / n
    with np.errstate(divide="ignore"):
        bpms = np.concatenate([[np.inf], 60.0 * SAMPLE_RATE / (HOP * np.arange(1.0, win))])
        logprior = -0.5 * ((np.log2(bpms) - np.log2(start_bpm)) / std_bpm) ** 2
    logprior[: int(np.argmax(bpms < max_tempo))] = -np.inf
    return float(bpms[int(np.argmax(np.log1p(1e6 * tg) + logprior))])


def _localmax(x: np.ndarray) -> np.ndarray:
    """librosa.util.localmax: x[i] > x[i−1] and x[i] ≥ x[i+1] (edges padded by repetition)."""
    xp = np.pad(x, 1, mode="edge")
    return (x > xp[:-2]) & (x >= xp[2:])


def beat_track(
    onset: np.ndarray, *, bpm: float | None = None, tightness: float = 100.0, trim: bool = True, open_end: bool = False
) -> np.ndarray:
    """Beat frames as ``librosa.beat.beat_track(onset_envelope=onset, sr=16000, hop_length=640)[1]``.

    Args:
        onset: ``(T,)`` onset envelope at 25 fps (float32, as :func:`onset_strength` gives).
        bpm: tempo; estimated with :func:`estimate_tempo` when None.
        trim: drop weak leading / trailing beats (librosa's default).
        open_end: the envelope continues after its last frame (online use): the last frame's
            cumulative score is incomplete, so it cannot be picked as the last beat.

    Returns:
        ``(B,)`` int64 frame indices.
    """
    onset = np.asarray(onset, np.float32)
    if not onset.any():
        return np.zeros(0, np.int64)
    if bpm is None:
        bpm = estimate_tempo(onset)
    fpb = float(np.round(FPS * 60.0 / bpm))
    norm = onset / (onset.std(ddof=1) + np.finfo(np.float32).tiny)
    k = np.arange(-fpb, fpb + 1)
    window = np.exp(-0.5 * (k * 32.0 / fpb) ** 2)
    local = np.convolve(norm.astype(np.float64), window, mode="same").astype(np.float32)
    # dynamic programme (Ellis 2007): best predecessor between fpb/2 and 2·fpb frames back
    N = len(local)
    lo, hi = int(np.round(fpb / 2)), int(2 * fpb)
    d = np.arange(lo, hi + 1)  # offsets i − loc, in the order librosa tries them
    penalty = tightness * (np.log(d) - np.log(fpb)) ** 2
    cum = np.zeros(N, np.float32)
    back = np.full(N, -1, np.int64)
    # Every predecessor is at least `lo` frames back, so a block of `lo` frames only depends
    # on frames before the block: compute block by block, vectorised inside each block.
    for s0 in range(0, N, lo):
        i = np.arange(s0, min(N, s0 + lo))
        loc = i[:, None] - d[None, :]  # (b, D)
        valid = loc >= 0
        scores = np.where(valid, cum[np.clip(loc, 0, None)].astype(np.float64) - penalty[None, :], -np.inf)
        j = np.argmax(scores, axis=1)  # first maximum = the latest predecessor, as librosa
        best = scores[np.arange(len(i)), j]
        has = valid.any(axis=1)
        cum[i] = np.where(has, local[i] + best, local[i]).astype(np.float32)
        back[i] = np.where(has, i - d[j], -1)
    # leading frames before the first onset above 1 % of the maximum have no predecessor
    thresh = 0.01 * float(local.max())
    strong = np.flatnonzero(local >= thresh)
    back[: int(strong[0]) if len(strong) else N] = -1
    # last beat: the latest local maximum of the cumulative score above half their median
    peaks = _localmax(cum)
    if open_end and N > 1:
        peaks[-1] = False
    threshold = 0.5 * float(np.median(cum[peaks])) if peaks.any() else 0.0
    cand = np.flatnonzero(peaks & (cum >= threshold))
    tail = int(cand[-1]) if len(cand) else N - 1
    beats = np.zeros(N, bool)
    n = tail
    while n >= 0:
        beats[n] = True
        n = int(back[n])
    # trim weak leading / trailing beats
    w = np.hanning(5)
    smooth = np.convolve(local[beats], w)[len(w) // 2 : len(local) + len(w) // 2]
    thr = 0.5 * float(np.sqrt(np.mean(smooth**2))) if trim else 0.0
    n = 0
    while n < N and local[n] <= thr:
        beats[n] = False
        n += 1
    n = N - 1
    while n >= 0 and local[n] <= thr:
        beats[n] = False
        n -= 1
    return np.flatnonzero(beats).astype(np.int64)


def rhythmic_beats(audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Beats of speech in motion frames, and the onset envelope.

    Returns:
        ``(beats (B,) int64 frame indices, onset (T',) float32 envelope at 25 fps)``; no beats
        for silent or constant audio.
    """
    y = np.asarray(audio, dtype=np.float32).reshape(-1)
    if y.size < 4 * HOP or float(np.ptp(y)) == 0.0:
        return np.zeros(0, np.int64), np.zeros(max(1, y.size // HOP), np.float32)
    onset = onset_strength(y)
    return beat_track(onset), onset


# --------------------------------------------------------------------------------------
# beat channel: a generator input feature (the "beat one-hot" of AIST++/FACT music features)
# --------------------------------------------------------------------------------------
BEAT_WIDTH = 2  # frames either side of a beat that get a Gaussian bump exp(−k²/2)


def beat_channel(beats: np.ndarray, num_frames: int, lo: int = 0, hi: int | None = None) -> np.ndarray:
    """``(hi − lo,)`` float32 channel for frames ``[lo, hi)``: 1 on a beat, ``exp(−k²/2)`` k frames away (|k| ≤ 2).

    Args:
        beats: beat frame indices (any frame, also outside ``[lo, hi)``).
        num_frames: clip length in frames (``hi`` defaults to it).
    """
    hi = num_frames if hi is None else hi
    out = np.zeros(max(0, hi - lo), np.float32)
    for b in np.asarray(beats, np.int64).reshape(-1):
        for k in range(-BEAT_WIDTH, BEAT_WIDTH + 1):
            j = int(b) + k
            if lo <= j < hi:
                out[j - lo] = max(out[j - lo], np.float32(np.exp(-0.5 * k * k)))
    return out


def clip_beat_channel(audio: np.ndarray, num_frames: int) -> np.ndarray:
    """``(num_frames,)`` beat channel of a whole clip from the global beat tracker.

    The beats are those of :func:`rhythmic_beats` (librosa's tracker on librosa's onset
    envelope): the same definition the BAS metric and SynHAGE's stressed syllables use. It
    needs the whole clip (the tracker's dynamic programme is resolved backwards from the
    end), so streaming uses :class:`OnlineBeats` instead.
    """
    beats, _ = rhythmic_beats(audio)
    return beat_channel(beats, num_frames)


class OnlineBeats:
    """A causal approximation of the beat channel, for streaming.

    Frames are decided in blocks that end at ``first, first + step, first + 2·step, …``
    (a generator's window ends: ``M, M + N, …``). A block's beats are those of
    :func:`beat_track` (no trimming, open end) run on the last ``context`` onset values up to
    the block end, so a frame is decided with 0..step−1 frames of look-ahead and never changes
    after. The result depends only on the onset values, not on how they arrive (chunking).
    Memory is bounded: only the onset values a later block can still need are kept.

    Args:
        first: end of the first block (frames ``[0, first)``).
        step: frames per later block.
        context: onset frames the tracker sees (≥ 2·step).
    """

    def __init__(self, first: int, step: int, context: int = 150):
        if first < 1 or step < 1 or context < 2 * step:
            raise ValueError(f"OnlineBeats needs first ≥ 1, step ≥ 1, context ≥ 2·step; got {first}, {step}, {context}")
        self.first, self.step, self.context = int(first), int(step), int(context)
        self.decided = 0  # frames [0, decided) have a value
        self.received = 0  # onset frames received so far
        self._next_end = self.first
        self._onset = np.zeros(0, np.float32)  # onset frames [_onset_start, received)
        self._onset_start = 0

    def update(self, onset: np.ndarray, final: bool = False) -> np.ndarray:
        """Add the next onset values; return the values of the frames this decides.

        Args:
            onset: ``(k,)`` onset envelope of the frames after those already received.
            final: the clip ends after these; the last (partial) block is decided too.

        Returns:
            ``(j,)`` float32 values for frames ``[decided_before, decided_before + j)``.
        """
        self._onset = np.concatenate([self._onset, np.asarray(onset, np.float32).reshape(-1)])
        self.received += int(np.size(onset))
        out = []
        while self.decided < self.received and (self._next_end <= self.received or final):
            e = min(self._next_end, self.received)
            lo = max(0, e - self.context)
            ctx = self._onset[lo - self._onset_start : e - self._onset_start]
            beats = beat_track(ctx, trim=False, open_end=True) + lo if ctx.any() else np.zeros(0, np.int64)
            out.append(beat_channel(beats, e, self.decided, e))
            self.decided = e
            self._next_end += self.step
        # a later block ends at ≥ min(next end, frames received), so its context starts there − context
        keep = max(0, min(self._next_end, self.received) - self.context)
        self._onset = self._onset[keep - self._onset_start :]
        self._onset_start = keep
        return np.concatenate(out) if out else np.zeros(0, np.float32)


def online_beat_channel(onset: np.ndarray, first: int, step: int, context: int = 150) -> np.ndarray:
    """``(T,)`` :class:`OnlineBeats` channel of a whole onset envelope (what a stream computes)."""
    return OnlineBeats(first, step, context).update(onset, final=True)
