// Times in the billing tables: local time; the year only when it is not this one (the cell's
// tooltip has the full UTC time).
const thisYear = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "numeric", minute: "2-digit" });
const otherYear = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const currentYear = new Date().getFullYear();

export function formatTime(ms: number): string {
  const d = new Date(ms);
  return (d.getFullYear() === currentYear ? thisYear : otherYear).format(d);
}
