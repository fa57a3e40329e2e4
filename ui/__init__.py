"""The web chat: a thin Gradio shell over `qa`'s `Assistant.answer()` that shows the evidence for each reply.

`ui.render` turns answers, citations and articles into escaped HTML; `ui.app` lays out the page and serves it
(`ui.app.serve(host, port)` is what `qa serve` runs). Importing `ui` loads neither gradio nor a model.
"""
