"""Which DICOM attributes of a stimulus still identify a patient.

A lab's stimuli are often clinical DICOMs. Before they are shown in a study, the attributes
that the DICOM PS3.15 Annex E *Basic Application Level Confidentiality Profile* removes or
replaces (Table E.1-1) must be gone or hold dummy values. :func:`identifying_attributes` lists
those of a dataset that still hold a real-looking value; only the attribute names are reported,
never their values.

What counts (the profile's direct identifiers: names, identifiers, birth date, addresses and
telephone numbers, the institution and its staff, free-text comments, dates of the study):

- a *name or identifier* is kept when it is empty, a pseudonym (a UUID or long hex string, as
  de-identification tools write) or a placeholder (``ANONYMOUS``, ``REMOVED``, ...);
- a *date* is kept when it is empty or a dummy date in 1901 or earlier (e.g. ``19010101``);
- anything else non-empty is reported.

Age, sex, size and weight (quasi-identifiers that public CXR datasets keep) and the UIDs (which
the profile replaces with new ones, indistinguishable from the original) are not judged.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, MutableSequence
from pathlib import Path
from typing import Any

__all__ = [
    "DATE_ATTRIBUTES",
    "IDENTIFYING_ATTRIBUTES",
    "identifying_attributes",
    "identifying_attributes_of_file",
]

#: Names, identifiers, addresses, institution and staff, free text (PS3.15 Table E.1-1).
IDENTIFYING_ATTRIBUTES: tuple[str, ...] = (
    "PatientName", "PatientID", "OtherPatientIDs", "OtherPatientIDsSequence", "OtherPatientNames",
    "PatientBirthName", "PatientMotherBirthName", "IssuerOfPatientID", "MedicalRecordLocator",
    "PatientAddress", "PatientTelephoneNumbers", "PatientInsurancePlanCodeSequence",
    "MilitaryRank", "BranchOfService", "Occupation", "PatientComments",
    "AdditionalPatientHistory", "AccessionNumber", "StudyID", "AdmissionID",
    "RequestedProcedureID", "PerformedProcedureStepID", "ScheduledProcedureStepID",
    "InstitutionName", "InstitutionAddress", "InstitutionalDepartmentName", "StationName",
    "DeviceSerialNumber", "ReferringPhysicianName", "ReferringPhysicianAddress",
    "ReferringPhysicianTelephoneNumbers", "PerformingPhysicianName", "OperatorsName",
    "NameOfPhysiciansReadingStudy", "PhysiciansOfRecord", "RequestingPhysician",
    "RequestAttributesSequence", "PatientBirthTime",
)  # fmt: skip

#: Dates the profile removes or replaces with dummies (kept only with its longitudinal option).
DATE_ATTRIBUTES: tuple[str, ...] = (
    "PatientBirthDate", "StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate",
    "AcquisitionDateTime",
)  # fmt: skip

_PSEUDONYM = re.compile(r"^[0-9A-Fa-f]{8}(-?[0-9A-Fa-f]{4}){2,}[-0-9A-Fa-f]*$|^[0-9A-Fa-f]{24,}$")
_PLACEHOLDERS = frozenset(
    {"ANONYMOUS", "ANONYMIZED", "ANONYMISED", "ANON", "REMOVED", "DEIDENTIFIED",
     "DE-IDENTIFIED", "UNKNOWN", "NONE", "X", "XX", "XXX", "XXXX", "*", "-", "0", "N/A", "NA"}
)  # fmt: skip


def _text(value: Any) -> str:
    return str(value).replace("^", " ").strip()


def _is_dummy_name(value: Any) -> bool:
    text = _text(value)
    return not text or text.upper() in _PLACEHOLDERS or bool(_PSEUDONYM.match(text))


def _is_dummy_date(value: Any) -> bool:
    text = str(value).strip()
    if not text:
        return True
    m = re.match(r"^(\d{4})", text)
    return m is not None and int(m.group(1)) <= 1901


def identifying_attributes(ds: Any) -> list[str]:
    """Keywords of ``ds``'s attributes that still identify a patient (values never returned).

    ``ds`` is a pydicom ``Dataset`` (or anything with ``get(keyword)``).
    """
    found: list[str] = []
    for kw in IDENTIFYING_ATTRIBUTES:
        value = ds.get(kw)
        if value is None:
            continue
        if isinstance(value, (MutableSequence, list, tuple)):  # multi-valued, or a sequence
            items: Iterable[Any] = list(value)
            if kw.endswith("Sequence"):
                if items:
                    found.append(kw)
                continue
        else:
            items = [value]
        if any(not _is_dummy_name(v) for v in items):
            found.append(kw)
    for kw in DATE_ATTRIBUTES:
        value = ds.get(kw)
        if value is not None and not _is_dummy_date(value):
            found.append(kw)
    return found


def identifying_attributes_of_file(path: str | Path) -> list[str]:
    """:func:`identifying_attributes` of a DICOM file's header (pixel data not read)."""
    from pydicom import dcmread

    with warnings.catch_warnings():  # a header oddity is not this check's business
        warnings.simplefilter("ignore")
        ds = dcmread(str(path), stop_before_pixels=True, force=True)
    return identifying_attributes(ds)
