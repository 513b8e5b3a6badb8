"""Why a session has the error type and moment it has, in one line an operator can check against
CHARGING.md "Derived fields": "DS 8192 → EVI error; step 8 → Charge". Recomputed from the raw
columns with `charging.derivations`, the same functions the import uses."""

from django.utils.translation import gettext as _

from charging import derivations
from charging.vocabulary import ErrorType, Moment, MomentGroup


def _label(choices, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _moment_part(error_type: str, step: int | None) -> str:
    moment = derivations.moment(error_type=error_type, step=step)
    group = derivations.moment_group(moment)
    if step is None:
        return _("no step → %(moment)s") % {"moment": _label(Moment, moment)}
    text = _("step %(step)s → %(moment)s") % {"step": step, "moment": _label(Moment, moment)}
    if step not in (0, 1, 2, 4, 5, 6, 7, 8) and not step > 8:
        text += " " + _("(an unlisted step counts as the end of charge)")
    elif group == MomentGroup.BEFORE_CHARGE:
        text += f" ({_label(MomentGroup, group)})"
    return text


def derivation(session) -> str:
    """One line: how this session's type and moment follow from its outcome, codes and step.
    `session` is a ChargingSession or anything with its raw attributes (outcome, downstream_code,
    evi_code, evi_step)."""
    outcome = session.outcome
    ds, evi, step = session.downstream_code, session.evi_code, session.evi_step
    if derivations.is_ok(outcome):
        if outcome is None:
            return _("OK (outcome NULL counts as 0)")
        return _("OK (outcome 0)")
    ds0, evi0 = ds or 0, evi or 0
    error_type = derivations.error_type(outcome=outcome, downstream_code=ds, evi_code=evi)
    if error_type == ErrorType.EVI and ds0 == derivations.EVI_DOWNSTREAM_CODE:
        cause = _("DS %(ds)s → EVI error") % {"ds": ds0}
    elif error_type == ErrorType.EVI:
        cause = _("DS 0, EVI %(evi)s → EVI error") % {"evi": evi0}
    elif error_type == ErrorType.DOWNSTREAM:
        cause = _("DS %(ds)s → Downstream error") % {"ds": ds0}
    else:
        return _("Failed, DS 0 and EVI 0 → Erreur_Unknow_S (moment Unknown)")
    return f"{cause}; {_moment_part(error_type, step)}"
