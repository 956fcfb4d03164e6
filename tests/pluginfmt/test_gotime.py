from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from studio.pluginfmt.verify.gotime import parse_go_time


class TestParseGoTime:
    def test_it_reads_an_rfc3339_time_with_its_offset_and_fraction(self) -> None:
        assert parse_go_time("2024-09-20T08:03:44.658609186+08:00") == datetime(
            2024, 9, 20, 8, 3, 44, 658609, timezone(timedelta(hours=8))
        )

    def test_it_reads_z_as_utc(self) -> None:
        assert parse_go_time("2024-01-02T03:04:05Z") == datetime(
            2024, 1, 2, 3, 4, 5, tzinfo=UTC
        )

    def test_it_reads_a_space_separated_time_as_utc(self) -> None:
        assert parse_go_time("2024-1-2 3:04:05.5") == datetime(
            2024, 1, 2, 3, 4, 5, 500000, UTC
        )

    def test_it_reads_a_date_alone_as_midnight_utc(self) -> None:
        assert parse_go_time("2024-01-02") == datetime(2024, 1, 2, tzinfo=UTC)

    def test_it_refuses_text_and_impossible_dates(self) -> None:
        assert parse_go_time("yesterday") is None
        assert parse_go_time("2024-02-30T00:00:00Z") is None
