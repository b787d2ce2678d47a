/*
 * Shared by the four pmreorder comparison programs (tests/pmreorder/README.md): the layout of
 * tests/support/pmem2-record.ts (a 64-byte record at offset 64, made valid by the 8-byte flag
 * at offset 0; the "same line" program puts an 8-byte record at offset 8) on a file mapped with
 * Debian's libpmem2 (PMDK 1.12.1). The caller sets PMEM2_FORCE_GRANULARITY=CACHE_LINE so that an
 * ordinary file is flushed with cache-line flushes and a fence (libpmem2 registers FD maps with
 * pmemcheck itself, so the store log gets its REGISTER_FILE line without help from us).
 *
 * Stores are plain CPU stores into the map (memcpy for the record, which gcc -O2 emits as
 * 16-byte SSE stores that pmemcheck logs as 8-byte halves; a volatile 8-byte store for the
 * flag), and persist is libpmem2's persist function (flush the lines, then drain): the same
 * operations as nvmemu's Pmem2Map.store and Pmem2Map.persist in
 * tests/pmem2-store-explorer.test.ts.
 */
#ifndef PMR_PROG_H
#define PMR_PROG_H

#include <fcntl.h>
#include <libpmem2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Built with -DPMR_MARKERS (and pmemcheck.h from the valgrind fork on the include path), the
 * programs emit pmreorder markers: `pmreorder -x NAME=Engine` then picks the engine of that
 * region. Without it they are plain libpmem2 programs.
 */
#ifdef PMR_MARKERS
#include <valgrind/pmemcheck.h>
#define PMR_MARK(name) VALGRIND_PMC_EMIT_LOG(name)
#else
#define PMR_MARK(name) ((void)0)
#endif

struct pmr {
	unsigned char *base;
	pmem2_persist_fn persist;
	struct pmem2_map *map;
	struct pmem2_source *src;
	int fd;
};

/* The record's content: 0xa0 + (i % 16), as DATA in tests/support/pmem2-record.ts. */
static inline void
pmr_data(unsigned char *out, size_t len)
{
	for (size_t i = 0; i < len; i++)
		out[i] = (unsigned char)(0xa0 + (i % 16));
}

static inline void
pmr_die(const char *what)
{
	pmem2_perror("%s", what);
	exit(2);
}

/* Maps FILE (whole, shared) at cache-line granularity; exits 2 with libpmem2's message. */
static inline void
pmr_open(struct pmr *p, const char *path)
{
	struct pmem2_config *cfg;
	p->fd = open(path, O_RDWR);
	if (p->fd < 0) {
		perror(path);
		exit(2);
	}
	if (pmem2_config_new(&cfg))
		pmr_die("pmem2_config_new");
	if (pmem2_config_set_required_store_granularity(cfg, PMEM2_GRANULARITY_CACHE_LINE))
		pmr_die("pmem2_config_set_required_store_granularity");
	if (pmem2_source_from_fd(&p->src, p->fd))
		pmr_die("pmem2_source_from_fd");
	if (pmem2_map_new(&p->map, cfg, p->src))
		pmr_die("pmem2_map_new (is PMEM2_FORCE_GRANULARITY=CACHE_LINE set?)");
	pmem2_config_delete(&cfg);
	p->base = pmem2_map_get_address(p->map);
	p->persist = pmem2_get_persist_fn(p->map);
}

/* The programs' command line, FILE: usage on anything else (exit 2), else pmr_open(FILE). */
static inline void
pmr_start(struct pmr *p, int argc, char *argv[])
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s FILE\n", argv[0]);
		exit(2);
	}
	pmr_open(p, argv[1]);
}

/*
 * The 8-byte flag at offset 0: one 8-byte store, never merged or dropped (volatile), and kept in
 * program order with the record's memcpy (the compiler barriers: without them gcc -O2 moved the
 * record's stores before flag=1, flag=0 in the early-flag program).
 */
static inline void
pmr_flag(struct pmr *p, uint64_t v)
{
	__asm__ __volatile__("" ::: "memory");
	*(volatile uint64_t *)(void *)p->base = v;
	__asm__ __volatile__("" ::: "memory");
}

static inline void
pmr_close(struct pmr *p)
{
	pmem2_map_delete(&p->map);
	pmem2_source_delete(&p->src);
	close(p->fd);
}

#endif
