// ops_by_name.c — the op table for a --device name (kernels/ops.h ft_ops_by_name). Its own
// file: only tools that offer a device choice pull in the CUDA objects (and libraries).
#include "core/err.h"
#include "ops.h"

#include <string.h>

const ft_ops *ft_ops_by_name(const char *name) {
    if (!strcmp(name, "cpu")) return ft_ops_cpu();
    if (!strcmp(name, "guard")) return ft_ops_guard();
    if (!strcmp(name, "cuda")) {
        ft_err_clear();
        const ft_ops *o = ft_ops_cuda();
        if (!o && !ft_errmsg()[0]) ft_err("this build has no CUDA op table (built without nvcc)");
        return o;
    }
    ft_err("unknown device '%s' (expected cpu, cuda or guard)", name);
    return NULL;
}
