"""The old home of the settings, kept so `from index.settings import Settings` still works for code that has not
moved to `newsqa.settings` yet (benchmarks/scale.py): the settings are one tree in newsqa/settings.py, whose
`IndexSettings` and `EncoderSettings` sections hold what this module's `Settings` did."""

from newsqa.paths import CORPUS_DIR as DEFAULT_CORPUS
from newsqa.settings import EncoderSettings, IndexSettings, Settings, SettingsFileError, config_file

__all__ = ["DEFAULT_CORPUS", "EncoderSettings", "IndexSettings", "Settings", "SettingsFileError", "config_file"]
