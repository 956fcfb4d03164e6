"""Package checksum and unique identifier, as the daemon computes them.

`decoder.CalculateChecksum` (dify-plugin-daemon `pkg/plugin_packager/decoder`)
hashes every file entry: for each path in byte order, the raw 32-byte
SHA-256 of the path followed by the raw SHA-256 of the content, then
hex(SHA-256) of that concatenation. The zip comment (signature) is not
included; `.verification.dify.json` is, so signing changes the checksum.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

from studio.pluginfmt.package import read_zip

# pkg/entities/plugin_entities/identity.go, pluginUniqueIdentifierRegexp.
IDENTIFIER_RE = re.compile(
    r"^(?:([a-z0-9_-]{1,64})\/)?([a-z0-9_-]{1,255}):([0-9]{1,4})(\.[0-9]{1,4}){1,3}"
    r"(-\w{1,16})?@[a-f0-9]{32,64}$",
    re.ASCII,  # Go's \w is ASCII-only
)


def checksum(package_bytes: bytes) -> str:
    """The daemon's checksum of a `.difypkg`: 64 lowercase hex characters."""
    entries, _ = read_zip(package_bytes)
    return files_checksum(dict(entries))


def files_checksum(files: Mapping[str, bytes]) -> str:
    """The same checksum over already extracted files (path -> content)."""
    return digests_checksum(
        {path: hashlib.sha256(content).hexdigest() for path, content in files.items()}
    )


def digests_checksum(digests: Mapping[str, str]) -> str:
    """The same checksum from each file's hex SHA-256 (path -> digest), for
    files whose digests are stored: no content has to be read."""
    data = bytearray()
    for path in sorted(digests, key=lambda p: p.encode("utf-8", "surrogateescape")):
        data += hashlib.sha256(path.encode("utf-8", "surrogateescape")).digest()
        data += bytes.fromhex(digests[path])
    return hashlib.sha256(data).hexdigest()


def unique_identifier(author: str, name: str, version: str, checksum: str) -> str:
    """`author/name:version@checksum` (`name:version@checksum` without an author)."""
    plugin_id = f"{author}/{name}" if author else name
    return f"{plugin_id}:{version}@{checksum}"


def is_valid_identifier(identifier: str) -> bool:
    """Whether the daemon's `NewPluginUniqueIdentifier` accepts `identifier`."""
    # The daemon first maps "$" to ":" (Windows-safe file names); Go's `$`
    # anchors at the very end, so fullmatch rather than a trailing newline.
    return IDENTIFIER_RE.fullmatch(identifier.replace("$", ":")) is not None
