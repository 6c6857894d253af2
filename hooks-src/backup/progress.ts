/**
 * Progress on stderr. On a terminal: one redrawn bar per phase. Anywhere else (the timer, a pipe,
 * a log): only the phase lines, so logs stay readable and scripts see no escape codes.
 */
export class Progress {
  private label = '';
  private total = 0;
  private done = 0;
  private lastDraw = 0;
  private drawn = false;

  constructor(
    readonly tty: boolean = Boolean(process.stderr.isTTY),
    private readonly out: NodeJS.WritableStream = process.stderr,
    private readonly quiet = false,
  ) {}

  /** A line of its own (ends any bar). */
  line(message: string): void {
    if (this.quiet) return;
    this.clear();
    this.out.write(`${message}\n`);
  }

  /** Starts a measured phase; `total` in the unit `format` shows (bytes by default). */
  start(label: string, total: number): void {
    this.clear();
    this.label = label;
    this.total = total;
    this.done = 0;
    this.lastDraw = 0;
  }

  tick(n: number): void {
    this.done += n;
    if (!this.tty || this.quiet) return;
    const now = Date.now();
    if (now - this.lastDraw < 100) return;
    this.lastDraw = now;
    this.draw();
  }

  end(): void {
    if (this.drawn) {
      this.draw();
      this.out.write('\n');
      this.drawn = false;
    }
  }

  private draw(): void {
    const width = 30;
    const frac = this.total > 0 ? Math.min(1, this.done / this.total) : 0;
    const bar = this.total > 0 ? `[${'#'.repeat(Math.round(frac * width)).padEnd(width, '-')}] ${String(Math.floor(frac * 100)).padStart(3)}% ` : '';
    const amount = this.total > 0 ? `${formatBytes(this.done)}/${formatBytes(this.total)}` : formatBytes(this.done);
    this.out.write(`\r\x1b[2K${this.label} ${bar}${amount}`);
    this.drawn = true;
  }

  private clear(): void {
    if (this.drawn) {
      this.out.write('\r\x1b[2K');
      this.drawn = false;
    }
  }
}

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`;
}
