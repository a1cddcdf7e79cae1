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
 * which bindgen can only number. The build generates this header from
 * uapi_test_members: one typedef per member, iommu_test_<member>, naming its
 * type for Rust.
 */
#include "uapi_test_names.h"
#endif
