/*
 * The consistency check pmreorder runs on each crash image (tests/pmreorder/README.md), the
 * same as checkRecord / checkSameLine in the store-explorer tests: once the 8-byte flag at 0 is
 * 1, the record (64 bytes at 64; 8 bytes at 8 for the "same line" program) must be whole.
 * Answers are pmreorder's: 0 consistent, 1 inconsistent (2: the file could not be read).
 *
 * pmreorder runs it as `-c prog -p "check record"`: through the shell, once per image, with the
 * file name appended. (Its `-c lib` mode, an in-process function through ctypes, fails on
 * Python 3 in every PMDK release: it passes the file name as str where ctypes wants bytes.)
 * With PMR_COUNT=PATH in the environment each check appends one byte to PATH, so the
 * comparison can say how many images pmreorder checked.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int
check(const char *path, size_t off, size_t len)
{
	unsigned char buf[128];
	const char *count = getenv("PMR_COUNT");
	if (count != NULL) {
		FILE *c = fopen(count, "a");
		if (c != NULL) {
			fputc('.', c);
			fclose(c);
		}
	}
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		perror(path);
		return 2;
	}
	ssize_t got = pread(fd, buf, sizeof(buf), 0);
	close(fd);
	if (got != (ssize_t)sizeof(buf)) {
		fprintf(stderr, "%s: shorter than %zu bytes\n", path, sizeof(buf));
		return 2;
	}
	uint64_t flag = 0;
	for (int i = 7; i >= 0; i--)
		flag = (flag << 8) | buf[i];
	if (flag != 1)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (buf[off + i] != (unsigned char)(0xa0 + (i % 16)))
			return 1;
	return 0;
}

/* The 64-byte record at 64 (correct, missing persist, early flag). */
static int
pmr_check_record(const char *path)
{
	return check(path, 64, 64);
}

/* The 8-byte record at 8, in the flag's line (same line). */
static int
pmr_check_line(const char *path)
{
	return check(path, 8, 8);
}

int
main(int argc, char *argv[])
{
	if (argc == 3 && strcmp(argv[1], "record") == 0)
		return pmr_check_record(argv[2]);
	if (argc == 3 && strcmp(argv[1], "line") == 0)
		return pmr_check_line(argv[2]);
	fprintf(stderr, "usage: %s record|line FILE\n", argv[0]);
	return 2;
}
