"""Gradio's API page ("Use via API") for the chat's endpoint: each input named after the handler's parameter and
described by the handler's docstring, instead of gradio's "1st", "2nd", ….
"""

from __future__ import annotations

import inspect
from typing import Any

import gradio as gr
from gradio.components.api_component import Api


def describe_api_parameters(app: gr.Blocks, api_name: str, fn: Any) -> None:
    """Name each input of the gradio endpoint `api_name` after `fn`'s parameter and give it the description from
    `fn`'s docstring ("Args:"), which the API page shows (gradio labels them "1st", "2nd", … otherwise)."""
    described = docstring_arguments(fn.__doc__ or "")
    for block_fn in app.fns.values():
        if block_fn.api_name != api_name:
            continue
        names = list(inspect.signature(fn).parameters)
        for name, component in zip(names, block_fn.inputs, strict=False):
            if not isinstance(component, Api):
                continue
            component.label = name
            component._api_info = {**(component._api_info or {}), "additional_description": described.get(name, "")}


def docstring_arguments(doc: str) -> dict[str, str]:
    """{name: description} from a Google-style docstring's "Args:" section (continuation lines joined)."""
    found: dict[str, str] = {}
    inside, name, indent = False, None, None
    for line in inspect.cleandoc(doc).splitlines():
        stripped = line.strip()
        if stripped == "Args:":
            inside = True
            continue
        if not inside:
            continue
        if not stripped:
            continue
        depth = len(line) - len(line.lstrip())
        if depth == 0:  # the next section ("Returns:")
            break
        if indent is None or depth <= indent:
            indent = depth
            name, _, text = stripped.partition(":")
            found[name.strip()] = text.strip()
        elif name is not None:
            found[name] += " " + stripped
    return found
