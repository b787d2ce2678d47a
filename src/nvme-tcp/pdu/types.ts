// NVMe/TCP PDU values (reference nvme-tcp.md §1.1–§1.3). One declaration of every PDU type, its
// fixed header length, direction, digest eligibility and data shape; encoder, parser and framer all
// derive their checks from PDU_INFO so the rules live in one table (DESIGN.md rule 6).

/** PDU-Type codes (CH byte 0, §1.2). 0x08 is unused in NVMe/TCP 1.0. */
export const PduType = {
  ICReq: 0x00,
  ICResp: 0x01,
  H2CTermReq: 0x02,
  C2HTermReq: 0x03,
  CapsuleCmd: 0x04,
  CapsuleResp: 0x05,
  H2CData: 0x06,
  C2HData: 0x07,
  R2T: 0x09,
} as const;
export type PduTypeCode = (typeof PduType)[keyof typeof PduType];

/** CH FLAGS bits (§1.1); every other bit is reserved and must be 0. */
export const PduFlag = {
  HDGSTF: 0x01,
  DDGSTF: 0x02,
  LAST_PDU: 0x04,
  SUCCESS: 0x08,
} as const;

/** Fatal Error Status codes carried in TermReq bytes 8–9 (§1.10). */
export const Fes = {
  InvalidHeaderField: 0x01,
  SequenceError: 0x02,
  HeaderDigestError: 0x03,
  DataOutOfRange: 0x04,
  DataLimitExceeded: 0x05,
  UnsupportedParameter: 0x06,
} as const;
export type FesCode = (typeof Fes)[keyof typeof Fes];

/** Common-header field offsets (§1.1); they double as FEI values for FES 01h. */
export const ChOff = { type: 0, flags: 1, hlen: 2, pdo: 3, plen: 4 } as const;
export const CH_LEN = 8;
export const DIGEST_LEN = 4;
/** TermReq data is a copy of the offending header, at most 128 bytes (§1.3). */
export const TERM_MAX_DATA = 128;
/** HPDA/CPDA are 0's based dword counts, 0..31 (§1.3, §1.6). */
export const MAX_PDA = 31;
/** ICResp MAXH2CDATA must be a dword multiple and at least 4096 (§1.4). */
export const MIN_MAXH2CDATA = 4096;

export type Direction = 'h2c' | 'c2h';
/** none: PLEN = header; optional/required: PDO-placed data with optional DDGST; term: error data. */
export type DataShape = 'none' | 'optional' | 'required' | 'term';

export interface PduInfo {
  readonly name: string;
  readonly hlen: number;
  readonly dir: Direction;
  /** Carries HDGST (and DDGST when it has data) once digests are negotiated (§1.5). */
  readonly digests: boolean;
  readonly data: DataShape;
  /** FLAGS bits allowed besides HDGSTF/DDGSTF. */
  readonly extraFlags: number;
}

export const PDU_INFO: Readonly<Record<PduTypeCode, PduInfo>> = {
  [PduType.ICReq]: {
    name: 'ICReq',
    hlen: 128,
    dir: 'h2c',
    digests: false,
    data: 'none',
    extraFlags: 0,
  },
  [PduType.ICResp]: {
    name: 'ICResp',
    hlen: 128,
    dir: 'c2h',
    digests: false,
    data: 'none',
    extraFlags: 0,
  },
  [PduType.H2CTermReq]: {
    name: 'H2CTermReq',
    hlen: 24,
    dir: 'h2c',
    digests: false,
    data: 'term',
    extraFlags: 0,
  },
  [PduType.C2HTermReq]: {
    name: 'C2HTermReq',
    hlen: 24,
    dir: 'c2h',
    digests: false,
    data: 'term',
    extraFlags: 0,
  },
  [PduType.CapsuleCmd]: {
    name: 'CapsuleCmd',
    hlen: 72,
    dir: 'h2c',
    digests: true,
    data: 'optional',
    extraFlags: 0,
  },
  [PduType.CapsuleResp]: {
    name: 'CapsuleResp',
    hlen: 24,
    dir: 'c2h',
    digests: true,
    data: 'none',
    extraFlags: 0,
  },
  [PduType.H2CData]: {
    name: 'H2CData',
    hlen: 24,
    dir: 'h2c',
    digests: true,
    data: 'required',
    extraFlags: PduFlag.LAST_PDU,
  },
  [PduType.C2HData]: {
    name: 'C2HData',
    hlen: 24,
    dir: 'c2h',
    digests: true,
    data: 'required',
    extraFlags: PduFlag.LAST_PDU | PduFlag.SUCCESS,
  },
  [PduType.R2T]: { name: 'R2T', hlen: 24, dir: 'c2h', digests: true, data: 'none', extraFlags: 0 },
};

/** The table entry for a raw type byte, or undefined for unknown types (0x08, 0x0A..0xFF). */
export function pduInfo(type: number): PduInfo | undefined {
  return Object.hasOwn(PDU_INFO, type) ? PDU_INFO[type as PduTypeCode] : undefined;
}

/** DGST byte of ICReq/ICResp: bit0 HDGST_ENABLE, bit1 DDGST_ENABLE (§1.3). */
export interface DigestSelection {
  readonly hdgst: boolean;
  readonly ddgst: boolean;
}

export interface ICReqPdu {
  readonly type: typeof PduType.ICReq;
  readonly pfv: number;
  readonly hpda: number;
  readonly dgst: DigestSelection;
  readonly maxr2t: number;
}

export interface ICRespPdu {
  readonly type: typeof PduType.ICResp;
  readonly pfv: number;
  readonly cpda: number;
  readonly dgst: DigestSelection;
  readonly maxh2cdata: number;
}

export interface TermReqPdu<T extends typeof PduType.H2CTermReq | typeof PduType.C2HTermReq> {
  readonly type: T;
  readonly fes: number;
  /** Byte offset of the offending field for FES 01h/06h; reserved (0) otherwise. */
  readonly fei: number;
  /** Copy of the offending PDU header (≤ 128 bytes). */
  readonly data: Uint8Array;
}
export type H2CTermReqPdu = TermReqPdu<typeof PduType.H2CTermReq>;
export type C2HTermReqPdu = TermReqPdu<typeof PduType.C2HTermReq>;

export interface CapsuleCmdPdu {
  readonly type: typeof PduType.CapsuleCmd;
  /** The 64-byte SQE, uninterpreted here (the controller parses it, §2.1). */
  readonly sqe: Uint8Array;
  /** In-capsule data (empty when none). */
  readonly data: Uint8Array;
}

export interface CapsuleRespPdu {
  readonly type: typeof PduType.CapsuleResp;
  /** The 16-byte CQE (§2.9). */
  readonly cqe: Uint8Array;
}

/** DATAL is `data.length`; it is not stored separately so it cannot disagree with the data. */
export interface H2CDataPdu {
  readonly type: typeof PduType.H2CData;
  readonly cccid: number;
  readonly ttag: number;
  readonly datao: number;
  readonly lastPdu: boolean;
  readonly data: Uint8Array;
}

export interface C2HDataPdu {
  readonly type: typeof PduType.C2HData;
  readonly cccid: number;
  readonly datao: number;
  readonly lastPdu: boolean;
  /** §1.9: completes the command without a CapsuleResp; only valid with lastPdu. */
  readonly success: boolean;
  readonly data: Uint8Array;
}

export interface R2TPdu {
  readonly type: typeof PduType.R2T;
  readonly cccid: number;
  readonly ttag: number;
  readonly r2to: number;
  readonly r2tl: number;
}

export type Pdu =
  | ICReqPdu
  | ICRespPdu
  | H2CTermReqPdu
  | C2HTermReqPdu
  | CapsuleCmdPdu
  | CapsuleRespPdu
  | H2CDataPdu
  | C2HDataPdu
  | R2TPdu;

/**
 * A fatal protocol error found in a received PDU (§1.10): the receiver must answer with a TermReq
 * carrying `fes`/`fei` and close. A value, never thrown.
 */
export class PduFatal {
  readonly fes: FesCode;
  /** Byte offset of the offending field (FES 01h and 06h only). */
  readonly fei: number | undefined;
  readonly message: string;

  constructor(fes: FesCode, fei: number | undefined, message: string) {
    this.fes = fes;
    this.fei = fei;
    this.message = message;
  }
}

/** Receive-side limits on data bytes per PDU; every length is capped before it is buffered. */
export interface DataLimits {
  /** In-capsule data of one CapsuleCmd (target side). */
  readonly maxInCapsuleData: number;
  /** DATAL of one H2CData (target side): the MAXH2CDATA announced in ICResp. */
  readonly maxH2CData: number;
  /** DATAL of one C2HData (host side). */
  readonly maxC2HData: number;
}

/**
 * Defaults: 8192 B in-capsule (the fixed limit Linux uses for admin and Fabrics commands, §1.7),
 * 128 KiB H2CData (SPDK's MAXH2CDATA, §7), 4 MiB C2HData (nvmet's per-PDU maximum).
 */
export const DEFAULT_LIMITS: DataLimits = {
  maxInCapsuleData: 8192,
  maxH2CData: 131072,
  maxC2HData: 4 * 1024 * 1024,
};

/** What the receiving side of one connection has negotiated (§1.4–§1.6). */
export interface ReceiveContext {
  /** The receiver: a target accepts only h2c PDU types, a host only c2h types. */
  readonly role: 'target' | 'host';
  readonly hdgst: boolean;
  readonly ddgst: boolean;
  /** The receiver's own data alignment (CPDA for a target, HPDA for a host), 0's based dwords. */
  readonly pda: number;
  readonly limits: DataLimits;
}

/** A successfully received PDU. */
export interface ParsedPdu {
  readonly pdu: Pdu;
  /**
   * DDGST present and wrong. Not fatal (§1.5): the affected command fails (target: status 22h
   * Transient Transport Error; host: data transfer error) and the connection stays up.
   */
  readonly dataDigestError: boolean;
  /** The HLEN header bytes as received, for a TermReq if a later layer rejects the PDU. */
  readonly header: Uint8Array;
}
