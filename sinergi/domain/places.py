"""Places: Indonesia's provinces and regencies (kabupaten/kota) by the Ministry of Home Affairs' region codes.

A province is `63` / `KALSEL` / `Kalimantan Selatan`; a regency (a kabupaten or a kota) is `63.03` /
`Kabupaten Banjar`. The codes and names are the decree's (`DECREE`), shipped as data in `data/provinces.csv` and
`data/regencies.csv` with their source (docs/places.md says how to update them). `short` is sinergi's own
province code (case ids, agreements, policies) and maps to and from the Kemendagri code.

Names are matched forgivingly: case, punctuation, spaces and the `Kabupaten`/`Kab.`/`Kota`/`Administrasi` prefix
do not matter (`kab. banjar`, `Banjar`, `banjarmasin`, `Palangka Raya` for the decree's `Palangkaraya`). A name
that fits two places (`Banjar`: Kabupaten Banjar in Kalimantan Selatan and Kota Banjar in Jawa Barat) is refused
with both (`AmbiguousPlace`); one that fits none is refused with the nearest names (`UnknownPlace`).

Pure and importable from workflow code: importing reads nothing; the data files are read once, on first use,
through importlib.resources, and cached.
"""

from __future__ import annotations

import csv
import difflib
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

DECREE = "Kepmendagri No. 300.2.2-2138 Tahun 2025"
"""The decree the shipped codes and names follow (Keputusan Menteri Dalam Negeri, ditetapkan 25 April 2025)."""

ZONE_UTC_OFFSET_HOURS = {"WIB": 7, "WITA": 8, "WIT": 9}

# Other names people write for a province, beside its code, its short code and its decree name.
_PROVINCE_ALIASES = {
    "19": ("Bangka Belitung",),
    "31": ("DKI Jakarta", "Jakarta", "DKJ", "Daerah Khusus Jakarta"),
    "34": ("DI Yogyakarta", "Yogyakarta", "Jogja", "Yogya"),
    "65": ("KALUT",),
    "92": ("PABAR",),
    "93": ("PAPSEL",),
    "94": ("PAPTENG",),
    "95": ("PAPEG",),
    "96": ("PABARDAYA", "PBD"),
}
_PROVINCE_PREFIXES = {"provinsi", "propinsi", "prov"}
_KABUPATEN_PREFIXES = {"kabupaten", "kab"}
_KOTA_PREFIXES = {"kota", "kotamadya", "kodya", "kot"}
_ADMINISTRATIVE = {"administrasi", "adm"}
_TOKEN_SPELLINGS = {"kep": "kepulauan", "sumatra": "sumatera"}
_REGENCY_CODE = re.compile(r"^(\d{2})\s*[.\-\s]?\s*(\d{2})$")
_NEAREST = 3


class PlaceError(ValueError):
    """A place that cannot be told: unknown, or ambiguous."""


class UnknownPlace(PlaceError):
    """No province or regency goes by this text; `nearest` are the closest by name."""

    def __init__(self, message: str, *, text: str, nearest: tuple[Province | Regency, ...] = ()) -> None:
        super().__init__(message)
        self.text = text
        self.nearest = nearest


class AmbiguousPlace(PlaceError):
    """More than one place goes by this text; `candidates` are all of them."""

    def __init__(self, message: str, *, text: str, candidates: tuple[Province | Regency, ...]) -> None:
        super().__init__(message)
        self.text = text
        self.candidates = candidates


@dataclass(frozen=True)
class Province:
    code: str  # Kemendagri: "63"
    short: str  # sinergi's: "KALSEL"
    name: str  # the decree's: "Kalimantan Selatan"
    zone: str  # legal time: "WIB", "WITA" or "WIT"
    tz: str  # IANA zone: "Asia/Makassar"

    @property
    def label(self) -> str:
        """`Kalimantan Selatan (63)`."""
        return f"{self.name} ({self.code})"

    @property
    def utc_offset_hours(self) -> int:
        return ZONE_UTC_OFFSET_HOURS[self.zone]


@dataclass(frozen=True)
class Regency:
    code: str  # Kemendagri: "63.03"
    name: str  # the decree's: "Kabupaten Banjar"
    province_code: str  # "63"

    @property
    def label(self) -> str:
        """`Kabupaten Banjar (63.03)`."""
        return f"{self.name} ({self.code})"

    @property
    def kind(self) -> str:
        """`kabupaten` (codes 01-69) or `kota` (71-99)."""
        return "kota" if int(self.code[-2:]) >= 70 else "kabupaten"

    @property
    def province(self) -> Province:
        return _places().provinces_by_code[self.province_code]


def province(text: str | Province) -> Province:
    """The province `text` names: its code (`63`), short code (`KALSEL`, `Kalsel`) or name (`kalimantan selatan`).
    Raises UnknownPlace, naming the nearest provinces."""
    return _province(text)


def regency(text: str | Regency, province: str | Province | None = None) -> Regency:
    """The regency or city `text` names: its code (`63.03`, `6303`) or name (`Kabupaten Banjar`, `kab. banjar`,
    `Banjar`, `Kota Banjarmasin`, `banjarmasin`), within `province` when given.

    Raises AmbiguousPlace when the name fits several (`Banjar` nationally; `Bima`, a kabupaten and a kota, in Nusa
    Tenggara Barat) and UnknownPlace, naming the nearest, when it fits none."""
    scope = None if province is None else _province(province)
    if isinstance(text, Regency):
        return _within(text, scope, text.code)
    places = _places()
    raw = str(text).strip()
    code = _REGENCY_CODE.match(raw)
    if code:
        found = places.regencies_by_code.get(f"{code.group(1)}.{code.group(2)}")
        if found is None:
            raise _unknown_code(raw, f"{code.group(1)}.{code.group(2)}", scope)
        return _within(found, scope, raw)
    if not raw:
        raise UnknownPlace("no regency given", text=raw)
    kind, key, whole = _regency_key(raw)
    candidates = [r for r in places.regency_keys.get(key, ()) if kind is None or r.kind == kind]
    if not candidates and whole != key:  # "Kota Baru" written for Kabupaten Kotabaru
        candidates = list(places.regency_keys.get(whole, ()))
    outside: list[Regency] = []
    if scope is not None:
        outside = [r for r in candidates if r.province_code != scope.code]
        candidates = [r for r in candidates if r.province_code == scope.code]
    if len(candidates) == 1:
        return candidates[0]
    where = "Indonesia" if scope is None else scope.name
    if candidates:
        listed = ", ".join(_regency_label(r, national=scope is None) for r in candidates)
        several_provinces = len({r.province_code for r in candidates}) > 1
        names = " or ".join(repr(r.name) for r in candidates)
        if several_provinces:
            raise AmbiguousPlace(f"{raw!r} is ambiguous in {where}: {listed}; give its province too", text=raw,
                                 candidates=tuple(candidates))
        raise AmbiguousPlace(f"{raw!r} is ambiguous in {where}: {listed}; write {names}", text=raw,
                             candidates=tuple(candidates))
    pool = places.regency_keys if scope is None else places.regency_keys_by_province[scope.code]
    nearest = _nearest(key, pool, tuple)
    listed = ", ".join(_regency_label(r, national=scope is None, code=False) for r in nearest)
    if outside:
        elsewhere = ", ".join(_regency_label(r, national=True) for r in outside)
        raise UnknownPlace(f"no regency {raw!r} in {where} (elsewhere: {elsewhere}); nearest: {listed}", text=raw,
                           nearest=nearest)
    raise UnknownPlace(f"no regency {raw!r} in {where}; nearest: {listed}", text=raw, nearest=nearest)


def regency_anywhere(text: str | Regency) -> Regency:
    """`regency(text)` for a field with no province beside it (a person's home): a name that fits several is
    refused asking for the full name or the code, which tell every regency apart."""
    try:
        return regency(text)
    except AmbiguousPlace as exc:
        listed = ", ".join(_regency_label(r, national=True) for r in exc.candidates if isinstance(r, Regency))
        raise AmbiguousPlace(f"{exc.text!r} names several regencies: {listed}; write its full name or its code",
                             text=exc.text, candidates=exc.candidates) from None


def regencies_of(province: str | Province) -> tuple[Regency, ...]:
    """The province's regencies and cities, by code."""
    return _places().regencies_by_province[_province(province).code]


def all_provinces() -> tuple[Province, ...]:
    """The 38 provinces, by code."""
    return _places().provinces


def all_regencies() -> tuple[Regency, ...]:
    """Every regency and city, by code."""
    return _places().regencies


def province_code(text: str | Province) -> str:
    """The Kemendagri code of a province however given: `KALSEL` -> `63`."""
    return province(text).code


def province_short(text: str | Province) -> str:
    """sinergi's short code of a province however given: `63` -> `KALSEL`."""
    return province(text).short


# --- what is already stored -------------------------------------------------------------------------------------
# A case holds its regency by code since intakes were checked against the decree (`63.03`), but a case opened
# before holds what its operator wrote (`Kabupaten Banjar`, or a typo), and its history keeps it so for good.
# These never raise: they tell what they can of a stored value and leave the rest as written. Input is refused
# with `province` and `regency` instead, where it enters.


def known_province(text: str | Province | None) -> Province | None:
    """The province a stored value names (`KALSEL`, `63`, `Kalimantan Selatan`), or None when none does."""
    if text is None or isinstance(text, Province):
        return text
    return _known_province(str(text))


def known_regency(text: str | Regency | None, province: str | Province | None = None) -> Regency | None:
    """The regency a stored value names: a code (`63.03`), or a name written before regencies were codes
    (`Kabupaten Banjar`, `Banjar`), looked for in `province` first, then nationally (a person's home may be in
    another province than their case). None when none can be told: empty, unknown or ambiguous."""
    if text is None or isinstance(text, Regency):
        return text
    scope = known_province(province)
    return _known_regency(str(text), None if scope is None else scope.code)


def same_province(one: str | None, other: str | None) -> bool:
    """Whether two stored values name the same province (`KALSEL` and `63` do); unknown ones only if equal."""
    a, b = known_province(one), known_province(other)
    return a == b if a is not None and b is not None else one == other


def same_regency(one: str | None, other: str | None, province: str | Province | None = None) -> bool:
    """Whether two stored values name the same regency (`63.03` and `Kabupaten Banjar` do, the name looked for in
    `province` first); values that name none are the same only if written the same."""
    if one is None or other is None:
        return False
    a, b = known_regency(one, province), known_regency(other, province)
    return a == b if a is not None and b is not None else one == other


def label(text: str | None, province: str | Province | None = None) -> str:
    """A stored regency as people read it: `Kabupaten Banjar (63.03)` for `63.03` or for an older case's
    `Kabupaten Banjar` (a name looked for in `province` first); what names no regency as written; `-` for none."""
    if not text:
        return "-"
    found = known_regency(text, province)
    return found.label if found is not None else text


def province_label(text: str | None) -> str:
    """A stored province as people read it: `Kalimantan Selatan (63)` for `KALSEL`; anything else as written."""
    if not text:
        return "-"
    found = known_province(text)
    return found.label if found is not None else text


# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Places:
    provinces: tuple[Province, ...]
    provinces_by_code: dict[str, Province]
    province_keys: dict[str, Province]
    regencies: tuple[Regency, ...]
    regencies_by_code: dict[str, Regency]
    regencies_by_province: dict[str, tuple[Regency, ...]]
    regency_keys: dict[str, tuple[Regency, ...]]
    regency_keys_by_province: dict[str, dict[str, tuple[Regency, ...]]]


def _province(text: str | Province) -> Province:
    if isinstance(text, Province):
        return text
    places = _places()
    key = _province_key(text)
    found = places.province_keys.get(key)
    if found is not None:
        return found
    written = str(text).strip()
    if not written:
        raise UnknownPlace("no province given", text=written)
    nearest = _nearest(key, places.province_keys, lambda one: (one,))
    listed = ", ".join(f"{p.name} ({p.code}, {p.short})" for p in nearest)
    raise UnknownPlace(f"no province {written!r}; nearest: {listed}", text=written, nearest=nearest)


@lru_cache(maxsize=1024)
def _known_province(text: str) -> Province | None:
    try:
        return _province(text)
    except PlaceError:
        return None


@lru_cache(maxsize=4096)
def _known_regency(text: str, province_code: str | None) -> Regency | None:
    if province_code is not None:
        try:
            return regency(text, province_code)
        except PlaceError:
            pass
    try:
        return regency(text)
    except PlaceError:
        return None


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files(__package__).joinpath("data").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(line for line in text.splitlines() if line and not line.startswith("#")))


@cache
def _places() -> _Places:
    """The shipped data, read and indexed once."""
    provinces = tuple(Province(r["code"], r["short"], r["name"], r["zone"], r["tz"]) for r in _rows("provinces.csv"))
    by_code = {p.code: p for p in provinces}
    province_keys: dict[str, Province] = {}
    for p in provinces:
        for written in (p.code, p.short, p.name, *_PROVINCE_ALIASES.get(p.code, ())):
            key = _province_key(written)
            if province_keys.setdefault(key, p) != p:
                raise RuntimeError(f"places data: {written!r} names both {province_keys[key].label} and {p.label}")
    regencies = tuple(Regency(r["code"], r["name"], r["code"][:2]) for r in _rows("regencies.csv"))
    if len(by_code) != len(provinces) or len({r.code for r in regencies}) != len(regencies):
        raise RuntimeError("places data: a code is listed twice")
    if any(r.province_code not in by_code or not re.fullmatch(r"\d{2}\.\d{2}", r.code) for r in regencies):
        raise RuntimeError("places data: a regency code is not <province code>.<two digits>")
    regency_keys: dict[str, tuple[Regency, ...]] = {}
    by_province: dict[str, dict[str, tuple[Regency, ...]]] = {p.code: {} for p in provinces}
    for r in regencies:
        key = _regency_key(r.name)[1]
        regency_keys[key] = (*regency_keys.get(key, ()), r)
        by_province[r.province_code][key] = (*by_province[r.province_code].get(key, ()), r)
    return _Places(
        provinces=provinces,
        provinces_by_code=by_code,
        province_keys=province_keys,
        regencies=regencies,
        regencies_by_code={r.code: r for r in regencies},
        regencies_by_province={p.code: tuple(r for r in regencies if r.province_code == p.code) for p in provinces},
        regency_keys=regency_keys,
        regency_keys_by_province=by_province,
    )


def _tokens(text: str) -> list[str]:
    """Lower-case words without accents or punctuation: `Kab. Toli-Toli` -> [kab, toli, toli]."""
    plain = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii").lower()
    return [_TOKEN_SPELLINGS.get(word, word) for word in re.split(r"[^a-z0-9]+", plain) if word]


def _province_key(text: str) -> str:
    words = _tokens(text)
    if len(words) > 1 and words[0] in _PROVINCE_PREFIXES:
        words = words[1:]
    return "".join(words)


def _regency_key(text: str) -> tuple[str | None, str, str]:
    """(kind the text names or None, its key without the kind and `Administrasi`, its key with them)."""
    words = _tokens(text)
    whole = "".join(words)
    kind = None
    if len(words) > 1 and words[0] in _KABUPATEN_PREFIXES:
        kind, words = "kabupaten", words[1:]
    elif len(words) > 1 and words[0] in _KOTA_PREFIXES:
        kind, words = "kota", words[1:]
    if len(words) > 1 and words[0] in _ADMINISTRATIVE:
        words = words[1:]
    return kind, "".join(words), whole


def _nearest(key: str, pool: dict, places_of) -> tuple:
    """The places whose keys are closest to `key` (always some, however far)."""
    out: list = []
    for close in difflib.get_close_matches(key, list(pool), n=_NEAREST, cutoff=0.0):
        out += [place for place in places_of(pool[close]) if place not in out]
    return tuple(out)


def _regency_label(r: Regency, *, national: bool, code: bool = True) -> str:
    if not code:
        return f"{r.name} ({r.province.name})" if national else r.name
    return f"{r.name} ({r.code}, {r.province.name})" if national else r.label


def _within(found: Regency, scope: Province | None, text: str) -> Regency:
    if scope is not None and found.province_code != scope.code:
        raise UnknownPlace(f"regency {text!r} is {found.label} in {found.province.name}, not in {scope.name}",
                           text=text, nearest=(found,))
    return found


def _unknown_code(text: str, code: str, scope: Province | None) -> UnknownPlace:
    places = _places()
    pool = places.regencies_by_province.get(code[:2], ())
    if scope is not None and code[:2] != scope.code:
        return UnknownPlace(f"no regency {code} in {scope.name}: its codes start with {scope.code}", text=text)
    if not pool:
        return UnknownPlace(f"no regency {code}: no province has code {code[:2]}", text=text)
    nearest = tuple(sorted(pool, key=lambda r: abs(int(r.code[-2:]) - int(code[-2:])))[:_NEAREST])
    listed = ", ".join(r.label for r in sorted(nearest, key=lambda r: r.code))
    return UnknownPlace(f"no regency {code} in {pool[0].province.name}; nearest: {listed}", text=text,
                        nearest=nearest)


def kept_province(value: object, strict: bool, longest: int) -> object:
    """Where input enters (`strict`), a province named any way (`KALSEL`, `63`, `Kalimantan Selatan`) as the
    short code it is kept by; read back from history, or too long to be a place (a pattern refuses it), as is."""
    if not strict or not isinstance(value, str) or len(value) > longest:
        return value
    return province(value).short


def kept_regency(value: str | None, province_kept: str | None, strict: bool) -> str | None:
    """Where input enters (`strict`), a regency of `province_kept` by name or code, as its code; as is otherwise,
    and when the province was itself refused (its refusal is the one reported)."""
    if value is None or not strict or province_kept is None:
        return value
    return regency(value, province_kept).code
