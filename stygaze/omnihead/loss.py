"""OmniHead losses (App. F): per-task losses with missing-label masking, weighted sum."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import torch
import torch.nn.functional as F

from stygaze.omnihead.config import (
    DEFAULT_LOSS_WEIGHTS,
    EXPRESSION_CLASS_WEIGHTS,
)
from stygaze.omnihead.model import OmniHeadOutput


@dataclass
class OmniHeadLoss:
    """``total`` = Σ weight·loss over the tasks that had at least one label; ``per_task`` holds the
    unweighted losses (floats) and ``counts`` the number of labelled frames per task."""

    total: torch.Tensor
    per_task: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# losses (OmniHead App. F)


@dataclass
class LossConfig:
    """Per-task loss settings (App. F); ``weights`` default to the fine-tuning weights.

    ``gesture_class_weights``: optional CE weight per gesture class (none in App. F).
    ``aux_weight``: weight of the same task losses computed on the encoder probes' outputs
    (:attr:`OmniHeadOutput.aux`, when the model has them); 0 = ignore them.
    ``gaze_in_degrees``: the angular loss of Eq. S8 is in degrees; set False for radians
    (useful for short CPU runs where a degree-scaled loss swamps the classification terms).
    """

    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_LOSS_WEIGHTS))
    gesture_smoothing: float = 0.15
    binary_smoothing: float = 0.1
    binary_class_weights: tuple[float, float] = (1.0, 10.0)
    gaze_in_degrees: bool = True
    gesture_class_weights: tuple[float, ...] | None = None
    aux_weight: float = 0.0


def angular_error(pred: torch.Tensor, target: torch.Tensor, degrees: bool = True) -> torch.Tensor:
    """Angle between (…, 3) vectors (normalised here), elementwise; degrees or radians."""
    cos = (F.normalize(pred, dim=-1, eps=1e-6) * F.normalize(target, dim=-1, eps=1e-6)).sum(-1)
    ang = torch.acos(cos.clamp(-1 + 1e-6, 1 - 1e-6))
    return ang * (180.0 / math.pi) if degrees else ang


def ccc_torch(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Concordance correlation coefficient of two 1-D tensors."""
    mx, my = x.mean(), y.mean()
    vx, vy = x.var(unbiased=False), y.var(unbiased=False)
    cov = ((x - mx) * (y - my)).mean()
    return 2 * cov / (vx + vy + (mx - my) ** 2 + 1e-8)


def omnihead_loss(out: OmniHeadOutput, targets: dict[str, torch.Tensor], cfg: LossConfig | None = None) -> OmniHeadLoss:
    """Masked multi-task loss.

    Args:
        out: model output for (B, L) frames.
        targets: any subset of ``gesture``/``blink``/``saccade``/``expression`` (B, L) long
            with −1 = unlabelled; ``gaze`` (B, L, 3), ``va`` (B, L, 2), ``au`` (B, L, 12)
            float with NaN = unlabelled. Tasks without a single label add nothing.
    """
    cfg = cfg or LossConfig()
    ref = out.clip_features
    total = ref.new_zeros(())
    per_task: dict[str, float] = {}
    counts: dict[str, int] = {}
    for task, target in targets.items():
        pred = out.task(task)
        if pred is None or target is None:
            continue
        weight = float(cfg.weights.get(task, 0.0))
        if task in ("gesture", "blink", "saccade", "expression"):
            tgt = target.reshape(-1).long()
            valid = tgt >= 0
            n = int(valid.sum())
            if n == 0:
                continue
            logits = pred.reshape(-1, pred.shape[-1])[valid]
            tgt = tgt[valid]
            if task == "gesture":
                gw = None if cfg.gesture_class_weights is None else torch.tensor(cfg.gesture_class_weights, device=logits.device, dtype=logits.dtype)
                loss = F.cross_entropy(logits, tgt, weight=gw, label_smoothing=cfg.gesture_smoothing)
            elif task == "expression":
                loss = F.cross_entropy(logits, tgt, weight=torch.tensor(EXPRESSION_CLASS_WEIGHTS, device=logits.device, dtype=logits.dtype))
            else:
                w = torch.tensor(cfg.binary_class_weights, device=logits.device, dtype=logits.dtype)
                loss = F.cross_entropy(logits, tgt, weight=w, label_smoothing=cfg.binary_smoothing)
        else:
            d = pred.shape[-1]
            tgt = target.reshape(-1, d).to(pred.dtype)
            p = pred.reshape(-1, d)
            if task == "au":
                valid_e = ~torch.isnan(tgt)
                n = int(valid_e.any(-1).sum())
                if n == 0:
                    continue
                loss = F.binary_cross_entropy_with_logits(p[valid_e], tgt[valid_e])
            else:
                valid = ~torch.isnan(tgt).any(-1)
                n = int(valid.sum())
                if n == 0:
                    continue
                if task == "gaze":
                    loss = angular_error(p[valid], tgt[valid], degrees=cfg.gaze_in_degrees).mean()
                elif task == "va":
                    if n < 2:
                        continue
                    loss = sum(1.0 - ccc_torch(p[valid][:, k], tgt[valid][:, k]) for k in range(2))
                else:  # pragma: no cover - guarded by TASKS
                    raise KeyError(task)
        total = total + weight * loss
        per_task[task] = float(loss.detach())
        counts[task] = n
    if out.aux and cfg.aux_weight > 0:
        probe_out = OmniHeadOutput(clip_features=ref, clip_dynamics=ref, frame_features=ref, **out.aux)
        probe = omnihead_loss(probe_out, targets, replace(cfg, aux_weight=0.0))
        total = total + cfg.aux_weight * probe.total
        per_task.update({f"aux_{k}": v for k, v in probe.per_task.items()})
    return OmniHeadLoss(total=total, per_task=per_task, counts=counts)
