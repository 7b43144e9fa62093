#pragma once
#include <mach/mach.h>
kern_return_t mach_vm_region_recurse(mach_port_t target_task, mach_vm_address_t *address,
                                     mach_vm_size_t *size, natural_t *nesting_depth,
                                     vm_region_recurse_info_t info, mach_msg_type_number_t *count);
