"""Surrogate screening on a predicted property (any property-model plugin)."""

from __future__ import annotations

from dataclasses import dataclass, field

from jobflow import job

from discoverflow.core.crystal.screening import PropertyScreenSettings
from discoverflow.errors import ConfigError
from discoverflow.makers.base import StageMaker
from discoverflow.makers.crystal.chunks import READS_CHUNKS, candidate_structures
from discoverflow.makers.documents import StageRecords
from discoverflow.models.base import PropertyModel
from discoverflow.plugins import PROPERTIES, load_plugin
from discoverflow.routing import JobStage, RunsOn, placed
from discoverflow.schemas.generation import GenerationDocument
from discoverflow.schemas.records import Stage, Status
from discoverflow.schemas.screen import DedupDocument, PropertyScreenDocument, ScreenDocument


@dataclass
class PropertyScreenMaker(StageMaker):
    """Keep selected candidates whose predicted property lies in [minimum, maximum].

    Parameters
    ----------
    name
        The job's (or flow's) name.
    settings
        A ``PropertyScreenSettings`` (or a dict of it): the stage's settings.
    """

    name: str = "property screen"
    settings: PropertyScreenSettings = field(default_factory=PropertyScreenSettings)

    @job(
        data=["values", "kept"],
        output_schema=PropertyScreenDocument,
        config=READS_CHUNKS,
        metadata=placed(JobStage.PROPERTY_SCREEN, RunsOn.GPU),
    )
    def make(
        self, generation: GenerationDocument, selection: ScreenDocument | DedupDocument
    ) -> PropertyScreenDocument:
        """The stage's jobs.

        Parameters
        ----------
        generation
            The generation holding the candidates' structures.
        selection
            The screen (or dedup) whose kept candidates are predicted.

        Returns
        -------
        PropertyScreenDocument
            The predicted values and the candidates inside the window.
        """
        settings = self.settings
        model = load_plugin(PROPERTIES, settings.model)(**settings.model_options)
        if not isinstance(model, PropertyModel):
            raise ConfigError(
                f"property_screen.model {settings.model!r} is not a property model "
                "(name, property_name, unit and predict(structures))"
            )
        ids = [r.candidate_id for r in selection.kept]
        structures = candidate_structures(generation, ids)
        predicted = model.predict(list(structures.values())) if ids else []
        values = {cid: float(v) for cid, v in zip(ids, predicted, strict=True)}

        kept = [r for r in selection.kept if settings.admits(values[r.candidate_id])]
        if (stage_results := StageRecords.of_running_job()) is not None:
            chosen = {r.candidate_id for r in kept}
            stage_results.write(
                Stage.PROPERTY_SCREEN,
                {
                    cid: {"property_name": model.property_name, "property_value": value,
                          "property_unit": model.unit}
                    for cid, value in values.items()
                },
                {cid: Status.SELECTED if cid in chosen else Status.PROPERTY_OUT for cid in values},
            )  # fmt: skip
        return PropertyScreenDocument(
            model=model.name,
            property_name=model.property_name,
            unit=model.unit,
            minimum=settings.minimum,
            maximum=settings.maximum,
            values=values,
            n_kept=len(kept),
            kept=kept,
        )
