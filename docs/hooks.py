"""mkdocs hooks: generated reference pages, notebooks run small, optional pages.

* ``<!-- generated: scenario-reference -->`` is replaced by the scenario reference
  generated from the schema (:mod:`sim.schema_doc`), ``<!-- generated: outputs -->``
  by the output data dictionary (:mod:`sim.output_columns`) and
  ``<!-- generated: cli -->`` by the command line's ``--help`` texts, so the
  site cannot drift from the code.
* The notebooks are executed at reduced size (``SIM_NOTEBOOK_QUICK=1``, as the
  tests run them), writing into a temporary folder, so the site shows their
  plots and the build stays short.
* Pages other contributors own are listed in the nav and dropped from it (with
  a message) while they do not exist yet, so a strict build does not fail on them.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
log = logging.getLogger("mkdocs.hooks.splitsim")

OPTIONAL_PAGES = {
    "energy.md",
    "errors.md",
    "calibrate_a_board.md",
    "sensitivity.md",
    "optimize.md",
    "early_exits.md",
    "bottlefit/index.md",
    "statistics.md",
}
"""Pages written by other contributors: in the nav once they exist."""


def _prune(nav: list, docs_dir: Path) -> list:
    kept = []
    for item in nav:
        if isinstance(item, dict):
            ((title, value),) = item.items()
            if isinstance(value, list):
                value = _prune(value, docs_dir)
                if value:
                    kept.append({title: value})
                continue
            if value in OPTIONAL_PAGES and not (docs_dir / value).exists():
                log.info("nav: %s is not written yet; left out", value)
                continue
            kept.append({title: value})
        else:
            kept.append(item)
    return kept


def on_config(config):
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    out = Path(tempfile.mkdtemp(prefix="splitsim-docs-"))
    os.environ["SIM_NOTEBOOK_QUICK"] = "1"
    os.environ["SIM_NOTEBOOK_OUT"] = str(out)
    os.environ["BOTTLEFIT_SIZE"] = "small"
    os.environ["MPLBACKEND"] = "Agg"
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(REPO), os.environ.get("PYTHONPATH")])
    )
    config["nav"] = _prune(config["nav"], Path(config["docs_dir"]))
    return config


def _cli_help() -> str:
    from sim.cli import _parser

    parser = _parser()
    texts = ["```text", parser.format_help().rstrip(), "```"]
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, command in sub.choices.items():
        texts += [
            f"### `python -m sim {name}`",
            "",
            "```text",
            command.format_help().rstrip(),
            "```",
            "",
        ]
    return "\n".join(texts)


def _unlink_missing(markdown: str, docs_dir: Path) -> str:
    """Links to optional pages that do not exist yet become plain text."""
    missing = [p for p in OPTIONAL_PAGES if not (docs_dir / p).exists()]
    if not missing:
        return markdown
    names = "|".join(re.escape(p) for p in missing)
    pattern = re.compile(rf"\[([^\]]+)\]\((?:\.\./)*(?:{names})(?:#[^)]*)?\)")
    return pattern.sub(r"\1", markdown)


def on_page_markdown(markdown, page, config, files):
    markdown = _unlink_missing(markdown, Path(config["docs_dir"]))
    if "<!-- generated:" not in markdown:
        return markdown
    if "<!-- generated: scenario-reference -->" in markdown:
        from sim.schema_render import reference_markdown

        markdown = markdown.replace("<!-- generated: scenario-reference -->", reference_markdown())
    if "<!-- generated: outputs -->" in markdown:
        from sim.output_columns import markdown as outputs_markdown

        markdown = markdown.replace("<!-- generated: outputs -->", outputs_markdown())
    if "<!-- generated: cli -->" in markdown:
        with contextlib.redirect_stdout(io.StringIO()):
            text = _cli_help()
        markdown = markdown.replace("<!-- generated: cli -->", text)
    return markdown
