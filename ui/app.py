"""The web chat's entry points: `build_app(assistant)` makes the page, `launch(app, ...)` serves it, and
`serve(host, port)` does both for `qa serve`; `example_questions(settings)` gives the questions the empty chat
offers.

Where the rest lives: `ui.layout` lays out the page and wires its events, `ui.handlers` answers them (and the
`/ask` API endpoint), `ui.arguments` reads and checks what visitors and API clients send, `ui.uploads` takes
uploaded files into the corpus, `ui.render` makes the HTML, `ui.api` is the REST API, `ui.guard` the Host/Origin
check and sign-in throttle, and `ui.server` starts it all.
"""

from __future__ import annotations

from ui.examples import example_questions
from ui.layout import build_app
from ui.server import launch, serve

__all__ = ["build_app", "example_questions", "launch", "serve"]
