"""The shape the catalog's edit views share (`views.editing.handle_edit_form`)."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from django_htmx.middleware import HtmxDetails

from studio.catalog.models import Provider
from studio.catalog.services import StaleEdit
from studio.catalog.views.editing import handle_edit_form


def make_request(method: str, data: dict[str, str], *, htmx: bool) -> Any:
    factory = RequestFactory()
    headers = {"HX-Request": "true"} if htmx else {}
    request: HttpRequest = (
        factory.post("/", data, headers=headers)
        if method == "POST"
        else factory.get("/", headers=headers)
    )
    request.htmx = HtmxDetails(request)  # type: ignore[attr-defined]
    return request


class Recorder:
    """Stands in for a view's form, service and templates; says what ran."""

    def __init__(self, *, valid: bool = True, save: str = "saved") -> None:
        self.valid = valid
        self.save_outcome = save
        self.calls: list[str] = []

    def is_valid(self) -> bool:
        self.calls.append("is_valid")
        return self.valid

    def save(self) -> HttpResponse | None:
        self.calls.append("save")
        if self.save_outcome == "stale":
            raise StaleEdit(Provider(author="acme", name="gateway", lock_version=7))
        if self.save_outcome == "refused":
            return None
        return HttpResponse("saved", status=302)

    def show(self, stale: StaleEdit | None) -> HttpResponse:
        self.calls.append("show")
        if stale is not None:
            return HttpResponse(f"conflict {stale.provider.lock_version}", status=409)
        return HttpResponse("form")

    def feedback(self) -> HttpResponse:
        self.calls.append("feedback")
        return HttpResponse("feedback")

    def run(self, request: Any, *, live_check: bool = True) -> HttpResponse:
        return handle_edit_form(
            request,
            is_valid=self.is_valid,
            save=self.save,
            show=self.show,
            feedback=self.feedback if live_check else None,
        )


class TestHandleEditForm:
    def test_a_get_shows_the_form_and_validates_nothing(self) -> None:
        form = Recorder()
        response = form.run(make_request("GET", {}, htmx=False))
        assert response.content == b"form"
        assert form.calls == ["show"]

    def test_a_valid_post_answers_with_what_the_save_returned(self) -> None:
        form = Recorder()
        response = form.run(make_request("POST", {"a": "1"}, htmx=False))
        assert (response.status_code, response.content) == (302, b"saved")
        assert form.calls == ["is_valid", "save"]

    def test_an_invalid_post_shows_the_form_without_saving(self) -> None:
        form = Recorder(valid=False)
        response = form.run(make_request("POST", {"a": "1"}, htmx=True))
        assert response.content == b"form"
        assert form.calls == ["is_valid", "show"]

    def test_a_stale_save_shows_the_conflict(self) -> None:
        form = Recorder(save="stale")
        response = form.run(make_request("POST", {"a": "1"}, htmx=True))
        assert (response.status_code, response.content) == (409, b"conflict 7")
        assert form.calls == ["is_valid", "save", "show"]

    def test_a_save_the_service_refused_shows_the_form_again(self) -> None:
        form = Recorder(save="refused")
        response = form.run(make_request("POST", {"a": "1"}, htmx=False))
        assert (response.status_code, response.content) == (200, b"form")
        assert form.calls == ["is_valid", "save", "show"]

    def test_an_htmx_live_check_answers_with_the_feedback_only(self) -> None:
        form = Recorder()
        response = form.run(make_request("POST", {"_validate": "1"}, htmx=True))
        assert response.content == b"feedback"
        assert form.calls == ["feedback"]

    def test_a_live_check_without_htmx_shows_the_form_and_saves_nothing(
        self,
    ) -> None:
        form = Recorder()
        response = form.run(make_request("POST", {"_validate": "1"}, htmx=False))
        assert response.content == b"form"
        assert form.calls == ["show"]

    @pytest.mark.parametrize("htmx", [True, False])
    def test_a_form_without_a_live_check_saves_whatever_was_posted(
        self, htmx: bool
    ) -> None:
        form = Recorder()
        request = make_request("POST", {"_validate": "1"}, htmx=htmx)
        response = form.run(request, live_check=False)
        assert response.content == b"saved"
        assert form.calls == ["is_valid", "save"]
