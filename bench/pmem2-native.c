/*
 * The C baseline of bench/pmem2.ts: Debian's libpmem2 (PMDK 1.12.1) running its own loops, with
 * no FFI between the loop and the library (DESIGN.md rule 12). bench/pmem2-native.ts compiles
 * this file at bench time (cc -O2 ... -lpmem2) into a temporary directory; no binary is kept.
 *
 * usage: pmem2-native FILE GRANULARITY
 *   FILE         the file the TypeScript side maps too (opened O_RDWR, mapped whole, SHARED)
 *   GRANULARITY  BYTE | CACHE_LINE | PAGE, set as PMEM2_FORCE_GRANULARITY before map_new
 *                (pmdk.md §1.5: honoured for SHARED fd mappings, read on every map_new); the
 *                effective granularity is checked and a mismatch is an error (exit 1)
 * then one command per line on stdin, "CASE MS", answered by one line on stdout, so that the
 * bench can interleave C and TypeScript case by case:
 *   CASE         memcpy:SIZE   memcpy_fn(dst, buf, SIZE, 0)  (copy + persist, flags 0)
 *                persist:SIZE  persist_fn(dst, SIZE)         (no store before it)
 *   MS           minimum measuring time, in milliseconds
 *   answer       CASE SIZE OPS WALL_NS CPU_NS, or "error: ..." for a bad command
 * The program waits in read(2) while the TypeScript side runs, using no CPU.
 *
 * The loop is the one bench/pmem2.ts runs: op i targets map offset (i & (SLOTS-1)) * STRIDE,
 * STRIDE = max(SIZE, 4096), SLOTS = the largest power of two with SLOTS * STRIDE <= map size.
 * CPU time is CLOCK_THREAD_CPUTIME_ID (the TypeScript side reads its own thread's time too);
 * the machine may be shared, so the caller compares CPU time and repeats rounds.
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <libpmem2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int parse_case(const char *arg, int *is_memcpy, size_t *size)
{
	const char *colon = strchr(arg, ':');
	char *end;
	if (colon == NULL)
		return -1;
	if (strncmp(arg, "memcpy", (size_t)(colon - arg)) == 0 && colon - arg == 6)
		*is_memcpy = 1;
	else if (strncmp(arg, "persist", (size_t)(colon - arg)) == 0 && colon - arg == 7)
		*is_memcpy = 0;
	else
		return -1;
	*size = strtoul(colon + 1, &end, 10);
	return (*end != '\0' || *size == 0) ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct pmem2_config *cfg = NULL;
	struct pmem2_source *src = NULL;
	struct pmem2_map *map = NULL;
	int want, fd;
	char line[256];

	if (argc != 3) {
		fprintf(stderr, "usage: %s FILE BYTE|CACHE_LINE|PAGE  (then \"CASE MS\" lines)\n",
			argv[0]);
		return 2;
	}
	if (strcmp(argv[2], "BYTE") == 0)
		want = PMEM2_GRANULARITY_BYTE;
	else if (strcmp(argv[2], "CACHE_LINE") == 0)
		want = PMEM2_GRANULARITY_CACHE_LINE;
	else if (strcmp(argv[2], "PAGE") == 0)
		want = PMEM2_GRANULARITY_PAGE;
	else {
		fprintf(stderr, "pmem2-native: unknown granularity %s\n", argv[2]);
		return 2;
	}
	if (setenv("PMEM2_FORCE_GRANULARITY", argv[2], 1) != 0) {
		perror("setenv");
		return 1;
	}
	fd = open(argv[1], O_RDWR);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	if (pmem2_config_new(&cfg) || pmem2_source_from_fd(&src, fd) ||
	    pmem2_config_set_required_store_granularity(cfg, PMEM2_GRANULARITY_PAGE) ||
	    pmem2_map_new(&map, cfg, src)) {
		pmem2_perror("pmem2-native");
		return 1;
	}
	if ((int)pmem2_map_get_store_granularity(map) != want) {
		fprintf(stderr, "pmem2-native: granularity %d, wanted %d\n",
			(int)pmem2_map_get_store_granularity(map), want);
		return 1;
	}

	char *base = pmem2_map_get_address(map);
	size_t map_size = pmem2_map_get_size(map);
	pmem2_memcpy_fn memcpy_fn = pmem2_get_memcpy_fn(map);
	pmem2_persist_fn persist_fn = pmem2_get_persist_fn(map);

	printf("ready\n");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		int is_memcpy;
		size_t size;
		char name[64];
		long ms;
		if (sscanf(line, "%63s %ld", name, &ms) != 2 || ms <= 0 ||
		    parse_case(name, &is_memcpy, &size) != 0) {
			printf("error: bad command (want \"memcpy:SIZE MS\" or \"persist:SIZE MS\")\n");
			fflush(stdout);
			continue;
		}
		size_t stride = size > 4096 ? size : 4096;
		size_t slots = 1;
		while (slots * 2 * stride <= map_size)
			slots *= 2;
		if (slots * stride > map_size) {
			printf("error: %zu bytes do not fit the map\n", size);
			fflush(stdout);
			continue;
		}
		size_t mask = slots - 1;
		char *buf = malloc(size);
		if (buf == NULL)
			return 1;
		memset(buf, 0x5a, size);

		/* warm up (page faults, caches), as the TypeScript side does */
		for (size_t k = 0; k < 64; k++) {
			char *dst = base + (k & mask) * stride;
			if (is_memcpy)
				memcpy_fn(dst, buf, size, 0);
			else
				persist_fn(dst, size);
		}

		/* batches double until one takes 1 ms, so the clock is read rarely on fast ops and
		 * a slow op (msync to disk) cannot overshoot MS by much */
		uint64_t ops = 0, batch = 1;
		uint64_t limit = (uint64_t)ms * 1000000u;
		uint64_t w0 = now_ns(CLOCK_MONOTONIC);
		uint64_t c0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
		uint64_t w1 = w0, wb;
		do {
			wb = w1;
			if (is_memcpy) {
				for (uint64_t k = 0; k < batch; k++, ops++)
					memcpy_fn(base + (ops & mask) * stride, buf, size, 0);
			} else {
				for (uint64_t k = 0; k < batch; k++, ops++)
					persist_fn(base + (ops & mask) * stride, size);
			}
			w1 = now_ns(CLOCK_MONOTONIC);
			if (w1 - wb < 1000000u && batch < 65536)
				batch *= 2;
		} while (w1 - w0 < limit);
		uint64_t c1 = now_ns(CLOCK_THREAD_CPUTIME_ID);
		printf("%s %zu %llu %llu %llu\n", is_memcpy ? "memcpy" : "persist", size,
		       (unsigned long long)ops, (unsigned long long)(w1 - w0),
		       (unsigned long long)(c1 - c0));
		fflush(stdout);
		free(buf);
	}
	pmem2_map_delete(&map);
	pmem2_source_delete(&src);
	pmem2_config_delete(&cfg);
	close(fd);
	return 0;
}
