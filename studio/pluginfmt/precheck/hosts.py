"""Where the Marketplace accepts a plugin's source repository to live.

The toolkit keeps one list (`marketplace.SOURCE_HOSTS`, shared with the
verifier and the forms) as its admission policy for `repo` in the manifest
and the source link in the README. A host matches exactly, with an optional
`www.` in front.
"""

from __future__ import annotations

import re

from ..marketplace import SOURCE_HOSTS

_HOSTS = "|".join(re.escape(host) for host in SOURCE_HOSTS)
_URL = rf"https?://(?:www\.)?(?:{_HOSTS})/[^\s)>\"]+"

# The manifest's `repo` is nothing but the URL; a README mentions it anywhere.
REPO_URL = re.compile(rf"^{_URL}$", re.IGNORECASE)
SOURCE_LINK = re.compile(_URL, re.IGNORECASE)


def hosts_text() -> str:
    """The allowed hosts, for messages."""
    return ", ".join(SOURCE_HOSTS)
