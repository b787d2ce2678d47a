// Debian's C libpmem2 (libpmem2.so.1, PMDK 1.12.1) through koffi, for the differential tests and
// the benchmark only: the same calls on the same inputs, so return codes, messages, map sizes,
// granularities and mem-function results can be compared with ours in one process.
// `loadCLib()` returns null with the reason when the library is not installed
// (apt-get install -y libpmem2-dev, or libpmem2 for the runtime alone).

import koffi from 'koffi';

type P = unknown; // opaque C pointer (koffi external)

export interface CLib {
  config_new(out: [P]): number;
  config_delete(box: [P]): number;
  config_set_required_store_granularity(c: P, g: number): number;
  config_set_offset(c: P, o: number | bigint): number;
  config_set_length(c: P, l: number | bigint): number;
  config_set_sharing(c: P, s: number): number;
  config_set_protection(c: P, p: number): number;
  config_set_vm_reservation(c: P, r: P, off: number): number;
  source_from_fd(out: [P], fd: number): number;
  source_from_anon(out: [P], size: number): number;
  source_delete(box: [P]): number;
  source_get_fd(s: P, fd: [number]): number;
  source_size(s: P, out: [number]): number;
  source_alignment(s: P, out: [number]): number;
  source_numa_node(s: P, out: [number]): number;
  source_device_usc(s: P, out: [bigint]): number;
  source_device_id(s: P, id: Uint8Array | null, len: [number]): number;
  source_pread_mcsafe(s: P, buf: Uint8Array, size: number, off: number): number;
  map_new(out: [P], c: P, s: P): number;
  map_delete(box: [P]): number;
  map_from_existing(out: [P], s: P, addr: bigint, len: number, g: number): number;
  map_get_address(m: P): bigint;
  map_get_size(m: P): number;
  map_get_store_granularity(m: P): number;
  get_persist_fn(m: P): P;
  get_flush_fn(m: P): P;
  get_drain_fn(m: P): P;
  get_memmove_fn(m: P): P;
  get_memcpy_fn(m: P): P;
  get_memset_fn(m: P): P;
  deep_flush(m: P, ptr: bigint, size: number): number;
  badblock_context_new(out: [P], s: P): number;
  badblock_next(c: P, bb: { offset: number; length: number }): number;
  badblock_context_delete(box: [P]): void;
  vm_reservation_new(out: [P], addr: bigint | null, size: number): number;
  vm_reservation_delete(box: [P]): number;
  errormsg(): string;
  /** Call a persist/flush function pointer on an address. */
  callPersist(fn: P, addr: number, len: number): void;
  callDrain(fn: P): void;
  /** Decode mem function pointers into callables taking numeric addresses. */
  memmoveFn(fn: P): (dst: number, src: number | Uint8Array, len: number, flags: number) => void;
  memsetFn(fn: P): (dst: number, c: number, len: number, flags: number) => void;
}

let cached: CLib | string | undefined;

export function loadCLib(): CLib | string {
  if (cached !== undefined) return cached;
  let lib: ReturnType<typeof koffi.load>;
  try {
    lib = koffi.load('libpmem2.so.1');
  } catch (e) {
    cached = `libpmem2.so.1 not loadable (${(e as Error).message}); apt-get install -y libpmem2-dev`;
    return cached;
  }
  const f = (decl: string): ((...a: unknown[]) => unknown) =>
    lib.func(decl) as (...a: unknown[]) => unknown;
  koffi.struct('pmem2_badblock', { offset: 'size_t', length: 'size_t' });
  const persistProto = koffi.proto('void pmem2_c_persist_fn(uint64_t p, size_t n)');
  const drainProto = koffi.proto('void pmem2_c_drain_fn(void)');
  const moveProto = koffi.proto(
    'void *pmem2_c_memmove_fn(uint64_t d, uint64_t s, size_t n, unsigned int f)',
  );
  const moveBufProto = koffi.proto(
    'void *pmem2_c_memmove_buf_fn(uint64_t d, const void *s, size_t n, unsigned int f)',
  );
  const setProto = koffi.proto(
    'void *pmem2_c_memset_fn(uint64_t d, int c, size_t n, unsigned int f)',
  );
  const c: Record<string, unknown> = {
    config_new: f('int pmem2_config_new(_Out_ void **cfg)'),
    config_delete: f('int pmem2_config_delete(_Inout_ void **cfg)'),
    config_set_required_store_granularity: f(
      'int pmem2_config_set_required_store_granularity(void *cfg, int g)',
    ),
    config_set_offset: f('int pmem2_config_set_offset(void *cfg, uint64_t off)'),
    config_set_length: f('int pmem2_config_set_length(void *cfg, uint64_t len)'),
    config_set_sharing: f('int pmem2_config_set_sharing(void *cfg, int s)'),
    config_set_protection: f('int pmem2_config_set_protection(void *cfg, unsigned int p)'),
    config_set_vm_reservation: f(
      'int pmem2_config_set_vm_reservation(void *cfg, void *r, size_t o)',
    ),
    source_from_fd: f('int pmem2_source_from_fd(_Out_ void **src, int fd)'),
    source_from_anon: f('int pmem2_source_from_anon(_Out_ void **src, size_t size)'),
    source_delete: f('int pmem2_source_delete(_Inout_ void **src)'),
    source_get_fd: f('int pmem2_source_get_fd(void *src, _Out_ int *fd)'),
    source_size: f('int pmem2_source_size(void *src, _Out_ size_t *size)'),
    source_alignment: f('int pmem2_source_alignment(void *src, _Out_ size_t *a)'),
    source_numa_node: f('int pmem2_source_numa_node(void *src, _Out_ int *n)'),
    source_device_usc: f('int pmem2_source_device_usc(void *src, _Out_ uint64_t *usc)'),
    source_device_id: f('int pmem2_source_device_id(void *src, uint8_t *id, _Inout_ size_t *len)'),
    source_pread_mcsafe: f(
      'int pmem2_source_pread_mcsafe(void *src, _Out_ uint8_t *buf, size_t size, size_t off)',
    ),
    map_new: f('int pmem2_map_new(_Out_ void **map, void *cfg, void *src)'),
    map_delete: f('int pmem2_map_delete(_Inout_ void **map)'),
    map_from_existing: f(
      'int pmem2_map_from_existing(_Out_ void **map, void *src, uint64_t addr, size_t len, int g)',
    ),
    map_get_address: f('uint64_t pmem2_map_get_address(void *map)'),
    map_get_size: f('size_t pmem2_map_get_size(void *map)'),
    map_get_store_granularity: f('int pmem2_map_get_store_granularity(void *map)'),
    get_persist_fn: f('void *pmem2_get_persist_fn(void *map)'),
    get_flush_fn: f('void *pmem2_get_flush_fn(void *map)'),
    get_drain_fn: f('void *pmem2_get_drain_fn(void *map)'),
    get_memmove_fn: f('void *pmem2_get_memmove_fn(void *map)'),
    get_memcpy_fn: f('void *pmem2_get_memcpy_fn(void *map)'),
    get_memset_fn: f('void *pmem2_get_memset_fn(void *map)'),
    deep_flush: f('int pmem2_deep_flush(void *map, uint64_t ptr, size_t size)'),
    badblock_context_new: f('int pmem2_badblock_context_new(_Out_ void **ctx, void *src)'),
    badblock_next: f('int pmem2_badblock_next(void *ctx, _Out_ pmem2_badblock *bb)'),
    badblock_context_delete: f('void pmem2_badblock_context_delete(_Inout_ void **ctx)'),
    vm_reservation_new: f(
      'int pmem2_vm_reservation_new(_Out_ void **r, uint64_t addr, size_t size)',
    ),
    vm_reservation_delete: f('int pmem2_vm_reservation_delete(_Inout_ void **r)'),
    errormsg: f('const char *pmem2_errormsg(void)'),
  };
  const vrn = c.vm_reservation_new as (o: [P], a: bigint, s: number) => number;
  c.vm_reservation_new = (o: [P], a: bigint | null, s: number): number => vrn(o, a ?? 0n, s);
  const call = (fn: P, proto: ReturnType<typeof koffi.proto>): ((...a: unknown[]) => unknown) =>
    koffi.decode(fn, proto) as (...a: unknown[]) => unknown;
  c.callPersist = (fn: P, addr: number, len: number): void =>
    void call(fn, persistProto)(addr, len);
  c.callDrain = (fn: P): void => void call(fn, drainProto)();
  c.memmoveFn = (fn: P) => {
    const byAddr = call(fn, moveProto);
    const byBuf = call(fn, moveBufProto);
    return (d: number, s: number | Uint8Array, n: number, fl: number): void =>
      void (typeof s === 'number' ? byAddr(d, s, n, fl) : byBuf(d, s, n, fl));
  };
  c.memsetFn = (fn: P) => {
    const f2 = call(fn, setProto);
    return (d: number, v: number, n: number, fl: number): void => void f2(d, v, n, fl);
  };
  cached = c as unknown as CLib;
  return cached;
}
