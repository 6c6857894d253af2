// TEST DOUBLE of Immich v3.2.0's logger: server/src/repositories/logging.repository.ts (NestJS
// ConsoleLogger, `[Nest] <pid>  - <time>     LOG [<context>] <message>`; not re-read, shape from
// Immich's container logs). Simplified: no colours, no JSON format, no worker prefix.

export type LogLevel = 'verbose' | 'debug' | 'log' | 'warn' | 'error' | 'fatal';

const ORDER: LogLevel[] = ['verbose', 'debug', 'log', 'warn', 'error', 'fatal'];
let minimum: LogLevel = 'log';

export function setLogLevel(level: LogLevel | undefined): void {
  minimum = level ?? 'log';
}

export class Logger {
  constructor(private readonly context: string) {}

  verbose(message: string): void {
    this.write('verbose', message);
  }
  debug(message: string): void {
    this.write('debug', message);
  }
  log(message: string): void {
    this.write('log', message);
  }
  warn(message: string): void {
    this.write('warn', message);
  }
  error(message: string): void {
    this.write('error', message);
  }
  fatal(message: string): void {
    this.write('fatal', message);
  }

  private write(level: LogLevel, message: string): void {
    if (ORDER.indexOf(level) < ORDER.indexOf(minimum)) return;
    const time = new Date().toLocaleString('en-US');
    const line = `[Nest] ${process.pid}  - ${time} ${level.toUpperCase().padStart(7)} [${this.context}] ${message}\n`;
    (level === 'error' || level === 'fatal' ? process.stderr : process.stdout).write(line);
  }
}

