/** Score normalization shared by plugins (upstream plugins/helper.DefaultNormalizeScore). */
import type { NodeScore } from '../framework/interface.js';
import { Status } from '../framework/status.js';

/**
 * Scales scores so the highest becomes `max`. With `reverse`, a high raw score is bad: the
 * result is max − scaled. All-zero scores become max when reversed, else stay 0.
 */
export function defaultNormalizeScore(max: number, reverse: boolean, scores: NodeScore[]): Status {
  let highest = 0;
  for (const s of scores) if (s.score > highest) highest = s.score;
  if (highest === 0) {
    if (reverse) for (const s of scores) s.score = max;
    return Status.success();
  }
  for (const s of scores) {
    let v = Math.trunc((max * s.score) / highest);
    if (reverse) v = max - v;
    s.score = v;
  }
  return Status.success();
}
