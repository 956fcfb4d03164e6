"""The build page and the builds list in a real browser at 1280x800, light
and dark: nothing scrolls sideways, every button has a name, a copy button
copies its value (and selects it when the clipboard is out of reach)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from studio.builds import services
from studio.builds.models import Build
from tests.browser import chromium_page, log_in, screenshot
from tests.builds.conftest import Personas, Published
from tests.factories import make_provider

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Elements wider than their box, and buttons without a name (aria-label or text).
OVERFLOW = """() => {
  const boxes = [document.documentElement, document.body,
    ...document.querySelectorAll("main, .card, table, dl, section")];
  return boxes.filter(el => el.scrollWidth > el.clientWidth + 1)
    .map(el => `${el.tagName}.${el.className}#${el.id}: `
      + `${el.scrollWidth} > ${el.clientWidth}`);
}"""
NAMELESS = """() => [...document.querySelectorAll("button")]
  .filter(b => !((b.getAttribute("aria-label") || "").trim() || b.textContent.trim()))
  .map(b => b.outerHTML)"""


@pytest.fixture
def page(live_server: Any) -> Iterator[Any]:
    with chromium_page(width=1280, height=800) as page:
        yield page


def check_page(page: Any, name: str) -> None:
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        page.reload()
        assert page.evaluate(OVERFLOW) == [], scheme
        assert page.evaluate(NAMELESS) == [], scheme
        screenshot(page, f"{name}-{scheme}")


class TestBuildsInTheBrowser:
    def test_the_build_page_and_the_list_fit_and_copy(
        self,
        page: Any,
        live_server: Any,
        personas: Personas,
        broker: Published,
        run_published: Any,
        keypair: tuple[bytes, bytes],
    ) -> None:
        base = live_server.url
        provider = make_provider(personas.team, models=3)
        first = services.build_start(provider=provider, user=personas.bob, smoke=False)

        # The page of a queued build polls; when it ends, the swapped-in
        # Package block has its copy buttons shown too.
        log_in(page, base, "victor")
        page.goto(f"{base}/builds/{first.pk}/")
        assert page.locator("section.package").count() == 0
        run_published()
        copy = page.get_by_role("button", name="Copy plugin identifier")
        copy.wait_for(state="visible")
        services.signing_key_upload(
            team=personas.team,
            user=personas.alice,
            private_pem=keypair[0],
            name="acme-release-2026",
        )
        for _ in range(2):
            services.build_start(provider=provider, user=personas.alice, smoke=False)
            run_published()
        builds = list(Build.objects.order_by("id"))
        assert [b.status for b in builds] == ["succeeded"] * 3
        # Known durations: 0.4 s in the queue and 8.4 s run; 3 s and 1 m 12 s.
        created = timezone.now() - timedelta(hours=2)
        for build, (waited, ran) in zip(
            builds, [(0.4, 8.4), (3, 72), (1.2, 31)], strict=True
        ):
            started = created + timedelta(seconds=waited)
            Build.objects.filter(pk=build.pk).update(
                created_at=created,
                started_at=started,
                finished_at=started + timedelta(seconds=ran),
            )
            created += timedelta(minutes=5)
        build = Build.objects.get(pk=builds[-1].pk)
        assert build.signed

        page.goto(f"{base}/providers/{provider.pk}/builds/")
        history = page.locator("table.build-history tbody tr")
        assert history.count() == 3
        texts = [history.nth(i).inner_text() for i in range(3)]
        assert "31 s" in texts[0] and "queued 1.2 s" in texts[0]
        assert "1 m 12 s" in texts[1] and "8.4 s" in texts[2]
        assert f"b{builds[0].pk}-unsigned.difypkg" in texts[2]
        assert f"b{build.pk}-signed.difypkg" in texts[0]
        check_page(page, "builds-list")

        page.goto(f"{base}/builds/{build.pk}/")
        package = page.locator("section.package")
        sha_button = package.get_by_role("button", name="Copy SHA-256")
        assert sha_button.is_visible()  # revealed by the script
        for label in ("daemon checksum", "plugin identifier", "key fingerprint"):
            assert package.get_by_role("button", name=f"Copy {label}").is_visible()
        assert "acme-release-2026" in package.inner_text()
        check_page(page, "build-page")

        page.goto(f"{base}/teams/{personas.team.slug}/signing-keys/")
        key = page.get_by_role("button", name="Copy fingerprint of acme-release-2026")
        assert key.is_visible()
        check_page(page, "signing-keys")
        page.goto(f"{base}/builds/{build.pk}/")

        # The clipboard, when the page may use it.
        page.context.grant_permissions(
            ["clipboard-read", "clipboard-write"], origin=base
        )
        sha_button.click()
        status = package.locator("#package-sha256 ~ .copy-status")
        status.filter(has_text="Copied.").wait_for()
        assert page.evaluate("navigator.clipboard.readText()") == build.sha256

        # Without a clipboard API the value is selected for Ctrl+C.
        page.evaluate(
            "Object.defineProperty(navigator, 'clipboard', {value: undefined})"
        )
        package.get_by_role("button", name="Copy plugin identifier").click()
        assert page.evaluate("window.getSelection().toString()") == build.identifier
        assert package.locator("#package-identifier ~ .copy-status").inner_text()
