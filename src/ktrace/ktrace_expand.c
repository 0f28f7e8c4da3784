// SPDX-License-Identifier: MIT
/* ktrace's PROBE arguments with their globs expanded (ktrace_expand.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "ktrace_expand.h"
#include "ktrace_names.h"
#include "ktrace_probe.h"

int kt_expand__probes(const char *const *args, int nargs, char ***texts,
		      int **arg_of, int *np)
{
	const struct btf *btf = NULL;
	const char *btf_err = NULL;
	char err[512];
	int n = 0;

	*texts = calloc(KT_MAX_EXPANDED, sizeof(**texts));
	*arg_of = calloc(KT_MAX_EXPANDED, sizeof(**arg_of));
	if (!*texts || !*arg_of)
		return -ENOMEM;
	for (int a = 0; a < nargs; a++) {
		const char *arg = args[a];
		char **names;
		size_t cnt;
		int ret;

		if (!kt_names__is_glob(arg)) {
			if (n == KT_MAX_EXPANDED)
				goto too_many;
			(*texts)[n] = strdup(arg);
			if (!(*texts)[n])
				return -ENOMEM;
			(*arg_of)[n++] = a;
			continue;
		}
		if (!btf && !btf_err)
			btf = kt_btf(&btf_err);
		ret = kt_names__expand(arg, btf, KT_MAX_EXPANDED - n, &names,
				       &cnt, err, sizeof(err));
		if (ret == -E2BIG)
			goto too_many;
		if (ret) {
			if (ret == -EOPNOTSUPP)
				p_err("%s: %s; tracepoint:CAT:NAME probes still "
				      "work", err, btf_err);
			else if (ret == -EACCES || ret == -EPERM)
				p_err("%s (" PRIV_HINT ")", err);
			else
				p_err("%s", err);
			return ret;
		}
		p_info("%s: %zu probes", arg, cnt);
		for (size_t i = 0; i < cnt; i++) {
			(*texts)[n] = names[i];
			(*arg_of)[n++] = a;
		}
		free(names);
	}
	*np = n;
	return 0;
too_many:
	p_err("the probes name more than %d kernel probes together; narrow "
	      "the globs (gosnoop list --kernel PATTERN shows what they match)",
	      KT_MAX_EXPANDED);
	return -E2BIG;
}
