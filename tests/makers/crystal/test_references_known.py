"""Known phases in the references: relaxed with the campaign's engine unless their energies
come from it; what each entry on the hull carries."""

from conftest import b2_alni, fcc
from jobflow import Flow

from discoverflow.core.crystal.known_phases import KnownPhase
from discoverflow.core.relax import RelaxSettings
from discoverflow.makers import ReferenceMaker
from discoverflow.makers.crystal.references import collect_references
from discoverflow.makers.relax import MLRelaxMaker
from discoverflow.schemas.relax import RelaxBatchDocument, RelaxRecordInfo


def test_only_phases_from_another_method_are_relaxed():
    maker = ReferenceMaker(relax_maker=MLRelaxMaker(settings=RelaxSettings(engine="chgnet")))
    phases = [
        KnownPhase("mp-1487", b2_alni(), "Materials Project", -5.43, "DFT GGA"),
        KnownPhase("Ni-chgnet", fcc("Ni", 3.52), "mine.json", -5.6, "chgnet-0.3.0"),
        KnownPhase("cif", b2_alni(2.9), "known/cif"),
        KnownPhase("TiAl", b2_alni().copy().replace_species({"Ni": "Ti"}), "x", -4.0, "DFT GGA"),
    ]
    flow = maker.make(["Al", "Ni"], phases)
    assert isinstance(flow, Flow)
    relax, collect = flow.jobs
    relaxed = set(relax.function_args[0])
    assert {"phase:mp-1487", "phase:cif"} <= relaxed
    assert "phase:Ni-chgnet" not in relaxed and "phase:TiAl" not in relaxed  # outside Al-Ni
    known = {p.name: p for p in collect.function_args[2]}
    assert set(known) == {"mp-1487", "Ni-chgnet", "cif"}
    assert known["Ni-chgnet"].status == "given"
    assert known["Ni-chgnet"].energy_source == "given (chgnet-0.3.0)"
    assert known["mp-1487"].energy_per_atom is None
    assert known["mp-1487"].source_energy_per_atom == -5.43
    assert set(collect.function_args[3]) == {"Ni-chgnet"}


def record(cid, structure, energy_per_atom):
    return RelaxRecordInfo(
        candidate_id=cid,
        formula=structure.composition.reduced_formula,
        status="relaxed",
        energy=energy_per_atom * len(structure),
        energy_per_atom=energy_per_atom,
    )


def test_given_elemental_phase_competes_and_relaxed_phases_carry_their_energies():
    al, ni, alni, ni_given = fcc("Al", 4.04), fcc("Ni", 3.52), b2_alni(), fcc("Ni", 3.50)
    relaxed = RelaxBatchDocument(
        engine="chgnet-0.3.0",
        records=[
            record("Al:ase", al, -3.7),
            record("Ni:ase", ni, -5.5),
            record("phase:mp-1487", alni, -5.4),
        ],
        structures={"Al:ase": al, "Ni:ase": ni, "phase:mp-1487": alni},
    )
    maker = ReferenceMaker(relax_maker=MLRelaxMaker())
    phases = [
        KnownPhase("mp-1487", alni, "Materials Project", -5.43, "DFT GGA"),
        KnownPhase("Ni-given", ni_given, "mine.json", -5.6, "chgnet-0.3.0"),
    ]
    collect = maker.make(["Al", "Ni"], phases).jobs[1]
    document = collect_references.original(
        relaxed, ["Al", "Ni"], collect.function_args[2], collect.function_args[3]
    )
    assert document.elemental_energies == {"Al": -3.7, "Ni": -5.6}
    assert document.elemental_sources["Ni"] == "phase:Ni-given"
    phases = {p.name: p for p in document.phases}
    assert phases["mp-1487"].energy_per_atom == -5.4
    assert phases["mp-1487"].energy_source == "relaxed with chgnet-0.3.0"
    assert phases["mp-1487"].label == "mp-1487 (Materials Project)"
    assert phases["Ni-given"].energy_per_atom == -5.6
    assert "phase:Ni-given" in document.structures
