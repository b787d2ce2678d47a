/* same line: 8-byte record at 8, flag at 0, one persist of both (tests/pmreorder/README.md). */
#include "prog.h"

int
main(int argc, char *argv[])
{
	struct pmr p;
	unsigned char data[8];
	pmr_data(data, sizeof(data));
	pmr_start(&p, argc, argv);
	memcpy(p.base + 8, data, 8);
	pmr_flag(&p, 1);
	p.persist(p.base, 16);
	pmr_close(&p);
	return 0;
}
