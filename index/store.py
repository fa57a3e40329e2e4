"""Where the local store's modules went: `index.storage.local` (snapshots, segments, merging, repair, upgrade,
the read and write sides). Kept so that older imports of the shared errors keep working; new code imports
`IndexNotFoundError` from `index.models` (or `index.storage`) and reaches the store through `index.storage`."""

from __future__ import annotations

from index.models import IndexNotFoundError
from index.storage.local.segments import IndexCorruptError

__all__ = ["IndexCorruptError", "IndexNotFoundError"]
