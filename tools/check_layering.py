#!/usr/bin/env python3
"""Checks the floor plan: every wing includes only wings below it, and the database headers stay
where they belong. Run by .ci/run; exits 1 naming each violation.

The wing order is read from the CMake files, so it has one home: the top-level CMakeLists.txt
lists the folders bottom-up (common, proto, state, capture, apply, tools, tests) and each
folder's CMakeLists.txt lists its wings bottom-up with add_subdirectory(). A wing is a folder
with its own CMakeLists.txt (state/ is one wing; tests/ is the top and may include anything).

Rules:
  1. A source file of wing W includes only files of W and of wings listed before W.
     Test sources (*_test.cc, *_test.c, *_fuzz.cc, *_testutil.*, files under a testing/
     folder) may also include the test fixtures: tools/sandbox (a throwaway PostgreSQL) and
     tests/testutil.
  2. Nothing in capture/ includes libpq (libpq-fe.h, or common/pg/) except capture/pg_logical.
  3. Nothing in apply/ includes sqlite3.h (or the SQLite wrapper in common/sqlite/, other than
     the plain structs of table_schema.h) except apply/reverse; tests are exempt.
  4. Every quoted include names a file that exists (or a generated .pb.h).
  5. No file refers to the steering folder outside the repository (the one beside the clone
     that a user does not have), and no comment names a work item: comments say what and why.
  6. A wing whose sources include spdlog links spdlog::spdlog: without it the header compiles
     spdlog in header-only mode, with a logger registry of its own, and that wing's log lines
     bypass the daemon's logger (its format, level and JSON output).
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE_EXT = (".cc", ".h", ".c")
TEST_FIXTURE_WINGS = ("tools/sandbox", "tests")
INCLUDE = re.compile(r'^\s*#\s*include\s+([<"])([^>"]+)[>"]', re.M)
SUBDIR = re.compile(r"^\s*add_subdirectory\(\s*([\w./-]+)", re.M)


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def wings_in_order():
    """Wings bottom-up, from the add_subdirectory() order of the CMake files."""
    order = []

    def walk(folder):
        cmake = os.path.join(ROOT, folder, "CMakeLists.txt")
        subs = SUBDIR.findall(read(cmake)) if os.path.exists(cmake) else []
        subs = [s for s in subs if os.path.isdir(os.path.join(ROOT, folder, s))]
        if not subs or folder == "tests":
            order.append(folder)
            return
        for s in subs:
            walk(os.path.normpath(os.path.join(folder, s)))

    for top in SUBDIR.findall(read(os.path.join(ROOT, "CMakeLists.txt"))):
        walk(top)
    return order


def wing_of(path, wings):
    best = None
    for w in wings:
        if path == w or path.startswith(w + "/"):
            if best is None or len(w) > len(best):
                best = w
    return best


def is_test_source(path):
    name = os.path.basename(path)
    return (re.search(r"_(test|fuzz)\.cc?$", name) is not None or "_testutil." in name
            or "/testing/" in path)


def source_files():
    for top in ("common", "proto", "state", "capture", "apply", "tools", "tests"):
        for dirpath, dirs, files in os.walk(os.path.join(ROOT, top)):
            # Installed third-party packages (the Node test client's) are not sqlift's code.
            dirs[:] = [d for d in dirs if d != "node_modules"]
            for f in files:
                if f.endswith(SOURCE_EXT):
                    yield os.path.relpath(os.path.join(dirpath, f), ROOT)


def check_file(path, wings, rank, errors):
    text = read(os.path.join(ROOT, path))
    wing = wing_of(path, wings)
    test = is_test_source(path)
    for kind, target in INCLUDE.findall(text):
        where = f"{path}: #include {kind}{target}{'>' if kind == '<' else chr(34)}"
        if kind == "<":
            if target.startswith("libpq") and path.startswith("capture/") \
                    and wing != "capture/pg_logical":
                errors.append(f"{where}: libpq in capture/ outside capture/pg_logical")
            if target == "sqlite3.h" and path.startswith("apply/") and wing != "apply/reverse" \
                    and not test:
                errors.append(f"{where}: sqlite3.h in apply/ outside apply/reverse")
            continue
        if target.endswith(".pb.h"):
            continue
        if not os.path.exists(os.path.join(ROOT, target)):
            errors.append(f"{where}: no such file")
            continue
        other = wing_of(target, wings)
        if other is None or wing is None:
            continue
        if path.startswith("capture/") and target.startswith("common/pg/") \
                and wing != "capture/pg_logical":
            errors.append(f"{where}: libpq wrapper in capture/ outside capture/pg_logical")
        if path.startswith("apply/") and target.startswith("common/sqlite/") \
                and not target.endswith("table_schema.h") and wing != "apply/reverse" \
                and not test:
            errors.append(f"{where}: SQLite wrapper in apply/ outside apply/reverse")
        if rank[other] <= rank[wing]:
            continue
        if test and other in TEST_FIXTURE_WINGS:
            continue
        errors.append(f"{where}: wing {wing} includes {other}, which is above it")


def check_words(errors):
    outside_folder = "shar" + "ed"  # spelled apart so that this file does not match itself
    outside = re.compile(r"\.\./" + outside_folder + "|" + outside_folder + "/(DESIGN|data)")
    work_item = re.compile(r"(//|#|/?\*).*\b[Ii]ssue [0-9]+")
    for path in source_files():
        for n, line in enumerate(read(os.path.join(ROOT, path)).splitlines(), 1):
            if outside.search(line):
                errors.append(f"{path}:{n}: refers to a folder outside the repository")
            if work_item.search(line):
                errors.append(f"{path}:{n}: a comment names a work item; say what and why")


def check_spdlog(wings, errors):
    for wing in wings:
        sources = [p for p in source_files() if wing_of(p, wings) == wing and not is_test_source(p)]
        if not any("spdlog/" in read(os.path.join(ROOT, p)) for p in sources):
            continue
        if "spdlog::spdlog" not in read(os.path.join(ROOT, wing, "CMakeLists.txt")):
            errors.append(f"{wing}: includes spdlog but does not link spdlog::spdlog")


def main():
    wings = wings_in_order()
    rank = {w: i for i, w in enumerate(wings)}
    errors = []
    for path in source_files():
        check_file(path, wings, rank, errors)
    check_words(errors)
    check_spdlog(wings, errors)
    for e in errors:
        print(f"layering: {e}")
    if "-v" in sys.argv[1:]:
        print("layering: wings, bottom-up: " + " < ".join(wings))
    print(f"layering: {len(wings)} wings, {len(errors)} violations")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
