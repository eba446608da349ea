"""The campaign-file reference, rendered from the campaign files' pydantic models.

A ``{campaign-file} crystal`` directive in a MyST page writes the kind's annotated file of
defaults (what ``discoverflow config show crystal`` prints) and an ``autopydantic_model``
entry for the file's model and every section model it holds, so that each key's type,
default and description come from the one place they are declared.
"""

from __future__ import annotations

from docutils import nodes
from docutils.statemachine import StringList
from pydantic import BaseModel
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from discoverflow.campaigns.loading import config_type, default_file
from discoverflow.campaigns.schema import models_in


def section_models(model: type[BaseModel]) -> list[type[BaseModel]]:
    """The model and every model its fields hold, depth first, each once."""
    found: list[type[BaseModel]] = []

    def visit(current: type[BaseModel]) -> None:
        if current in found:
            return
        found.append(current)
        for field in current.model_fields.values():
            for inner in models_in(field.annotation):
                visit(inner)

    visit(model)
    return found


def methods(model: type[BaseModel]) -> list[str]:
    """The model's public names that are not fields (its methods and properties)."""
    return [
        name
        for name in dir(model)
        if not name.startswith("_")
        and name not in model.model_fields
        and name not in dir(BaseModel)
    ]


class CampaignFileDirective(SphinxDirective):
    """A campaign kind's annotated defaults and the reference of its section models."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        workflow = self.arguments[0]
        defaults = default_file(workflow)
        block = nodes.literal_block(defaults, defaults, language="javascript")
        lines = []  # a MyST page: autodoc's output is reStructuredText, parsed by eval-rst
        for model in section_models(config_type(workflow)):
            lines += [
                "```{eval-rst}",
                f".. autopydantic_model:: {model.__module__}.{model.__qualname__}",
                "   :no-index:",
                f"   :members: {', '.join(model.model_fields)}",
                "   :inherited-members: BaseModel",
                f"   :exclude-members: {', '.join(methods(model)) or '_'}",
                "   :model-show-field-summary: False",
                "   :field-list-validators: False",
                "```",
                "",
            ]
        container = nodes.section()
        container.document = self.state.document
        self.state.nested_parse(StringList(lines, source=self.get_source_info()[0]), 0, container)
        return [block, *container.children]


def setup(app: Sphinx) -> dict:
    app.add_directive("campaign-file", CampaignFileDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
