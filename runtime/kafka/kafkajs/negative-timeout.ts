/**
 * kafkajs 2.2.4 arms a timer with a negative delay when a request queue is not throttled
 * (tulios/kafkajs#1751, unreleased fix). Node >= 22 then prints a TimeoutNegativeWarning on
 * stderr for admin requests; the timer fires after 1 ms either way, so nothing is wrong.
 * Node's default printer is a 'warning' listener: wrap it to drop exactly those warnings
 * raised from kafkajs's code, and print every other warning as before.
 */
let installed = false;

export function silenceKafkajsNegativeTimeouts(): void {
  if (installed) return;
  installed = true;
  const printers = process.listeners("warning");
  if (printers.length === 0) return; // --no-warnings: nothing is printed anyway
  process.removeAllListeners("warning");
  process.on("warning", (w) => {
    if (w.name === "TimeoutNegativeWarning" && w.stack?.includes("/kafkajs/")) return;
    for (const print of printers) print(w);
  });
}
