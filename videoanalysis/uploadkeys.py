"""The names the API's upload gives stored videos, kept apart from `storage` (which needs
OpenCV) so that the operator can refuse them too.

A video the API stores is `videos://<key>` with `key` = a random uuid4 in hex and the
extension of the sniffed container, at the top of the videos folder (`storage.new_key`); while
a body is read it is a `.upload-*` file. These names are the API's own: a resource applied by
hand may not name them (that would be another user's upload, read through the API and deleted
by erase), and erase deletes only a video under such a key of a task the API made. A refused
name pattern rather than a folder of the API's own: it covers every key stored so far, where
moving new uploads into a folder would leave the old ones at the top nameable.
"""

from __future__ import annotations

import posixpath
import re

UPLOAD_KEY = re.compile(r"[0-9a-f]{32}\.[a-z0-9]{1,7}")
UPLOAD_TMP_PREFIX = ".upload-"
_SCHEME = "videos://"  # videoanalysis.storage.SCHEME (that module needs OpenCV)


def is_upload_key(key: str) -> bool:
    """Whether `key` (relative to the videos folder) names a file the API's upload writes,
    compared after normalising the path and ignoring case (a case-insensitive volume maps both
    spellings to one file)."""
    name = posixpath.normpath(key).lower()
    return bool(UPLOAD_KEY.fullmatch(name)) or name.startswith(UPLOAD_TMP_PREFIX)


def is_upload_uri(uri: str) -> bool:
    """Whether a `videos://` URI names a file the API's upload writes."""
    return uri.startswith(_SCHEME) and is_upload_key(uri[len(_SCHEME) :])
