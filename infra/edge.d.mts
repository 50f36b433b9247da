import type { ChildProcess } from 'node:child_process';

export interface EdgeOptions {
  dir: string;
  host: string;
  port: number;
  nodes: Array<{ host: string; port: number }>;
  pikeDensity?: number;
  children?: number;
  logLevel?: number;
  frTimerMs?: number;
  /**
   * The trunk ACL first pass: INVITEs no node would admit get 403 at the edge. The trunks' addresses
   * are read from this Postgres database (view edge_trunk_addresses; `schema` when not the default)
   * every `refreshSeconds` (default 5). Without it every INVITE reaches a node.
   */
  trunkAcl?: { databaseUrl: string; schema?: string; refreshSeconds?: number };
}
export function renderEdge(options: EdgeOptions): string;
export function startEdge(options: EdgeOptions & { detached?: boolean; logFile?: string }): ChildProcess;
/** Stops an edge and all its worker processes (SIGTERM, then SIGKILL after 5 s). */
export function stopEdge(child: ChildProcess | undefined): Promise<void>;
