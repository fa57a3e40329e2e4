"""The root of the product's errors. Each layer's errors derive from `NewsQAError`, so the `qa` command and the
REST API catch one class to turn any of them into a message a user can act on (exit code 2, HTTP 503), while
callers that know a narrower failure still catch it by its own name where it is defined:

    NewsQAError
    ├── IndexStoreError (index.models): the index on disk
    │   ├── IndexMismatchError, IndexNotFoundError (index.models), IndexCorruptError (index.storage)
    │   ├── StoreUnavailableError (index.storage)
    │   └── NoArticleTextError (index.text.clean)
    ├── SettingsError (newsqa.settings, also a ValueError): a setting of the wrong kind
    │   └── SettingsFileError (newsqa.settings): a settings file missing where $QA_CONFIG says, or not TOML
    ├── DocumentError (index.readers.document): a PDF or Word file that gives no article text
    ├── ModelError (index.encoder): a packaged model (the encoder, the reader) missing or not the expected file
    ├── GoldFormatError (evaluation.gold, also a ValueError): a gold set that cannot be read
    └── EvalSetupError (evaluation.errors): an evaluation that cannot start (a missing file, an unusable index folder)
"""

from __future__ import annotations


class NewsQAError(Exception):
    """Base of every error the product raises on purpose: the message says what went wrong and what to do."""
