"""Panels that run the book's models in the reader's browser (no install, no server).

A panel is a labelled HTML form: inputs, a submit button, and an ``<output>`` that receives
the model's text. ``static/explainer-run.js`` wires every ``form.explainer-run`` on a page:
when the reader presses the button it loads ``onnxruntime-web`` and the model exported by
:mod:`explainer.onnx_export` from the site's own ``_static/``, runs it, and writes the
answer as text. Before a press the page downloads nothing more.

In a live kernel (JupyterLab) the same cells show the library's own widgets instead
(:func:`explainer.widgets.live_or_static`); a panel is what the published page shows.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Callable, Sequence
from typing import Any

from explainer.checks import check_int, check_number
from explainer.onnx_export import PANEL_LABELS, PANEL_REASONERS

__all__ = ["moe", "mtp", "reasoner", "run", "show"]

_ids = itertools.count(1)


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _form(panel: str, key: str, title: str, download: str, fields: str, button: str,
          output_for: str, attrs: str = "") -> str:
    """A panel's form: title, what a press downloads, the fields, the button, the output."""
    uid = f"run-{key}"
    return f"""<form class="explainer-run" data-panel="{panel}" id="{uid}" {attrs}
  aria-labelledby="{uid}-title" novalidate>
<p class="explainer-run-title" id="{uid}-title"><strong>{title}</strong>
 <span class="explainer-run-note">{download}</span></p>
<div class="explainer-run-fields">
{fields.replace("{uid}", uid)}
<button type="submit">{button}</button>
</div>
<p class="explainer-run-status" id="{uid}-status" role="status" aria-live="polite"></p>
<output class="explainer-run-output" for="{output_for.replace("{uid}", uid)}"
  aria-live="polite"></output>
</form>"""


def _check_key(key: str) -> None:
    if not isinstance(key, str) or not key.isidentifier():
        raise ValueError(f"key must be a short identifier, got {key!r}")


def show(panel: str, *, live: tuple[Sequence[Any], Callable[..., Any]] | None = None) -> None:
    """Display a panel's form on the published page. In a live kernel (JupyterLab) show
    ``live`` instead, the same model run in Python with ipywidgets
    (:func:`explainer.widgets.live_panel`), or nothing where the chapter's own widgets
    already run the same models.

    Args:
        panel: the HTML of :func:`reasoner`, :func:`run`, :func:`moe` or :func:`mtp`.
        live: ``(controls, compute)`` for the notebook, or ``None``.

    Raises:
        ValueError: if ``panel`` is not a panel's form, or ``live`` is not a pair.
    """
    from IPython.display import HTML, display

    from explainer.widgets import in_book_build, live_panel

    if not isinstance(panel, str) or not panel.startswith('<form class="explainer-run"'):
        raise ValueError("panel must be the HTML of explainer.panels.reasoner(), run(), moe() or mtp()")
    if live is not None and not (isinstance(live, tuple) and len(live) == 2 and callable(live[1])):
        raise ValueError("live must be None or a pair (controls, compute)")
    if in_book_build():
        display(HTML(panel))
    elif live is not None:
        display(live_panel(*live))


def reasoner(*, problem: str = "4821+3659", models: Sequence[str] = PANEL_REASONERS,
             default_model: str = "grpo", samples: int = 1, temperature: float = 0.0,
             max_digits: int = 5, key: str = "reasoner") -> str:
    """The "ask the reasoner" panel: an addition, a model, a temperature, 1-16 samples.

    Args:
        problem: the addition shown at first (the reader can change it).
        models: the reasoners offered (names of :data:`explainer.onnx_export.PANEL_REASONERS`).
        default_model: the one selected at first.
        samples: answers drawn at first (1-16).
        temperature: 0 (greedy) to 2.
        max_digits: the operand width the models were trained on (for the message).
        key: a short name that makes the form's ids unique on the page.

    Returns:
        the form's HTML (display it with ``IPython.display.HTML``).

    Raises:
        ValueError: on a model that is not offered, or a value out of range.
    """
    bad = [m for m in models if m not in PANEL_REASONERS]
    if not models or bad:
        raise ValueError(f"models must be among {PANEL_REASONERS}, got {list(models)}")
    if default_model not in models:
        raise ValueError(f"default_model must be one of {list(models)}, got {default_model!r}")
    check_int("samples", samples, 1, 16)
    check_number("temperature", temperature, 0, 2)
    _check_key(key)
    options = "".join(
        f'<option value="{_esc(m)}"{" selected" if m == default_model else ""}>'
        f"{_esc(PANEL_LABELS.get(m, m))}</option>" for m in models)
    return _form("reasoner", key, "Ask the model, in your browser",
                 "The model runs on this page; pressing the button downloads it (about half a "
                 "megabyte) and a WebAssembly runtime, once.",
                 f"""<label for="{{uid}}-problem">Addition <input id="{{uid}}-problem" name="problem"
  type="text" inputmode="numeric" autocomplete="off" spellcheck="false"
  value="{_esc(problem)}" size="13" aria-describedby="{{uid}}-status"></label>
<button type="button" data-action="random">Random problem</button>
<label for="{{uid}}-model">Model <select id="{{uid}}-model" name="model">{options}</select></label>
<label for="{{uid}}-temperature">Temperature <input id="{{uid}}-temperature" name="temperature"
  type="number" min="0" max="2" step="0.05" value="{temperature}"></label>
<label for="{{uid}}-samples">Samples <input id="{{uid}}-samples" name="samples" type="number"
  min="1" max="16" step="1" value="{samples}"></label>
<input type="hidden" name="seed" value="0">""",
                 "Run the model", "{uid}-problem {uid}-model {uid}-temperature {uid}-samples",
                 attrs=f'data-max-digits="{max_digits}"')


def run(*, problems: Sequence[str] = ("48765+25937", "31416+27183", "99999+1", "50505+49595"),
        step: int = 0, samples: int = 4, temperature: float = 1.0, max_digits: int = 5,
        key: str = "grpo_run") -> str:
    """The "learning to think" panel: the reader's problems, sampled at a chosen step of the
    shipped GRPO run (:data:`explainer.grpo.RUN_CHECKPOINTS`), or at every step in turn, with
    the share of answers that wrote a scratchpad and the share that were right.

    Args:
        problems: the additions shown at first (1-8; the reader can change them).
        step: the checkpoint selected at first.
        samples: answers per problem (1-8).
        temperature: 0 (greedy) to 2; the run itself sampled at 1.
        max_digits: the operand width the models were trained on (for the message).
        key: a short name that makes the form's ids unique on the page.

    Returns:
        the form's HTML.

    Raises:
        ValueError: on a step that is not a checkpoint, or a value out of range.
    """
    from explainer.grpo import RUN_CHECKPOINTS, STEPS

    if (isinstance(problems, str) or not isinstance(problems, Sequence)
            or not 1 <= len(problems) <= 8 or not all(isinstance(p, str) and p for p in problems)):
        raise ValueError(f"problems must be a list of 1 to 8 additions, got {problems!r}")
    if isinstance(step, bool) or step not in RUN_CHECKPOINTS:
        raise ValueError(f"step must be one of {RUN_CHECKPOINTS}, got {step!r}")
    check_int("samples", samples, 1, 8)
    check_number("temperature", temperature, 0, 2)
    _check_key(key)
    names = {0: "step 0: the base, before training", STEPS: f"step {STEPS}: the shipped model"}
    options = "".join(
        f'<option value="{s}"{" selected" if s == step else ""}>{_esc(names.get(s, f"step {s}"))}'
        "</option>" for s in RUN_CHECKPOINTS)
    return _form("run", key, "Sample the run at any step, in your browser",
                 f"Each step's model (about half a megabyte) downloads when you first sample it; "
                 f"the whole run is {len(RUN_CHECKPOINTS)} of them.",
                 f"""<label for="{{uid}}-problems">Additions <input id="{{uid}}-problems"
  name="problems" type="text" inputmode="numeric" autocomplete="off" spellcheck="false"
  value="{_esc(", ".join(problems))}" size="40" aria-describedby="{{uid}}-status"></label>
<button type="button" data-action="random">Random problems</button>
<label for="{{uid}}-step">Training step <select id="{{uid}}-step" name="step">{options}</select></label>
<label for="{{uid}}-samples">Samples each <input id="{{uid}}-samples" name="samples"
  type="number" min="1" max="8" step="1" value="{samples}"></label>
<label for="{{uid}}-temperature">Temperature <input id="{{uid}}-temperature" name="temperature"
  type="number" min="0" max="2" step="0.05" value="{temperature}"></label>
<input type="hidden" name="seed" value="0">
<button type="button" data-action="sweep">Every step, in turn</button>""",
                 "Sample this step",
                 "{uid}-problems {uid}-step {uid}-samples {uid}-temperature",
                 attrs=f'data-max-digits="{max_digits}"')


def mtp(*, prompt: str = "The main model checks the draft", chars: int = 60,
        key: str = "mtp") -> str:
    """The "two tokens at once" panel: a prompt, then plain and speculative greedy decoding.

    Args:
        prompt: the text shown at first (the reader can change it).
        chars: characters to write at first (1-90).
        key: a short name that makes the form's ids unique on the page.

    Returns:
        the form's HTML.

    Raises:
        ValueError: on an empty prompt, ``chars`` out of range, or a bad key.
    """
    if not isinstance(prompt, str) or not prompt:
        raise ValueError(f"prompt must be a non-empty string, got {prompt!r}")
    if isinstance(chars, bool) or not isinstance(chars, int) or not 1 <= chars <= 90:
        raise ValueError(f"chars must be an int in 1..90, got {chars!r}")
    _check_key(key)
    return _form("mtp", key, "Write with and without drafts, in your browser",
                 "Pressing the button downloads the model (about 2.6 megabytes) and a "
                 "WebAssembly runtime, once.",
                 f"""<label for="{{uid}}-prompt">Prompt <input id="{{uid}}-prompt" name="prompt"
  type="text" autocomplete="off" spellcheck="false" value="{_esc(prompt)}" size="34"
  aria-describedby="{{uid}}-status"></label>
<label for="{{uid}}-chars">Characters to write <input id="{{uid}}-chars" name="chars"
  type="number" min="1" max="90" step="1" value="{chars}"></label>""",
                 "Write", "{uid}-prompt {uid}-chars")


def moe(*, sentence: str = "The router sends each character to two experts.",
        key: str = "moe") -> str:
    """The "experts on call" panel: a sentence, routed by the three balancing runs side by side.

    Args:
        sentence: the text shown at first (the reader can change it).
        key: a short name that makes the form's ids unique on the page.

    Returns:
        the form's HTML.

    Raises:
        ValueError: on an empty sentence or a bad key.
    """
    if not isinstance(sentence, str) or len(sentence) < 2:
        raise ValueError(f"sentence must be a string of at least 2 characters, got {sentence!r}")
    _check_key(key)
    return _form("moe", key, "Route your own sentence, in your browser",
                 "Pressing the button downloads the three models (about 1.5 megabytes) and a "
                 "WebAssembly runtime, once.",
                 f"""<label for="{{uid}}-sentence">Sentence <input id="{{uid}}-sentence"
  name="sentence" type="text" autocomplete="off" spellcheck="false" value="{_esc(sentence)}"
  size="40" maxlength="64" aria-describedby="{{uid}}-status"></label>""",
                 "Route it", "{uid}-sentence")
