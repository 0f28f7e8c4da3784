/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Shared by src/bpf/uprobe_cost.bpf.c and src/overhead.c, which measures
 * what a uprobe hit costs on this machine (the overhead budget, issue 16):
 * one program on three sites in gosnoop's own code, called one site at a
 * time, so one counter tells whether each loop fired as often as it
 * called (no attach cookie: calibration works on every kernel).
 */
#ifndef GOSNOOP_BPF_UPROBE_COST_H
#define GOSNOOP_BPF_UPROBE_COST_H

enum uprobe_cost_site {
	UPROBE_COST_EMULATED = 0,	/* a JMP: the kernel emulates it */
	UPROBE_COST_STEPPED,		/* a MOV: single-stepped out of line */
	UPROBE_COST_RET,		/* a RET: single-stepped too */
	UPROBE_COST_NSITES,
};

#endif /* GOSNOOP_BPF_UPROBE_COST_H */
