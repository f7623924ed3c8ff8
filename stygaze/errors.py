"""User-facing errors.

Every problem a user can cause with their input (a file, a flag, a checkpoint) raises a
:class:`StygazeError` subclass with a one-line message that names the problem and, where
there is one, the fix. The CLI turns these into ``stygaze: error: <message>`` on stderr and
exit code 2, never a traceback. Programming errors stay ordinary exceptions.
"""


class StygazeError(Exception):
    """Base class of every error caused by user input; the message is one line."""


class MotionFormatError(StygazeError):
    """A motion array or ``.npz`` file breaks the motion contract."""


class AudioError(StygazeError):
    """Audio that cannot be read or used (corrupt, empty, non-finite, ...)."""


class CheckpointError(StygazeError):
    """A model checkpoint that is missing, corrupt or from an incompatible model."""


class StyleError(StygazeError):
    """A style file that is unusable: too short, or made by another style encoder."""


class DataError(StygazeError):
    """A corpus directory or data file that does not follow the declared layout."""


class ConfigError(DataError):
    """A config file or config value that is invalid (unknown key, wrong type, out of range)."""


class OutputError(StygazeError):
    """An output that cannot be written: it is one of the inputs, or the write failed (disk full, ...)."""


class ModelOutputError(CheckpointError):
    """A model produced NaN or infinite values (broken weights): refused, never written to a file."""
