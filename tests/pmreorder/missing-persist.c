/* missing persist: record, flag, persist flag only (tests/pmreorder/README.md). */
#include "prog.h"

int
main(int argc, char *argv[])
{
	struct pmr p;
	unsigned char data[64];
	pmr_data(data, sizeof(data));
	pmr_start(&p, argc, argv);
	memcpy(p.base + 64, data, 64);
	pmr_flag(&p, 1);
	p.persist(p.base, 8);
	pmr_close(&p);
	return 0;
}
