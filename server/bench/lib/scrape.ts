/** Reading a hextwin server's /metrics from the bench. */

/** The value of an unlabelled sample, or NaN when it is missing. */
export async function sample(url: string, name: string): Promise<number> {
  const text = await (await fetch(url + '/metrics')).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

/**
 * The longest event-loop hold-up since the previous scrape, in seconds
 * (hextwin_event_loop_longest_task_seconds); reading it starts the next window.
 */
export const longestTask = (url: string) => sample(url, 'hextwin_event_loop_longest_task_seconds');

/**
 * Resolves once the server has finished a checkpoint that began after this call (the second to
 * finish from now: the first may have begun before), or after `ms`: what earlier runs changed is
 * then on disk, and its checkpoint is not charged to the run that follows.
 */
export async function checkpointed(url: string, ms = 60_000): Promise<void> {
  const before = await sampleSum(url, 'hextwin_checkpoint_seconds_count');
  const deadline = Date.now() + ms;
  while ((await sampleSum(url, 'hextwin_checkpoint_seconds_count')) < before + 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
}

/** A labelled or unlabelled sample summed over its label sets (a histogram's `_count`, say); 0 when missing. */
export async function sampleSum(url: string, name: string): Promise<number> {
  const text = await (await fetch(url + '/metrics')).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name + ' ') || line.startsWith(name + '{')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}
