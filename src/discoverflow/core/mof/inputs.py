"""Existing MOFs from a folder of CIF files (CoRE MOF, hMOF): an id per file, its structure,
or why the file cannot be used."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from pymatgen.core import Structure

from discoverflow.core.structures import read_structure

CIF_SUFFIX = ".cif"


@dataclass
class MOFFile:
    """One CIF of the folder: its structure, or the reason it has none."""

    mof_id: str
    path: Path
    structure: Structure | None = None
    reason: str | None = None


def cif_files(folder: Path) -> list[Path]:
    """The folder's CIF files in name order; FileNotFoundError if it is not a folder.

    Parameters
    ----------
    folder
        The folder of CIF files.

    Returns
    -------
    list of Path
        Its ``.cif`` files.
    """
    if not folder.is_dir():
        raise FileNotFoundError(f"folder not found: {folder}")
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == CIF_SUFFIX)


def mof_id(path: Path) -> str:
    """The file's stem and a hash of its content: an edited file is another MOF.

    Parameters
    ----------
    path
        The CIF file.

    Returns
    -------
    str
        ``<stem>-<hash>``.
    """
    digest = hashlib.sha1(path.read_bytes(), usedforsecurity=False).hexdigest()[:8]
    return f"{path.stem}-{digest}"


def read_mof(path: Path) -> MOFFile:
    """A CIF's ordered structure; a file that does not parse, has partially occupied sites or
    atoms closer than 0.5 A gets the reason instead."""
    try:
        return MOFFile(mof_id(path), path, structure=read_structure(path))
    except ValueError as error:
        return MOFFile(mof_id(path), path, reason=str(error))


def read_mof_folder(folder: Path) -> list[MOFFile]:
    """Every CIF of ``folder``, read or with the reason it could not be.

    Parameters
    ----------
    folder
        A folder of CIF files, one MOF each.

    Returns
    -------
    list of MOFFile
        One per CIF file, with its structure or the reason.
    """
    return [read_mof(path) for path in cif_files(folder)]
