"""autodoc_pydantic writes a field's constraints as plain reStructuredText, so a regex
``pattern`` such as ``^[A-Za-z0-9][A-Za-z0-9_.-]*$`` is read as markup (a reference named
``A-Za-z0-9``); this writes each value as a literal."""

from __future__ import annotations

from sphinx.application import Sphinx
from sphinxcontrib.autodoc_pydantic.directives.autodocumenters import PydanticFieldDocumenter


def add_constraints(self: PydanticFieldDocumenter) -> None:
    constraints = self.pydantic.inspect.fields.get_constraints(self.pydantic_field_name)
    if constraints:
        source_name = self.get_sourcename()
        self.add_line(":Constraints:", source_name)
        for key, value in constraints.items():
            self.add_line(f"   - **{key}** = ``{value}``", source_name)
        self.add_line("", source_name)


def setup(app: Sphinx) -> dict:
    PydanticFieldDocumenter.add_constraints = add_constraints
    return {"parallel_read_safe": True, "parallel_write_safe": True}
