// Reservations of one namespace (NVMe Base Spec 2.0 §8.19; 2.1 §8.1.22), as pure functions of
// the state: registration, acquire, preempt (and abort), release, clear, and the command
// behavior in the presence of a reservation (Figure 646). A registrant is a host, named by its
// host identifier; every controller of that host (every path, in every nvmemu process serving
// the namespace) acts for it. The state is stored by a ResvStore (store.ts), which the
// controllers of all processes share, so a fence holds on every path.
//
// Operations return the next state (undefined: unchanged), the status, and the notifications
// they cause (§8.19.2), which the store delivers to the controllers of the hosts named.

import { Status, withDnr } from '../../spec/status.js';

/** Reservation types (Figure 572). */
export const Rtype = {
  WRITE_EXCLUSIVE: 1,
  EXCLUSIVE_ACCESS: 2,
  WRITE_EXCLUSIVE_REG_ONLY: 3,
  EXCLUSIVE_ACCESS_REG_ONLY: 4,
  WRITE_EXCLUSIVE_ALL_REGS: 5,
  EXCLUSIVE_ACCESS_ALL_REGS: 6,
} as const;

/** Reservation notification log page types (Figure 5.16.1.x "Reservation Notification"). */
export const ResvNotice = {
  REGISTRATION_PREEMPTED: 1,
  RESERVATION_RELEASED: 2,
  RESERVATION_PREEMPTED: 3,
} as const;
export type ResvNoticeType = (typeof ResvNotice)[keyof typeof ResvNotice];

export interface Registrant {
  /** Host key (host.ts hostKey): the host identifier, or the controller without one. */
  readonly host: string;
  readonly rkey: bigint;
  /** The controller that registered it (Reservation Report CNTLID). */
  readonly cntlid: number;
}

export interface ResvData {
  /** Generation (Reservation Report GEN), a wrapping u32. */
  readonly gen: number;
  /** Reservation type held, 0 for none. */
  readonly rtype: number;
  /** The holding host of a one-holder type; undefined with All Registrants types or none. */
  readonly holder: string | undefined;
  /** Persist Through Power Loss state (PTPLS). */
  readonly ptpl: boolean;
  /** In registration order. */
  readonly registrants: readonly Registrant[];
}

/** Hosts one namespace may have registered (the state file's room, persist/resv-file.ts). */
export const MAX_REGISTRANTS = 64;
/** The longest host key (host.ts): `h16:` and 32 hex digits. */
export const MAX_HOST_KEY = 40;

export const EMPTY: ResvData = {
  gen: 0,
  rtype: 0,
  holder: undefined,
  ptpl: false,
  registrants: [],
};

export interface Notice {
  readonly host: string;
  readonly type: ResvNoticeType;
}

export interface Outcome {
  readonly status: number;
  readonly next?: ResvData;
  readonly notices?: readonly Notice[];
}

/** The command groups of Figure 646 (the reservation commands check themselves). */
export type AccessGroup = 'read' | 'write';

const CONFLICT = withDnr(Status.RESERVATION_CONFLICT);
const INVALID = withDnr(Status.INVALID_FIELD);

export const isAllRegistrants = (rtype: number): boolean =>
  rtype === Rtype.WRITE_EXCLUSIVE_ALL_REGS || rtype === Rtype.EXCLUSIVE_ACCESS_ALL_REGS;
const isRegistrantsOnly = (rtype: number): boolean =>
  rtype === Rtype.WRITE_EXCLUSIVE_REG_ONLY || rtype === Rtype.EXCLUSIVE_ACCESS_REG_ONLY;
export const validRtype = (rtype: number): boolean => rtype >= 1 && rtype <= 6;

export function registrantOf(d: ResvData, host: string): Registrant | undefined {
  return d.registrants.find((r) => r.host === host);
}

/** True when `host` holds the reservation (with All Registrants types: is a registrant). */
export function isHolder(d: ResvData, host: string): boolean {
  if (d.rtype === 0) return false;
  return isAllRegistrants(d.rtype) ? registrantOf(d, host) !== undefined : d.holder === host;
}

/**
 * Figure 646: the status a command of `group` from `host` gets, 0 when allowed. The holder is
 * never in conflict; registrants may do what the type allows them; others are fenced.
 */
export function conflict(d: ResvData, host: string, group: AccessGroup): number {
  if (d.rtype === 0 || isHolder(d, host)) return 0;
  const registrant = registrantOf(d, host) !== undefined;
  switch (d.rtype) {
    case Rtype.WRITE_EXCLUSIVE:
      return group === 'write' ? CONFLICT : 0;
    case Rtype.EXCLUSIVE_ACCESS:
      return CONFLICT;
    case Rtype.WRITE_EXCLUSIVE_REG_ONLY:
    case Rtype.WRITE_EXCLUSIVE_ALL_REGS:
      return group === 'write' && !registrant ? CONFLICT : 0;
    case Rtype.EXCLUSIVE_ACCESS_REG_ONLY:
    case Rtype.EXCLUSIVE_ACCESS_ALL_REGS:
      return registrant ? 0 : CONFLICT;
    default:
      return 0;
  }
}

const bump = (gen: number): number => (gen + 1) >>> 0;

/** Every registrant but `host` gets `type`. */
const others = (regs: readonly Registrant[], host: string, type: ResvNoticeType): Notice[] =>
  regs.filter((r) => r.host !== host).map((r) => ({ host: r.host, type }));

/**
 * Removes the registrants in `gone`: a holder that leaves releases a one-holder reservation
 * (with a released notice to the remaining registrants for the Registrants Only types, §8.19.4);
 * an All Registrants reservation lasts while registrants remain.
 */
function unregister(
  d: ResvData,
  gone: ReadonlySet<string>,
  by: string,
): Outcome & { next: ResvData } {
  const registrants = d.registrants.filter((r) => !gone.has(r.host));
  let { rtype, holder } = d;
  const notices: Notice[] = [];
  if (holder !== undefined && gone.has(holder)) {
    if (isRegistrantsOnly(rtype)) {
      notices.push(...others(registrants, by, ResvNotice.RESERVATION_RELEASED));
    }
    rtype = 0;
    holder = undefined;
  }
  if (isAllRegistrants(rtype) && registrants.length === 0) rtype = 0;
  return { status: 0, next: { ...d, registrants, rtype, holder }, notices };
}

/** Reservation Register actions (Figure 574 RREGA). */
export const Rrega = { REGISTER: 0, UNREGISTER: 1, REPLACE: 2 } as const;

export interface RegisterArgs {
  readonly host: string;
  readonly cntlid: number;
  readonly rrega: number;
  readonly iekey: boolean;
  readonly crkey: bigint;
  readonly nrkey: bigint;
  /** CPTPL: undefined no change, else the new PTPL state. */
  readonly ptpl: boolean | undefined;
}

/** Reservation Register (§8.19.3, §8.19.4). The generation counts every success. */
export function register(d: ResvData, a: RegisterArgs): Outcome {
  const mine = registrantOf(d, a.host);
  let out: Outcome & { next: ResvData };
  switch (a.rrega) {
    case Rrega.REGISTER:
      if (mine !== undefined) {
        // Registering again with the same key succeeds and changes nothing else.
        if (mine.rkey !== a.nrkey) return { status: CONFLICT };
        out = { status: 0, next: d };
      } else {
        // The state file has room for MAX_REGISTRANTS hosts; the spec names no status for a
        // full table, and a host that cannot register is fenced like a conflict.
        if (d.registrants.length >= MAX_REGISTRANTS) return { status: CONFLICT };
        const r: Registrant = { host: a.host, rkey: a.nrkey, cntlid: a.cntlid };
        out = { status: 0, next: { ...d, registrants: [...d.registrants, r] } };
      }
      break;
    case Rrega.UNREGISTER:
      if (mine === undefined || (!a.iekey && mine.rkey !== a.crkey)) return { status: CONFLICT };
      out = unregister(d, new Set([a.host]), a.host);
      break;
    case Rrega.REPLACE: {
      if (mine === undefined || (!a.iekey && mine.rkey !== a.crkey)) return { status: CONFLICT };
      const registrants = d.registrants.map((r) =>
        r.host === a.host ? { ...r, rkey: a.nrkey, cntlid: a.cntlid } : r,
      );
      out = { status: 0, next: { ...d, registrants } };
      break;
    }
    default:
      return { status: INVALID };
  }
  const ptpl = a.ptpl ?? out.next.ptpl;
  return { ...out, next: { ...out.next, ptpl, gen: bump(d.gen) } };
}

/** Reservation Acquire actions (Figure 570 RACQA). */
export const Racqa = { ACQUIRE: 0, PREEMPT: 1, PREEMPT_AND_ABORT: 2 } as const;

export interface AcquireArgs {
  readonly host: string;
  readonly racqa: number;
  readonly rtype: number;
  readonly crkey: bigint;
  readonly prkey: bigint;
}

/** Reservation Acquire: acquire (§8.19.5), preempt and preempt-and-abort (§8.19.7). */
export function acquire(d: ResvData, a: AcquireArgs): Outcome {
  const mine = registrantOf(d, a.host);
  if (mine === undefined || mine.rkey !== a.crkey) return { status: CONFLICT };
  if (a.racqa === Racqa.ACQUIRE) {
    if (d.rtype === 0) {
      const holder = isAllRegistrants(a.rtype) ? undefined : a.host;
      return { status: 0, next: { ...d, rtype: a.rtype, holder } };
    }
    // The holder acquiring its own type again succeeds; anything else is a conflict.
    return { status: isHolder(d, a.host) && d.rtype === a.rtype ? 0 : CONFLICT };
  }
  if (a.racqa !== Racqa.PREEMPT && a.racqa !== Racqa.PREEMPT_AND_ABORT) return { status: INVALID };
  const out = preempt(d, a);
  return out.next === undefined ? out : { ...out, next: { ...out.next, gen: bump(d.gen) } };
}

/** The registrants (other than the preempting host) whose key is `prkey`. */
const keyed = (d: ResvData, prkey: bigint, host: string): Set<string> =>
  new Set(d.registrants.filter((r) => r.rkey === prkey && r.host !== host).map((r) => r.host));

function preempt(d: ResvData, a: AcquireArgs): Outcome {
  const preempted = (hosts: ReadonlySet<string>): Notice[] =>
    [...hosts].map((host) => ({ host, type: ResvNotice.REGISTRATION_PREEMPTED }));
  // Only unregisters the hosts holding PRKEY (none holding it is a conflict).
  const dropKeyed = (): Outcome => {
    const hosts = keyed(d, a.prkey, a.host);
    if (hosts.size === 0 && !d.registrants.some((r) => r.rkey === a.prkey)) {
      return { status: CONFLICT };
    }
    const out = unregister(d, hosts, a.host);
    return { ...out, notices: [...(out.notices ?? []), ...preempted(hosts)] };
  };
  if (d.rtype === 0) return dropKeyed();
  // The new holder takes the reservation, then the preempted registrants go (in this order, so
  // that the reservation is never absent in between).
  const takeOver = (gone: ReadonlySet<string>): Outcome => {
    const held: ResvData = {
      ...d,
      rtype: a.rtype,
      holder: isAllRegistrants(a.rtype) ? undefined : a.host,
    };
    const out = unregister(held, gone, a.host);
    const notices = [...preempted(gone)];
    if (d.rtype !== a.rtype) {
      const left = out.next.registrants;
      notices.push(...others(left, a.host, ResvNotice.RESERVATION_RELEASED));
    }
    return { status: 0, next: out.next, notices };
  };
  if (isAllRegistrants(d.rtype)) {
    if (a.prkey === 0n) {
      const all = new Set(d.registrants.filter((r) => r.host !== a.host).map((r) => r.host));
      return takeOver(all);
    }
    return dropKeyed();
  }
  // PRKEY names the holder: the preempting host holds the reservation with RTYPE (the holder
  // naming its own key changes the type) and the others holding PRKEY go.
  const holder = d.holder === undefined ? undefined : registrantOf(d, d.holder);
  if (holder !== undefined && holder.rkey === a.prkey) return takeOver(keyed(d, a.prkey, a.host));
  // PRKEY names no holder: registrants holding it go, the reservation stays (0 is invalid).
  if (a.prkey === 0n) return { status: INVALID };
  return dropKeyed();
}

/** Reservation Release actions (Figure 577 RRELA). */
export const Rrela = { RELEASE: 0, CLEAR: 1 } as const;

export interface ReleaseArgs {
  readonly host: string;
  readonly rrela: number;
  readonly rtype: number;
  readonly crkey: bigint;
}

/** Reservation Release: release (§8.19.6) and clear (§8.19.8). */
export function release(d: ResvData, a: ReleaseArgs): Outcome {
  const mine = registrantOf(d, a.host);
  if (mine === undefined || mine.rkey !== a.crkey) return { status: CONFLICT };
  if (a.rrela === Rrela.CLEAR) {
    const notices = others(d.registrants, a.host, ResvNotice.RESERVATION_PREEMPTED);
    const next: ResvData = { ...d, rtype: 0, holder: undefined, registrants: [], gen: bump(d.gen) };
    return { status: 0, next, notices };
  }
  if (a.rrela !== Rrela.RELEASE) return { status: INVALID };
  // Releasing what one does not hold is a success that changes nothing.
  if (!isHolder(d, a.host)) return { status: 0 };
  if (a.rtype !== d.rtype) return { status: INVALID };
  const notices =
    d.rtype === Rtype.WRITE_EXCLUSIVE || d.rtype === Rtype.EXCLUSIVE_ACCESS
      ? []
      : others(d.registrants, a.host, ResvNotice.RESERVATION_RELEASED);
  return { status: 0, next: { ...d, rtype: 0, holder: undefined }, notices };
}

/** A power-on without PTPL: registrations and the reservation are gone (§8.19 "PTPLS"). */
export function powerOn(d: ResvData): ResvData {
  return d.ptpl ? d : { ...EMPTY, gen: d.gen };
}
