"""Running one function in several threads at once, each with its own database
connection: how the upkeep tests play two machines running one beat task.

On PostgreSQL (CI's DATABASE_URL) the threads really overlap and meet each
other's row locks. On SQLite (a file, as the tests use it) they overlap too,
but the database takes one writer at a time (`transaction_mode IMMEDIATE`), so
there the test shows that the results add up, not how locks are met.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection


def run_at_once[T](fn: Callable[[], T], *, times: int = 2) -> list[T]:
    """`fn()` in `times` threads released together; their results, in order.

    An exception in any thread is raised here.
    """
    barrier = threading.Barrier(times)
    results: list[T | None] = [None] * times
    errors: list[BaseException] = []

    def target(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = fn()
        except BaseException as exc:  # handed to the test below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread did not finish"
    if errors:
        raise errors[0]
    return results  # type: ignore[return-value]
