"""OmniHead: a spatio-temporal video recognizer of head gestures, blinks, saccades and gaze.

Used as a perceptual evaluator of rendered motion (:mod:`stygaze.eval.perceptual`).
"""
