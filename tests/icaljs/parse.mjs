// Prints the VEVENTs of an .ics file as JSON, read the way Thunderbird and Nextcloud read it:
// ical.js parses the file, every VTIMEZONE in it is registered with ical.js's TimezoneService
// (that is how Nextcloud and calendar-js resolve TZID), and each start/end is converted to UTC
// by ical.js's own time-zone code. Usage: node parse.mjs FILE.ics
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const text = readFileSync(process.argv[2], "utf8");
const root = new ICAL.Component(ICAL.parse(text));
for (const vtimezone of root.getAllSubcomponents("vtimezone")) {
  ICAL.TimezoneService.register(new ICAL.Timezone(vtimezone));
}
const utc = (time) => time.convertToZone(ICAL.Timezone.utcTimezone).toString();
const events = root.getAllSubcomponents("vevent").map((component) => {
  const event = new ICAL.Event(component);
  return {
    uid: event.uid,
    summary: event.summary,
    start: utc(event.startDate),
    end: utc(event.endDate),
    tzid: event.startDate.zone ? event.startDate.zone.tzid : null,
    sequence: event.sequence,
    location: event.location,
    description: event.description,
    status: component.getFirstPropertyValue("status"),
    dtstamp: component.getFirstPropertyValue("dtstamp")?.toString() ?? null,
  };
});
process.stdout.write(JSON.stringify(events, null, 1) + "\n");
