// SPDX-License-Identifier: MIT
/* count's BPF program, opened and loaded: see funcs_count.h. */
#include <errno.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "common.h"
#include "funcs_count.h"
#include "bpf/funcs_count.skel.h"

int funcs_count__open_slots(size_t nfuncs, unsigned int slots, int slots_fd,
			    struct funcs_count_bpf **out)
{
	struct funcs_count_bpf *skel;
	int err;

	*out = NULL;
	skel = funcs_count_bpf__open();
	if (!skel) {
		err = -errno;
		p_err("cannot open the BPF program: %s", strerror(-err));
		return err;
	}
	err = bpf_map__set_max_entries(skel->maps.counts,
				       (__u32)nfuncs * (slots ? slots : 1));
	if (!err && slots) {
		skel->rodata->by_slot = true;
		skel->rodata->nfuncs = (__u32)nfuncs;
		err = bpf_map__reuse_fd(skel->maps.slots, slots_fd);
	}
	if (err) {
		p_err("cannot size the BPF maps: %s", strerror(-err));
		funcs_count_bpf__destroy(skel);
		return err;
	}
	*out = skel;
	return 0;
}

int funcs_count__open(size_t n, struct funcs_count_bpf **out)
{
	return funcs_count__open_slots(n, 0, -1, out);
}

int funcs_count__load(struct funcs_count_bpf *skel)
{
	return funcs_count_bpf__load(skel);
}
