// The reservations of one namespace: the state (model.ts) in its store (store.ts), the check
// the controller runs for every command (NsReservations), and the four I/O commands
// (commands.ts). The store is in memory until the machine gives it the shared state file of
// the data folder (nvme/persist/resv-file.ts).

import type { AccessGroup, NsReservations } from '../../spec/namespace-api.js';
import { conflict, registrantOf, type Outcome, type ResvData } from './model.js';
import { MemoryResvStore, type ResvStore } from './store.js';

/** RESCAP (Identify Namespace byte 31): PTPL, all six types, IEKEY semantics of NVMe 1.3+. */
export const RESCAP = 0xff;

export class Reservations implements NsReservations {
  #store: ResvStore = new MemoryResvStore();
  notify: ((host: string, type: number) => void) | undefined;

  constructor() {
    this.#store.onNotice = (n) => this.notify?.(n.host, n.type);
  }

  /** Moves the reservations to `store` (the data folder's state file); the old one closes. */
  use(store: ResvStore): void {
    this.#store.close();
    this.#store = store;
    store.onNotice = (n) => this.notify?.(n.host, n.type);
  }

  get state(): ResvData {
    return this.#store.read();
  }

  check(host: string, group: AccessGroup): number {
    return conflict(this.#store.read(), host, group);
  }

  registered(host: string): boolean {
    return registrantOf(this.#store.read(), host) !== undefined;
  }

  get ptpl(): boolean {
    return this.#store.read().ptpl;
  }

  setPtpl(on: boolean): void {
    this.update((d) => ({ status: 0, ...(d.ptpl !== on ? { next: { ...d, ptpl: on } } : {}) }));
  }

  update(op: (d: ResvData) => Outcome): Outcome {
    return this.#store.update(op);
  }

  close(): void {
    this.#store.close();
  }
}
