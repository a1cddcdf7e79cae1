#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make series: the upstream-style patch series against the clean Linux 7.3
# source, from the repository's current contents, as git format-patch
# output (with a cover letter) in build/series/.
#
# series/NN-*/ are the patches, in order, each with:
#   message      the commit message (subject, blank line, body)
#   files        repository files by pattern, and where they go in the tree:
#                "PATTERN DEST" (DEST ending in / keeps the file's name),
#                "!PATTERN" leaves out what an earlier line of the patch
#                took; * matches within a path component, ** across them
#   tree/        files laid into the tree as they are (Makefiles, Kconfig)
#   edit         changes to files of the tree (bash, the helpers below)
#   maintainers  lines of MAINTAINERS sections this patch adds
#   verify       checks of the laid-out tree (bash)
#   check        what scripts/series-check.sh builds for this patch
# series/excluded lists the repository files that stay out, with reasons;
# series/cover-letter.txt is the cover letter (subject, blank line, body).
#
# Every file of the module, the variant driver, the tests and the docs must
# be in exactly one patch or in series/excluded, else this fails: a new file
# cannot silently stay out of the series.
#
# The commits are made with git plumbing on a temporary index, without
# touching the cached repository's work tree, onto its branch "series".
# No Signed-off-by by default; SIGNOFF=1 adds one from the git identity of
# this repository's user (the submitter). SUBJECT_PREFIX overrides "PATCH".
set -euo pipefail
. "$(dirname "$0")/series-lib.sh"

series_lock
series_base
SERIES_META=$REPO/series
# What must be accounted for: everything the module, the variant driver,
# the tests and the documentation are made of.
SCOPE=(Kbuild rust glue include vfio_pci_pasid selftests Documentation tools samples)

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
STAGE=$TMP/stage
mkdir -p "$STAGE"

# A pattern as an anchored extended regular expression.
glob_re() {
	printf '^%s$' "$(printf '%s' "$1" | sed -e 's/[].[^$\\+(){}|?]/\\&/g' \
		-e 's/\*\*/\x01/g' -e 's/\*/[^\/]*/g' -e 's/\x01/.*/g')"
}

# The repository's files in scope, committed or not (but not ignored).
(cd "$REPO" && git ls-files -co --exclude-standard -- "${SCOPE[@]}") | sort -u >"$TMP/scope"

# Assign each file to its patch, or to the excluded list.
declare -A owner dest
patches=()
for dir in "$SERIES_META"/[0-9][0-9]-*/; do
	patches+=("$(basename "$dir")")
done
[ ${#patches[@]} -gt 0 ] || die "no patches in $SERIES_META"
for p in "${patches[@]}"; do
	[ -s "$SERIES_META/$p/message" ] || die "$p has no message"
	[ -e "$SERIES_META/$p/files" ] || continue
	: >"$TMP/$p.files"
	while read -r pat to rest; do
		case "$pat" in '' | '#'*) continue ;; esac
		[ -z "$rest" ] || die "$p/files: too many fields: $pat $to $rest"
		if [ "${pat#!}" != "$pat" ]; then
			re=$(glob_re "${pat#!}")
			grep -vE "${re%\$} " "$TMP/$p.files" >"$TMP/$p.keep" || true
			mv "$TMP/$p.keep" "$TMP/$p.files"
			continue
		fi
		[ -n "$to" ] || die "$p/files: no destination for $pat"
		matched=$(grep -E "$(glob_re "$pat")" "$TMP/scope" || true)
		[ -n "$matched" ] || die "$p/files: $pat matches no file"
		while read -r f; do
			case "$to" in
			*/) echo "$f ${to}$(basename "$f")" ;;
			*) echo "$f $to" ;;
			esac
		done <<<"$matched" >>"$TMP/$p.files"
	done <"$SERIES_META/$p/files"
	while read -r f to; do
		[ -z "${owner[$f]:-}" ] || die "$f is in both $p and ${owner[$f]}"
		owner[$f]=$p
		dest[$f]=$to
	done <"$TMP/$p.files"
done
while IFS=$'\t' read -r pat reason; do
	case "$pat" in '' | '#'*) continue ;; esac
	[ -n "$reason" ] || die "series/excluded: $pat has no reason"
	matched=$(grep -E "$(glob_re "$pat")" "$TMP/scope" || true)
	[ -n "$matched" ] || die "series/excluded: $pat matches no file"
	while read -r f; do
		[ -z "${owner[$f]:-}" ] || die "$f is excluded but in ${owner[$f]}"
		owner[$f]=excluded
	done <<<"$matched"
done <"$SERIES_META/excluded"
orphans=$(while read -r f; do [ -n "${owner[$f]:-}" ] || echo "$f"; done <"$TMP/scope")
[ -z "$orphans" ] || die "in no patch and not in series/excluded:"$'\n'"$orphans"

# The helpers of the edit scripts. A file of the tree is taken from the
# clean tree the first time it is edited; anchors are whole lines, which
# must occur exactly once. TEXT is a file, or - for standard input.
kfile() {
	local p=$STAGE/$1
	if [ ! -e "$p" ]; then
		mkdir -p "$(dirname "$p")"
		series_git show "base:$1" >"$p" 2>/dev/null || die "$1 is not in the clean tree"
	fi
	echo "$p"
}
text() {
	if [ "$1" = - ]; then cat; else cat "$1"; fi
}
anchored() { # mode file line text
	local f t n
	f=$(kfile "$2")
	t=$TMP/text
	text "$4" >"$t"
	n=$(grep -cxF -- "$3" "$f" || true)
	[ "$n" = 1 ] || die "$2: '$3' occurs $n times, not once"
	awk -v mode="$1" -v line="$3" -v tf="$t" '
		function put() { while ((getline l < tf) > 0) print l }
		$0 == line && mode == "before" { put() }
		$0 == line && mode == "replace" { put(); next }
		{ print }
		$0 == line && mode == "after" { put() }' "$f" >"$f.new"
	mv "$f.new" "$f"
}
insert_after() { anchored after "$@"; }
insert_before() { anchored before "$@"; }
replace_line() { anchored replace "$@"; }
append() {
	local f
	f=$(kfile "$1")
	text "$2" >>"$f"
}

# The identity of the commits: this repository's user, else a name that
# says what made them.
name=$(git -C "$REPO" config user.name || echo iommufd-rs)
email=$(git -C "$REPO" config user.email || echo iommufd-rs@localhost)
date=$(git -C "$REPO" log -1 --format=%cI HEAD)
export GIT_AUTHOR_NAME=$name GIT_AUTHOR_EMAIL=$email GIT_AUTHOR_DATE=$date
export GIT_COMMITTER_NAME=$name GIT_COMMITTER_EMAIL=$email GIT_COMMITTER_DATE=$date

# MAINTAINERS: the sections the patches have added so far, rendered into
# the clean tree's file at their alphabetical place. A section's fields are
# sorted in the file's order (M R L S W Q B C P T F X N K), then by value.
: >"$TMP/maintainers"
render_maintainers() {
	local f
	f=$(kfile MAINTAINERS)
	series_git show base:MAINTAINERS >"$f"
	awk -F'\t' '
		/^[A-Z]:\t/ { print sec "\t" $0; next }
		/./ { sec = $0 }' "$TMP/maintainers" | sort -u >"$TMP/maint.fields"
	cut -f1 "$TMP/maint.fields" | sort -u | while read -r sec; do
		{
			echo "$sec"
			grep -F "$sec"$'\t' "$TMP/maint.fields" | cut -f2- |
				awk -F: '{ print index("MRLSWQBCPTFXNK", $1) "\t" $0 }' |
				sort -t$'\t' -k1,1n -k2 | cut -f2-
			echo
		} >"$TMP/section"
		# After the section whose name is the greatest below it (the
		# file is not sorted throughout), before the next section
		# header: a line after an empty one, followed by a field.
		LC_ALL=C awk -v sec="$sec" -v tf="$TMP/section" '
			function header(i) {
				return line[i - 1] == "" && line[i] != "" &&
				       line[i + 1] ~ /^[A-Z]:\t/
			}
			{ line[NR] = $0 }
			END {
				for (i = 1; i <= NR; i++)
					if (header(i) && line[i] < sec &&
					    (best == "" || line[i] >= best)) {
						best = line[i]
						after = i
					}
				for (i = after + 1; i <= NR && !header(i); i++)
					;
				at = i
				for (i = 1; i <= NR; i++) {
					if (i == at)
						while ((getline l < tf) > 0)
							print l
					print line[i]
				}
				exit !after
			}' "$f" >"$f.new" || die "no place for $sec in MAINTAINERS"
		mv "$f.new" "$f"
	done
	sed -i "s/@SUBMITTER@/$name <$email>/" "$f"
}

# The patches, each a commit made from the stage (the files the series has
# added or changed so far) over the clean tree.
export GIT_INDEX_FILE=$TMP/index
series_git read-tree base
parent=$(series_git rev-parse base)
for p in "${patches[@]}"; do
	PATCH_DIR=$SERIES_META/$p
	if [ -e "$TMP/$p.files" ]; then
		while read -r f to; do
			mkdir -p "$STAGE/$(dirname "$to")"
			cp -p "$REPO/$f" "$STAGE/$to"
		done <"$TMP/$p.files"
	fi
	[ ! -d "$PATCH_DIR/tree" ] || cp -rp "$PATCH_DIR/tree/." "$STAGE/"
	if [ -e "$PATCH_DIR/edit" ]; then
		# shellcheck source=/dev/null
		. "$PATCH_DIR/edit"
	fi
	if [ -e "$PATCH_DIR/maintainers" ]; then
		cat "$PATCH_DIR/maintainers" >>"$TMP/maintainers"
		render_maintainers
	fi
	if [ -e "$PATCH_DIR/verify" ]; then
		# shellcheck source=/dev/null
		. "$PATCH_DIR/verify"
	fi
	(cd "$STAGE" && find . -type f -printf '%P\n' | sort) >"$TMP/paths"
	sed "s|^|$STAGE/|" "$TMP/paths" | series_git hash-object -w --stdin-paths >"$TMP/blobs"
	while read -r path; do
		if [ -x "$STAGE/$path" ]; then echo 100755; else echo 100644; fi
	done <"$TMP/paths" | paste -d' ' - "$TMP/blobs" | paste -d$'\t' - "$TMP/paths" |
		series_git update-index --index-info
	tree=$(series_git write-tree)
	cp "$PATCH_DIR/message" "$TMP/message"
	if [ "${SIGNOFF:-0}" = 1 ]; then
		printf '\nSigned-off-by: %s <%s>\n' "$name" "$email" >>"$TMP/message"
	fi
	parent=$(series_git commit-tree "$tree" -p "$parent" -F "$TMP/message")
done
series_git update-ref refs/heads/series "$parent"

rm -rf "$SERIES_OUT"
mkdir -p "$SERIES_OUT"
series_git format-patch -q --cover-letter --cover-from-description=subject \
	--description-file="$SERIES_META/cover-letter.txt" \
	--subject-prefix="${SUBJECT_PREFIX:-PATCH}" -o "$SERIES_OUT" base..series
echo "$parent" >"$SERIES_OUT/.commit"
echo "series: $(ls "$SERIES_OUT"/*.patch | wc -l) files in ${SERIES_OUT#"$REPO"/}" \
	"(commit $(cut -c1-12 <<<"$parent") of $LINUX)"
