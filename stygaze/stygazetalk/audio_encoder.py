"""Audio encoders: 16 kHz waveform -> per-motion-frame features at 25 fps -> d-dim projection.

Two encoders, chosen by name with :func:`make_audio_encoder`:

``"mel"`` (:class:`MelEncoder`, the built-in default, needs no download)
    Hand-made features on frames centred on each motion frame (hop :data:`~stygaze.audio.HOP`
    = 640 samples at 16 kHz = exactly 25 fps, 64 ms Hann window): 40 log-mel bands, log
    energy, onset strength (positive spectral flux of the log-mel), and two pitch features
    from the normalised autocorrelation (voicing strength 0..1 and voicing-gated log2(f0/100 Hz)).
    A per-feature normalisation (registered buffers, set from the training corpus) and a
    learned linear projection to ``d`` follow.

``"wav2vec2"`` (:class:`Wav2Vec2Encoder`)
    transformers' ``Wav2Vec2Model`` loaded with ``from_pretrained`` from a local folder or
    the Hugging Face cache (never downloaded: ``local_files_only=True``). The CNN feature
    encoder is always frozen; with ``freeze=True`` (the default) the whole backbone is
    frozen and kept *out* of the state dict, so checkpoints store only the projection and
    reload the backbone by name. The 50 Hz hidden states are linearly resampled to the
    25 fps motion frame centres. Long audio is encoded in overlapping chunks (default 20 s
    with 2 s of context either side), so memory stays bounded for hours of audio.

Both expose the same interface:

- ``features(samples) -> torch.Tensor (T, F)``: fixed (not trained) features, no grad,
  ``T = round(S / 640)`` = :func:`stygaze.audio.num_frames`.
- ``forward(features (..., F)) -> (..., d)``: normalisation + learned projection.
- ``encoder_id``: a string stored in every checkpoint that uses the encoder.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from stygaze.audio import HOP, SAMPLE_RATE, num_frames
from stygaze.errors import AudioError, CheckpointError
from stygaze.features.mel import mel_filterbank

AUDIO_ENCODERS = ("mel", "wav2vec2")
DEFAULT_WAV2VEC2 = "facebook/wav2vec2-base-960h"


@dataclass
class MelConfig:
    """Mel feature settings (all at 16 kHz)."""

    n_mels: int = 40
    n_fft: int = 1024  # window length in samples (64 ms)
    fmin: float = 60.0
    fmax: float = 7600.0
    f0_min: float = 60.0  # Hz, lowest pitch searched by the autocorrelation
    f0_max: float = 400.0  # Hz, highest pitch
    chunk_frames: int = 3000  # frames computed at once (120 s): bounds memory on long audio


def _check_samples(samples: np.ndarray | torch.Tensor) -> torch.Tensor:
    x = torch.as_tensor(np.asarray(samples, dtype=np.float32) if not isinstance(samples, torch.Tensor) else samples)
    x = x.detach().to(torch.float32).reshape(-1) if x.ndim == 1 else x
    if x.ndim != 1:
        raise AudioError(f"audio encoder expects mono samples (S,), got shape {tuple(x.shape)}")
    if x.numel() == 0:
        raise AudioError("audio has zero length")
    if not torch.isfinite(x).all():
        raise AudioError("audio contains NaN or infinite samples")
    return x


class MelEncoder(nn.Module):
    """Log-mel + energy + onset + pitch features at 25 fps, then a learned projection to ``d``.

    Args:
        d: output feature size.
        config: :class:`MelConfig`.
    """

    def __init__(self, d: int = 64, config: MelConfig | None = None):
        super().__init__()
        self.config = config or MelConfig()
        c = self.config
        self.d = d
        self.feature_dim = c.n_mels + 4
        self.register_buffer("window", torch.hann_window(c.n_fft, periodic=True), persistent=False)
        fb = mel_filterbank(SAMPLE_RATE, c.n_fft, c.n_mels, c.fmin, c.fmax)
        self.register_buffer("mel_fb", torch.from_numpy(fb.T.astype(np.float32)), persistent=False)  # (n_fft/2+1, n_mels)
        # feature normalisation (set from the training corpus by the training loop)
        self.register_buffer("feat_mean", torch.zeros(self.feature_dim))
        self.register_buffer("feat_std", torch.ones(self.feature_dim))
        self.proj = nn.Linear(self.feature_dim, d)

    @property
    def encoder_id(self) -> str:
        c = self.config
        return f"mel-v1:n_mels={c.n_mels},n_fft={c.n_fft},hop={HOP},f0={c.f0_min:g}-{c.f0_max:g}"

    @property
    def onset_column(self) -> int:
        """Index of the onset-strength column in :meth:`features`."""
        return self.config.n_mels + 1

    @property
    def left_pad(self) -> int:
        """Zeros put before sample 0 so that frame -1 (onset context) starts at padded index 0."""
        return self.config.n_fft // 2 - HOP // 2 + HOP

    @torch.no_grad()
    def frames_features(self, seg: torch.Tensor, n: int, prev_logmel: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Features of ``n`` consecutive frames; frame ``j`` is ``seg[j*HOP : j*HOP + n_fft]``.

        ``prev_logmel`` ``(1, n_mels)`` is the log-mel of the frame before (for the onset
        flux; None = use the first frame itself). Returns ``(features (n, F), last log-mel)``.
        """
        c = self.config
        lag_lo = int(SAMPLE_RATE // c.f0_max)
        lag_hi = int(math.ceil(SAMPLE_RATE / c.f0_min))
        frames = seg[: (n - 1) * HOP + c.n_fft].unfold(0, c.n_fft, HOP)[:n]  # (n, n_fft)
        frames = frames - frames.mean(dim=1, keepdim=True)
        spec = torch.fft.rfft(frames * self.window, n=c.n_fft)
        power = spec.real**2 + spec.imag**2  # (n, n_fft/2+1)
        logmel = torch.log(power @ self.mel_fb + 1e-6)  # (n, n_mels)
        energy = torch.log(frames.pow(2).mean(dim=1) + 1e-6)
        # onset strength: mean positive change of the log-mel from the previous frame
        prev = torch.cat([logmel[:1] if prev_logmel is None else prev_logmel, logmel[:-1]], dim=0)
        onset = torch.relu(logmel - prev).mean(dim=1)
        # pitch from the normalised autocorrelation (zero-padded FFT: no wrap-around)
        spec2 = torch.fft.rfft(frames, n=2 * c.n_fft)
        ac = torch.fft.irfft(spec2.real**2 + spec2.imag**2, n=2 * c.n_fft)[:, : lag_hi + 1]
        ac = ac / ac[:, :1].clamp_min(1e-8)
        best, lag = ac[:, lag_lo:].max(dim=1)
        voicing = best.clamp(0.0, 1.0)
        f0 = SAMPLE_RATE / (lag + lag_lo).to(torch.float32)
        logf0 = torch.log2(f0 / 100.0) * voicing
        feats = torch.cat([logmel, energy[:, None], onset[:, None], voicing[:, None], logf0[:, None]], dim=1)
        return feats, logmel[-1:]

    @torch.no_grad()
    def features(self, samples: np.ndarray | torch.Tensor) -> torch.Tensor:
        """``(S,)`` 16 kHz samples -> ``(T, F)`` float32 features, ``T = round(S/640)``.

        Frame ``t`` is the ``n_fft`` window centred on sample ``t*640 + 320`` (the middle of
        motion frame ``t``); the signal is zero-padded at both ends. Computed in chunks of
        ``chunk_frames`` so memory stays bounded; the result does not depend on the chunking.
        """
        x = _check_samples(samples)
        c = self.config
        T = num_frames(x.numel())
        if T == 0:
            raise AudioError(f"audio is too short ({x.numel()} samples): at least {HOP // 2 + 1} samples (20 ms) are needed")
        left = self.left_pad
        need = (T + 1) * HOP + c.n_fft
        padded = torch.zeros(left + max(x.numel(), need), dtype=torch.float32)
        padded[left : left + x.numel()] = x
        out = torch.empty(T, self.feature_dim, dtype=torch.float32)
        # frame -1 is only context for the onset of frame 0
        _, prev = self.frames_features(padded, 1, None)
        for start in range(0, T, c.chunk_frames):
            stop = min(start + c.chunk_frames, T)
            s0 = (start + 1) * HOP
            out[start:stop], prev = self.frames_features(padded[s0:], stop - start, prev)
        return out

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """``(..., F)`` features -> ``(..., d)`` (normalised, projected)."""
        return self.proj((features - self.feat_mean) / self.feat_std)


class _Frozen:
    """Holds a module outside ``nn.Module`` registration (so it stays out of the state dict)."""

    def __init__(self, module: nn.Module):
        self.module = module


class Wav2Vec2Encoder(nn.Module):
    """transformers ``Wav2Vec2Model`` -> 25 fps hidden states -> learned projection to ``d``.

    Args:
        d: output feature size.
        model_name_or_path: a local folder written by ``save_pretrained`` or a Hugging Face
            id already in the local cache (e.g. ``facebook/wav2vec2-base-960h``). Nothing is
            downloaded.
        freeze: freeze the whole backbone (default) and keep it out of the state dict; with
            ``False`` only the CNN feature encoder is frozen and the transformer is trainable
            (and saved).
        chunk_seconds: audio encoded per backbone call.
        context_seconds: extra audio on each side of a chunk (discarded after encoding).

    Raises:
        CheckpointError: the weights are not available offline (the message names the fix).
    """

    def __init__(
        self,
        d: int = 64,
        model_name_or_path: str = DEFAULT_WAV2VEC2,
        *,
        freeze: bool = True,
        chunk_seconds: float = 20.0,
        context_seconds: float = 2.0,
    ):
        super().__init__()
        backbone = load_wav2vec2(model_name_or_path)
        self.model_name_or_path = str(model_name_or_path)
        self.freeze = freeze
        self.chunk_frames = max(1, int(round(chunk_seconds * SAMPLE_RATE / HOP)))
        self.context = int(round(context_seconds * SAMPLE_RATE / 320)) * 320  # multiple of the 50 Hz stride
        backbone.freeze_feature_encoder()
        if freeze:
            for p in backbone.parameters():
                p.requires_grad_(False)
            backbone.eval()
            self._frozen = _Frozen(backbone)
        else:
            self.backbone = backbone
        self.feature_dim = int(backbone.config.hidden_size)
        self.d = d
        self.register_buffer("feat_mean", torch.zeros(self.feature_dim))
        self.register_buffer("feat_std", torch.ones(self.feature_dim))
        self.proj = nn.Linear(self.feature_dim, d)
        cfg = json.dumps(backbone.config.to_dict(), sort_keys=True, default=str)
        self._config_hash = hashlib.sha256(cfg.encode()).hexdigest()[:8]

    @property
    def net(self) -> nn.Module:
        return self._frozen.module if self.freeze else self.backbone

    def _apply(self, fn, *args, **kwargs):  # keep the unregistered backbone on the same device/dtype
        super()._apply(fn, *args, **kwargs)
        if self.freeze:
            self._frozen.module._apply(fn, *args, **kwargs)
        return self

    @property
    def encoder_id(self) -> str:
        return f"wav2vec2:{Path(self.model_name_or_path).name}:{self._config_hash}"

    def hidden_states(self, samples: torch.Tensor) -> torch.Tensor:
        """``(S,)`` -> 50 Hz hidden states ``(K, H)`` of one chunk (the backbone's last layer)."""
        return self.net(samples[None]).last_hidden_state[0]

    def features(self, samples: np.ndarray | torch.Tensor) -> torch.Tensor:
        """``(S,)`` 16 kHz -> ``(T, H)`` hidden states at the 25 fps motion frame centres.

        Encoded in chunks of ``chunk_seconds`` with ``context_seconds`` either side, so the
        peak memory depends on the chunk, not on the clip length. No grad when frozen.
        """
        x = _check_samples(samples)
        T = num_frames(x.numel())
        if T == 0:
            raise AudioError(f"audio is too short ({x.numel()} samples): at least {HOP // 2 + 1} samples (20 ms) are needed")
        device = self.proj.weight.device
        ctx = self.context
        outs = []
        grad = torch.enable_grad() if (not self.freeze and self.training) else torch.no_grad()
        with grad:
            for f0 in range(0, T, self.chunk_frames):
                f1 = min(f0 + self.chunk_frames, T)
                a, b = f0 * HOP - ctx, f1 * HOP + ctx
                seg = torch.zeros(b - a, dtype=torch.float32)
                lo, hi = max(a, 0), min(b, x.numel())
                if hi > lo:
                    seg[lo - a : hi - a] = x[lo:hi]
                h = self.hidden_states(seg.to(device))  # (K, H), frame k centred near k*320 + 200
                centres = (torch.arange(f0, f1, dtype=torch.float32) * HOP + HOP / 2 - a - 200.0) / 320.0
                centres = centres.clamp(0, h.shape[0] - 1).to(device)
                k0 = centres.floor().long().clamp(max=h.shape[0] - 1)
                k1 = (k0 + 1).clamp(max=h.shape[0] - 1)
                w = (centres - k0.to(centres.dtype))[:, None]
                outs.append(h[k0] * (1 - w) + h[k1] * w)
        return torch.cat(outs, dim=0).float()

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """``(..., H)`` hidden states -> ``(..., d)``."""
        return self.proj((features - self.feat_mean) / self.feat_std)


def load_wav2vec2(model_name_or_path: str) -> nn.Module:
    """``Wav2Vec2Model.from_pretrained(..., local_files_only=True)`` with a one-line error."""
    try:
        from transformers import Wav2Vec2Model
        from transformers.utils import logging as hf_logging
    except ImportError as exc:  # an optional dependency: the [wav2vec2] extra
        raise CheckpointError(
            "the wav2vec2 audio encoder needs the optional 'transformers' package: pip install 'stygaze[wav2vec2]'"
        ) from exc
    path = Path(str(model_name_or_path)).expanduser()
    source = str(path) if path.exists() else str(model_name_or_path)
    if path.exists() and not (path / "config.json").exists():
        raise CheckpointError(f"wav2vec2 folder {path} has no config.json: point at a folder written by save_pretrained")
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        return Wav2Vec2Model.from_pretrained(source, local_files_only=True)
    except (OSError, ValueError, EnvironmentError) as exc:
        raise CheckpointError(
            f"wav2vec2 weights {model_name_or_path!r} are not available offline: download them once with "
            f"`huggingface-cli download {DEFAULT_WAV2VEC2 if path.exists() else model_name_or_path}` (or pass a local "
            "folder saved with save_pretrained), or use the built-in 'mel' audio encoder"
        ) from exc
    finally:
        hf_logging.set_verbosity(verbosity)


def make_audio_encoder(name: str, d: int = 64, **kwargs) -> nn.Module:
    """Build an audio encoder by name: ``"mel"`` or ``"wav2vec2"`` (kwargs go to its class).

    For ``"mel"`` the kwargs are :class:`MelConfig` fields; for ``"wav2vec2"`` they are
    ``model_name_or_path``, ``freeze``, ``chunk_seconds``, ``context_seconds``.
    """
    if name == "mel":
        return MelEncoder(d, MelConfig(**kwargs))
    if name == "wav2vec2":
        return Wav2Vec2Encoder(d, **kwargs)
    raise CheckpointError(f"unknown audio encoder {name!r}: choose one of {', '.join(AUDIO_ENCODERS)}")
