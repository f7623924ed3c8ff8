"""Train the built-in realtime model (configs/realtime.yaml) in one command.

    python scripts/train_realtime.py --data runs/synhage --out runs/realtime [--install]

Runs the stages of configs/realtime.yaml's header on the corpus ``--data``:

1. the style encoder -> ``OUT_style/best``: by default (``--style-encoder default``) the
   built-in default model's own style encoder, written out as a style-encoder checkpoint, so
   the two built-in models share one style space (a style vector extracted with either works
   with both); ``--style-encoder train`` trains one (``stygaze train style``), a path uses
   that checkpoint;
2. ``stygaze train generator`` -> ``OUT`` (``OUT/final`` = the last epoch, the shipped one);
3. the latent temperature of ``OUT/final`` chosen on the **val** split (the best mean of the
   neutral-style and own-style Sim over ``TEMPERATURES``, two seeds; a model that draws a latent
   every N = 2 frames needs a lower one than the default model's 1.0), written into its
   ``config.json`` with the table in its meta;

and with ``--install`` copies ``OUT/final`` (``config.json`` + ``model.safetensors``) into
``stygaze/assets/stygazetalk_realtime/``. Runs resume (rerun the command after an
interruption). The corpus of the built-in models is
``stygaze data synth --out runs/synhage --sessions 24 --minutes 3 --seed 0``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPERATURES = (0.3, 0.4, 0.45, 0.5, 0.6, 0.7, 0.85, 1.0)


def export_default_style_encoder(path: Path) -> Path:
    """Write the built-in default model's style encoder as a ``style_encoder`` checkpoint at ``path``."""
    from stygaze.checkpoint import save_checkpoint
    from stygaze.stygazetalk.pipeline import StyGazeTalk

    se = StyGazeTalk.from_pretrained().model.style_encoder
    return save_checkpoint(path, se, model_type="style_encoder", config=se.config,
                           meta={"encoder_id": se.encoder_id, "source": "the built-in default model (stygaze/assets/stygazetalk)"})


def choose_temperature(final: Path, data: Path, seeds: int = 2) -> tuple[float, dict]:
    """The latent temperature of the checkpoint ``final`` with the best mean Sim (neutral style and
    each session's own style from its first 20 s) on the val split of ``data``; writes it into
    ``final/config.json``. Returns ``(temperature, {temperature: [sim neutral, sim style]})``."""
    import json

    import numpy as np
    import torch

    from stygaze.audio import load_audio
    from stygaze.eval import EvalAccumulator
    from stygaze.motion import Motion
    from stygaze.stygazetalk.pipeline import StyGazeTalk

    torch.set_num_threads(1)
    pipe = StyGazeTalk.from_pretrained(final)
    sessions = []
    for n in json.loads((data / "splits.json").read_text())["val"]:
        gt = Motion.load(data / n / "motion.npz")
        audio = np.resize(load_audio(data / n / "audio.wav"), len(gt) * 640)
        sessions.append((n, gt, audio, pipe.extract_style(gt.slice(0, min(len(gt), 500)))))
    table = {}
    for t in TEMPERATURES:
        neutral, styled = EvalAccumulator(), EvalAccumulator()
        for seed in range(seeds):
            for n, gt, audio, style in sessions:
                neutral.add(pipe.generate(audio, seed=seed, temperature=t, raw=True), gt, name=n)
                styled.add(pipe.generate(audio, seed=seed, temperature=t, raw=True, style=style, match_style=False), gt, name=n)
        table[t] = [neutral.result()["pattern"]["sim"], styled.result()["pattern"]["sim"]]
        print(f"temperature {t}: Sim neutral {table[t][0]:.3f}, own style {table[t][1]:.3f}", file=sys.stderr)
    best = max(table, key=lambda t: sum(table[t]))
    cfg_path = final / "config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["config"]["generator"]["temperature"] = best
    cfg["meta"]["temperature_selection"] = {"split": "val", "seeds": seeds, "sim_neutral_style": {str(k): v for k, v in table.items()}}
    cfg_path.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")
    return best, table


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="corpus folder (stygaze data synth ...)")
    ap.add_argument("--out", default=str(ROOT / "runs" / "realtime"), help="generator run folder (style encoder: OUT_style)")
    ap.add_argument("--config", default=str(ROOT / "configs" / "realtime.yaml"))
    ap.add_argument("--style-encoder", default="default",
                    help="'default' (the built-in default model's style encoder), 'train' (train one) or a checkpoint folder (RUN_STYLE/best)")
    ap.add_argument("--install", action="store_true", help="copy OUT/final into stygaze/assets/stygazetalk_realtime/")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)

    out = Path(args.out)
    extra = ["--no-progress"] if args.no_progress else []
    cmd = [sys.executable, "-m", "stygaze", "train"]
    style = args.style_encoder
    style_run = out.with_name(out.name + "_style")
    if style == "train":
        subprocess.run(cmd + ["style", "--config", args.config, "--data", args.data, "--out", str(style_run)] + extra, check=True)
        style = str(style_run / "best")
    elif style == "default":
        style = str(export_default_style_encoder(style_run / "best"))
    subprocess.run(cmd + ["generator", "--config", args.config, "--data", args.data, "--out", str(out), "--style-encoder", style] + extra,
                   check=True)
    final = out / "final"
    if not (final / "config.json").exists():
        print(f"stygaze: error: {final} was not written (the run stopped early?)", file=sys.stderr)
        return 1
    best, _ = choose_temperature(final, Path(args.data))
    print(f"latent temperature {best} (val split) written to {final / 'config.json'}", file=sys.stderr)
    if args.install:
        dest = ROOT / "stygaze" / "assets" / "stygazetalk_realtime"
        dest.mkdir(parents=True, exist_ok=True)
        for name in ("config.json", "model.safetensors"):
            shutil.copyfile(final / name, dest / name)
        print(dest)
    else:
        print(final)
    return 0


if __name__ == "__main__":
    sys.exit(main())
