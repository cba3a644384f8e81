"""What an import of field submissions did, in the words the command line uses (main.py import-submissions)."""
from __future__ import annotations

from layers.i18n import _, ngettext

MAX_LISTED = 12  # unmapped answers and missing photos named one by one; the rest are counted


def submissions_summary(report) -> list[str]:
    """Lines for the user: added, duplicates, photos, then what needs a look (answers that did not map,
    photos missing from the export, notices such as another catalogue version)."""
    lines = [ngettext("{n} submission added to the Incoming queue", "{n} submissions added to the Incoming queue",
                      report.added).format(n=report.added),
             ngettext("{n} duplicate skipped (same instance id)", "{n} duplicates skipped (same instance id)",
                      report.duplicates).format(n=report.duplicates),
             ngettext("{n} photo stored, metadata removed", "{n} photos stored, metadata removed",
                      report.photos).format(n=report.photos)]
    details = [_("{id}: indicators not in today's catalogue: {ids}").format(id=i, ids=", ".join(ids))
               for i, ids in report.unmapped.items()]
    details += [_("{id}: photo {name} is missing from the export").format(id=i, name=n)
                for i, n in report.missing_photos]
    details += list(report.notices)
    if details:
        lines.append("")
        lines += details[:MAX_LISTED]
        if len(details) > MAX_LISTED:
            rest = len(details) - MAX_LISTED
            lines.append(ngettext("… and {n} more", "… and {n} more", rest).format(n=rest))
    return lines
