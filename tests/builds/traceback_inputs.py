# ruff: noqa: E501 - recorded tracebacks keep their long lines
"""Tracebacks recorded from real smoke tests under the dify_plugin SDK (the
virtualenv's folder renamed): a model class whose `_invoke` raises (the SDK's
error for the request carries it, chained to its own), and a model module
that raises while the plugin starts (its stderr)."""

from __future__ import annotations

# The plugin's `_invoke` (models/llm/llm.py line 27) calls `_helper`, which
# raises at line 30.
INVOKE_PLUGIN_DIR = "/tmp/smoke-4cifka6h/plugin"
INVOKE_TRACEBACK = """\
Traceback (most recent call last):
  File "/srv/studio/var/cache/sdk-venvs/py312-23c5e8c3d4e56f8eee81/lib/python3.12/site-packages/dify_plugin/interfaces/model/large_language_model.py", line 873, in invoke
    result = self._invoke(
             ^^^^^^^^^^^^^
  File "/tmp/smoke-4cifka6h/plugin/models/llm/llm.py", line 27, in _invoke
    return self._helper(model)
           ^^^^^^^^^^^^^^^^^^^
  File "/tmp/smoke-4cifka6h/plugin/models/llm/llm.py", line 30, in _helper
    raise RuntimeError("boom in " + model)
RuntimeError: boom in smoke-llm

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/srv/studio/var/cache/sdk-venvs/py312-23c5e8c3d4e56f8eee81/lib/python3.12/site-packages/dify_plugin/core/server/io_server.py", line 96, in _execute_request_in_thread
    self._execute_request(
  File "/srv/studio/var/cache/sdk-venvs/py312-23c5e8c3d4e56f8eee81/lib/python3.12/site-packages/dify_plugin/plugin.py", line 574, in _execute_request
    for message in response:
  File "/srv/studio/var/cache/sdk-venvs/py312-23c5e8c3d4e56f8eee81/lib/python3.12/site-packages/dify_plugin/core/plugin_executor.py", line 330, in generator
    yield from result
  File "/srv/studio/var/cache/sdk-venvs/py312-23c5e8c3d4e56f8eee81/lib/python3.12/site-packages/dify_plugin/interfaces/model/large_language_model.py", line 884, in invoke
    raise self._transform_invoke_error(e) from e
dify_plugin.errors.model.InvokeError: [models] Error: boom in smoke-llm
"""

# models/llm/llm.py calls f() at line 23 while the SDK imports it; f raises at 21.
START_PLUGIN_DIR = "/tmp/smoke-4ek8jao8/plugin"
START_TRACEBACK = """\
Traceback (most recent call last):
  File "<frozen runpy>", line 198, in _run_module_as_main
  File "<frozen runpy>", line 88, in _run_code
  File "/tmp/smoke-4ek8jao8/plugin/main.py", line 3, in <module>
    plugin = Plugin(DifyPluginEnv(MAX_REQUEST_TIMEOUT=120))
             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/srv/studio/var/cache/sdk-venvs/py312-23c5e8c3d4e56f8eee81/lib/python3.12/site-packages/dify_plugin/plugin.py", line 46, in __init__
    self.registration = PluginRegistration(config)
                        ^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/srv/studio/var/cache/sdk-venvs/py312-23c5e8c3d4e56f8eee81/lib/python3.12/site-packages/dify_plugin/core/plugin_registration.py", line 143, in __init__
    self._resolve_plugin_cls()
  File "/srv/studio/var/cache/sdk-venvs/py312-23c5e8c3d4e56f8eee81/lib/python3.12/site-packages/dify_plugin/core/plugin_registration.py", line 471, in _resolve_plugin_cls
    self._resolve_model_providers()
  File "/srv/studio/var/cache/sdk-venvs/py312-23c5e8c3d4e56f8eee81/lib/python3.12/site-packages/dify_plugin/core/plugin_registration.py", line 415, in _resolve_model_providers
    model_classes = load_multi_subclasses_from_source(
                    ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/srv/studio/var/cache/sdk-venvs/py312-23c5e8c3d4e56f8eee81/lib/python3.12/site-packages/dify_plugin/core/utils/class_loader.py", line 57, in load_multi_subclasses_from_source
    module = import_module_from_source(
             ^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/srv/studio/var/cache/sdk-venvs/py312-23c5e8c3d4e56f8eee81/lib/python3.12/site-packages/dify_plugin/core/utils/class_loader.py", line 30, in import_module_from_source
    spec.loader.exec_module(module)
  File "<frozen importlib._bootstrap_external>", line 994, in exec_module
  File "<frozen importlib._bootstrap>", line 488, in _call_with_frames_removed
  File "/tmp/smoke-4ek8jao8/plugin/models/llm/llm.py", line 23, in <module>
    f()
  File "/tmp/smoke-4ek8jao8/plugin/models/llm/llm.py", line 21, in f
    return {}['x']
           ~~^^^^^
KeyError: 'x'
"""
