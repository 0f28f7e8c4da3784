// SPDX-License-Identifier: MIT
/*
 * gosnoop serve, `sched: true`, as the daemon sees it: serve_sched_hooks
 * (serve.h), called for every probed process (struct serve_probes); a
 * process's serve_sched rides in its extension pointer
 * (serve_probes__set_ext) and its series use its labels.
 */
#include <errno.h>
#include <stdlib.h>

#include "common.h"
#include "json_writer.h"
#include "serve.h"
#include "serve_config.h"
#include "serve_probes.h"
#include "serve_sched.h"

static int started(const struct serve_target *cfg, struct serve_probes *pr,
		   pid_t pid)
{
	struct serve_sched *s;
	int err;

	if (!pr || !cfg->sched)
		return 0;
	err = serve_sched__start(cfg->binary ? cfg->binary : serve_probes__binary(pr),
				 serve_probes__pid(pr), &s);
	if (!err)
		serve_probes__set_ext(pr, s);
	return err;
}

static void stopping(struct serve_probes *pr)
{
	if (!pr)
		return;
	serve_sched__stop(serve_probes__ext(pr));
	serve_probes__set_ext(pr, NULL);
}

static void poll(struct serve_probes *pr)
{
	serve_sched__poll(serve_probes__ext(pr));
}

static void write_metrics(FILE *f, struct serve_probes *const *prs, size_t n)
{
	struct serve_sched **all = calloc(n ? n : 1, sizeof(*all));
	const char **labels = calloc(n ? n : 1, sizeof(*labels));

	if (all && labels) {
		for (size_t i = 0; i < n; i++) {
			all[i] = serve_probes__ext(prs[i]);
			labels[i] = serve_probes__labels(prs[i]);
		}
		serve_sched__write_metrics(f, all, labels, n);
	}
	free(all);
	free(labels);
}

static void write_json(struct serve_probes *pr, struct jw *jw)
{
	struct serve_sched *s = serve_probes__ext(pr);

	if (!s)
		return;
	jw_name(jw, "sched");
	serve_sched__write_json(s, jw);
}

const struct serve_hooks serve_sched_hooks = {
	.started = started,
	.stopping = stopping,
	.poll = poll,
	.write_metrics = write_metrics,
	.write_json = write_json,
};
