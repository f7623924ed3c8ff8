"""A small SynHAGE corpus shared by the data tests (built once per test process)."""

import numpy as np
import pytest

from stygaze.data.corpus import Corpus, synth_corpus
from stygaze.data.synth import SynthStyle, synthesize


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory) -> Corpus:
    """4 espeak-ng sessions of 45 s, seed 3."""
    root = tmp_path_factory.mktemp("synhage") / "corpus"
    synth_corpus(root, sessions=4, minutes=0.75, seed=3, progress=False)
    return Corpus(root)


@pytest.fixture(scope="session")
def corpus_results(small_corpus):
    """Per session: (audio (S,), SynthResult with the 250 Hz internal signals), re-synthesised
    from the stored audio and the stored style."""
    out = []
    for i, s in enumerate(small_corpus.sessions()):
        audio = s.load_audio(normalize=False)
        style = SynthStyle.from_dict(s.load_style()["style"])
        out.append((audio, synthesize(audio, style=style, seed=100 + i, return_internal=True)))
    return out


@pytest.fixture(scope="session")
def speechlike_audio():
    """20 s of syllable-like noise bursts (4 Hz) with pauses, as (S,) float32 16 kHz."""
    rng = np.random.default_rng(5)
    t = np.arange(20 * 16000) / 16000
    env = (np.sin(2 * np.pi * 4 * t) > 0) * ((t % 8) < 5)
    return (rng.standard_normal(t.size) * 0.3 * env + rng.standard_normal(t.size) * 1e-3).astype(np.float32)
