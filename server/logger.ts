import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.secret', '*.token'], censor: '[redacted]' },
    // Pretty output only for a person at a terminal; machines get JSON lines.
    ...(process.stdout.isTTY ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l' } } } : {}),
  };
}

export function createLogger(level: string): Logger {
  return pino(loggerOptions(level));
}
