/* SPDX-License-Identifier: MIT */
/* One file per subcommand; each do_<verb> returns an exit code. */
#ifndef GOSNOOP_CMD_H
#define GOSNOOP_CMD_H

int do_info(int argc, char **argv);
int do_list(int argc, char **argv);
int do_doctor(int argc, char **argv);
int do_sched(int argc, char **argv);
int do_ktrace(int argc, char **argv);
int do_count(int argc, char **argv);
int do_latency(int argc, char **argv);
int do_serve(int argc, char **argv);
int do_trace(int argc, char **argv);

/* gosnoop list --kernel (src/ktrace_list.c) */
int ktrace_list(int argc, char **argv);

#endif
