# SPDX-License-Identifier: GPL-2.0
#
# iommufd-rs. The module itself is built by Kbuild (see Kbuild); this file
# drives set-up, the test kernel, the VM and the tests:
#
#   make run      set up, build everything, boot, load, run the demo
#   make check    every test: lint, the runner, the selftests in the VM
#   make vm RUN='cmd'  [IOMMUFD_IMPL=rust|rust-prod|c|none]  run cmd in the test VM
#   make module [IOMMUFD_RS_SELFTEST=n]  the module; =n the production variant,
#                 without the selftest ABI and the mock, in build/prod/
#   make bench    iommufd_rs.ko against the C iommufd.ko in one boot, on the
#                 release kernel (no lockdep, kmemleak or Rust debug
#                 assertions) [BENCH_KERNEL=test: on the test kernel]
#   make fuzz     the ioctl fuzzer, 1M calls against iommufd_rs.ko
#                 [FUZZ_SEED=N FUZZ_CALLS=N FUZZ_THREADS=N FUZZ_IMPLS='rust c']
#   make series   the upstream-style patch series against the clean 7.3 tree,
#                 in build/series/ [SIGNOFF=1 SUBJECT_PREFIX='RFC PATCH']
#   make series-check  the series through checkpatch --strict and git am, and
#                 each patch built in the tree (bisectability)
#   make check-series  make check's VM boots with the modules of the series'
#                 final tree, built in the tree
#   make check-debug  the VM boots of make check on the debug kernel (KASAN,
#                 UBSAN, lockdep, kmemleak; IOMMUFD_RS_KERNEL=debug, its
#                 modules in build/debug/), with a count of its reports
#                 [CHECK_BOOTS='rust c vtd amd group fuzz']
#
# Everything expensive is cached in ~/.cache/iommufd-rs (IOMMUFD_RS_CACHE).

ifneq ($(KERNELRELEASE),)
include $(src)/Kbuild
else

SHELL := /bin/bash
RUN ?= true

.PHONY: all setup kernel module module-prod tests lint check run vm bench fuzz clean \
	kernel-debug check-debug series series-check check-series

all: module tests

setup:
	@scripts/setup.sh

kernel: setup
	@scripts/build-kernel.sh >/dev/null

module: kernel
	@IOMMUFD_RS_SELFTEST='$(IOMMUFD_RS_SELFTEST)' scripts/build-module.sh

module-prod: kernel
	@IOMMUFD_RS_SELFTEST=n scripts/build-module.sh

tests: kernel
	@scripts/build-tests.sh

lint: kernel
	@scripts/lint.sh all

vm: module tests $(if $(filter rust-prod,$(IOMMUFD_IMPL)),module-prod)
	@scripts/vm.sh '$(subst ','\'',$(RUN))'

run: module tests
	@VM_EDU=1 scripts/vm.sh 'build/samples/iommufd_demo && \
		build/samples/iommufd_pasid_demo && scripts/vfio-edu.sh demo'

check: module module-prod tests
	@scripts/check.sh

# make bench measures on the release kernel, configured without lockdep,
# kmemleak and Rust's debug assertions (built once, like the test kernel);
# BENCH_KERNEL=test measures on the test kernel instead.
BENCH_KERNEL ?= release
bench_variant := $(if $(filter release,$(BENCH_KERNEL)),release,$(if \
	$(filter test,$(BENCH_KERNEL)),,$(error BENCH_KERNEL must be release or test)))
bench: tests
	@IOMMUFD_RS_KERNEL=$(bench_variant) scripts/build-kernel.sh >/dev/null
	@IOMMUFD_RS_KERNEL=$(bench_variant) scripts/build-module.sh
	@IOMMUFD_RS_KERNEL=$(bench_variant) scripts/bench.sh

fuzz: module tests $(if $(filter rust-prod,$(FUZZ_IMPLS)),module-prod)
	@scripts/fuzz.sh

series: setup
	@scripts/series.sh

series-check: kernel
	@scripts/series-check.sh

# The boots of make check, against the in-tree modules of the series.
check-series: module module-prod tests
	@SERIES_MODULES=1 scripts/check.sh

# The debug kernel and what is built against it; the test programs are those
# of make tests.
kernel-debug: setup
	@IOMMUFD_RS_KERNEL=debug scripts/build-kernel.sh >/dev/null

check-debug: kernel-debug tests
	@IOMMUFD_RS_KERNEL=debug scripts/build-module.sh
	@IOMMUFD_RS_KERNEL=debug IOMMUFD_RS_SELFTEST=n scripts/build-module.sh
	@IOMMUFD_RS_KERNEL=debug scripts/build-tests.sh
	@IOMMUFD_RS_KERNEL=debug scripts/check.sh

clean:
	rm -rf build rust/uapi_generated.rs rust/uapi_test_names.h
	find . \( -name '*.o' -o -name '*.ko' -o -name '*.mod' -o -name '*.mod.c' \
		-o -name '.*.cmd' -o -name '*.symvers' -o -name 'modules.order' \
		-o -name '*.rmeta' -o -name '.*.d' \) -type f -delete
endif
