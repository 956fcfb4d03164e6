"""Authentication, rate limiting and the error shape, on every endpoint."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from studio.api import services, throttling
from studio.api.models import ApiToken
from studio.api.openapi import api_routes
from studio.catalog.models import Membership
from studio.catalog.services import members as member_services
from studio.sync.models import SyncProposal
from tests.api.conftest import Api, make_token, token_row
from tests.catalog.conftest import Personas

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: Callable[[dict[str, Any]], str]
    # Whether it names an object (another team's is then a 404).
    scoped: bool = True
    body: str = "{}"

    def url(self, ids: dict[str, Any]) -> str:
        return self.path(ids)


ENDPOINTS = {
    "me": Endpoint("GET", lambda i: "/api/v1/me", scoped=False),
    "provider-list": Endpoint("GET", lambda i: "/api/v1/providers", scoped=False),
    "provider-read": Endpoint("GET", lambda i: f"/api/v1/providers/{i['provider']}"),
    "provider-models": Endpoint(
        "GET", lambda i: f"/api/v1/providers/{i['provider']}/models"
    ),
    "provider-document": Endpoint(
        "GET", lambda i: f"/api/v1/providers/{i['provider']}/document"
    ),
    "provider-verify": Endpoint(
        "GET", lambda i: f"/api/v1/providers/{i['provider']}/verify"
    ),
    "build-list": Endpoint(
        "GET", lambda i: f"/api/v1/providers/{i['provider']}/builds"
    ),
    "build-create": Endpoint(
        "POST", lambda i: f"/api/v1/providers/{i['provider']}/builds"
    ),
    "revision-list": Endpoint(
        "GET", lambda i: f"/api/v1/providers/{i['provider']}/revisions"
    ),
    "revision-diff": Endpoint(
        "GET",
        lambda i: f"/api/v1/providers/{i['provider']}/revisions/{i['revision']}/diff",
    ),
    "revision-release-notes": Endpoint(
        "GET",
        lambda i: (
            f"/api/v1/providers/{i['provider']}/revisions/{i['revision']}/release-notes"
        ),
    ),
    "release-list": Endpoint(
        "GET", lambda i: f"/api/v1/providers/{i['provider']}/releases"
    ),
    "release-create": Endpoint(
        "POST",
        lambda i: f"/api/v1/providers/{i['provider']}/releases",
        body='{"revision": 1}',
    ),
    "build-read": Endpoint("GET", lambda i: f"/api/v1/builds/{i['build']}"),
    "build-artifact": Endpoint(
        "GET", lambda i: f"/api/v1/builds/{i['build']}/artifact"
    ),
    "build-submission-kit": Endpoint(
        "GET", lambda i: f"/api/v1/builds/{i['build']}/submission-kit"
    ),
    "import-create": Endpoint("POST", lambda i: "/api/v1/imports", scoped=False),
    "import-read": Endpoint("GET", lambda i: f"/api/v1/imports/{i['import']}"),
    "import-choice": Endpoint(
        "POST",
        lambda i: f"/api/v1/imports/{i['import']}/choice",
        body='{"mode": "cancel"}',
    ),
    "member-list": Endpoint("GET", lambda i: "/api/v1/members", scoped=False),
    "invitation-list": Endpoint("GET", lambda i: "/api/v1/invitations", scoped=False),
    "invitation-create": Endpoint(
        "POST",
        lambda i: "/api/v1/invitations",
        scoped=False,
        body='{"email": "dora@example.com", "role": "viewer", "mail": false}',
    ),
    "invitation-revoke": Endpoint(
        "POST", lambda i: f"/api/v1/invitations/{i['invitation']}/revoke"
    ),
    "playground-start": Endpoint(
        "POST", lambda i: f"/api/v1/providers/{i['provider']}/playground/sessions"
    ),
    "playground-message": Endpoint(
        "POST",
        lambda i: (
            f"/api/v1/providers/{i['provider']}/playground/sessions/"
            f"{i['session']}/messages"
        ),
        body='{"model": "model-000", "message": "Hello"}',
    ),
    "sync-propose": Endpoint(
        "POST",
        lambda i: f"/api/v1/providers/{i['provider']}/sync/proposals",
        body='{"source": "upstream", "base_url": "http://10.0.0.1/v1"}',
    ),
    "sync-proposal-read": Endpoint(
        "GET",
        lambda i: f"/api/v1/providers/{i['provider']}/sync/proposals/{i['proposal']}",
    ),
    "sync-proposal-apply": Endpoint(
        "POST",
        lambda i: (
            f"/api/v1/providers/{i['provider']}/sync/proposals/{i['proposal']}/apply"
        ),
    ),
    "playground-end": Endpoint(
        "DELETE",
        lambda i: (
            f"/api/v1/providers/{i['provider']}/playground/sessions/{i['session']}"
        ),
    ),
}
SCOPED = [name for name, e in ENDPOINTS.items() if e.scoped]


@pytest.fixture
def ids(
    provider: Any,
    finished_build: Any,
    import_job: Any,
    revisions: Any,
    personas: Personas,
) -> dict[str, Any]:
    invitation = member_services.invitation_create(
        team=personas.team,
        email="eve@example.com",
        role="viewer",
        by=personas.alice,
        mail=False,
    ).invitation
    return {
        "provider": provider.pk,
        "build": finished_build.pk,
        "import": import_job.pk,
        "revision": revisions.pending.number,
        "invitation": invitation.pk,
        # No playground server runs here: a session id that names nothing.
        "session": "no-such-session",
        "proposal": SyncProposal.objects.create(
            provider=provider, source="upstream", lock_version=provider.lock_version
        ).pk,
    }


def call(api: Api, endpoint: Endpoint, ids: dict[str, Any], **kwargs: Any) -> Any:
    url = endpoint.url(ids)
    if endpoint.method == "POST":
        return api.post(url, endpoint.body, **kwargs)
    if endpoint.method == "DELETE":
        return api.delete(url, **kwargs)
    return api.get(url, **kwargs)


def error_of(response: Any) -> dict[str, Any]:
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    return body["error"]


class TestTheEndpointTable:
    def test_it_names_every_operation_the_api_routes(self) -> None:
        declared = {
            (op.method, path) for path, ops, _ in api_routes() for op in ops.values()
        }
        covered = {
            (
                e.method,
                e.url(
                    {
                        "provider": "{provider_id}",
                        "build": "{build_id}",
                        "import": "{import_id}",
                        "revision": "{number}",
                        "invitation": "{invitation_id}",
                        "session": "{session_id}",
                        "proposal": "{proposal_id}",
                    }
                ),
            )
            for e in ENDPOINTS.values()
        }
        # The open description needs no token (tests/api/test_openapi.py).
        missing = {(m, p) for m, p in declared - covered if p != "/api/v1/openapi.json"}
        assert missing == set()


@pytest.mark.parametrize("name", list(ENDPOINTS))
class TestEveryEndpoint:
    def test_it_refuses_a_request_without_a_token(
        self, name: str, client: Client, ids: dict[str, Any]
    ) -> None:
        response = call(Api(client), ENDPOINTS[name], ids)
        assert response.status_code == 401
        assert error_of(response)["code"] == "unauthenticated"
        assert response["WWW-Authenticate"] == 'Bearer realm="studio"'

    def test_it_refuses_a_wrong_token(
        self, name: str, api: Api, ids: dict[str, Any]
    ) -> None:
        real = api.token
        assert real is not None
        forged = real[:12] + ("A" if real[12] != "A" else "B") + real[13:]
        response = call(api, ENDPOINTS[name], ids, token=forged)
        assert response.status_code == 401
        assert error_of(response)["code"] == "unauthenticated"

    def test_it_refuses_a_revoked_token(
        self, name: str, api: Api, ids: dict[str, Any], personas: Personas
    ) -> None:
        assert api.token is not None
        services.token_revoke(token=token_row(api.token), by=personas.bob)
        response = call(api, ENDPOINTS[name], ids)
        assert response.status_code == 401
        assert error_of(response)["code"] == "token_revoked"
        assert 'error="invalid_token"' in response["WWW-Authenticate"]

    def test_it_refuses_an_expired_token(
        self, name: str, api: Api, ids: dict[str, Any], personas: Personas
    ) -> None:
        expired = make_token(
            personas.bob,
            personas.team,
            expires_at=timezone.now() - timedelta(seconds=1),
        )
        response = call(api, ENDPOINTS[name], ids, token=expired)
        assert response.status_code == 401
        assert error_of(response)["code"] == "token_expired"

    def test_it_answers_429_past_the_rate_limit(
        self,
        name: str,
        api: Api,
        ids: dict[str, Any],
        redis_url: str,
        settings: Any,
    ) -> None:
        settings.API_RATE_LIMIT = 2
        throttling.rate_reset_outage()
        token = make_token(*_bob_in_acme(api))
        for _ in range(2):
            assert api.get("/api/v1/me", token=token).status_code == 200
        response = call(api, ENDPOINTS[name], ids, token=token)
        assert response.status_code == 429
        assert error_of(response)["code"] == "rate_limited"
        assert 1 <= int(response["Retry-After"]) <= settings.API_RATE_WINDOW


def _bob_in_acme(api: Api) -> tuple[Any, Any]:
    row = token_row(api.token or "")
    return row.user, row.team


@pytest.mark.parametrize("name", SCOPED)
class TestAnotherTeamsObjects:
    def test_they_are_404_exactly_like_missing_ones(
        self, name: str, api: Api, ids: dict[str, Any], tokens: dict[str, str]
    ) -> None:
        endpoint = ENDPOINTS[name]
        theirs = call(api, endpoint, ids, token=tokens["mallory"])
        missing = call(
            api,
            endpoint,
            {
                "provider": 10**12,
                "build": 10**12,
                "import": 10**12,
                "revision": 9,
                "invitation": 10**12,
                "session": "no-such-session",
                "proposal": 10**12,
            },
            token=tokens["mallory"],
        )
        assert theirs.status_code == missing.status_code == 404
        assert error_of(theirs)["code"] == "not_found"
        assert theirs.content == missing.content

    def test_a_read_only_member_of_another_team_gets_404_not_403(
        self,
        name: str,
        api: Api,
        ids: dict[str, Any],
        personas: Personas,
    ) -> None:
        Membership.objects.create(
            team=personas.other_team, user=personas.carol, role="viewer"
        )
        token = make_token(personas.carol, personas.other_team)
        response = call(api, ENDPOINTS[name], ids, token=token)
        assert response.status_code == 404


class TestTokens:
    def test_the_session_never_authenticates_the_api(
        self, client: Client, personas: Personas
    ) -> None:
        client.force_login(personas.alice)
        response = client.get("/api/v1/providers")
        assert response.status_code == 401
        assert error_of(response)["code"] == "unauthenticated"

    def test_post_needs_no_csrf_token(self, api: Api, provider: Any) -> None:
        api.client = Client(enforce_csrf_checks=True)
        response = api.get("/api/v1/me")
        assert response.status_code == 200
        response = api.post("/api/v1/imports", {"mode": "new"})
        assert response.status_code == 400  # reached the view: no file, no CSRF 403

    def test_another_scheme_is_refused(self, api: Api) -> None:
        response = api.client.get(
            "/api/v1/me", headers={"Authorization": f"Token {api.token}"}
        )
        assert response.status_code == 401
        assert "Bearer" in error_of(response)["message"]

    def test_a_user_who_left_the_team_has_a_dead_token(
        self, api: Api, personas: Personas
    ) -> None:
        Membership.objects.filter(user=personas.bob, team=personas.team).delete()
        response = api.get("/api/v1/me")
        assert response.status_code == 401
        assert error_of(response)["code"] == "token_revoked"

    def test_a_personal_token_follows_its_users_role(
        self, api: Api, personas: Personas
    ) -> None:
        assert api.get("/api/v1/me").json()["role"] == "author"
        Membership.objects.filter(user=personas.bob, team=personas.team).update(
            role="viewer"
        )
        body = api.get("/api/v1/me").json()
        assert body["role"] == "viewer"
        assert body["can_write"] is False

    def test_a_team_token_has_its_own_role(self, api: Api, personas: Personas) -> None:
        token = make_token(
            personas.alice,
            personas.team,
            kind=ApiToken.Kind.TEAM,
            role="viewer",
        )
        body = api.get("/api/v1/me", token=token).json()
        assert body["role"] == "viewer"
        assert body["user"] is None
        assert body["token"]["kind"] == "team"

    def test_it_records_the_last_use(self, api: Api) -> None:
        assert api.token is not None
        assert token_row(api.token).last_used_at is None
        api.get("/api/v1/me")
        assert token_row(api.token).last_used_at is not None


class TestRateLimiting:
    def test_answers_carry_the_remaining_budget(
        self, api: Api, redis_url: str, settings: Any
    ) -> None:
        settings.API_RATE_LIMIT = 5
        token = make_token(*_bob_in_acme(api))
        first = api.get("/api/v1/me", token=token)
        second = api.get("/api/v1/me", token=token)
        assert first["RateLimit-Limit"] == "5"
        assert first["RateLimit-Remaining"] == "4"
        assert second["RateLimit-Remaining"] == "3"

    def test_each_token_has_its_own_budget(
        self, api: Api, redis_url: str, settings: Any
    ) -> None:
        settings.API_RATE_LIMIT = 1
        one = make_token(*_bob_in_acme(api))
        two = make_token(*_bob_in_acme(api))
        assert api.get("/api/v1/me", token=one).status_code == 200
        assert api.get("/api/v1/me", token=one).status_code == 429
        assert api.get("/api/v1/me", token=two).status_code == 200

    def test_the_api_still_answers_when_redis_is_down(
        self, api: Api, settings: Any
    ) -> None:
        settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
        settings.API_RATE_LIMIT = 1
        answers = [api.get("/api/v1/me").status_code for _ in range(3)]
        assert answers == [200, 200, 200]

    def test_an_outage_is_not_retried_on_every_request(
        self, api: Api, settings: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        settings.REDIS_URL = "redis://127.0.0.1:1/0"
        tries: list[str] = []
        real = throttling._client

        def counting(url: str) -> Any:
            tries.append(url)
            return real(url)

        monkeypatch.setattr(throttling, "_client", counting)
        for _ in range(3):
            api.get("/api/v1/me")
        assert len(tries) == 1

    def test_a_window_counts_from_its_start(
        self, redis_url: str, settings: Any
    ) -> None:
        settings.API_RATE_LIMIT = 2
        settings.API_RATE_WINDOW = 60
        key = "window-test-" + str(timezone.now().timestamp())
        assert throttling.rate_check(key, now=120.0).remaining == 1
        assert throttling.rate_check(key, now=150.0).remaining == 0
        late = throttling.rate_check(key, now=179.0)
        assert (late.allowed, late.reset_in) == (False, 1)
        assert throttling.rate_check(key, now=180.0).allowed


class TestErrors:
    def test_an_unknown_endpoint_is_a_json_404(self, api: Api) -> None:
        response = api.get("/api/v1/no/such/thing")
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"

    def test_a_post_to_an_unknown_endpoint_is_a_json_404(self, api: Api) -> None:
        api.client = Client(enforce_csrf_checks=True)
        response = api.post("/api/v1/nothing", "{}")
        assert response.status_code == 404

    def test_a_wrong_method_is_a_json_405(self, api: Api, provider: Any) -> None:
        response = api.client.delete(
            f"/api/v1/providers/{provider.pk}", headers=api.headers(None)
        )
        assert response.status_code == 405
        assert error_of(response)["code"] == "method_not_allowed"
        assert response["Allow"] == "GET"

    def test_an_id_too_large_for_the_database_is_a_404(self, api: Api) -> None:
        response = api.get("/api/v1/providers/99999999999999999999999")
        assert response.status_code == 404
        response = api.get(f"/api/v1/providers/{2**63}")
        assert response.status_code == 404
