/* SPDX-License-Identifier: MIT */
/*
 * The runtime facts of each Go release go1.13 .. go1.26 on linux/amd64.
 * Read from golang/go's src/runtime at the tag named above each row (the
 * latest patch release of the minor that could be read here); the commit
 * is the one the tag points at. docs/runtime-layout.md lists each release's
 * runtime.g/runtime.m fields with running offsets and says how to add a
 * release. The waitReason arrays are runtime2.go's waitReasonStrings, by
 * the value of each waitReason constant (its const block, iota order), the
 * constant's name in the comment; the status arrays are runtime2.go's _G
 * constants (_Gidle = iota ...).
 */
#include <stddef.h>

#include "rt_tables.h"

#define ARRAY_LEN(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---------------------------------------------------------- wait reasons */
/* go1.13: 25 reasons */
static const char *const waitreasons_13[] = {
	[0] = "",				/* waitReasonZero */
	[1] = "GC assist marking",		/* waitReasonGCAssistMarking */
	[2] = "IO wait",			/* waitReasonIOWait */
	[3] = "chan receive (nil chan)",	/* waitReasonChanReceiveNilChan */
	[4] = "chan send (nil chan)",		/* waitReasonChanSendNilChan */
	[5] = "dumping heap",			/* waitReasonDumpingHeap */
	[6] = "garbage collection",		/* waitReasonGarbageCollection */
	[7] = "garbage collection scan",	/* waitReasonGarbageCollectionScan */
	[8] = "panicwait",			/* waitReasonPanicWait */
	[9] = "select",				/* waitReasonSelect */
	[10] = "select (no cases)",		/* waitReasonSelectNoCases */
	[11] = "GC assist wait",		/* waitReasonGCAssistWait */
	[12] = "GC sweep wait",			/* waitReasonGCSweepWait */
	[13] = "GC scavenge wait",		/* waitReasonGCScavengeWait */
	[14] = "chan receive",			/* waitReasonChanReceive */
	[15] = "chan send",			/* waitReasonChanSend */
	[16] = "finalizer wait",		/* waitReasonFinalizerWait */
	[17] = "force gc (idle)",		/* waitReasonForceGGIdle */
	[18] = "semacquire",			/* waitReasonSemacquire */
	[19] = "sleep",				/* waitReasonSleep */
	[20] = "sync.Cond.Wait",		/* waitReasonSyncCondWait */
	[21] = "timer goroutine (idle)",	/* waitReasonTimerGoroutineIdle */
	[22] = "trace reader (blocked)",	/* waitReasonTraceReaderBlocked */
	[23] = "wait for GC cycle",		/* waitReasonWaitForGCCycle */
	[24] = "GC worker (idle)",		/* waitReasonGCWorkerIdle */
};

/* go1.14: 26 reasons */
static const char *const waitreasons_14[] = {
	[0] = "",				/* waitReasonZero */
	[1] = "GC assist marking",		/* waitReasonGCAssistMarking */
	[2] = "IO wait",			/* waitReasonIOWait */
	[3] = "chan receive (nil chan)",	/* waitReasonChanReceiveNilChan */
	[4] = "chan send (nil chan)",		/* waitReasonChanSendNilChan */
	[5] = "dumping heap",			/* waitReasonDumpingHeap */
	[6] = "garbage collection",		/* waitReasonGarbageCollection */
	[7] = "garbage collection scan",	/* waitReasonGarbageCollectionScan */
	[8] = "panicwait",			/* waitReasonPanicWait */
	[9] = "select",				/* waitReasonSelect */
	[10] = "select (no cases)",		/* waitReasonSelectNoCases */
	[11] = "GC assist wait",		/* waitReasonGCAssistWait */
	[12] = "GC sweep wait",			/* waitReasonGCSweepWait */
	[13] = "GC scavenge wait",		/* waitReasonGCScavengeWait */
	[14] = "chan receive",			/* waitReasonChanReceive */
	[15] = "chan send",			/* waitReasonChanSend */
	[16] = "finalizer wait",		/* waitReasonFinalizerWait */
	[17] = "force gc (idle)",		/* waitReasonForceGGIdle */
	[18] = "semacquire",			/* waitReasonSemacquire */
	[19] = "sleep",				/* waitReasonSleep */
	[20] = "sync.Cond.Wait",		/* waitReasonSyncCondWait */
	[21] = "timer goroutine (idle)",	/* waitReasonTimerGoroutineIdle */
	[22] = "trace reader (blocked)",	/* waitReasonTraceReaderBlocked */
	[23] = "wait for GC cycle",		/* waitReasonWaitForGCCycle */
	[24] = "GC worker (idle)",		/* waitReasonGCWorkerIdle */
	[25] = "preempted",			/* waitReasonPreempted */
};

/* go1.15 .. go1.19: 27 reasons */
static const char *const waitreasons_15_19[] = {
	[0] = "",				/* waitReasonZero */
	[1] = "GC assist marking",		/* waitReasonGCAssistMarking */
	[2] = "IO wait",			/* waitReasonIOWait */
	[3] = "chan receive (nil chan)",	/* waitReasonChanReceiveNilChan */
	[4] = "chan send (nil chan)",		/* waitReasonChanSendNilChan */
	[5] = "dumping heap",			/* waitReasonDumpingHeap */
	[6] = "garbage collection",		/* waitReasonGarbageCollection */
	[7] = "garbage collection scan",	/* waitReasonGarbageCollectionScan */
	[8] = "panicwait",			/* waitReasonPanicWait */
	[9] = "select",				/* waitReasonSelect */
	[10] = "select (no cases)",		/* waitReasonSelectNoCases */
	[11] = "GC assist wait",		/* waitReasonGCAssistWait */
	[12] = "GC sweep wait",			/* waitReasonGCSweepWait */
	[13] = "GC scavenge wait",		/* waitReasonGCScavengeWait */
	[14] = "chan receive",			/* waitReasonChanReceive */
	[15] = "chan send",			/* waitReasonChanSend */
	[16] = "finalizer wait",		/* waitReasonFinalizerWait */
	[17] = "force gc (idle)",		/* waitReasonForceGCIdle */
	[18] = "semacquire",			/* waitReasonSemacquire */
	[19] = "sleep",				/* waitReasonSleep */
	[20] = "sync.Cond.Wait",		/* waitReasonSyncCondWait */
	[21] = "timer goroutine (idle)",	/* waitReasonTimerGoroutineIdle */
	[22] = "trace reader (blocked)",	/* waitReasonTraceReaderBlocked */
	[23] = "wait for GC cycle",		/* waitReasonWaitForGCCycle */
	[24] = "GC worker (idle)",		/* waitReasonGCWorkerIdle */
	[25] = "preempted",			/* waitReasonPreempted */
	[26] = "debug call",			/* waitReasonDebugCall */
};

/* go1.20 .. go1.21: 32 reasons */
static const char *const waitreasons_20_21[] = {
	[0] = "",				/* waitReasonZero */
	[1] = "GC assist marking",		/* waitReasonGCAssistMarking */
	[2] = "IO wait",			/* waitReasonIOWait */
	[3] = "chan receive (nil chan)",	/* waitReasonChanReceiveNilChan */
	[4] = "chan send (nil chan)",		/* waitReasonChanSendNilChan */
	[5] = "dumping heap",			/* waitReasonDumpingHeap */
	[6] = "garbage collection",		/* waitReasonGarbageCollection */
	[7] = "garbage collection scan",	/* waitReasonGarbageCollectionScan */
	[8] = "panicwait",			/* waitReasonPanicWait */
	[9] = "select",				/* waitReasonSelect */
	[10] = "select (no cases)",		/* waitReasonSelectNoCases */
	[11] = "GC assist wait",		/* waitReasonGCAssistWait */
	[12] = "GC sweep wait",			/* waitReasonGCSweepWait */
	[13] = "GC scavenge wait",		/* waitReasonGCScavengeWait */
	[14] = "chan receive",			/* waitReasonChanReceive */
	[15] = "chan send",			/* waitReasonChanSend */
	[16] = "finalizer wait",		/* waitReasonFinalizerWait */
	[17] = "force gc (idle)",		/* waitReasonForceGCIdle */
	[18] = "semacquire",			/* waitReasonSemacquire */
	[19] = "sleep",				/* waitReasonSleep */
	[20] = "sync.Cond.Wait",		/* waitReasonSyncCondWait */
	[21] = "sync.Mutex.Lock",		/* waitReasonSyncMutexLock */
	[22] = "sync.RWMutex.RLock",		/* waitReasonSyncRWMutexRLock */
	[23] = "sync.RWMutex.Lock",		/* waitReasonSyncRWMutexLock */
	[24] = "trace reader (blocked)",	/* waitReasonTraceReaderBlocked */
	[25] = "wait for GC cycle",		/* waitReasonWaitForGCCycle */
	[26] = "GC worker (idle)",		/* waitReasonGCWorkerIdle */
	[27] = "GC worker (active)",		/* waitReasonGCWorkerActive */
	[28] = "preempted",			/* waitReasonPreempted */
	[29] = "debug call",			/* waitReasonDebugCall */
	[30] = "GC mark termination",		/* waitReasonGCMarkTermination */
	[31] = "stopping the world",		/* waitReasonStoppingTheWorld */
};

/* go1.22: 37 reasons */
static const char *const waitreasons_22[] = {
	[0] = "",				/* waitReasonZero */
	[1] = "GC assist marking",		/* waitReasonGCAssistMarking */
	[2] = "IO wait",			/* waitReasonIOWait */
	[3] = "chan receive (nil chan)",	/* waitReasonChanReceiveNilChan */
	[4] = "chan send (nil chan)",		/* waitReasonChanSendNilChan */
	[5] = "dumping heap",			/* waitReasonDumpingHeap */
	[6] = "garbage collection",		/* waitReasonGarbageCollection */
	[7] = "garbage collection scan",	/* waitReasonGarbageCollectionScan */
	[8] = "panicwait",			/* waitReasonPanicWait */
	[9] = "select",				/* waitReasonSelect */
	[10] = "select (no cases)",		/* waitReasonSelectNoCases */
	[11] = "GC assist wait",		/* waitReasonGCAssistWait */
	[12] = "GC sweep wait",			/* waitReasonGCSweepWait */
	[13] = "GC scavenge wait",		/* waitReasonGCScavengeWait */
	[14] = "chan receive",			/* waitReasonChanReceive */
	[15] = "chan send",			/* waitReasonChanSend */
	[16] = "finalizer wait",		/* waitReasonFinalizerWait */
	[17] = "force gc (idle)",		/* waitReasonForceGCIdle */
	[18] = "semacquire",			/* waitReasonSemacquire */
	[19] = "sleep",				/* waitReasonSleep */
	[20] = "sync.Cond.Wait",		/* waitReasonSyncCondWait */
	[21] = "sync.Mutex.Lock",		/* waitReasonSyncMutexLock */
	[22] = "sync.RWMutex.RLock",		/* waitReasonSyncRWMutexRLock */
	[23] = "sync.RWMutex.Lock",		/* waitReasonSyncRWMutexLock */
	[24] = "trace reader (blocked)",	/* waitReasonTraceReaderBlocked */
	[25] = "wait for GC cycle",		/* waitReasonWaitForGCCycle */
	[26] = "GC worker (idle)",		/* waitReasonGCWorkerIdle */
	[27] = "GC worker (active)",		/* waitReasonGCWorkerActive */
	[28] = "preempted",			/* waitReasonPreempted */
	[29] = "debug call",			/* waitReasonDebugCall */
	[30] = "GC mark termination",		/* waitReasonGCMarkTermination */
	[31] = "stopping the world",		/* waitReasonStoppingTheWorld */
	[32] = "flushing proc caches",		/* waitReasonFlushProcCaches */
	[33] = "trace goroutine status",	/* waitReasonTraceGoroutineStatus */
	[34] = "trace proc status",		/* waitReasonTraceProcStatus */
	[35] = "page trace flush",		/* waitReasonPageTraceFlush */
	[36] = "coroutine",			/* waitReasonCoroutine */
};

/* go1.23: 38 reasons */
static const char *const waitreasons_23[] = {
	[0] = "",				/* waitReasonZero */
	[1] = "GC assist marking",		/* waitReasonGCAssistMarking */
	[2] = "IO wait",			/* waitReasonIOWait */
	[3] = "chan receive (nil chan)",	/* waitReasonChanReceiveNilChan */
	[4] = "chan send (nil chan)",		/* waitReasonChanSendNilChan */
	[5] = "dumping heap",			/* waitReasonDumpingHeap */
	[6] = "garbage collection",		/* waitReasonGarbageCollection */
	[7] = "garbage collection scan",	/* waitReasonGarbageCollectionScan */
	[8] = "panicwait",			/* waitReasonPanicWait */
	[9] = "select",				/* waitReasonSelect */
	[10] = "select (no cases)",		/* waitReasonSelectNoCases */
	[11] = "GC assist wait",		/* waitReasonGCAssistWait */
	[12] = "GC sweep wait",			/* waitReasonGCSweepWait */
	[13] = "GC scavenge wait",		/* waitReasonGCScavengeWait */
	[14] = "chan receive",			/* waitReasonChanReceive */
	[15] = "chan send",			/* waitReasonChanSend */
	[16] = "finalizer wait",		/* waitReasonFinalizerWait */
	[17] = "force gc (idle)",		/* waitReasonForceGCIdle */
	[18] = "semacquire",			/* waitReasonSemacquire */
	[19] = "sleep",				/* waitReasonSleep */
	[20] = "sync.Cond.Wait",		/* waitReasonSyncCondWait */
	[21] = "sync.Mutex.Lock",		/* waitReasonSyncMutexLock */
	[22] = "sync.RWMutex.RLock",		/* waitReasonSyncRWMutexRLock */
	[23] = "sync.RWMutex.Lock",		/* waitReasonSyncRWMutexLock */
	[24] = "trace reader (blocked)",	/* waitReasonTraceReaderBlocked */
	[25] = "wait for GC cycle",		/* waitReasonWaitForGCCycle */
	[26] = "GC worker (idle)",		/* waitReasonGCWorkerIdle */
	[27] = "GC worker (active)",		/* waitReasonGCWorkerActive */
	[28] = "preempted",			/* waitReasonPreempted */
	[29] = "debug call",			/* waitReasonDebugCall */
	[30] = "GC mark termination",		/* waitReasonGCMarkTermination */
	[31] = "stopping the world",		/* waitReasonStoppingTheWorld */
	[32] = "flushing proc caches",		/* waitReasonFlushProcCaches */
	[33] = "trace goroutine status",	/* waitReasonTraceGoroutineStatus */
	[34] = "trace proc status",		/* waitReasonTraceProcStatus */
	[35] = "page trace flush",		/* waitReasonPageTraceFlush */
	[36] = "coroutine",			/* waitReasonCoroutine */
	[37] = "GC weak to strong wait",	/* waitReasonGCWeakToStrongWait */
};

/* go1.24: 44 reasons */
static const char *const waitreasons_24[] = {
	[0] = "",				/* waitReasonZero */
	[1] = "GC assist marking",		/* waitReasonGCAssistMarking */
	[2] = "IO wait",			/* waitReasonIOWait */
	[3] = "chan receive (nil chan)",	/* waitReasonChanReceiveNilChan */
	[4] = "chan send (nil chan)",		/* waitReasonChanSendNilChan */
	[5] = "dumping heap",			/* waitReasonDumpingHeap */
	[6] = "garbage collection",		/* waitReasonGarbageCollection */
	[7] = "garbage collection scan",	/* waitReasonGarbageCollectionScan */
	[8] = "panicwait",			/* waitReasonPanicWait */
	[9] = "select",				/* waitReasonSelect */
	[10] = "select (no cases)",		/* waitReasonSelectNoCases */
	[11] = "GC assist wait",		/* waitReasonGCAssistWait */
	[12] = "GC sweep wait",			/* waitReasonGCSweepWait */
	[13] = "GC scavenge wait",		/* waitReasonGCScavengeWait */
	[14] = "chan receive",			/* waitReasonChanReceive */
	[15] = "chan send",			/* waitReasonChanSend */
	[16] = "finalizer wait",		/* waitReasonFinalizerWait */
	[17] = "force gc (idle)",		/* waitReasonForceGCIdle */
	[18] = "semacquire",			/* waitReasonSemacquire */
	[19] = "sleep",				/* waitReasonSleep */
	[20] = "sync.Cond.Wait",		/* waitReasonSyncCondWait */
	[21] = "sync.Mutex.Lock",		/* waitReasonSyncMutexLock */
	[22] = "sync.RWMutex.RLock",		/* waitReasonSyncRWMutexRLock */
	[23] = "sync.RWMutex.Lock",		/* waitReasonSyncRWMutexLock */
	[24] = "sync.WaitGroup.Wait",		/* waitReasonSyncWaitGroupWait */
	[25] = "trace reader (blocked)",	/* waitReasonTraceReaderBlocked */
	[26] = "wait for GC cycle",		/* waitReasonWaitForGCCycle */
	[27] = "GC worker (idle)",		/* waitReasonGCWorkerIdle */
	[28] = "GC worker (active)",		/* waitReasonGCWorkerActive */
	[29] = "preempted",			/* waitReasonPreempted */
	[30] = "debug call",			/* waitReasonDebugCall */
	[31] = "GC mark termination",		/* waitReasonGCMarkTermination */
	[32] = "stopping the world",		/* waitReasonStoppingTheWorld */
	[33] = "flushing proc caches",		/* waitReasonFlushProcCaches */
	[34] = "trace goroutine status",	/* waitReasonTraceGoroutineStatus */
	[35] = "trace proc status",		/* waitReasonTraceProcStatus */
	[36] = "page trace flush",		/* waitReasonPageTraceFlush */
	[37] = "coroutine",			/* waitReasonCoroutine */
	[38] = "GC weak to strong wait",	/* waitReasonGCWeakToStrongWait */
	[39] = "synctest.Run",			/* waitReasonSynctestRun */
	[40] = "synctest.Wait",			/* waitReasonSynctestWait */
	[41] = "chan receive (synctest)",	/* waitReasonSynctestChanReceive */
	[42] = "chan send (synctest)",		/* waitReasonSynctestChanSend */
	[43] = "select (synctest)",		/* waitReasonSynctestSelect */
};

/* go1.25: 47 reasons */
static const char *const waitreasons_25[] = {
	[0] = "",				/* waitReasonZero */
	[1] = "GC assist marking",		/* waitReasonGCAssistMarking */
	[2] = "IO wait",			/* waitReasonIOWait */
	[3] = "chan receive (nil chan)",	/* waitReasonChanReceiveNilChan */
	[4] = "chan send (nil chan)",		/* waitReasonChanSendNilChan */
	[5] = "dumping heap",			/* waitReasonDumpingHeap */
	[6] = "garbage collection",		/* waitReasonGarbageCollection */
	[7] = "garbage collection scan",	/* waitReasonGarbageCollectionScan */
	[8] = "panicwait",			/* waitReasonPanicWait */
	[9] = "select",				/* waitReasonSelect */
	[10] = "select (no cases)",		/* waitReasonSelectNoCases */
	[11] = "GC assist wait",		/* waitReasonGCAssistWait */
	[12] = "GC sweep wait",			/* waitReasonGCSweepWait */
	[13] = "GC scavenge wait",		/* waitReasonGCScavengeWait */
	[14] = "chan receive",			/* waitReasonChanReceive */
	[15] = "chan send",			/* waitReasonChanSend */
	[16] = "finalizer wait",		/* waitReasonFinalizerWait */
	[17] = "force gc (idle)",		/* waitReasonForceGCIdle */
	[18] = "GOMAXPROCS updater (idle)",	/* waitReasonUpdateGOMAXPROCSIdle */
	[19] = "semacquire",			/* waitReasonSemacquire */
	[20] = "sleep",				/* waitReasonSleep */
	[21] = "sync.Cond.Wait",		/* waitReasonSyncCondWait */
	[22] = "sync.Mutex.Lock",		/* waitReasonSyncMutexLock */
	[23] = "sync.RWMutex.RLock",		/* waitReasonSyncRWMutexRLock */
	[24] = "sync.RWMutex.Lock",		/* waitReasonSyncRWMutexLock */
	[25] = "sync.WaitGroup.Wait",		/* waitReasonSyncWaitGroupWait */
	[26] = "trace reader (blocked)",	/* waitReasonTraceReaderBlocked */
	[27] = "wait for GC cycle",		/* waitReasonWaitForGCCycle */
	[28] = "GC worker (idle)",		/* waitReasonGCWorkerIdle */
	[29] = "GC worker (active)",		/* waitReasonGCWorkerActive */
	[30] = "preempted",			/* waitReasonPreempted */
	[31] = "debug call",			/* waitReasonDebugCall */
	[32] = "GC mark termination",		/* waitReasonGCMarkTermination */
	[33] = "stopping the world",		/* waitReasonStoppingTheWorld */
	[34] = "flushing proc caches",		/* waitReasonFlushProcCaches */
	[35] = "trace goroutine status",	/* waitReasonTraceGoroutineStatus */
	[36] = "trace proc status",		/* waitReasonTraceProcStatus */
	[37] = "page trace flush",		/* waitReasonPageTraceFlush */
	[38] = "coroutine",			/* waitReasonCoroutine */
	[39] = "GC weak to strong wait",	/* waitReasonGCWeakToStrongWait */
	[40] = "synctest.Run",			/* waitReasonSynctestRun */
	[41] = "synctest.Wait",			/* waitReasonSynctestWait */
	[42] = "chan receive (durable)",	/* waitReasonSynctestChanReceive */
	[43] = "chan send (durable)",		/* waitReasonSynctestChanSend */
	[44] = "select (durable)",		/* waitReasonSynctestSelect */
	[45] = "sync.WaitGroup.Wait (durable)",	/* waitReasonSynctestWaitGroupWait */
	[46] = "cleanup wait",			/* waitReasonCleanupWait */
};

/* go1.26: 47 reasons */
static const char *const waitreasons_26[] = {
	[0] = "",				/* waitReasonZero */
	[1] = "GC assist marking",		/* waitReasonGCAssistMarking */
	[2] = "IO wait",			/* waitReasonIOWait */
	[3] = "dumping heap",			/* waitReasonDumpingHeap */
	[4] = "garbage collection",		/* waitReasonGarbageCollection */
	[5] = "garbage collection scan",	/* waitReasonGarbageCollectionScan */
	[6] = "panicwait",			/* waitReasonPanicWait */
	[7] = "GC assist wait",			/* waitReasonGCAssistWait */
	[8] = "GC sweep wait",			/* waitReasonGCSweepWait */
	[9] = "GC scavenge wait",		/* waitReasonGCScavengeWait */
	[10] = "finalizer wait",		/* waitReasonFinalizerWait */
	[11] = "force gc (idle)",		/* waitReasonForceGCIdle */
	[12] = "GOMAXPROCS updater (idle)",	/* waitReasonUpdateGOMAXPROCSIdle */
	[13] = "semacquire",			/* waitReasonSemacquire */
	[14] = "sleep",				/* waitReasonSleep */
	[15] = "chan receive (nil chan)",	/* waitReasonChanReceiveNilChan */
	[16] = "chan send (nil chan)",		/* waitReasonChanSendNilChan */
	[17] = "select (no cases)",		/* waitReasonSelectNoCases */
	[18] = "select",			/* waitReasonSelect */
	[19] = "chan receive",			/* waitReasonChanReceive */
	[20] = "chan send",			/* waitReasonChanSend */
	[21] = "sync.Cond.Wait",		/* waitReasonSyncCondWait */
	[22] = "sync.Mutex.Lock",		/* waitReasonSyncMutexLock */
	[23] = "sync.RWMutex.RLock",		/* waitReasonSyncRWMutexRLock */
	[24] = "sync.RWMutex.Lock",		/* waitReasonSyncRWMutexLock */
	[25] = "sync.WaitGroup.Wait",		/* waitReasonSyncWaitGroupWait */
	[26] = "trace reader (blocked)",	/* waitReasonTraceReaderBlocked */
	[27] = "wait for GC cycle",		/* waitReasonWaitForGCCycle */
	[28] = "GC worker (idle)",		/* waitReasonGCWorkerIdle */
	[29] = "GC worker (active)",		/* waitReasonGCWorkerActive */
	[30] = "preempted",			/* waitReasonPreempted */
	[31] = "debug call",			/* waitReasonDebugCall */
	[32] = "GC mark termination",		/* waitReasonGCMarkTermination */
	[33] = "stopping the world",		/* waitReasonStoppingTheWorld */
	[34] = "flushing proc caches",		/* waitReasonFlushProcCaches */
	[35] = "trace goroutine status",	/* waitReasonTraceGoroutineStatus */
	[36] = "trace proc status",		/* waitReasonTraceProcStatus */
	[37] = "page trace flush",		/* waitReasonPageTraceFlush */
	[38] = "coroutine",			/* waitReasonCoroutine */
	[39] = "GC weak to strong wait",	/* waitReasonGCWeakToStrongWait */
	[40] = "synctest.Run",			/* waitReasonSynctestRun */
	[41] = "synctest.Wait",			/* waitReasonSynctestWait */
	[42] = "chan receive (durable)",	/* waitReasonSynctestChanReceive */
	[43] = "chan send (durable)",		/* waitReasonSynctestChanSend */
	[44] = "select (durable)",		/* waitReasonSynctestSelect */
	[45] = "sync.WaitGroup.Wait (durable)",	/* waitReasonSynctestWaitGroupWait */
	[46] = "cleanup wait",			/* waitReasonCleanupWait */
};

/* ------------------------------------------------------ goroutine status */
/* _Gidle = iota .. _Gcopystack (runtime2.go, go1.13) */
static const char *const gstatus_13[] = {
	"idle", "runnable", "running", "syscall", "waiting",
	"moribund_unused", "dead", "enqueue_unused", "copystack",
};

/* go1.14 added _Gpreempted = 9 (runtime2.go go1.14 .. go1.25) */
static const char *const gstatus_14_25[] = {
	"idle", "runnable", "running", "syscall", "waiting",
	"moribund_unused", "dead", "enqueue_unused", "copystack",
	"preempted",
};

/* go1.26 added _Gleaked = 10 (goroutine leak detection) and
 * _Gdeadextra = 11 (runtime2.go go1.26) */
static const char *const gstatus_26[] = {
	"idle", "runnable", "running", "syscall", "waiting",
	"moribund_unused", "dead", "enqueue_unused", "copystack",
	"preempted", "leaked", "deadextra",
};

/* ------------------------------------------------------------- releases */
#define WAITREASONS(a)	.waitreasons = (a), .nwaitreasons = ARRAY_LEN(a)
#define GSTATUSES(a)	.gstatuses = (a), .ngstatuses = ARRAY_LEN(a)

static const struct rt_release releases[] = {
	/* go1.13.15 (commit e71b61180aa1) */
	{
		.minor = 13, .source = "go1.13.15",
		.g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48,
		.g_sched_sp = 56, .g_sched_pc = 64, .g_sched_bp = 104,
		.g_atomicstatus = 144, .g_goid = 152, .g_waitreason = 176,
		.g_gopc = 280, .g_startpc = 296,
		.m_procid = 72, .m_curg = 192,
		WAITREASONS(waitreasons_13), GSTATUSES(gstatus_13),
	},
	/* go1.14.15 (commit 5cf057ddedfb)
	 * Change from go1.13: g's bools after waitreason are reshuffled
	 * (preemptStop, preemptShrink, asyncSafePoint, activeStackChans in,
	 * preemptscan, gcscanvalid out), and go1.14.x patch releases added
	 * g.parkingOnChan (uint8) there: no offset here moved. */
	{
		.minor = 14, .source = "go1.14.15",
		.g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48,
		.g_sched_sp = 56, .g_sched_pc = 64, .g_sched_bp = 104,
		.g_atomicstatus = 144, .g_goid = 152, .g_waitreason = 176,
		.g_gopc = 280, .g_startpc = 296,
		.m_procid = 72, .m_curg = 192,
		WAITREASONS(waitreasons_14), GSTATUSES(gstatus_14_25),
	},
	/* go1.15.15 (commit acbe242f8a2c)
	 * Change from go1.14: none in g/m; go1.15.x patch releases added
	 * g.parkingOnChan (uint8) among the bools: no offset here moved. */
	{
		.minor = 15, .source = "go1.15.15",
		.g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48,
		.g_sched_sp = 56, .g_sched_pc = 64, .g_sched_bp = 104,
		.g_atomicstatus = 144, .g_goid = 152, .g_waitreason = 176,
		.g_gopc = 280, .g_startpc = 296,
		.m_procid = 72, .m_curg = 192,
		WAITREASONS(waitreasons_15_19), GSTATUSES(gstatus_14_25),
	},
	/* go1.16.15 (commit 7de0c90a1771) */
	{
		.minor = 16, .source = "go1.16.15",
		.g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48,
		.g_sched_sp = 56, .g_sched_pc = 64, .g_sched_bp = 104,
		.g_atomicstatus = 144, .g_goid = 152, .g_waitreason = 176,
		.g_gopc = 280, .g_startpc = 296,
		.m_procid = 72, .m_curg = 192,
		WAITREASONS(waitreasons_15_19), GSTATUSES(gstatus_14_25),
	},
	/* go1.17.13 (commit 15da892a4950)
	 * Change from go1.16: g gains tracking, trackingSeq, runnableStamp,
	 * runnableTime before lockedm: gopc/startpc +16. */
	{
		.minor = 17, .source = "go1.17.13",
		.g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48,
		.g_sched_sp = 56, .g_sched_pc = 64, .g_sched_bp = 104,
		.g_atomicstatus = 144, .g_goid = 152, .g_waitreason = 176,
		.g_gopc = 296, .g_startpc = 312,
		.m_procid = 72, .m_curg = 192,
		WAITREASONS(waitreasons_15_19), GSTATUSES(gstatus_14_25),
	},
	/* go1.18.10 (commit 581603cb7d02)
	 * Change from go1.17: m gains "_ uint32" after divmod (procid was
	 * 8-aligned already). */
	{
		.minor = 18, .source = "go1.18.10",
		.g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48,
		.g_sched_sp = 56, .g_sched_pc = 64, .g_sched_bp = 104,
		.g_atomicstatus = 144, .g_goid = 152, .g_waitreason = 176,
		.g_gopc = 296, .g_startpc = 312,
		.m_procid = 72, .m_curg = 192,
		WAITREASONS(waitreasons_15_19), GSTATUSES(gstatus_14_25),
	},
	/* go1.19.13 (commit 619b8fd7d2c9) */
	{
		.minor = 19, .source = "go1.19.13",
		.g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48,
		.g_sched_sp = 56, .g_sched_pc = 64, .g_sched_bp = 104,
		.g_atomicstatus = 144, .g_goid = 152, .g_waitreason = 176,
		.g_gopc = 296, .g_startpc = 312,
		.m_procid = 72, .m_curg = 192,
		WAITREASONS(waitreasons_15_19), GSTATUSES(gstatus_14_25),
	},
	/* go1.20.14 (commit 90a870f1dc49)
	 * Change from go1.19: atomicstatus becomes atomic.Uint32, goid
	 * uint64: same sizes and offsets. */
	{
		.minor = 20, .source = "go1.20.14",
		.g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48,
		.g_sched_sp = 56, .g_sched_pc = 64, .g_sched_bp = 104,
		.g_atomicstatus = 144, .g_goid = 152, .g_waitreason = 176,
		.g_gopc = 296, .g_startpc = 312,
		.m_procid = 72, .m_curg = 192,
		WAITREASONS(waitreasons_20_21), GSTATUSES(gstatus_14_25),
	},
	/* go1.21.13 (commit 8bba868de983)
	 * Change from go1.20: g loses sysblocktraced, sysexitticks,
	 * traceseq, tracelastp and gains parentGoid: gopc/startpc -16. */
	{
		.minor = 21, .source = "go1.21.13",
		.g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48,
		.g_sched_sp = 56, .g_sched_pc = 64, .g_sched_bp = 104,
		.g_atomicstatus = 144, .g_goid = 152, .g_waitreason = 176,
		.g_gopc = 280, .g_startpc = 296,
		.m_procid = 72, .m_curg = 192,
		WAITREASONS(waitreasons_20_21), GSTATUSES(gstatus_14_25),
	},
	/* go1.22.12 (commit 5817e650946a)
	 * Change from go1.21: g gains inMarkAssist, coroexit, nocgocallback
	 * (bools that fill padding). */
	{
		.minor = 22, .source = "go1.22.12",
		.g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48,
		.g_sched_sp = 56, .g_sched_pc = 64, .g_sched_bp = 104,
		.g_atomicstatus = 144, .g_goid = 152, .g_waitreason = 176,
		.g_gopc = 280, .g_startpc = 296,
		.m_procid = 72, .m_curg = 192,
		WAITREASONS(waitreasons_22), GSTATUSES(gstatus_14_25),
	},
	/* go1.23.12 (commit dd8b7ad9268c)
	 * Change from go1.22: g gains syscallbp after syscallpc:
	 * atomicstatus and all after it +8. */
	{
		.minor = 23, .source = "go1.23.12",
		.g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48,
		.g_sched_sp = 56, .g_sched_pc = 64, .g_sched_bp = 104,
		.g_atomicstatus = 152, .g_goid = 160, .g_waitreason = 184,
		.g_gopc = 288, .g_startpc = 304,
		.m_procid = 72, .m_curg = 192,
		WAITREASONS(waitreasons_23), GSTATUSES(gstatus_14_25),
	},
	/* go1.24.5 (commit 9d828e80fa1f)
	 * Change from go1.23: g gains fipsIndicator (uint8 that fills
	 * padding). */
	{
		.minor = 24, .source = "go1.24.5",
		.g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48,
		.g_sched_sp = 56, .g_sched_pc = 64, .g_sched_bp = 104,
		.g_atomicstatus = 152, .g_goid = 160, .g_waitreason = 184,
		.g_gopc = 288, .g_startpc = 304,
		.m_procid = 72, .m_curg = 192,
		WAITREASONS(waitreasons_24), GSTATUSES(gstatus_14_25),
	},
	/* go1.25.3 (commit 28622c19591d)
	 * Change from go1.24: gobuf loses ret (56 -> 48 bytes): g.sched.bp
	 * 96 and all after sched -8; m.morebuf is a gobuf and the "_ uint32"
	 * after m.divmod is gone: m.procid/curg -8. */
	{
		.minor = 25, .source = "go1.25.3",
		.g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48,
		.g_sched_sp = 56, .g_sched_pc = 64, .g_sched_bp = 96,
		.g_atomicstatus = 144, .g_goid = 152, .g_waitreason = 176,
		.g_gopc = 280, .g_startpc = 296,
		.m_procid = 64, .m_curg = 184,
		WAITREASONS(waitreasons_25), GSTATUSES(gstatus_14_25),
	},
	/* go1.26: golang/go master at 2baa1d17628b, the parent of
	 * "internal/goversion: update Version to 1.27" (83c44ec0326d),
	 * i.e. the tree release-branch.go1.26 was cut from; no go1.26
	 * tag could be read here. Checked against the go1.26.5 release
	 * binary of the corpus (machine code, wait reasons) and the DWARF
	 * of a toolchain built from this tree (docs/runtime-layout.md).
	 * Change from go1.25: g gains fipsOnlyBypass, ditWanted (bools) and
	 * secret (int32) before writebuf: gopc/startpc +8. */
	{
		.minor = 26, .source = "go1.26 (master 2baa1d17628b)",
		.g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48,
		.g_sched_sp = 56, .g_sched_pc = 64, .g_sched_bp = 96,
		.g_atomicstatus = 144, .g_goid = 152, .g_waitreason = 176,
		.g_gopc = 288, .g_startpc = 304,
		.m_procid = 64, .m_curg = 184,
		WAITREASONS(waitreasons_26), GSTATUSES(gstatus_26),
	},
};

const struct rt_release *rt_release_lookup(int minor)
{
	for (int i = 0; i < ARRAY_LEN(releases); i++)
		if (releases[i].minor == minor)
			return &releases[i];
	return NULL;
}

int rt_min_minor(void)
{
	return releases[0].minor;
}

int rt_max_minor(void)
{
	return releases[ARRAY_LEN(releases) - 1].minor;
}

const char *rt_waitreason_name(const struct rt_release *r, unsigned int reason)
{
	if (!r || reason >= (unsigned int)r->nwaitreasons)
		return NULL;
	return r->waitreasons[reason];
}

const char *rt_gstatus_name(const struct rt_release *r, uint32_t status,
			    bool *scan)
{
	uint32_t base = status & ~RT_GSCAN;

	if (scan)
		*scan = status & RT_GSCAN;
	if (!r || base >= (uint32_t)r->ngstatuses)
		return NULL;
	return r->gstatuses[base];
}
