/* The Mach names native/darwin.c uses, with the types Apple's <mach/mach.h> gives them. */
#pragma once
#include <stdint.h>
typedef int kern_return_t;
typedef unsigned int natural_t;
typedef natural_t mach_port_t;
typedef natural_t mach_msg_type_number_t;
typedef uint64_t mach_vm_address_t;
typedef uint64_t mach_vm_size_t;
typedef int *vm_region_recurse_info_t;
#define KERN_SUCCESS 0
#define KERN_INVALID_ADDRESS 1
typedef struct vm_region_submap_info_64 {
  int protection, max_protection;
  unsigned int inheritance;
  unsigned long long offset;
  unsigned int user_tag, pages_resident, pages_shared_now_private, pages_swapped_out, pages_dirtied,
      ref_count;
  unsigned short shadow_depth;
  unsigned char external_pager, share_mode;
  uint32_t is_submap;
  int behavior;
  uint32_t object_id;
  unsigned short user_wired_count;
  unsigned int pages_reusable;
  unsigned long long object_id_full;
} vm_region_submap_info_data_64_t;
#define VM_REGION_SUBMAP_INFO_COUNT_64 \
  ((mach_msg_type_number_t)(sizeof(vm_region_submap_info_data_64_t) / sizeof(natural_t)))
extern mach_port_t mach_task_self_;
#define mach_task_self() mach_task_self_
