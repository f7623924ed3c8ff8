"""A small SynHAGE corpus shared by the data tests (built once per test process)."""

import numpy as np
import pytest

from stygaze.data.corpus import Corpus, synth_corpus
from stygaze.data.synhage import SynthStyle, synthesize


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
