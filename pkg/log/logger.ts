/** The one way components get a logger: pino JSON to stderr, one child per component. */
import { pino, type Logger, type Level } from 'pino';

export function newLogger(component: string, level: Level | 'silent' = 'info'): Logger {
  return pino({ level, base: { component }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination(2));
}

export type { Logger };
