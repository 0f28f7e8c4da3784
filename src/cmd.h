/* SPDX-License-Identifier: MIT */
/* One file per subcommand; each do_<verb> returns an exit code. */
#ifndef GOSNOOP_CMD_H
#define GOSNOOP_CMD_H

#include <stddef.h>

int do_info(int argc, char **argv);
int do_list(int argc, char **argv);
int do_doctor(int argc, char **argv);
int do_sched(int argc, char **argv);
int do_ktrace(int argc, char **argv);
int do_count(int argc, char **argv);
int do_latency(int argc, char **argv);
int do_cost(int argc, char **argv);
int do_serve(int argc, char **argv);
int do_trace(int argc, char **argv);
int do_completion(int argc, char **argv);

/* main.c's command table, for the shell completion (cmd_completion.c):
 * the name of command i (NULL past the last), and running a command by
 * its name (-ENOENT: no such command). */
const char *main__cmd_name(size_t i);
int main__cmd_run(const char *name, int argc, char **argv);

/* gosnoop list --kernel (src/ktrace_list.c) */
int ktrace_list(int argc, char **argv);

#endif
