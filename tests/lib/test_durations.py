from __future__ import annotations

from datetime import timedelta

import pytest

from studio.lib.durations import format_duration


class TestFormatDuration:
    @pytest.mark.parametrize(
        ("seconds", "shown"),
        [
            (0, "0 ms"),
            (0.34, "340 ms"),
            (1, "1.0 s"),
            (8.44, "8.4 s"),
            (9.96, "10 s"),
            (42.4, "42 s"),
            (59.6, "1 m 0 s"),
            (72, "1 m 12 s"),
            (3599, "59 m 59 s"),
            (3600 + 5 * 60 + 30, "1 h 5 m"),
        ],
    )
    def test_it_reads_like_a_person_would_say_it(
        self, seconds: float, shown: str
    ) -> None:
        assert format_duration(seconds) == shown
        assert format_duration(timedelta(seconds=seconds)) == shown

    def test_nothing_is_empty_and_a_negative_skew_is_zero(self) -> None:
        assert format_duration(None) == ""
        assert format_duration(timedelta(seconds=-2)) == "0 ms"
