/*
 * early flag: flag=1, flag=0, record, persist record, flag=1, persist flag
 * (tests/pmreorder/README.md). The first flag=1 may reach media by eviction before flag=0 does.
 */
#include "prog.h"

int
main(int argc, char *argv[])
{
	struct pmr p;
	unsigned char data[64];
	pmr_data(data, sizeof(data));
	pmr_start(&p, argc, argv);
	/* the record's epoch, which compare.sh can give its own engine (pmreorder -x) */
	PMR_MARK("PMR_RECORD.BEGIN");
	pmr_flag(&p, 1);
	pmr_flag(&p, 0);
	memcpy(p.base + 64, data, 64);
	p.persist(p.base + 64, 64);
	PMR_MARK("PMR_RECORD.END");
	pmr_flag(&p, 1);
	p.persist(p.base, 8);
	pmr_close(&p);
	return 0;
}
