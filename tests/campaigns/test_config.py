import json

import pytest

from discoverflow.campaigns import load_config
from discoverflow.campaigns.crystal.config import CampaignConfig
from discoverflow.errors import ConfigError


def write(tmp_path, data) -> str:
    path = tmp_path / "c.json"
    path.write_text(json.dumps(data))
    return str(path)


BASE = {"name": "x", "elements": ["Ce", "Fe", "In"], "inputs": {"templates": "t"}}


def test_defaults_follow_exa_amd(tmp_path):
    config = load_config(write(tmp_path, BASE))
    assert config.screening.formation_energy_threshold == -0.2
    assert config.hull.e_above_hull_threshold == 0.1
    assert config.generation.lattice_scales == [0.96, 0.98, 1.00, 1.02, 1.04]
    assert "O" in config.generation.excluded_template_elements
    assert config.inputs.templates == (tmp_path / "t").resolve()
    assert config.output_dir == (tmp_path / "results").resolve()


def test_misspelled_key_names_its_path(tmp_path):
    data = {**BASE, "screening": {"treshold": -0.3}}
    with pytest.raises(ConfigError, match=r"screening\.treshold: unknown key"):
        load_config(write(tmp_path, data))


def test_unknown_element_is_named(tmp_path):
    data = {**BASE, "elements": ["Ce", "Xx"]}
    with pytest.raises(ConfigError, match=r"elements: unknown element symbol 'Xx'"):
        load_config(write(tmp_path, data))


def test_wrong_type_names_path_and_value(tmp_path):
    data = {**BASE, "relax": {"steps": "many"}}
    with pytest.raises(ConfigError, match=r'relax\.steps: .*\(got "many"\)'):
        load_config(write(tmp_path, data))


def test_overrides_are_typed_and_validated(tmp_path):
    path = write(tmp_path, BASE)
    config = load_config(path, ["screening.formation_energy_threshold=-0.5", "hull.plot=false"])
    assert config.screening.formation_energy_threshold == -0.5
    assert config.hull.plot is False
    with pytest.raises(ConfigError, match=r"hull\.nope: unknown key"):
        load_config(path, ["hull.nope=1"])
    with pytest.raises(ConfigError, match=r"expected key\.path=value"):
        load_config(path, ["hull.plot"])


def test_malformed_json_and_missing_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_config(bad)
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "absent.json")


def test_schema_rejects_repeated_elements():
    with pytest.raises(ValueError, match="repeated element"):
        CampaignConfig.model_validate({**BASE, "elements": ["Fe", "Fe"]})


def test_templates_are_required_only_where_they_are_used(tmp_path):
    from discoverflow.campaigns.crystal.driver import check_inputs

    random_campaign = {"name": "r", "elements": ["Mg", "O"], "generation": {"method": "random"}}
    assert check_inputs(load_config(write(tmp_path, random_campaign))) == []
    substitution = {"name": "s", "elements": ["Mg", "O"]}
    problems = check_inputs(load_config(write(tmp_path, substitution)))
    assert problems == ["inputs.templates: required by generation.method 'substitution'"]


def test_optional_stages_are_switched_by_one_enabled_bool():
    substitution = CampaignConfig.model_validate(BASE)
    assert substitution.validity.enabled is False  # decorations of known structures
    assert substitution.dedup.enabled is True
    assert substitution.property_screen.enabled is False  # no section: off
    generated = CampaignConfig.model_validate({**BASE, "generation": {"method": "random"}})
    assert generated.validity.enabled is True
    chosen = CampaignConfig.model_validate(
        {**BASE, "validity": {"enabled": True}, "property_screen": {"maximum": 0.05}}
    )
    assert chosen.validity.enabled is True and chosen.property_screen.enabled is True
    shown = CampaignConfig.model_validate(chosen.model_dump(mode="json"))
    assert shown.validity.enabled is True and shown.property_screen.maximum == 0.05
    with pytest.raises(ValueError, match="enabled"):
        CampaignConfig.model_validate({**BASE, "validity": {"enabled": "auto"}})


def test_dedup_workers_are_a_dedup_setting():
    from discoverflow.makers import DedupMaker

    config = CampaignConfig.model_validate({**BASE, "dedup": {"workers": 2}})
    assert DedupMaker(settings=config.dedup.model_dump(exclude={"enabled"})).settings.workers == 2
    with pytest.raises(TypeError):
        DedupMaker(workers=2)
