/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The uAPI headers iommufd-rs speaks, as bindgen reads them: the module's
 * rust/uapi.rs and the Rust selftests include what bindgen makes of this file,
 * so that no struct or constant of these headers is typed by hand.
 */

#include <linux/iommufd.h>
#include <linux/vfio.h>
/*
 * The extension, include/uapi/linux/iommufd_rs.h: in the kernel tree from
 * include/uapi, out of tree from the repository's include/uapi, which the
 * module's Kbuild and the Rust selftests' build.rs put on the include path.
 */
#include <linux/iommufd_rs.h>

#ifdef IOMMUFD_RS_TEST_ABI
#include "iommufd_test.h"

/*
 * The members of the IOMMU_TEST_CMD payload union are anonymous structs,
 * which bindgen can only number. These typedefs give them names Rust can
 * use; they exist for bindgen alone (checkpatch's NEW_TYPEDEFS is waived for
 * this file).
 */
#define IOMMUFD_RS_TEST_MEMBER(m) __typeof__(((struct iommu_test_cmd *)0)->m)

typedef IOMMUFD_RS_TEST_MEMBER(add_reserved) iommu_test_add_reserved;
typedef IOMMUFD_RS_TEST_MEMBER(mock_domain) iommu_test_mock_domain;
typedef IOMMUFD_RS_TEST_MEMBER(mock_domain_flags) iommu_test_mock_domain_flags;
typedef IOMMUFD_RS_TEST_MEMBER(mock_domain_replace) iommu_test_mock_domain_replace;
typedef IOMMUFD_RS_TEST_MEMBER(check_map) iommu_test_check_map;
typedef IOMMUFD_RS_TEST_MEMBER(check_refs) iommu_test_check_refs;
typedef IOMMUFD_RS_TEST_MEMBER(create_access) iommu_test_create_access;
typedef IOMMUFD_RS_TEST_MEMBER(destroy_access_pages) iommu_test_destroy_access_pages;
typedef IOMMUFD_RS_TEST_MEMBER(access_pages) iommu_test_access_pages;
typedef IOMMUFD_RS_TEST_MEMBER(access_rw) iommu_test_access_rw;
typedef IOMMUFD_RS_TEST_MEMBER(memory_limit) iommu_test_memory_limit;
typedef IOMMUFD_RS_TEST_MEMBER(access_replace_ioas) iommu_test_access_replace_ioas;
typedef IOMMUFD_RS_TEST_MEMBER(dirty) iommu_test_dirty;
typedef IOMMUFD_RS_TEST_MEMBER(check_iotlb) iommu_test_check_iotlb;
typedef IOMMUFD_RS_TEST_MEMBER(trigger_iopf) iommu_test_trigger_iopf;
typedef IOMMUFD_RS_TEST_MEMBER(check_dev_cache) iommu_test_check_dev_cache;
typedef IOMMUFD_RS_TEST_MEMBER(trigger_vevent) iommu_test_trigger_vevent;
typedef IOMMUFD_RS_TEST_MEMBER(pasid_attach) iommu_test_pasid_attach;
typedef IOMMUFD_RS_TEST_MEMBER(pasid_replace) iommu_test_pasid_replace;
typedef IOMMUFD_RS_TEST_MEMBER(pasid_detach) iommu_test_pasid_detach;
typedef IOMMUFD_RS_TEST_MEMBER(pasid_check) iommu_test_pasid_check;
#endif
