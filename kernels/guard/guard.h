// guard.h — internals of the guard backend (kernels/guard/), for its own files and its tests.
//
// The guard's "device" is a reserved virtual range of GUARD_SPAN bytes mapped PROT_NONE:
// buffers handed out by its alloc are addresses inside it, so any host read or write of one
// faults at once (SIGSEGV). The data lives in a shadow mapping exactly GUARD_SPAN bytes above
// (pages made read-write only while allocated); the guard's op wrappers translate each
// pointer argument handle -> shadow before calling the CPU kernel, and abort with a message
// naming the op and the argument when given a host pointer where a device buffer belongs
// (what a CUDA kernel would do with it is undefined; here it is caught).
#ifndef FT_GUARD_H
#define FT_GUARD_H

#include <stddef.h>

// 1 when p lies inside the guard's device range (always 0 before the range is reserved).
int ft_guard_is_device(const void *p);
// The shadow (host-accessible) address of handle p, for the op wrappers; NULL stays NULL;
// aborts naming op/arg when p is not a device handle.
void *ft_guard_shadow(const void *p, const char *op, const char *arg);

#endif
