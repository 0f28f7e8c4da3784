// SPDX-License-Identifier: MIT
/*
 * gosnoop serve, `sched: true`: the few calls cmd_serve.c makes, in terms
 * of its targets (struct serve_tp): a target's serve_sched rides in the
 * target's extension pointer (serve_tp__set_ext) and uses its labels.
 */
#include <errno.h>
#include <stdlib.h>

#include "common.h"
#include "json_writer.h"
#include "serve_config.h"
#include "serve_probes.h"
#include "serve_sched.h"

int serve_sched__start_tp(struct serve_tp *tp, const struct serve_target *cfg)
{
	struct serve_sched *s;
	int err;

	if (!tp || !cfg->sched)
		return 0;
	err = serve_sched__start(cfg->binary ? cfg->binary : serve_tp__binary(tp),
				 serve_tp__pid(tp), &s);
	if (!err)
		serve_tp__set_ext(tp, s);
	return err;
}

void serve_sched__stop_tp(struct serve_tp *tp)
{
	if (!tp)
		return;
	serve_sched__stop(serve_tp__ext(tp));
	serve_tp__set_ext(tp, NULL);
}

void serve_sched__poll_tps(struct serve_tp *const *tps, size_t n)
{
	for (size_t i = 0; i < n; i++)
		serve_sched__poll(serve_tp__ext(tps[i]));
}

void serve_sched__write_metrics_tps(FILE *f, struct serve_tp *const *tps,
				    size_t n)
{
	struct serve_sched **all = calloc(n ? n : 1, sizeof(*all));
	const char **labels = calloc(n ? n : 1, sizeof(*labels));

	if (all && labels) {
		for (size_t i = 0; i < n; i++) {
			all[i] = serve_tp__ext(tps[i]);
			labels[i] = serve_tp__labels(tps[i]);
		}
		serve_sched__write_metrics(f, all, labels, n);
	}
	free(all);
	free(labels);
}

void serve_sched__write_json_tp(struct serve_tp *tp, struct jw *jw)
{
	struct serve_sched *s = serve_tp__ext(tp);

	if (!s)
		return;
	jw_name(jw, "sched");
	serve_sched__write_json(s, jw);
}
