"""Human renderings of case views: aligned tables, times in the case's zone, colour only on a terminal, every
word in the run's language (`sinergi.commands.language`). JSON is the views as they are: codes, not words.

What comes from the case as words of its own stays as the case wrote it: a closure reason, a manual task's
reason, a timeline entry, an agency's error (the timeline's texts are part of the case's history). Its codes
(stages, states, services, events) and the shipped policies' clock titles, roles and sources are shown translated
(a source that is a law's name is its own translation, `UU 21/2007 Art. 52(1)`; sinergi's own words, `sinergi
default (no statute)`, are translated; a custom policy's words show as written).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING

import click

from sinergi.commands.console import CONSENT, local_time, stage_word, state_colour, table
from sinergi.commands.language import N_, _, words

if TYPE_CHECKING:
    from sinergi.domain.views import CaseStatus, CaseTimeline, CaseWhy, Waiting

FLAGS = {
    "police_report": N_("police report made"), "in_shelter": N_("in a shelter"),
    "lpsk_pending": N_("LPSK decision pending"), "first_aid_pending": N_("first aid pending"),
    "return_unsafe": N_("return not safe"), "plan_agreed": N_("plan agreed"),
    "retrafficking_risk": N_("risk of re-trafficking"), "legal_track_open": N_("legal track open"),
    "abroad": N_("abroad"), "foreign_national": N_("foreign national"), "pmi": N_("migrant worker (PMI)"),
    "sexual_exploitation": N_("sexual exploitation"),
}
BREACH_KINDS = {"breach": N_("breach"), "warning": N_("warning")}
ENTRY_KINDS = {
    "event": N_("event"), "stage": N_("stage"), "referral": N_("referral"), "clock": N_("clock"),
    "breach": N_("breach"), "escalation": N_("escalation"), "notice": N_("notice"), "task": N_("task"),
    "consent": N_("consent"),
}
# What a referral waits for, by its status (`Waiting.status`).
REFERRAL_STEPS = {
    "pending": N_("delivery of the referral to {who}"),
    "held": N_("the victim's consent to share data (consent.recorded)"),
    "sent": N_("referral.acknowledged"),
    "acknowledged": N_("referral.accepted or referral.declined"),
    "accepted": N_("referral.completed"),
}


def reason_words(text: str) -> str:
    """A manual task's reason in the run's language where its form is known (`timeline_words`)."""
    from sinergi.commands.timeline_words import reason_words as told

    return told(text)


def yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


def service_words(service: str) -> str:
    """What an office is asked to do for `service` (`routing.SERVICES`), in the run's language."""
    from sinergi.domain.routing import SERVICES

    return _(SERVICES[service][0]) if service in SERVICES else service.replace("_", " ")


def flag_words(flag: str) -> str:
    code, _colon, reason = flag.partition(":")
    if code == "paused":
        return _("deadlines paused: {reasons}").format(reasons=reason)
    return words(FLAGS, flag)


def status_text(s: CaseStatus) -> str:
    from sinergi.domain import places  # stdlib only: places are read by name, with their code

    t = lambda v: local_time(v, s.province)  # noqa: E731 - a one-line formatter, read beside its use
    head = [
        _("{case_id}  stage {stage}").format(case_id=click.style(s.case_id, bold=True),
                                             stage=click.style(stage_word(s.stage), bold=True))
        + (_("  closed: {reason}").format(reason=s.closure_reason) if s.closed else ""),
        _("province {province}  regency {regency}  child {child}  opened {opened}").format(
            province=s.province, regency=places.label(s.regency, s.province), child=yes_no(s.is_child),
            opened=t(s.opened_at)),
        _("consent  {consent}").format(consent="  ".join(
            words(CONSENT, k) + " " + (_("yes") if v else _("NO")) for k, v in s.consent.model_dump().items())),
    ]
    if s.flags:
        head.append(_("flags    {flags}").format(flags=", ".join(flag_words(f) for f in s.flags)))
    parts = ["\n".join(head)]
    if s.referrals:
        parts.append(_("REFERRALS") + "\n" + table(
            [_("id"), _("agency"), _("service"), _("status"), _("due")],
            [[r.referral_id, r.agency, r.service, state_colour(r.status), t(r.due_at)] for r in s.referrals]))
    live = [c for c in s.clocks if c.state in ("running", "paused", "breached")]
    if live:
        parts.append(_("CLOCKS") + "\n" + table(
            [_("clock"), _("what"), _("source"), _("due"), _("state")],
            [[c.id, _(c.title) + (f" ({c.context})" if c.context else ""), _(c.source), t(c.due_at),
              state_colour(c.state)] for c in live]))
    if s.breaches:
        parts.append(_("BREACHES") + "\n" + table(
            [_("clock"), _("kind"), _("source"), _("at")],
            [[b.clock, words(BREACH_KINDS, b.kind), _(b.source), t(b.at)] for b in s.breaches]))
    if s.escalations:
        parts.append(_("ESCALATIONS") + "\n" + table(
            [_("clock"), _("rung"), _("to"), _("at")],
            [[e.clock, e.rung, f"{_(e.role)} ({e.agency})", t(e.at)] for e in s.escalations]))
    if s.manual_tasks:
        parts.append(_("MANUAL TASKS") + "\n" + table([_("id"), _("agency"), _("what to do")],
                                                      [[m.id, m.agency, reason_words(m.reason)]
                                                       for m in s.manual_tasks]))
    return "\n\n".join(parts)


# Entries may carry times in their text (`started, due 2026-11-30T22:14:53+00:00`): shown in the case's zone too.
_ISO_TIME = re.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d)")


def _local_times_in(text: str, province: str) -> str:
    def local(match: re.Match[str]) -> str:
        try:
            return local_time(datetime.fromisoformat(match.group(0)), province)
        except ValueError:
            return match.group(0)

    return _ISO_TIME.sub(local, text)


def timeline_text(t: CaseTimeline, province: str) -> str:
    from sinergi.commands.timeline_words import entry_words

    return table([_("at"), _("what"), _("entry")],
                 [[local_time(e.at, province), words(ENTRY_KINDS, e.kind),
                   _local_times_in(entry_words(e.text), province)] for e in t.entries])


def waiting_text(item: Waiting) -> str:
    """One thing the case waits on, in the run's language."""
    if item.on == "referral":
        who = item.who or _("a {kind} office").format(kind=item.kind)
        step = _(REFERRAL_STEPS[item.status]).format(who=who) if item.status in REFERRAL_STEPS else item.status
        return _("{who}: {step} for {referral_id} ({service})").format(
            who=who, step=step, referral_id=item.referral_id, service=service_words(item.service or ""))
    if item.on == "clock":
        title = (_(item.title) if item.title else "") + (f", {item.context}" if item.context else "")
        return _("{who}: {events} ({clock}: {title})").format(
            who=item.who or _("the case team"), events=_(" or ").join(item.events), clock=item.clock, title=title)
    return _("deadlines paused: {reasons}").format(reasons=", ".join(item.reasons))


def why_text(w: CaseWhy, province: str) -> str:
    case_id = click.style(w.case_id, bold=True)
    lines = [_("{case_id} is closed").format(case_id=case_id) if w.closed
             else _("{case_id} is in {stage}").format(case_id=case_id, stage=stage_word(w.stage))]
    lines.append(_("Lead office: {office}").format(office=w.lead_office or _("none yet (operators decide)")))
    if w.at_size_limit:
        lines.append(click.style(_("The case has reached its size limit: it takes events from operators only."),
                                 fg="red"))
    lines.append("\n" + _("Waiting on:"))
    # A case that ran older code says what it waits on in English only.
    waiting = [waiting_text(item) for item in w.waiting] if len(w.waiting) == len(w.waiting_on) else w.waiting_on
    lines += [f"  - {item}" for item in waiting] or ["  " + _("nothing: the case is not waiting on anyone")]
    if w.next_deadline:
        d = w.next_deadline
        overdue = click.style(_(" — MISSED"), fg="red", bold=True) if d.state == "breached" else ""
        lines.append("\n" + _("Next deadline: {clock}, {title}, due {due}").format(
            clock=d.clock, title=_title(d.title), due=local_time(d.due_at, province)) + overdue)
        kind = _("a statutory deadline set by {source}") if d.kind == "statutory" \
            else _("a service standard set by {source}")
        lines.append("  " + kind.format(source=_(d.source))
                     + (_("; owed by {office}").format(office=d.responsible) if d.responsible else ""))
    if w.last_error:
        lines.append("\n" + _("Last delivery error: {error}").format(error=click.style(w.last_error, fg="red")))
    if w.open_manual_tasks:
        lines.append("\n" + _("Manual tasks for you:"))
        lines += [f"  - {t.id} ({t.agency}): {reason_words(t.reason)}" for t in w.open_manual_tasks]
    lines += _accepted_text(w.accepted_events)
    return "\n".join(lines)


def _title(title: str) -> str:
    """A clock's title (`services start after an Art. 51 request (R001)`), its context kept as it is."""
    if _(title) != title:
        return _(title)
    base, space, context = title.rpartition(" (")
    return _(base) + space + context if space and context.endswith(")") else title


def _accepted_text(accepted: list[str]) -> list[str]:
    """The events accepted now, each with the data it needs (`sinergi events TYPE` says the rest)."""
    from sinergi.commands.event_catalog import field_summary, required_fields

    if not accepted:
        return ["\n" + _("Events accepted now: none")]
    rows = []
    for event_type in accepted:
        needed = ", ".join(field_summary(f) for f in required_fields(event_type))
        rows.append([event_type, needed or "-"])
    return ["\n" + _("Events accepted now:"), table([_("event"), _("required data")], rows),
            _("(`sinergi events TYPE`: every field, allowed value and who may send it)")]


def why_json(w: CaseWhy) -> dict:
    """`case why --json`: the view, and the data each event accepted now requires (`accepted_now`)."""
    from sinergi.commands.event_catalog import required_fields

    return {**w.model_dump(mode="json"),
            "accepted_now": [{"type": t, "required": [f.model_dump() for f in required_fields(t)]}
                             for t in w.accepted_events]}


def list_text(rows) -> str:
    from sinergi.domain import places

    return table([_("case"), _("stage"), _("province"), _("regency"), _("opened"), _("escalated"), _("open")],
                 [[r.case_id, stage_word(r.stage), r.province, places.label(r.regency, r.province),
                   local_time(r.opened_at, r.province), _("yes") if r.escalated else "", yes_no(r.open)]
                  for r in rows])
