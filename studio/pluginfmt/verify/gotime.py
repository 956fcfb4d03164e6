"""Timestamps as Go's yaml.v3 decodes them into `time.Time` (manifest `created_at`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

# The timestamp layouts yaml.v3 decodes into time.Time.
_GO_TIME_T = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})[Tt](\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d{1,9})?"
    r"(Z|[+-]\d{2}:\d{2})"
)
_GO_TIME_SPACE = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d{1,9})?"
)
_GO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")


def parse_go_time(text: str) -> datetime | None:
    """The instant yaml.v3 would decode from `text`, or None if it cannot."""
    m = _GO_TIME_T.fullmatch(text)
    try:
        if m:
            y, mo, d, h, mi, s, frac, zone = m.groups()
            micro = int((frac or ".0")[1:7].ljust(6, "0"))
            tz = UTC
            if zone != "Z":
                sign = 1 if zone[0] == "+" else -1
                hours, minutes = int(zone[1:3]), int(zone[4:6])
                tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
            return datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), micro, tz)
        m = _GO_TIME_SPACE.fullmatch(text)
        if m:
            y, mo, d, h, mi, s, frac = m.groups()
            micro = int((frac or ".0")[1:7].ljust(6, "0"))
            return datetime(
                int(y), int(mo), int(d), int(h), int(mi), int(s), micro, UTC
            )
        m = _GO_DATE.fullmatch(text)
        if m:
            y, mo, d = m.groups()
            return datetime(int(y), int(mo), int(d), tzinfo=UTC)
    except ValueError:
        return None
    return None
