"""The shape the catalog's edit forms share.

An edit form posts to its own page: htmx may ask for a live check of what was
typed (`_validate=1`: errors only, nothing saved); a valid post saves through
a service and redirects; a post made on an older `lock_version` is refused
with StaleEdit and answered 409 with both versions; anything else shows the
form again with its errors.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpResponse

from studio.lib.http import AuthedHttpRequest

from ..services import StaleEdit


def handle_edit_form(
    request: AuthedHttpRequest,
    *,
    is_valid: Callable[[], bool],
    save: Callable[[], HttpResponse | None],
    show: Callable[[StaleEdit | None], HttpResponse],
    feedback: Callable[[], HttpResponse] | None = None,
) -> HttpResponse:
    """Answer an edit form's request: live check, save, conflict or the form.

    `feedback` (when the form has a live check) renders the checked part for
    htmx; `save` saves and returns the response to send, or None when the
    service refused and put the reason on the form; `show` renders the form
    page, given the StaleEdit when the save came too late.
    """
    posting = request.method == "POST"
    if feedback is not None and posting and request.POST.get("_validate") == "1":
        # A live check never saves; without htmx it is just the page again.
        return feedback() if request.htmx else show(None)
    if posting and is_valid():
        try:
            response = save()
        except StaleEdit as exc:
            return show(exc)
        if response is not None:
            return response
    return show(None)
