from __future__ import annotations

from pathlib import Path

import pytest
from django.core import mail

from studio.notifications import tasks
from studio.notifications.mail import mail_later

pytestmark = pytest.mark.django_db


@pytest.fixture
def hello_templates(settings, tmp_path: Path) -> None:
    folder = tmp_path / "mail"
    folder.mkdir()
    (folder / "hello_subject.txt").write_text("Hello\n  {{ name }}\n")
    (folder / "hello.txt").write_text("Hi {{ name }}, plain.\n")
    (folder / "hello.html").write_text("<p>Hi <b>{{ name }}</b></p>\n")
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]


class TestMailLater:
    def test_it_renders_now_and_publishes_the_parts_after_commit(
        self, hello_templates, django_capture_on_commit_callbacks, monkeypatch
    ) -> None:
        sent: list[dict[str, object]] = []
        monkeypatch.setattr(
            tasks.mail_send,
            "apply_async",
            lambda *, kwargs, **options: sent.append(kwargs),
        )
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            mail_later(
                to=["b@x.org", "a@x.org", "a@x.org", ""],
                template="hello",
                context={"name": "Ann & co"},
            )
            assert sent == []  # nothing leaves before the commit

        for callback in callbacks:
            callback()

        assert sent == [
            {
                "to": ["a@x.org", "b@x.org"],
                "subject": "Hello Ann & co",
                "text": "Hi Ann & co, plain.\n",
                "html": "<p>Hi <b>Ann &amp; co</b></p>\n",
            }
        ]

    def test_a_broker_outage_is_logged_not_raised(
        self, hello_templates, django_capture_on_commit_callbacks, monkeypatch, caplog
    ) -> None:
        def refuse(**_: object) -> None:
            raise OSError("connection refused")

        monkeypatch.setattr(tasks.mail_send, "apply_async", refuse)
        with django_capture_on_commit_callbacks(execute=True):
            publication = mail_later(to=["a@x.org"], template="hello", context={})

        assert publication is not None and publication.failed
        assert "not sent" in caplog.text and "connection refused" in caplog.text
        # The mail's text (an invitation or reset link, say) stays out of logs.
        assert "plain" not in caplog.text and "<b>" not in caplog.text

    def test_no_recipient_queues_nothing(self, hello_templates) -> None:
        assert mail_later(to=["", ""], template="hello", context={}) is None


class TestMailSend:
    def test_it_sends_a_text_and_an_html_part(self, settings) -> None:

        tasks.mail_send(to=["a@x.org"], subject="S", text="plain", html="<p>rich</p>")

        [message] = mail.outbox
        assert message.to == ["a@x.org"]
        assert message.subject == "S"
        assert message.body == "plain"
        assert message.alternatives[0][0] == "<p>rich</p>"
        assert message.from_email == settings.DEFAULT_FROM_EMAIL
