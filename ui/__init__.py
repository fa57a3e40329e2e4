"""The web chat: a thin Gradio shell over `qa`'s `Assistant.answer()` that shows the evidence for each reply.

`ui.render` turns answers, citations and articles into escaped HTML; `ui.app` names the entry points (`build_app`,
`launch`, and `serve(host, port)`, which is what `qa serve` runs). Importing `ui` loads neither gradio nor a model.
"""

import os

# Before any module of the chat imports gradio: no usage analytics and no version check (the chat must work
# offline).
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
