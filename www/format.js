// Figures as the page writes them, the same wherever they appear.

/** `$0.1234`, or six decimals for amounts under a cent (a short turn costs hundredths of one). */
export const dollars = (amount) => `$${amount.toFixed(amount < 0.01 ? 6 : 4)}`;

/** A moment (RFC 3339) in the reader's locale: the time alone if it is today. */
export function moment(iso) {
  const date = new Date(iso);
  const today = date.toDateString() === new Date().toDateString();
  return today
    ? date.toLocaleTimeString([], { timeStyle: "short" })
    : date.toLocaleString([], { dateStyle: "short", timeStyle: "short" });
}
