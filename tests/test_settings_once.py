"""Each stage's settings are declared once: the campaign file's section, the Maker's settings
and the core function's argument are one model with one set of defaults."""

import pytest

from discoverflow.campaigns.crystal.config import CampaignConfig
from discoverflow.campaigns.crystal.driver import discovery_maker
from discoverflow.campaigns.existing_mofs.config import ExistingMOFsConfig
from discoverflow.campaigns.existing_mofs.driver import existing_mofs_maker
from discoverflow.campaigns.mof.config import MOFCampaignConfig
from discoverflow.campaigns.mof.driver import mof_discovery_maker
from discoverflow.core.crystal.coordinate import CoordinateSettings
from discoverflow.core.crystal.dedup import DedupSettings
from discoverflow.core.crystal.screening import PropertyScreenSettings, ScreeningSettings
from discoverflow.core.crystal.stability import HullSettings
from discoverflow.core.crystal.substitution import SubstitutionSettings
from discoverflow.core.crystal.validity import ValiditySettings
from discoverflow.core.crystal.vasp import VaspSettings
from discoverflow.core.mof.adsorption import AdsorptionSettings
from discoverflow.core.mof.assembly import AssemblySettings
from discoverflow.core.mof.checks import CharacterisationSettings
from discoverflow.core.mof.cp2k import CP2KSettings
from discoverflow.core.mof.generation import LinkerSettings
from discoverflow.core.mof.md import StabilitySettings
from discoverflow.core.mof.selection import OptimisationSettings, RetrainingSettings
from discoverflow.core.relax import RelaxSettings
from discoverflow.makers import (
    CoordinateMaker,
    DedupMaker,
    HullMaker,
    MLRelaxMaker,
    MLScreenMaker,
    PropertyScreenMaker,
    SubstitutionMaker,
    ValidityFilterMaker,
    VaspRelaxMaker,
)
from discoverflow.makers.mof import (
    AdsorptionMaker,
    CP2KCellMaker,
    ExistingMOFsMaker,
    LinkerGenerationMaker,
    MOFAssemblyMaker,
    MOFCharacterisationMaker,
    MOFDiscoveryMaker,
    MOFStabilityMaker,
)

CRYSTAL = CampaignConfig(name="x", elements=["Al", "Ni"])
MOF = MOFCampaignConfig(name="m", workflow="mof")


def base_values(section, model) -> dict:
    """The section's values for the fields of the stage's model (campaign switches aside)."""
    return section.model_dump(include=set(model.model_fields))


CRYSTAL_STAGES = [
    (CRYSTAL.generation, SubstitutionSettings, SubstitutionMaker),
    (CRYSTAL.validity, ValiditySettings, ValidityFilterMaker),
    (CRYSTAL.screening, ScreeningSettings, MLScreenMaker),
    (CRYSTAL.dedup, DedupSettings, DedupMaker),
    (CRYSTAL.relax, RelaxSettings, MLRelaxMaker),
    (CRYSTAL.relax.vasp, VaspSettings, VaspRelaxMaker),
    (CRYSTAL.relax.coordinate, CoordinateSettings, CoordinateMaker),
    (CRYSTAL.hull, HullSettings, HullMaker),
    (PropertyScreenSettings(), PropertyScreenSettings, PropertyScreenMaker),
]
MOF_STAGES = [
    (MOF.linkers, LinkerSettings, LinkerGenerationMaker),
    (MOF.assembly, AssemblySettings, MOFAssemblyMaker),
    (MOF.characterisation, CharacterisationSettings, MOFCharacterisationMaker),
    (MOF.stability, StabilitySettings, MOFStabilityMaker),
    (MOF.optimisation.cp2k, CP2KSettings, CP2KCellMaker),
    (MOF.adsorption, AdsorptionSettings, AdsorptionMaker),
]


@pytest.mark.parametrize(("section", "model", "maker"), CRYSTAL_STAGES + MOF_STAGES)
def test_campaign_section_and_maker_share_one_model(section, model, maker):
    assert isinstance(section, model)
    default = maker().settings
    assert type(default) is model
    assert base_values(section, model) == default.model_dump()


def test_mof_rounds_defaults_are_the_campaign_defaults():
    maker = MOFDiscoveryMaker()
    assert maker.retraining == MOF.retraining == RetrainingSettings()
    assert maker.per_round == MOF.optimisation.per_round == OptimisationSettings().per_round
    optimiser = maker.optimise_maker.settings
    assert isinstance(MOF.optimisation, OptimisationSettings)
    assert base_values(MOF.optimisation, OptimisationSettings) == optimiser.model_dump()


def test_the_campaign_hands_its_sections_to_the_makers():
    config = MOFCampaignConfig(
        name="m", workflow="mof", stability={"steps": 7}, retraining={"min_examples": 3}
    )
    maker = mof_discovery_maker(config)
    assert maker.stability_maker.settings.steps == 7
    assert maker.retraining.min_examples == 3
    assert maker.optimise_maker.settings.engine_options == {"model_name": "0.3.0"}


def test_the_coordinate_pattern_takes_the_relax_section():
    config = CampaignConfig(
        name="x",
        elements=["Al", "Ni"],
        relax={"pattern": "coordinate", "fmax": 0.2, "coordinate": {"batch_size": 4}},
    )
    maker = discovery_maker(config)
    assert maker.coordinate_maker.settings == CoordinateSettings(batch_size=4)
    assert maker.coordinate_maker.relax_maker.settings.fmax == 0.2
    assert discovery_maker(CRYSTAL).coordinate_maker is None


def test_a_maker_validates_a_dict_of_settings():
    assert MLRelaxMaker(settings={"fmax": 0.2}).settings == RelaxSettings(fmax=0.2)
    with pytest.raises(ValueError, match="fmx"):
        MLRelaxMaker(settings={"fmx": 0.2})


def test_the_existing_mofs_campaign_hands_its_sections_to_the_makers():
    config = ExistingMOFsConfig(
        name="e",
        workflow="existing-mofs",
        inputs={"mofs": "mofs"},
        stability={"steps": 7},
        optimisation={"per_round": 9},
        adsorption={"cycles": 30},
    )
    maker = existing_mofs_maker(config)
    assert maker.stability_maker.settings.steps == 7 and maker.per_round == 9
    assert maker.adsorption_maker.settings.cycles == 30
    assert maker.optimise_maker.settings.engine_options == {"model_name": "0.3.0"}
    default = ExistingMOFsMaker()
    assert default.per_round == MOF.optimisation.per_round
    assert default.stability_maker.settings == MOF.stability
