/* SPDX-License-Identifier: MIT */
/*
 * Shell completion (cmd_completion.c): `gosnoop completion bash` prints a
 * bash script whose commands and options come from the command table
 * (main.c) and each command's option table (options.c), and a hidden
 * `gosnoop __complete` helper the script runs for what only the binary on
 * the command line can tell: its function names.
 */
#ifndef GOSNOOP_COMPLETION_H
#define GOSNOOP_COMPLETION_H

#include <getopt.h>
#include <stdio.h>

/*
 * Set while the completion lists a command's options: opts__parse() then
 * writes them here (completion__list_options) instead of parsing, and
 * returns 1 as after --help.
 */
extern FILE *completion_options_out;

/* Write the options getopt would take (shorts: getopt's letters, longs:
 * its table), one a line: "--perfetto=" / "-p=" when they take a value. */
void completion__list_options(const char *shorts, const struct option *longs);

/* `gosnoop __complete WHAT ...`: commands | options [CMD] |
 * functions (PATH | -p PID) [PREFIX] | pids. Exit code. */
int completion__helper(int argc, char **argv);

#endif
