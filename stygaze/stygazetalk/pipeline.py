"""The public generation API: speech (+ style) -> gaze and head :class:`~stygaze.motion.Motion`.

::

    from stygaze.stygazetalk.pipeline import StyGazeTalk
    model = StyGazeTalk.from_pretrained()                  # the built-in model, no download
    motion = model.generate("talk.wav", style="ref.npz")   # Motion (T, 7) degrees at 25 fps
    style = model.extract_style(Motion.load("ref.npz"))    # StyleVector; style.save("style.npz")
    mix = model.interpolate_style(style_a, style_b, 0.3)   # 70 % a, 30 % b
    stream = model.stream(style=style)
    for chunk in microphone_chunks:                        # (S,) float arrays at 16 kHz
        frames = stream.push(chunk)                        # (n, 7) degrees, possibly n = 0
    frames = stream.flush()                                # the rest, at end of speech
    out = stream.push_frames(chunk)                        # StreamFrames: .motion (n, 7), .blink (n,), .jaw (n, 3)
    fast = StyGazeTalk.from_pretrained("realtime")         # the built-in low-latency model (≈ 0.2 s)

**Avatar stages (the default).** ``generate`` and ``stream`` return motion an avatar can show:
the generated gaze passes through the gaze-event stage (fixations held in the world with VOR,
drift and microsaccades; shifts with heavy-tailed amplitudes, more and larger while speaking,
look-aways and returns), blinks fill the Motion's ``blink`` channel and the jaw opens with the
speech (``Motion.extras["jaw"]``, FLAME ``jaw_pose``, radians); speaking or not comes from the
audio's energy, causally (:mod:`stygaze.stygazetalk.avatar`). ``raw=True`` (CLI ``--raw``) gives
the paper's model output instead: the regressed gaze and head, no blink, no jaw. ``avatar=``
takes an :class:`~stygaze.stygazetalk.avatar.AvatarConfig` to switch single stages off or tune
them; ``saccades=True/False`` (or a :class:`~stygaze.stygazetalk.saccades.GazeEventConfig`)
switches the gaze-event stage alone (also on top of ``raw=True``). Why this default: a user who
renders or streams an avatar gets eyes that fixate and jump, lids that blink and a mouth that
moves without knowing about stages, and the paper-faithful output, which metric scripts and
reproductions want, is one argument away. The stages are causal (a stream gives the same
frames), seeded by ``seed``, leave the head channels untouched and run before the amplitude
scales.

**Style.** ``style`` may be a :class:`StyleVector`, a path to a ``.npz`` holding either a
saved style vector (``style`` + ``encoder_id``) or a motion clip (the style is extracted,
≥ 2 s of valid frames), a :class:`Motion`, a list of clips (one speaker's style from several
recordings, :meth:`StyGazeTalk.extract_style`), or None: the *neutral style*, the normalised
mean of the training sessions' styles stored in the checkpoint. A vector saved by a
different style encoder is refused with :class:`~stygaze.errors.StyleError`.

**Style statistics matching** (models with ``style_stats``, the built-in ones; ``generate``
only). The generator reads the reference's head statistics (per-axis amplitude and speed)
beside its learned style, but follows them only part of the way. A style extracted from a
clip also keeps that clip's head statistics (``StyleVector.head``: per-axis amplitude and
speed); with ``match_style`` on (the default; CLI ``--no-style-match`` turns it off),
``generate`` scales the generated head's slow and fast bands until it has them
(:mod:`stygaze.stygazetalk.style_match`, each band within ×⅛–×8), before the avatar stages,
so the eyes' compensation sees the final head. The neutral style is never rescaled, nor is a
vector without statistics, and a stream (which cannot measure the whole clip ahead) does not
match.

**Beat alignment.** ``generate`` then retimes the motion so head movements end on the speech
beats (:mod:`stygaze.stygazetalk.beat_align`: each movement end moves at most 0.2 s, all seven
channels follow one monotone time map, amplitudes stay). ``beat_align=False`` (CLI
``--no-beat-align``) keeps the generator's timing; ``raw``, ``online_beats`` and streams never
retime.

**Amplitude controls.** ``head_scale`` and ``gaze_scale`` multiply the head (pitch, yaw,
roll) and eye-in-head channels' deviations from the model's mean pose (the training mean),
after generation; 1.0 leaves the motion unchanged, 0 freezes the part at the mean pose.

**Seed.** Every result is reproducible. ``seed=None`` starts from the neutral (mean) pose;
an integer draws the starting pose (the first past window) from N(0, 0.5²) in normalised
units with that seed. Models with a latent (``latent_dim > 0``, e.g. the built-in one) also
draw one latent vector per step from their conditional prior, from ``(seed, step)``
(``seed=None`` counts as 0), scaled by ``temperature`` (0 = the prior means; default: the
model's ``GeneratorConfig.temperature``).

**Audio.** A path is read with :func:`stygaze.audio.load_audio` (any rate, stereo mixed to
mono, per-clip normalisation); an array is taken at ``sr`` (default 16 kHz). Silence is
valid input: the model produces its idle motion. Audio shorter than half a frame (20 ms)
is refused.

**Streaming** (mel audio encoder): each pushed chunk yields every motion frame that is now
determined. Frame ``t`` needs audio up to frame ``t + L - 1`` (``L`` = the audio look-ahead,
``M`` unless the model decouples it) and frames come N at a time, so the delay between
hearing audio frame ``t`` and emitting motion frame ``t`` is at most ``N + L - 1`` frames
plus the mel window's 12 ms look-ahead (``latency_frames``, ``latency_s``; the built-in
model: M = L = 20, N = 10 -> 29 frames + 12 ms = 1.17 s; ``"realtime"``: see its config).
``push``/``flush`` return the ``(n, 7)`` motion frames; ``push_frames``/``flush_frames``
return :class:`StreamFrames` with the blink and jaw of the same frames. With ``normalize=False`` on both
sides a stream's output equals :meth:`StyGazeTalk.generate`'s; with ``normalize=True`` the
stream normalises by the running mean/std of the audio received so far (the offline call
by the whole clip's), so the two differ slightly. A model with a beat channel
(``beat_feature``, the built-in one) computes its beats causally in a stream
(:class:`~stygaze.features.rhythm.OnlineBeats`): the stream then equals
``generate(..., online_beats=True)``, not the default ``generate`` (whole-clip beats, and the
beat alignment).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from stygaze.audio import FPS, HOP, SAMPLE_RATE, load_audio, normalize_audio, num_frames, prepare_audio
from stygaze.checkpoint import ASSETS_DIR, builtin_dir
from stygaze.errors import AudioError, CheckpointError, ModelOutputError, StyleError
from stygaze.features.rhythm import OnlineBeats, rhythmic_beats
from stygaze.features.voice import OnlineVoice, VoiceFrames, voice_activity
from stygaze.io import atomic_path
from stygaze.limits import check_npz_members
from stygaze.motion import GAZE_CHANNELS, HEAD_CHANNELS, Motion
from stygaze.stygazetalk.audio_encoder import MelEncoder
from stygaze.stygazetalk.avatar import AvatarConfig, AvatarFrames, AvatarStages
from stygaze.stygazetalk.beat_align import align_to_beats
from stygaze.stygazetalk.generator import NoiseSource, StyGazeTalkModel
from stygaze.stygazetalk.saccades import GazeEventConfig
from stygaze.stygazetalk.style_match import HEAD_STATS, head_statistics, match_head

BUILTIN_DIR = ASSETS_DIR / "stygazetalk"
"""The built-in model (a ``stygazetalk`` checkpoint: ``config.json`` + ``model.safetensors``)."""

BUILTIN_MODELS: dict[str, str] = {"default": "stygazetalk", "realtime": "stygazetalk_realtime"}
"""Names :meth:`StyGazeTalk.from_pretrained` (and ``stygaze generate --model``) accept for the
built-in checkpoints, and their asset folders (:func:`stygaze.checkpoint.builtin_dir`)."""

BROKEN_WEIGHTS = "its weights are broken (NaN, huge or wrongly typed values): retrain or re-download the checkpoint"

MEL_LOOKAHEAD_S: float = 0.012
"""How far the mel window of the last audio frame a step needs reaches past that frame (s)."""


@dataclass
class StyleVector:
    """A style embedding ``style (d_s [+ stats],)`` and the id of the encoder that made it.

    ``head``: the reference clip's head statistics (:data:`~stygaze.stygazetalk.style_match.HEAD_STATS`,
    ``(6,)``) that ``generate`` matches, or None (a vector without a clip behind it).
    """

    style: np.ndarray
    encoder_id: str
    head: np.ndarray | None = None

    def save(self, path: str | os.PathLike) -> Path:
        """Write ``.npz`` with ``style``, ``encoder_id`` (and ``head_stats``) atomically."""
        path = Path(path)
        extra = {} if self.head is None else {"head_stats": np.asarray(self.head, dtype=np.float32)}
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, style=self.style.astype(np.float32), encoder_id=np.asarray(self.encoder_id), **extra)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> StyleVector:
        """Read a saved style vector. StyleError if the file is not one."""
        path = Path(path)
        contents = _read_npz(path)
        if "style" not in contents or "encoder_id" not in contents:
            raise StyleError(f"{path} is not a style vector file (needs 'style' and 'encoder_id'; make one with stygaze extract-style)")
        return cls._from_contents(contents, path)

    @classmethod
    def _from_contents(cls, contents: dict, path) -> StyleVector:
        if "encoder_id" not in contents:
            raise StyleError(f"{path} has a style vector without 'encoder_id': re-extract it with stygaze extract-style")
        style, encoder_id = np.asarray(contents["style"]), np.asarray(contents["encoder_id"])
        if not (np.issubdtype(style.dtype, np.floating) or np.issubdtype(style.dtype, np.integer)):
            raise StyleError(f"{path}: 'style' must be a numeric vector, got dtype {style.dtype}")
        if encoder_id.dtype.kind != "U" or encoder_id.size != 1:
            raise StyleError(f"{path}: 'encoder_id' must be one string, got dtype {encoder_id.dtype} shape {encoder_id.shape}")
        style = style.astype(np.float32).reshape(-1)
        if style.size == 0 or not np.isfinite(style).all():
            raise StyleError(f"{path}: the style vector is empty or contains NaN/inf")
        head = None
        if "head_stats" in contents:
            try:
                head = np.asarray(contents["head_stats"], dtype=np.float32).reshape(-1)
            except (TypeError, ValueError) as exc:
                raise StyleError(f"{path}: 'head_stats' is not numeric") from exc
            if head.shape != (len(HEAD_STATS),) or not np.isfinite(head).all():
                raise StyleError(f"{path}: 'head_stats' must be {len(HEAD_STATS)} finite numbers, got shape {head.shape}")
        return cls(style, str(encoder_id.reshape(())), head)


@contextlib.contextmanager
def _one_thread():
    """Run the autoregressive steps on one intra-op thread.

    Each step is a handful of tiny matrix products (batch 1); extra OpenMP threads only
    add synchronisation, and on a busy machine spinning threads make a step up to 100x
    slower. The caller's thread count is restored afterwards.
    """
    before = torch.get_num_threads()
    if before != 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if before != 1:
            torch.set_num_threads(before)


def _read_npz(path: Path) -> dict:
    if not path.exists():
        raise StyleError(f"style file not found: {path}")
    if not path.is_file():
        raise StyleError(f"style file must be a regular .npz file: {path}")
    check_npz_members(path, StyleError)
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except Exception as exc:
        raise StyleError(f"cannot read style file {path}: not a valid .npz ({type(exc).__name__})") from exc


class StyGazeTalk:
    """A loaded StyGazeTalk model (generator + frozen style encoder) ready to generate."""

    def __init__(self, model: StyGazeTalkModel, meta: dict | None = None, source: str = ""):
        self.model = model.eval()
        self.meta = meta or {}
        self.source = source
        self.config = model.config.generator

    # --- loading -------------------------------------------------------------------------
    @classmethod
    def from_pretrained(cls, path: str | os.PathLike | None = None, device: str = "cpu") -> StyGazeTalk:
        """Load a model folder; ``None`` = the built-in model shipped in the package.

        ``path`` may be a ``stygazetalk`` checkpoint folder, a training run folder (its
        ``best/`` is used), or the name of a built-in model (:data:`BUILTIN_MODELS`:
        ``"default"``, ``"realtime"``) when no such folder exists.

        Raises:
            CheckpointError: missing, corrupt or incompatible checkpoint.
        """
        if path is None:
            path = builtin_dir("stygazetalk")
        elif isinstance(path, str) and path in BUILTIN_MODELS and not Path(path).exists():
            path = builtin_dir(BUILTIN_MODELS[path])
        path = Path(path)
        if path.is_dir() and not (path / "config.json").exists() and (path / "best" / "config.json").exists():
            path = path / "best"
        model, meta = StyGazeTalkModel.load(path)
        return cls(model.to(device), meta, str(path))

    @property
    def latency_frames(self) -> int:
        """Worst-case streaming delay in frames (``N + L - 1``; ``L = M`` unless decoupled)."""
        return self.config.latency_frames

    @property
    def latency_s(self) -> float:
        """Algorithmic streaming latency in seconds: ``latency_frames`` frames plus the mel
        window's look-ahead past the last audio frame a step needs (12 ms)."""
        return self.latency_frames / FPS + MEL_LOOKAHEAD_S

    @property
    def style_encoder_id(self) -> str | None:
        se = self.model.style_encoder
        return se.encoder_id if se is not None else None

    # --- style ---------------------------------------------------------------------------
    def extract_style(self, motion: Motion | np.ndarray | str | os.PathLike | list | tuple) -> StyleVector:
        """A motion clip (≥ ``min_frames`` valid frames, 2 s by default) -> its :class:`StyleVector`.

        ``motion`` may also be a list or tuple of clips (several recordings of one speaker): the
        learned styles are averaged by valid frames and renormalised, the explicit statistics
        averaged by valid frames (log), and the head statistics are the speaker's pooled figures
        (the frame-weighted mean of each clip's per-axis amplitude and speed).

        Raises:
            StyleError: the model has no style encoder, a clip is too short or mostly NaN, or the
                list is empty.
        """
        if isinstance(motion, (list, tuple)):
            if not motion:
                raise StyleError("no style clip given")
            parts = []
            for k, clip in enumerate(motion):
                try:
                    parts.append(self._clip_style(clip))
                except StyleError as exc:
                    name = clip if isinstance(clip, (str, os.PathLike)) else f"style clip {k + 1} of {len(motion)}"
                    raise StyleError(f"{name}: {exc}") from exc
        else:
            parts = [self._clip_style(motion)]
        se = self.model.style_encoder
        if len(parts) == 1:
            vec, head, _ = parts[0]
        else:
            w = np.array([n for _, _, n in parts], dtype=np.float64)
            w /= w.sum()
            vec = self._mix_styles(np.stack([v for v, _, _ in parts]), w)
            head = None
            if parts[0][1] is not None:  # the pooled figures: frame-weighted mean in degrees, then the log
                heads = np.exp(np.stack([h for _, h, _ in parts]).astype(np.float64))
                head = np.log((w[:, None] * heads).sum(axis=0)).astype(np.float32)
        if not np.isfinite(vec).all():
            raise ModelOutputError(f"the style encoder produced NaN or infinite values: {BROKEN_WEIGHTS}")
        return StyleVector(vec, se.encoder_id, head)

    def _clip_style(self, motion) -> tuple[np.ndarray, np.ndarray | None, int]:
        """One clip -> (style vector, head statistics or None, valid frames)."""
        se = self.model.style_encoder
        if se is None:
            raise StyleError("this model has no style encoder (a Base model): it cannot use or extract styles")
        if isinstance(motion, (str, os.PathLike)):
            motion = Motion.load(motion)
        data = motion.resample(25).data if isinstance(motion, Motion) else np.asarray(motion, dtype=np.float32)
        if data.ndim != 2 or data.shape[1] != se.config.motion_dim:
            raise StyleError(f"style clip must be (T, {se.config.motion_dim}) motion, got shape {data.shape}")
        if np.isinf(data).any():
            raise StyleError("style clip contains infinite values")
        vec = se.encode_clip(data)
        head = None
        if self.config.style_stats:  # the explicit head statistics ride along (style_encoder.STYLE_STATS)
            vec = np.concatenate([vec, se.clip_statistics(data)]).astype(np.float32)
            head = head_statistics(data)  # enough frames: encode_clip checked
        return vec, head, int(np.isfinite(data).all(axis=1).sum())

    @property
    def style_width(self) -> int:
        """Length of this model's style vectors: ``d_s``, plus the explicit statistics when it reads them."""
        return self.config.style_dim + self.config.style_stats

    def resolve_style(self, style) -> torch.Tensor | None:
        """Any accepted style argument -> ``(1, style_width)`` tensor (None = the neutral style)."""
        return self._style_tensor(self.style_vector(style))

    def _style_tensor(self, vector: StyleVector | None) -> torch.Tensor | None:
        """A checked :class:`StyleVector` (None = neutral) -> ``(1, style_width)`` tensor, or None without a style input."""
        if vector is None:
            return None if self.config.style_dim == 0 else self.model.generator.default_style[None]
        return torch.from_numpy(vector.style.astype(np.float32))[None].to(self.model.generator.motion_mean.device)

    def style_vector(self, style) -> StyleVector | None:
        """Any accepted style argument -> its checked :class:`StyleVector` (None for the neutral style)."""
        if self.config.style_dim == 0:
            if style is not None:
                raise StyleError("this model has no style input (a Base model): drop the style argument")
            return None
        if style is None:
            return None
        if isinstance(style, (str, os.PathLike)):
            path = Path(style)
            contents = _read_npz(path)
            if "style" in contents:
                style = StyleVector._from_contents(contents, path)
            elif "motion" in contents:
                style = self.extract_style(Motion.load(path))
            else:
                raise StyleError(f"{path} holds neither a style vector ('style') nor a motion clip ('motion')")
        elif isinstance(style, (Motion, list, tuple)) or (isinstance(style, np.ndarray) and style.ndim != 1):
            style = self.extract_style(style)  # a clip, or several clips of one speaker
        elif isinstance(style, np.ndarray):
            style = StyleVector(style.astype(np.float32), self.style_encoder_id or "")
        if not isinstance(style, StyleVector):
            raise StyleError(f"unsupported style argument of type {type(style).__name__}")
        if style.encoder_id != self.style_encoder_id:
            raise StyleError(
                f"style vector was made by encoder {style.encoder_id!r}, this model uses {self.style_encoder_id!r}: "
                "extract the style again from a motion clip with this model (stygaze extract-style --model ...)"
            )
        if style.style.shape != (self.style_width,):
            raise StyleError(f"style vector has shape {style.style.shape}, this model expects ({self.style_width},)")
        if not np.isfinite(style.style).all():
            raise StyleError("style vector contains NaN or infinite values")
        return style

    def interpolate_style(self, a, b, alpha: float) -> StyleVector:
        """``(1 - alpha) * a + alpha * b`` (alpha in [0, 1]): the learned part renormalised to unit
        length, the explicit statistics (log amplitudes and speeds) mixed linearly."""
        if not 0.0 <= float(alpha) <= 1.0:
            raise StyleError(f"interpolation weight must be in [0, 1], got {alpha}")
        va, vb = self.style_vector(a), self.style_vector(b)
        sa, sb = self._style_tensor(va), self._style_tensor(vb)
        if sa is None:
            raise StyleError("this model has no style input (a Base model)")
        w = float(alpha)
        mix = self._mix_styles(torch.cat([sa, sb]).cpu().numpy(), np.array([1 - w, w]))
        head = None
        if va is not None and vb is not None and va.head is not None and vb.head is not None:  # log statistics mix linearly
            head = ((1 - w) * va.head + w * vb.head).astype(np.float32)
        return StyleVector(mix, self.style_encoder_id or "", head)

    def _mix_styles(self, vectors: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """``(K, style_width)`` style vectors, ``(K,)`` weights -> their mix ``(style_width,)``
        float32: the learned part renormalised to unit length, the explicit statistics (logs)
        mixed linearly."""
        mix = (np.asarray(weights, np.float64)[:, None] * np.asarray(vectors, np.float64)).sum(axis=0)
        d = self.config.style_dim
        mix[:d] /= max(float(np.linalg.norm(mix[:d])), 1e-12)
        return mix.astype(np.float32)

    @property
    def neutral_style(self) -> StyleVector | None:
        """The default style: normalised mean style of the training sessions."""
        if self.config.style_dim == 0:
            return None
        return StyleVector(self.model.generator.default_style.cpu().numpy().copy(), self.style_encoder_id or "")

    # --- generation ----------------------------------------------------------------------
    def _audio(self, audio, sr: int | None) -> np.ndarray:
        """The clip as 16 kHz mono float32, not normalised (the voice activity reads this)."""
        if isinstance(audio, (str, os.PathLike)):
            samples = load_audio(audio, normalize=False)
        else:
            if isinstance(audio, torch.Tensor):
                audio = audio.detach().cpu().numpy()
            samples = prepare_audio(np.asarray(audio), SAMPLE_RATE if sr is None else sr, normalize=False)
        if num_frames(len(samples)) < 1:
            raise AudioError(f"audio is {len(samples) / SAMPLE_RATE * 1000:.0f} ms long: at least 20 ms (half a motion frame) is needed")
        return samples

    def _noise(self, seed: int | None, temperature: float | None) -> NoiseSource | None:
        c = self.config
        if c.latent_dim == 0:
            return None
        temperature = c.temperature if temperature is None else float(temperature)
        if not np.isfinite(temperature) or temperature < 0:
            raise StyleError(f"temperature must be a finite number >= 0, got {temperature}")
        return NoiseSource(0 if seed is None else seed, c.latent_dim, temperature)

    def _initial_past(self, seed: int | None) -> torch.Tensor:
        c = self.config
        device = self.model.generator.motion_mean.device
        if seed is None:
            return torch.zeros(1, c.M, c.motion_dim, device=device)
        rng = np.random.default_rng(seed)
        pose = rng.normal(0.0, 0.5, size=(1, 1, c.motion_dim)).astype(np.float32)
        return torch.from_numpy(np.repeat(pose, c.M, axis=1)).to(device)

    def _to_degrees(self, pred: torch.Tensor, head_scale: float, gaze_scale: float, stages: AvatarStages | None = None,
                    voice: VoiceFrames | None = None, level_next: np.ndarray | None = None,
                    head_target: np.ndarray | None = None, beats: np.ndarray | None = None) -> AvatarFrames:
        """``(T, 7)`` normalised -> degrees, the head matched to ``head_target`` statistics (if any),
        retimed onto ``beats`` (speech beat frames, if any), through the avatar stages (if any),
        then the amplitude scales."""
        gen = self.model.generator
        out = gen.denormalize(pred).cpu().numpy().astype(np.float32)
        if head_target is not None:  # style statistics matching (style_match)
            out[:, list(HEAD_CHANNELS)] = match_head(out[:, list(HEAD_CHANNELS)], head_target, FPS)[0]
        if beats is not None:  # beat alignment (beat_align)
            out = align_to_beats(out, beats, FPS, head=tuple(HEAD_CHANNELS))[0]
        frames = AvatarFrames(out, shift_deg=np.zeros(len(out), np.float32))
        if stages is not None:
            frames = stages.process(out, voice, level_next)
            out = frames.motion
        mean = gen.motion_mean.cpu().numpy()
        for chans, scale in ((list(HEAD_CHANNELS), head_scale), (list(GAZE_CHANNELS), gaze_scale)):
            if scale != 1.0:
                out[:, chans] = mean[chans] + (out[:, chans] - mean[chans]) * float(scale)
        frames.motion = out
        return frames

    def _avatar_stages(self, raw: bool, avatar, saccades, seed: int | None) -> AvatarStages | None:
        """The avatar stages to run (None = none): ``avatar`` (default :class:`AvatarConfig`, or all
        off with ``raw``), its gaze-event stage replaced as ``saccades`` says (None = keep,
        True = the default stage, False = off, a :class:`GazeEventConfig` = that one)."""
        from dataclasses import replace

        if avatar is None:
            avatar = AvatarConfig.raw() if raw else AvatarConfig()
        elif raw:
            raise StyleError("raw=True gives the model's output without avatar stages: drop the avatar argument")
        if not isinstance(avatar, AvatarConfig):
            raise StyleError(f"avatar must be an AvatarConfig or None, got {type(avatar).__name__}")
        if saccades is not None:
            if saccades is True:
                saccades = GazeEventConfig()
            elif saccades is False:
                saccades = None
            elif not isinstance(saccades, GazeEventConfig):
                raise StyleError(f"saccades must be True, False, None or a GazeEventConfig, got {type(saccades).__name__}")
            avatar = replace(avatar, gaze=saccades)
        if not avatar.active:
            return None
        c = self.config
        try:
            return AvatarStages(avatar, fps=FPS, seed=seed, max_lookahead=c.lookahead - c.N)
        except ValueError as exc:
            raise StyleError(str(exc)) from exc

    @staticmethod
    def _motion(frames: AvatarFrames) -> Motion:
        if not np.isfinite(frames.motion).all():  # generated motion has no tracker loss: NaN is a broken model
            raise ModelOutputError(f"the model produced NaN or infinite motion: {BROKEN_WEIGHTS}")
        extras = {} if frames.jaw is None else {"jaw": frames.jaw}
        return Motion(frames.motion, blink=frames.blink, extras=extras)

    @staticmethod
    def _check_scales(head_scale: float, gaze_scale: float) -> None:
        for name, v in (("head_scale", head_scale), ("gaze_scale", gaze_scale)):
            if not np.isfinite(v) or v < 0:
                raise StyleError(f"{name} must be a finite number >= 0, got {v}")

    @torch.no_grad()
    def generate(
        self,
        audio,
        sr: int | None = None,
        style=None,
        seed: int | None = None,
        head_scale: float = 1.0,
        gaze_scale: float = 1.0,
        *,
        normalize: bool = True,
        temperature: float | None = None,
        saccades=None,
        online_beats: bool = False,
        raw: bool = False,
        avatar: AvatarConfig | None = None,
        match_style: bool = True,
        beat_align: bool | None = None,
    ) -> Motion:
        """Speech -> gaze and head motion (with blinks and jaw unless ``raw``).

        Args:
            audio: a path (any format :func:`~stygaze.audio.load_audio` reads) or samples
                ``(S,)``/``(S, C)`` at ``sr``.
            sr: sample rate of an array (default 16 kHz); ignored for paths.
            style: see the module docstring (None = the neutral style).
            seed: None = start from the mean pose; int = a reproducible random start pose.
            head_scale, gaze_scale: amplitude of head / eye motion around the mean pose.
            normalize: per-clip zero-mean unit-variance audio normalisation.
            temperature: scale of the latent draws (models with a latent only; None = the
                model's ``temperature``, chosen on the validation split).
            saccades: the gaze-event stage (:mod:`stygaze.stygazetalk.saccades`): None = as
                ``avatar``/``raw`` say (on by default), True = on with the default
                :class:`~stygaze.stygazetalk.saccades.GazeEventConfig`, False = off, or a config.
            online_beats: models with a beat channel (``beat_feature``) only: use the causal
                beat tracker a stream uses (:class:`~stygaze.features.rhythm.OnlineBeats`) instead
                of the whole clip's beats, so the result equals :meth:`stream`'s output.
            raw: the paper's model output: no avatar stages (no gaze events, blink or jaw).
            avatar: an :class:`~stygaze.stygazetalk.avatar.AvatarConfig` (None = the default:
                every stage on).
            match_style: with a ``style`` and a model with ``style_stats``, scale the head
                to the reference's amplitude and speed (module docstring); False = the
                generator's output as it is.
            beat_align: retime the motion so head movements end on the speech beats
                (:mod:`stygaze.stygazetalk.beat_align`); None = on, except with ``raw`` or
                ``online_beats`` (a stream cannot see the beats ahead, and ``online_beats``
                reproduces a stream).

        Returns:
            :class:`Motion` with ``T = round(S / 640)`` frames at 25 fps, degrees; with the
            avatar stages also ``blink`` ``(T,)`` and ``extras["jaw"]`` ``(T, 3)`` (radians).
        """
        self._check_scales(head_scale, gaze_scale)
        stages = self._avatar_stages(raw, avatar, saccades, seed)
        noise = self._noise(seed, temperature)
        vector = self.style_vector(style)
        style_t = self._style_tensor(vector)
        raw_samples = self._audio(audio, sr)
        samples = normalize_audio(raw_samples) if normalize else raw_samples
        gen = self.model.generator
        if beat_align is None:
            beat_align = not (raw or online_beats)
        # the whole clip's speech beats, tracked once: the beat channel's and the beat alignment's
        beats = rhythmic_beats(samples)[0] if beat_align or (gen.config.beat_feature and not online_beats) else None
        feats = gen.clip_features(samples, online_beats=online_beats, beats=beats).to(gen.motion_mean.device)  # (T, F)
        with _one_thread():
            pred = gen.rollout(feats[None], style_t, self._initial_past(seed), noise=noise)[0]  # (T, 7) normalised
        if not torch.isfinite(pred).all():
            raise ModelOutputError(f"the generator produced NaN or infinite motion: {BROKEN_WEIGHTS}")
        voice = level_next = None
        if stages is not None:
            voice = voice_activity(raw_samples, stages.config.voice, len(pred))
            level_next = np.concatenate([voice.level[1:], np.zeros(1, np.float32)])  # after the end: silence
        target = vector.head if match_style and vector is not None else None
        return self._motion(self._to_degrees(pred, head_scale, gaze_scale, stages, voice, level_next, target,
                                             beats if beat_align else None))

    def stream(
        self,
        style=None,
        seed: int | None = None,
        head_scale: float = 1.0,
        gaze_scale: float = 1.0,
        *,
        sr: int = SAMPLE_RATE,
        normalize: bool = True,
        temperature: float | None = None,
        saccades=None,
        raw: bool = False,
        avatar: AvatarConfig | None = None,
    ) -> MotionStream:
        """A :class:`MotionStream`: push audio chunks, receive motion frames (degrees).

        Arguments as :meth:`generate`; the avatar stages are causal, so they add no latency.
        """
        self._check_scales(head_scale, gaze_scale)
        stages = self._avatar_stages(raw, avatar, saccades, seed)

        if not isinstance(self.model.generator.audio, MelEncoder):
            raise CheckpointError("streaming needs a model with the 'mel' audio encoder (wav2vec2 attends to the whole chunk)")
        noise = self._noise(seed, temperature)
        stream = MotionStream(self, self.resolve_style(style), self._initial_past(seed), head_scale, gaze_scale, sr, normalize)
        stream.noise = noise
        stream.set_stages(stages)
        return stream


def pipeline_worker(model: str | os.PathLike | None = None, style=None, seed: int | None = None,
                    head_scale: float = 1.0, gaze_scale: float = 1.0, device: str = "cpu", saccades: bool | None = None,
                    raw: bool = False):
    """Load :class:`StyGazeTalk` once; return ``work(item)`` that generates ``item.audio`` and saves ``item.out``.

    The worker factory for :func:`stygaze.batch.run_batch`: pass
    ``functools.partial(pipeline_worker, model, style, ...)`` (partials of module functions
    can be sent to worker processes). ``item`` is a :class:`stygaze.batch.BatchItem`.
    ``saccades`` and ``raw`` are :meth:`StyGazeTalk.generate`'s (default: every avatar stage on).
    """
    pipe = StyGazeTalk.from_pretrained(model, device=device)

    def work(item) -> None:
        motion = pipe.generate(item.audio, style=style, seed=seed, head_scale=head_scale, gaze_scale=gaze_scale, saccades=saccades, raw=raw)
        motion.save(item.out)  # atomic

    return work


@dataclass
class StreamFrames:
    """What one :meth:`MotionStream.push_frames` / :meth:`~MotionStream.flush_frames` call returns.

    Attributes:
        motion: ``(n, 7)`` float32 degrees (what :meth:`MotionStream.push` returns).
        blink: ``(n,)`` float32 eyelid closure 0..1, or None (blink stage off).
        jaw: ``(n, 3)`` float32 FLAME jaw pose (axis-angle, radians), or None (jaw stage off).
    """

    motion: np.ndarray
    blink: np.ndarray | None = None
    jaw: np.ndarray | None = None

    def __len__(self) -> int:
        return int(len(self.motion))


class MotionStream:
    """Incremental generation. ``push(chunk)`` and ``flush()`` return ``(n, 7)`` degree frames;
    ``push_frames(chunk)`` and ``flush_frames()`` return :class:`StreamFrames` (motion, blink, jaw).

    Frames come out in order, exactly once; ``frames_out`` counts them. After ``flush()``
    the total equals ``round(S / 640)`` for ``S`` samples pushed (as :meth:`StyGazeTalk.generate`).
    """

    def __init__(self, owner: StyGazeTalk, style, past, head_scale, gaze_scale, sr, normalize):
        self.owner = owner
        self.gen = owner.model.generator
        self.enc = self.gen.audio
        self.style, self.past = style, past
        self.head_scale, self.gaze_scale = head_scale, gaze_scale
        self.sr, self.normalize = int(sr), normalize
        c = self.enc.config
        self._buf = torch.zeros(self.enc.left_pad)  # padded signal not yet consumed (starts at frame -1's window)
        self._buf_start_frame = -1  # frame whose window starts at _buf[0]
        self._samples = 0
        self._sum = 0.0
        self._sumsq = 0.0
        self._prev_logmel = None
        self._feats: list[torch.Tensor] = []
        self._feat_count = 0
        self._feat_offset = 0  # frame index of self._feats[0]'s first row
        self._steps = 0
        self.frames_out = 0
        self._closed = False
        self._n_fft = c.n_fft
        self.noise: NoiseSource | None = None
        gc = self.gen.config
        # beat-channel models: the causal tracker on the encoder's onset column (see OnlineBeats)
        self._beats = OnlineBeats(gc.lookahead, gc.N, gc.beat_context) if gc.beat_feature else None
        self._beat = np.zeros(0, np.float32)  # decided beat-channel values of frames [_beat_offset, ...)
        self._beat_offset = 0
        self.set_stages(None)

    def set_stages(self, stages: AvatarStages | None) -> None:
        """Run ``stages`` (None = none) on the generated frames; call before the first push."""
        self.stages = stages
        self._voice = OnlineVoice(stages.config.voice) if stages is not None else None
        self._vframes = VoiceFrames.empty()  # voice of frames [frames_out, ...)
        self._pending: list[torch.Tensor] = []  # generated frames (normalised) waiting for their voice frames

    @property
    def stage(self):
        """The gaze-event stage (or None); kept for code written for the earlier saccade stage."""
        return None if self.stages is None else self.stages.gaze

    @property
    def latency_frames(self) -> int:
        return self.owner.latency_frames

    def samples_to_next_step(self) -> int:
        """16 kHz samples still missing before the next model step can run.

        A ``push`` that brings the stream this far returns the step's ``N`` frames; a shorter
        one returns none. Pushing exactly at these boundaries makes the output independent of
        how the audio arrived (with ``normalize=True`` a stream's output depends on its chunks).
        Counts samples after the stream's resampling (so: at 16 kHz).
        """
        c = self.owner.config
        need = (self._steps * c.N + c.lookahead) * HOP + self._n_fft - self.enc.left_pad
        return max(0, need - self._samples)

    def _norm(self, x: np.ndarray) -> torch.Tensor:
        if not self.normalize:
            return torch.from_numpy(x)
        n = self._samples
        mean = self._sum / n
        std = float(np.sqrt(max(self._sumsq / n - mean**2, 0.0)))
        if std < 1e-4:
            return torch.zeros(len(x))
        return torch.from_numpy(((x - mean) / std).astype(np.float32))

    def push(self, chunk) -> np.ndarray:
        """Add audio ``(S,)`` (or ``(S, C)``) at the stream's ``sr``; returns newly determined frames ``(n, 7)``."""
        return self.push_frames(chunk).motion

    def flush(self) -> np.ndarray:
        """End of audio: pad with silence as the offline call does and return the remaining ``(n, 7)`` frames."""
        return self.flush_frames().motion

    def _empty(self) -> StreamFrames:
        st = self.stages
        return StreamFrames(np.zeros((0, 7), np.float32),
                            None if st is None or st.blinks is None else np.zeros(0, np.float32),
                            None if st is None or st.jaw is None else np.zeros((0, 3), np.float32))

    def push_frames(self, chunk) -> StreamFrames:
        """As :meth:`push`, returning the frames' motion, blink and jaw (:class:`StreamFrames`)."""
        if self._closed:
            raise AudioError("this stream was flushed: start a new one with StyGazeTalk.stream()")
        chunk = np.asarray(chunk)
        if chunk.size == 0:
            return self._empty()
        x = prepare_audio(chunk, self.sr, normalize=False, name="audio chunk")
        self._samples += len(x)
        self._sum += float(x.astype(np.float64).sum())
        self._sumsq += float((x.astype(np.float64) ** 2).sum())
        self._buf = torch.cat([self._buf, self._norm(x)])
        if self._voice is not None:
            self._vframes = VoiceFrames.concat([self._vframes, self._voice.push(x)])
        with _one_thread():
            self._featurize(final=False)
            return self._generate(final=False)

    def flush_frames(self) -> StreamFrames:
        """As :meth:`flush`, returning the frames' motion, blink and jaw (:class:`StreamFrames`)."""
        if self._closed:
            return self._empty()
        if self._samples == 0:
            raise AudioError("no audio was pushed to the stream")
        self._closed = True
        total = num_frames(self._samples)
        if total < 1:
            raise AudioError("audio is shorter than 20 ms (half a motion frame)")
        self._total = total
        self._buf = torch.cat([self._buf, torch.zeros(self._n_fft + 2 * HOP)])
        if self._voice is not None:
            self._vframes = VoiceFrames.concat([self._vframes, self._voice.flush(total)])
        with _one_thread():
            self._featurize(final=True)
            return self._generate(final=True)

    def _featurize(self, final: bool) -> None:
        """Compute features for every frame whose whole window is in the buffer."""
        n_fft = self._n_fft
        avail = (len(self._buf) - n_fft) // HOP + 1  # whole windows in the buffer, from _buf_start_frame
        if final:
            avail = min(avail, self._total - self._buf_start_frame)
        if avail <= 0:
            return
        if self._buf_start_frame == -1:
            _, self._prev_logmel = self.enc.frames_features(self._buf, 1, None)
            self._buf = self._buf[HOP:]
            self._buf_start_frame = 0
            avail -= 1
            if avail <= 0:
                return
        if final:
            avail = min(avail, self._total - self._buf_start_frame)
        if avail <= 0:
            return
        feats, self._prev_logmel = self.enc.frames_features(self._buf, avail, self._prev_logmel)
        self._feats.append(feats)
        self._feat_count += avail
        if self._beats is not None:
            self._beat = np.concatenate([self._beat, self._beats.update(feats[:, self.enc.onset_column].numpy())])
        self._buf = self._buf[avail * HOP :]
        self._buf_start_frame += avail

    def _features(self, a: int, b: int) -> torch.Tensor:
        """Features of frames ``[a, b)``, ``0 <= a``, all still kept."""
        if len(self._feats) > 1:
            self._feats = [torch.cat(self._feats)]
        f = self._feats[0][a - self._feat_offset : b - self._feat_offset]
        if self._beats is None:
            return f
        return torch.cat([f, torch.from_numpy(self._beat[a - self._beat_offset : b - self._beat_offset])[:, None]], dim=1)

    def _window(self, t: int, final: bool) -> torch.Tensor:
        """The audio window ``(M, F)`` of the step at frame ``t``: frames ``[t + L - M, t + L)``, the
        frames before 0 repeating frame 0 and (``final``) those past the end repeating the last."""
        c = self.owner.config
        a = t - c.audio_offset
        lo, hi = max(a, 0), min(a + c.M, self._feat_count)
        w = self._features(lo, hi) if hi > lo else self._features(self._feat_count - 1, self._feat_count)
        parts = []
        if a < 0:
            parts.append(self._features(0, 1).expand(-a, -1))
        parts.append(w)
        n = sum(p.shape[0] for p in parts)
        if n < c.M:  # past the end: repeat the last frame, as rollout does
            parts.append(self._features(self._feat_count - 1, self._feat_count).expand(c.M - n, -1))
        return torch.cat(parts) if len(parts) > 1 else w

    @torch.no_grad()
    def _generate(self, final: bool) -> StreamFrames:
        c = self.owner.config
        outs = []
        if self._beats is not None and final:  # the last, partial block
            self._beat = np.concatenate([self._beat, self._beats.update(np.zeros(0, np.float32), final=True)])
        while True:
            t = self._steps * c.N
            if final:
                if t >= self._total:
                    break
            elif t + c.lookahead > self._feat_count:
                break
            a = self._window(t, final)
            eps = self.noise.draw(self._steps, 1) if self.noise is not None else None
            pred = self.gen(a[None].to(self.gen.motion_mean.device), self.past, self.style, noise=eps).motion  # (1, N, 7)
            if not bool(torch.isfinite(pred).all()):
                raise ModelOutputError(f"the generator produced NaN or infinite motion: {BROKEN_WEIGHTS}")
            self.past = torch.cat([self.past, pred], dim=1)[:, -c.M :]
            n = c.N if not final else min(c.N, self._total - t)
            outs.append(pred[0, :n])
            self._steps += 1
        # drop features no later step needs (frame 0 stays while a window can still reach before the start)
        keep_from = self._steps * c.N - c.audio_offset
        if self._feats and keep_from > 0 and keep_from - self._feat_offset > 4 * c.M:
            allf = torch.cat(self._feats)
            drop = min(keep_from, self._feat_count - 1) - self._feat_offset
            self._feats = [allf[drop:]]
            self._feat_offset += drop
            self._beat = self._beat[self._feat_offset - self._beat_offset :]
            self._beat_offset = self._feat_offset
        if outs:
            self._pending.append(torch.cat(outs))
        if not self._pending:
            return self._empty()
        pred = torch.cat(self._pending) if len(self._pending) > 1 else self._pending[0]
        n = len(pred)
        voice = level_next = None
        if self.stages is not None:
            if not final:  # the stages need each frame's voice (and the jaw the next frame's): usually already there
                n = min(n, len(self._vframes) - self.stages.lookahead)
                if n <= 0:
                    self._pending = [pred]
                    return self._empty()
            voice = self._vframes.slice(0, n)
            level_next = self._vframes.level[1 : n + 1]
            if len(level_next) < n:  # past the end of the audio: silence
                level_next = np.concatenate([level_next, np.zeros(n - len(level_next), np.float32)])
            self._vframes = self._vframes.slice(n, len(self._vframes))
        self._pending = [pred[n:]] if n < len(pred) else []
        frames = self.owner._to_degrees(pred[:n], self.head_scale, self.gaze_scale, self.stages, voice, level_next)
        self.frames_out += len(frames)
        return StreamFrames(frames.motion, frames.blink, frames.jaw)
