"""Catalogue sync: proposals that keep a plugin's models, prices and limits
current (issue 19).

A sync compares the plugin with a source (an OpenAI-compatible `GET
/v1/models` list, or a LiteLLM-format price table) and proposes items; an
author applies all or some of them in one edit. Nothing here touches a
database: the studio's `sync` app stores proposals and applies them through
`provider_edit`.

- `items`: the proposal item every source produces (this module's contract);
- `upstream`: model lists (new, gone, unchanged) and items adding models from
  a template and deprecating gone ones;
- `prices/`: LiteLLM tables parsed and mapped to Dify fields (Decimal units);
- `apply`: items applied to a `PluginDocument`;
- `fetch`: the one egress-guarded GET both sources read through.
"""
