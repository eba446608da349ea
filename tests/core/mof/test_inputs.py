"""Existing MOFs from a folder of CIFs: one id per file, the cell, or why a file is unusable."""

import pytest
from conftest import MOF5_CIF, write_bad_cifs
from pymatgen.core import Structure

from discoverflow.core.mof.inputs import cif_files, mof_id, read_mof, read_mof_folder


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("malformed", "cannot parse malformed.cif"),
        ("partial", "partial.cif: partially occupied site (H0.5)"),
        ("coincident", "are 0.30 A apart (less than 0.5 A)"),
    ],
)
def test_a_file_without_a_usable_cell_gets_its_reason(tmp_path, kind, reason):
    found = read_mof(write_bad_cifs(tmp_path)[kind])
    assert found.structure is None and reason in found.reason
    assert found.mof_id.startswith(f"{kind}-")


def test_a_folder_reads_every_cif_and_only_cifs(tmp_path):
    paths = write_bad_cifs(tmp_path / "mofs")
    (tmp_path / "mofs" / "notes.txt").write_text("not a MOF")
    (tmp_path / "mofs" / "MOF-5.cif").write_bytes(MOF5_CIF.read_bytes())
    found = {f.path.stem: f for f in read_mof_folder(tmp_path / "mofs")}
    assert set(found) == {*paths, "MOF-5"}
    mof5 = found["MOF-5"].structure
    assert mof5 == Structure.from_file(MOF5_CIF) and mof5.composition.reduced_formula == (
        "Zn4H12C24O13"
    )
    assert len(mof5) == 106 and found["MOF-5"].reason is None
    for kind in ("overlapping", "no_hydrogens"):  # these read; the structure checks catch them
        assert found[kind].structure is not None and found[kind].reason is None


def test_the_id_follows_the_file_content(tmp_path):
    copy = tmp_path / "MOF-5.cif"
    copy.write_bytes(MOF5_CIF.read_bytes())
    assert mof_id(copy) == mof_id(MOF5_CIF) and mof_id(copy).startswith("MOF-5-")
    copy.write_text(MOF5_CIF.read_text().replace("0.95735811", "0.95735812"))
    assert mof_id(copy) != mof_id(MOF5_CIF)


def test_a_missing_folder_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="folder not found"):
        cif_files(tmp_path / "nope")
    assert cif_files(tmp_path) == []
