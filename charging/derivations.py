"""The fields derived from a session's raw columns (CHARGING.md "Derived fields"), computed by us on
import: the source's own `is_ok`, `type_erreur`, `moment` and `moment_avancee` are often empty, and
never trusted."""

from charging.vocabulary import ErrorType, Moment, MomentGroup

EVI_DOWNSTREAM_CODE = 8192  # a Downstream code of 8192 means "the EVI reported it": an EVI error

_MOMENT_OF_STEP = {
    0: Moment.END_OF_CHARGE,
    1: Moment.INIT,
    2: Moment.INIT,
    4: Moment.LOCK_CONNECTOR,
    5: Moment.LOCK_CONNECTOR,
    6: Moment.LOCK_CONNECTOR,
    7: Moment.CABLE_CHECK,
    8: Moment.CHARGE,
}

_GROUP_OF_MOMENT = {
    Moment.INIT: MomentGroup.BEFORE_CHARGE,
    Moment.LOCK_CONNECTOR: MomentGroup.BEFORE_CHARGE,
    Moment.CABLE_CHECK: MomentGroup.BEFORE_CHARGE,
    Moment.CHARGE: MomentGroup.CHARGE,
    Moment.END_OF_CHARGE: MomentGroup.END_OF_CHARGE,
}


def is_ok(outcome: int | None) -> bool:
    """The session outcome column: 0 good, 1 error; NULL counts as good."""
    return (outcome or 0) == 0


def error_type(*, outcome: int | None, downstream_code: int | None, evi_code: int | None) -> str:
    failed = not is_ok(outcome)
    ds = downstream_code or 0
    evi = evi_code or 0
    if failed and (ds == EVI_DOWNSTREAM_CODE or (ds == 0 and evi != 0)):
        return ErrorType.EVI.value
    if failed and ds not in (0, EVI_DOWNSTREAM_CODE):
        return ErrorType.DOWNSTREAM.value
    # The customer's default, on OK sessions too.
    return ErrorType.UNKNOWN.value


def moment(*, error_type: str, step: int | None) -> str:
    """The EVI sequence step when the error happened, for EVI and Downstream errors only. Step 3,
    -1 or any integer not listed counts as the end of charge, as the customer's job has it."""
    if error_type not in (ErrorType.EVI, ErrorType.DOWNSTREAM) or step is None:
        return Moment.UNKNOWN.value
    return _MOMENT_OF_STEP.get(step, Moment.END_OF_CHARGE).value


def moment_group(moment: str) -> str:
    """`moment_avancee`."""
    return _GROUP_OF_MOMENT.get(moment, MomentGroup.UNKNOWN).value


def mac_digits(mac: str | None) -> str:
    """A MAC's hex digits, upper case, separators dropped: "aa:bb:cc:01:02:03" → "AABBCC010203"."""
    if not mac:
        return ""
    return "".join(ch for ch in mac.upper() if ch in "0123456789ABCDEF")


def vehicle_of(mac: str | None, vehicles: dict[str, str]) -> str:
    """The vehicle of a MAC, from `mac_lookup` keyed by `mac_digits`: the exact MAC, else its first
    6 hex digits, else its first 4; "" when none matches."""
    digits = mac_digits(mac)
    if not digits:
        return ""
    for key in (digits, digits[:6], digits[:4]):
        vehicle = vehicles.get(key)
        if vehicle:
            return vehicle
    return ""


# --- The same definitions in SQL, for the import (`charging.importing`), which derives a whole batch
# in PostgreSQL. Built from the tables above, so that the two cannot drift apart; a test compares
# them on a table of cases (tests/test_charging_derivations.py).


def _literal(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def sql_is_ok(outcome: str) -> str:
    return f"(coalesce({outcome}, 0) = 0)"


def sql_error_type(*, outcome: str, downstream_code: str, evi_code: str) -> str:
    failed, ds, evi = f"NOT {sql_is_ok(outcome)}", f"coalesce({downstream_code}, 0)", f"coalesce({evi_code}, 0)"
    return (
        f"(CASE WHEN {failed} AND ({ds} = {EVI_DOWNSTREAM_CODE} OR ({ds} = 0 AND {evi} <> 0)) "
        f"THEN {_literal(ErrorType.EVI.value)} "
        f"WHEN {failed} AND {ds} NOT IN (0, {EVI_DOWNSTREAM_CODE}) THEN {_literal(ErrorType.DOWNSTREAM.value)} "
        f"ELSE {_literal(ErrorType.UNKNOWN.value)} END)"
    )


def sql_moment(*, error_type: str, step: str) -> str:
    cases = " ".join(f"WHEN {step} = {key} THEN {_literal(value.value)}" for key, value in _MOMENT_OF_STEP.items())
    return (
        f"(CASE WHEN {error_type} NOT IN ({_literal(ErrorType.EVI.value)}, {_literal(ErrorType.DOWNSTREAM.value)}) "
        f"OR {step} IS NULL THEN {_literal(Moment.UNKNOWN.value)} {cases} "
        f"ELSE {_literal(Moment.END_OF_CHARGE.value)} END)"
    )


def sql_moment_group(moment: str) -> str:
    pairs = _GROUP_OF_MOMENT.items()
    cases = " ".join(f"WHEN {_literal(key.value)} THEN {_literal(group.value)}" for key, group in pairs)
    return f"(CASE {moment} {cases} ELSE {_literal(MomentGroup.UNKNOWN.value)} END)"


def sql_mac_digits(mac: str) -> str:
    """`mac_digits` in SQL (upper case first, then every character that is not a hex digit dropped)."""
    return f"regexp_replace(upper(coalesce({mac}, '')), '[^0-9A-F]', '', 'g')"
