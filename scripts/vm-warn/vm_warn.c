// SPDX-License-Identifier: GPL-2.0
/*
 * Test of the VM runner itself: loading this module prints one WARNING, which
 * the runner must turn into a failed run. Never loaded by anything else.
 */
#include <linux/bug.h>
#include <linux/module.h>

static int __init vm_warn_init(void)
{
	WARN(1, "vm_warn: deliberate warning to test the VM runner\n");
	return 0;
}

static void __exit vm_warn_exit(void)
{
}

module_init(vm_warn_init);
module_exit(vm_warn_exit);
MODULE_DESCRIPTION("Deliberate WARN to test the iommufd-rs VM runner");
MODULE_LICENSE("GPL");
