# gosnoop - see README.md.  `make`, `make demo`, `make check`, `make install PREFIX=...`
#
# Layout of the build: src/gobin/*.c -> build/libgobin.a (no BPF, no root);
# src/bpf/*.bpf.c -> build/bpf/*.bpf.o -> build/bpf/*.skel.h (embedded);
# src/*.c (shared base) + src/probe/*.c + one folder per command family
# (src/trace, ktrace, sched, funcs, serve) + skeletons -> build/gosnoop.

PREFIX ?= /usr/local
BUILD  ?= build
CC     ?= gcc
CLANG  ?= clang
BPFTOOL ?= $(shell command -v bpftool || echo /usr/sbin/bpftool)
V ?= 0
ifeq ($(V),0)
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
else
Q =
msg =
endif

CFLAGS ?= -O2 -g
WARN    = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) -D_GNU_SOURCE -Isrc -I$(BUILD)
LIBS    = -lbpf -ldw -lelf -lz -lcapstone -lmicrohttpd -lyaml -lcrypt
# gosnoop itself: the libraries linked in statically and no PIE. Start-up
# is most of a short run's cost: on the development VM loading and
# relocating the shared libraries took ~25 ms before main() (capstone's
# tables alone are 77,000 relocations); statically and without PIE they
# need none. microhttpd stays shared (its static archive needs GnuTLS).
# `make APP_LDFLAGS= APP_LIBS='$(LIBS)'` links the old way.
APP_LDFLAGS ?= -no-pie
APP_LIBS ?= -Wl,-Bstatic -lbpf -ldw -lelf -lz -lzstd -llzma -lbz2 -lcapstone \
	-lyaml -Wl,-Bdynamic -lmicrohttpd -lcrypt

GOBIN_SRCS = $(sort $(wildcard src/gobin/*.c))
FAMILIES   = trace ktrace sched funcs serve
APP_SRCS   = $(sort $(wildcard src/*.c src/probe/*.c $(FAMILIES:%=src/%/*.c)))
BPF_SRCS   = $(sort $(wildcard src/bpf/*.bpf.c))
SKELS      = $(patsubst src/bpf/%.bpf.c,$(BUILD)/bpf/%.skel.h,$(BPF_SRCS))
GOBIN_OBJS = $(patsubst src/%.c,$(BUILD)/obj/%.o,$(GOBIN_SRCS))
APP_OBJS   = $(patsubst src/%.c,$(BUILD)/obj/%.o,$(APP_SRCS))
HDRS       = $(wildcard src/*.h src/*/*.h)

UNIT_SRCS  = $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS  = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
SAN_BINS   = $(patsubst tests/unit/%.c,$(BUILD)/tests-san/%,$(UNIT_SRCS))
SANFLAGS   = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_SRCS  = $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_BINS  = $(patsubst fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))

.DELETE_ON_ERROR:
# Keep the BPF objects and skeletons: they are inputs, not leftovers.
# (Only those: a bare .SECONDARY would let make skip a new object that is
# missing when the archive is newer than its source.)
.SECONDARY: $(patsubst src/bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS)) $(SKELS)
.PHONY: all deps demo check check-kernels unit fuzz fuzz-build bench install clean fixtures check-trace-seeds image

all: $(BUILD)/gosnoop

deps:
	$(Q)scripts/deps.sh

# ---------------------------------------------------------------- BPF side
$(BUILD)/vmlinux.h:
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

$(BUILD)/bpf/%.bpf.o: src/bpf/%.bpf.c $(BUILD)/vmlinux.h $(HDRS)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_x86 -I$(BUILD) -Isrc -c $< -o $@
	$(Q)llvm-strip -g $@ 2>/dev/null || true

# funcs_r14.bpf.c is funcs.bpf.c compiled with one define: it is its source too
$(BUILD)/bpf/funcs_r14.bpf.o: src/bpf/funcs.bpf.c
# cost_count.bpf.c likewise is funcs_count.bpf.c with one define
$(BUILD)/bpf/cost_count.bpf.o: src/bpf/funcs_count.bpf.c

$(BUILD)/bpf/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

# ---------------------------------------------------------------- user side
# Every user-space object depends on the skeletons (a few embed one; the
# rebuild is cheap) so a changed .bpf.c never leaves a stale embedding.
$(BUILD)/obj/%.o: src/%.c $(HDRS) $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libgobin.a: $(GOBIN_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/gosnoop: $(APP_OBJS) $(BUILD)/libgobin.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(APP_LDFLAGS) -o $@ $(APP_OBJS) $(BUILD)/libgobin.a $(APP_LIBS)

# ---------------------------------------------------------------- tests
# Unit tests link the library twice: plain, and an ASan+UBSan build of
# library and tests together. UNIT_SRCS_<test>: src/ files (outside the
# library) a test compiles in too.
UNIT_SRCS_test_ktrace_expr = src/ktrace/ktrace_expr.c src/ktrace/ktrace_expr_parse.c \
	src/ktrace/ktrace_expr_cast.c \
	src/ktrace/ktrace_probe.c src/ktrace/ktrace_btf.c src/ktrace/ktrace_tpfmt.c
$(BUILD)/tests/test_ktrace_expr $(BUILD)/tests-san/test_ktrace_expr: \
	$(UNIT_SRCS_test_ktrace_expr) tests/unit/ktrace_interp.h
UNIT_SRCS_test_sched_allgs = src/sched/sched_allgs.c
$(BUILD)/tests/test_sched_allgs $(BUILD)/tests-san/test_sched_allgs: \
	$(UNIT_SRCS_test_sched_allgs)
UNIT_SRCS_test_serve_config = src/serve/serve_config.c
$(BUILD)/tests/test_serve_config $(BUILD)/tests-san/test_serve_config: \
	$(UNIT_SRCS_test_serve_config)
UNIT_SRCS_test_json_writer = src/json_writer.c
$(BUILD)/tests/test_json_writer $(BUILD)/tests-san/test_json_writer: \
	$(UNIT_SRCS_test_json_writer)
UNIT_SRCS_test_kbtf = src/probe/kbtf.c
$(BUILD)/tests/test_kbtf $(BUILD)/tests-san/test_kbtf: $(UNIT_SRCS_test_kbtf)
UNIT_SRCS_test_protobuf = src/protobuf.c
$(BUILD)/tests/test_protobuf $(BUILD)/tests-san/test_protobuf: \
	$(UNIT_SRCS_test_protobuf)
UNIT_SRCS_test_pprof = src/pprof.c src/protobuf.c
$(BUILD)/tests/test_pprof $(BUILD)/tests-san/test_pprof: \
	$(UNIT_SRCS_test_pprof)
UNIT_SRCS_test_serve_native = src/serve/serve_native.c src/protobuf.c
$(BUILD)/tests/test_serve_native $(BUILD)/tests-san/test_serve_native: \
	$(UNIT_SRCS_test_serve_native)
UNIT_SRCS_test_options = src/options.c src/common.c src/progress.c src/target.c \
	src/json_writer.c
$(BUILD)/tests/test_options $(BUILD)/tests-san/test_options: \
	$(UNIT_SRCS_test_options) src/options.h
UNIT_SRCS_test_session = src/session.c src/launch.c src/pattern.c \
	src/record_out.c src/common.c src/target.c src/json_writer.c \
	src/progress.c
$(BUILD)/tests/test_session $(BUILD)/tests-san/test_session: \
	$(UNIT_SRCS_test_session) src/session.h
UNIT_SRCS_test_target = src/target.c src/common.c src/json_writer.c \
	src/progress.c
$(BUILD)/tests/test_target $(BUILD)/tests-san/test_target: \
	$(UNIT_SRCS_test_target) src/target.h
UNIT_SRCS_test_trace_set = src/trace/trace_set.c
$(BUILD)/tests/test_trace_set $(BUILD)/tests-san/test_trace_set: \
	$(UNIT_SRCS_test_trace_set)
UNIT_SRCS_test_sched_report = src/sched/sched_report.c \
	src/sched/sched_summary.c src/sched/sched_perfetto.c src/common.c \
	src/target.c src/json_writer.c src/progress.c src/record_out.c \
	src/pattern.c
$(BUILD)/tests/test_sched_report $(BUILD)/tests-san/test_sched_report: \
	$(UNIT_SRCS_test_sched_report)
UNIT_SRCS_test_overhead_gov = src/overhead_gov.c
$(BUILD)/tests/test_overhead_gov $(BUILD)/tests-san/test_overhead_gov: \
	$(UNIT_SRCS_test_overhead_gov)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/testutil.h $(BUILD)/libgobin.a
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(UNIT_SRCS_$*) $(BUILD)/libgobin.a -lcmocka $(LIBS)

$(BUILD)/tests-san/%: tests/unit/%.c tests/unit/testutil.h $(GOBIN_SRCS) $(HDRS)
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -O1 $(SANFLAGS) -Itests/unit -o $@ $< $(UNIT_SRCS_$*) $(GOBIN_SRCS) -lcmocka $(LIBS)

$(BUILD)/fuzz/%: fuzz/%.c $(GOBIN_SRCS) $(HDRS)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -std=gnu11 -g -O1 -D_GNU_SOURCE -Isrc \
		-fsanitize=fuzzer,address,undefined -o $@ $< $(GOBIN_SRCS) $(LIBS)

fixtures:
	$(Q)tests/fixtures/build.sh $(BUILD)/fixtures

unit: $(UNIT_BINS) $(SAN_BINS) fixtures
	$(Q)tests/run --only unit

# The kernel matrix alone (part of check): the e2e subset in tests/vm/matrix.list
# inside Debian's 5.10, 6.1 and 6.12 kernels under qemu (tests/vm/README.md).
check-kernels: deps
	$(Q)$(MAKE) --no-print-directory all fixtures
	$(Q)tests/vm/matrix --build $(BUILD)

fuzz-build: $(FUZZ_BINS)

# `make fuzz FUZZ_SECONDS=600` for a long run; check runs each briefly.
FUZZ_SECONDS ?= 60
fuzz: $(FUZZ_BINS) fixtures
	$(Q)tests/run --only fuzz --fuzz-seconds $(FUZZ_SECONDS)

check: deps
	$(Q)$(MAKE) --no-print-directory all $(UNIT_BINS) $(SAN_BINS) $(FUZZ_BINS) fixtures
	$(Q)tests/run

# The differential trace test (tests/difftrace) over more seeds than `check`
# runs: `make check-trace-seeds N=50 [FIRST=1] [GO=1.15,1.24] [GOSNOOP=path]`;
# the table and the wrong values go to $(BUILD)/difftrace-report.txt too.
N ?= 20
FIRST ?= 1
check-trace-seeds: all
	$(Q)scripts/fetch-go-toolchains.sh >/dev/null || true
	$(Q)GOSNOOP=$${GOSNOOP:-$(BUILD)/gosnoop} nice tests/difftrace/run.py --nseeds $(N) --first $(FIRST) \
		$(if $(GO),--go $(GO)) --report $(BUILD)/difftrace-report.txt

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/demo.sh

bench: all fixtures
	$(Q)bench/run

# The bash completion script, generated from the binary's own command and
# option tables (gosnoop completion bash).
$(BUILD)/gosnoop.bash: $(BUILD)/gosnoop
	$(Q)$(BUILD)/gosnoop completion bash > $@

install: $(BUILD)/gosnoop $(BUILD)/gosnoop.bash
	install -D -m 0755 $(BUILD)/gosnoop $(DESTDIR)$(PREFIX)/bin/gosnoop
	install -D -m 0644 docs/gosnoop.8 $(DESTDIR)$(PREFIX)/share/man/man8/gosnoop.8
	install -D -m 0644 $(BUILD)/gosnoop.bash \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/gosnoop

# The container image of deploy/daemonset.yaml (Containerfile, FROM
# scratch): the binary and the libraries ldd lists, laid out by
# scripts/image-root.sh. `make image IMAGE=registry/gosnoop:1.0`.
IMAGE ?= gosnoop:latest
PODMAN ?= podman --runtime runc --cgroup-manager=cgroupfs
image: $(BUILD)/gosnoop
	$(Q)scripts/image-root.sh $(BUILD)/gosnoop $(BUILD)/image-root
	$(Q)$(PODMAN) build -f Containerfile -t $(IMAGE) $(BUILD)/image-root

clean:
	rm -rf $(BUILD)
