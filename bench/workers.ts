/**
 * Participants that run in their own process (CPython, Bun, the C program), driven over a
 * line protocol: "run ROW" -> "ok ROW NANOSECONDS CHECK" | "skip ROW REASON". The processes
 * stay up for the whole suite, so they alternate with the in-process participants round by
 * round exactly like those do.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

import { ROWS, type ParticipantName } from './config.js';
import type { Participant, Sample } from './participants.js';

const TIMEOUT_MS = 180_000;

class Worker {
  #child: ChildProcessWithoutNullStreams;
  #waiting: Array<(line: string | null) => void> = [];
  #lines: string[] = [];
  #stderr = '';
  #ended = false;

  constructor(command: string, args: string[], env?: NodeJS.ProcessEnv) {
    this.#child = spawn(command, args, { env: env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child.stderr.on('data', (d: Buffer) => {
      this.#stderr = (this.#stderr + d.toString()).slice(-4000);
    });
    this.#child.on('error', (error) => {
      this.#stderr += String(error);
      this.#end();
    });
    this.#child.on('exit', () => this.#end());
    createInterface({ input: this.#child.stdout }).on('line', (line) => {
      const next = this.#waiting.shift();
      if (next) next(line);
      else this.#lines.push(line);
    });
  }

  #end(): void {
    this.#ended = true;
    for (const w of this.#waiting.splice(0)) w(null);
  }

  get stderr(): string {
    return this.#stderr.trim();
  }

  /** The next line of output, or null when the process ended or took too long. */
  next(timeoutMs = TIMEOUT_MS): Promise<string | null> {
    const ready = this.#lines.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.#ended) return Promise.resolve(null);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting = this.#waiting.filter((w) => w !== done);
        resolve(null);
      }, timeoutMs);
      const done = (line: string | null) => {
        clearTimeout(timer);
        resolve(line);
      };
      this.#waiting.push(done);
    });
  }

  send(line: string): void {
    if (!this.#ended) this.#child.stdin.write(line + '\n');
  }

  async quit(): Promise<void> {
    this.send('quit');
    this.#child.stdin.end();
    const exited = new Promise<void>((resolve) => {
      if (this.#ended) resolve();
      else this.#child.once('exit', () => resolve());
    });
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * Starts a worker, sends it `firstLine` (if any) and waits for "ready". Returns the
 * participant, or an error message saying why it could not start.
 */
export async function startWorker(
  name: ParticipantName,
  command: string,
  args: string[],
  firstLine: string | null,
  env?: NodeJS.ProcessEnv,
): Promise<Participant | string> {
  const worker = new Worker(command, args, env);
  if (firstLine !== null) worker.send(firstLine);
  // Setting up maps 1.5 GiB of files and touches every page: allow for a slow machine.
  const ready = await worker.next(300_000);
  if (ready !== 'ready') {
    await worker.quit();
    return `${name} did not start: ${ready ?? ''} ${worker.stderr}`.trim();
  }
  const skipped = new Set<string>();
  const participant: Participant = {
    name,
    rows: new Set(ROWS.map((r) => r.id)), // narrowed as the worker answers "skip"
    async run(row: string): Promise<Sample> {
      worker.send(`run ${row}`);
      const line = await worker.next();
      if (line === null) throw new Error(`${name} stopped answering during ${row}: ${worker.stderr}`);
      const [verb, , ns, check] = line.split(' ');
      if (verb === 'skip') {
        skipped.add(row);
        (participant.rows as Set<string>).delete(row);
        throw new SkipRow(line.split(' ').slice(2).join(' '));
      }
      if (verb !== 'ok') throw new Error(`${name}: unexpected answer ${JSON.stringify(line)}`);
      return { ns: Number(ns), check: Number(check) };
    },
    close: () => worker.quit(),
  };
  return participant;
}

/** Thrown by a worker's run() for a row that does not apply to it. */
export class SkipRow extends Error {}
