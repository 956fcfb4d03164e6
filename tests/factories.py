"""Small typed makers of test data."""

from __future__ import annotations

from django.contrib.auth.models import User

from studio.catalog import services
from studio.catalog.models import Membership, Provider, Role, Team
from studio.pluginfmt.document.yamltext import dump_yaml
from studio.pluginfmt.scaffold import NewPlugin

PASSWORD = "correct horse battery staple"


def make_user(username: str = "alice", *, password: str = PASSWORD) -> User:
    return User.objects.create_user(username=username, password=password)


def make_staff(username: str = "admin") -> User:
    """A user who may use the administrators' tools (the worker check)."""
    user = make_user(username)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


def make_team(name: str = "Acme", *, owner: User | None = None) -> Team:
    owner = owner or make_user(f"owner-of-{name.lower()}")
    return services.team_create(name=name, owner=owner)


def make_member(team: Team, username: str, role: str = Role.AUTHOR) -> User:
    user = make_user(username)
    Membership.objects.create(team=team, user=user, role=role)
    return user


def make_new_plugin(
    name: str = "gateway",
    *,
    author: str = "acme",
    model_types: list[str] | None = None,
    methods: list[str] | None = None,
    runtime: str = "openai-compatible",
    repo: str | None = None,
    contact: str = "dev@acme.example",
) -> NewPlugin:
    """A new plugin as an author fills the form in, repository and contact too."""
    return NewPlugin(
        author=author,
        name=name,
        label={"en_US": name.title()},
        description={"en_US": f"The {name} models"},
        model_types=model_types or ["llm"],
        configurate_methods=methods or ["predefined-model", "customizable-model"],
        runtime=runtime,
        repo=f"https://github.com/{author}/{name}" if repo is None else repo,
        contact=contact,
    )


# A generated plugin without the Marketplace's repo and contact (factories fill
# them in by default): the pre-check then blocks on four rules.
NO_MARKETPLACE_FIELDS = {"repo": "", "contact": ""}


def make_provider(
    team: Team, name: str = "gateway", *, models: int = 0, **kwargs: object
) -> Provider:
    """A generated provider with `models` predefined llm models."""
    provider = services.provider_create(
        team=team,
        user=None,
        plugin=make_new_plugin(name, **kwargs),  # type: ignore[arg-type]
    )
    if models:
        add_llm_models(provider, models)
    return provider


def llm_model_data(model: str, *, context_size: int = 8192) -> dict:
    return {
        "model": model,
        "label": {"en_US": model.upper()},
        "model_type": "llm",
        "features": ["agent-thought"],
        "model_properties": {"mode": "chat", "context_size": context_size},
        "parameter_rules": [
            {"name": "temperature", "use_template": "temperature"},
            {"name": "max_tokens", "use_template": "max_tokens", "default": 512},
        ],
        "pricing": {
            "input": "0.5",
            "output": "1.5",
            "unit": "0.000001",
            "currency": "USD",
        },
    }


def add_llm_models(provider: Provider, count: int) -> None:
    """Add `count` llm model files (and their position file) in one edit."""
    from studio.pluginfmt.document import dump_document, load_document

    files = services.provider_files(provider)
    names = [f"model-{i:03d}" for i in range(count)]
    for name in names:
        files[f"models/llm/{name}.yaml"] = dump_yaml(llm_model_data(name))
    files["models/llm/_position.yaml"] = dump_yaml(names)
    doc = load_document(files)
    block = doc.provider.spec.models["llm"]
    block.position = "models/llm/_position.yaml"
    files = dump_document(doc)
    services.provider_replace_files(provider=provider, files=files)
