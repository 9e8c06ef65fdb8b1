#!/usr/bin/env python3
"""Writes the golden layout of portico/abi.h: sdk/tests/abi_layout_golden.h, which sdk/tests/abi_layout_test.c
(C11) and abi_layout_test.cc (C++17) turn into static assertions.

    sdk/abi/gen_layout.py [--header H] [--output F]     (x86_64 Linux, needs clang and a C11 compiler)

Which structs, fields and typedefs exist is read from clang's AST of the header (so nothing is skipped by a
hand-written parser); which constants exist, from its object-like `#define PORTICO_*` lines. Every number is
then measured by compiling and running a small C program, not computed here.

Run it only when the ABI grows (a minor bump). The diff of the golden file must show added lines only: a changed
or removed line is a broken ABI, which needs a new major instead.
"""

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SDK = os.path.dirname(HERE)
DEFAULT_HEADER = os.path.join(SDK, "include", "portico", "abi.h")
DEFAULT_OUTPUT = os.path.join(SDK, "tests", "abi_layout_golden.h")
PROBE = os.path.join(SDK, "tests", "abi_probe.c")

INT_LITERAL = re.compile(r"^\(?\s*-?\s*(0x[0-9A-Fa-f]+|[0-9]+)[uUlL]*\s*\)?$")
STRING_LITERAL = re.compile(r'^"([^"\\]|\\.)*"$')


def ast_of(header):
    """Top-level declarations of the header, from clang's JSON AST (system headers included; filtered by name)."""
    source = f'#include "{os.path.abspath(header)}"\n'
    out = subprocess.run(["clang", "-x", "c", "-std=c99", "-fsyntax-only", "-Xclang", "-ast-dump=json", "-"],
                         input=source, capture_output=True, text=True, check=True).stdout
    return json.loads(out)["inner"]


def records_and_typedefs(decls):
    records, typedefs = [], []  # records: [(tag, [field, ...])], typedefs: [(name, is_opaque_struct)]
    for d in decls:
        name = d.get("name", "")
        if not name.startswith("portico_"):
            continue
        if d["kind"] == "RecordDecl" and d.get("completeDefinition"):
            if d.get("tagUsed") != "struct":
                sys.exit(f"{name}: only structs are expected in the ABI, found a {d.get('tagUsed')}")
            fields = []
            for f in d.get("inner", []):
                if f["kind"] != "FieldDecl":
                    continue
                if not f.get("name"):
                    sys.exit(f"{name}: an anonymous member; the golden test cannot name it")
                fields.append(f["name"])
            records.append((name, fields))
        elif d["kind"] == "TypedefDecl":
            typedefs.append((name, d["type"]["qualType"]))
    complete = {tag for tag, _ in records}
    scalar_typedefs, opaque = [], []
    for name, qual in typedefs:
        m = re.fullmatch(r"struct (\w+)", qual)
        if m and m.group(1) in complete:
            continue  # `typedef struct X {...} X;`: the record's own lines cover it
        if m:
            opaque.append(name)
        else:
            scalar_typedefs.append(name)
    return records, scalar_typedefs, opaque


def constants_of(header):
    """Object-like PORTICO_* macros, split into integer constants, string constants and the rest."""
    ints, strings, others, functions = [], [], [], []
    text = open(header, encoding="utf-8").read()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    for line in text.splitlines():
        m = re.match(r"\s*#\s*define\s+(PORTICO_\w+)(\(?)(.*)$", line)
        if not m:
            continue
        name, paren, value = m.group(1), m.group(2), m.group(3).strip()
        if paren:
            functions.append(name)
        elif INT_LITERAL.match(value):
            ints.append(name)
        elif STRING_LITERAL.match(value):
            strings.append(name)
        elif name not in others:
            others.append(name)
    dedup = lambda names: list(dict.fromkeys(names))  # noqa: E731
    return dedup(ints), dedup(strings), dedup(others), dedup(functions)


def measure(header, records, scalar_typedefs, ints, strings):
    """Compiles and runs a C11 program that prints every number the golden file records."""
    lines = ['#include <stdio.h>', '#include <stddef.h>', f'#include "{os.path.abspath(header)}"',
             '#define TYPE_NAME(x) _Generic((x), int: "int", unsigned int: "unsigned", long: "long", \\',
             '    unsigned long: "unsigned long", long long: "long long", unsigned long long: "unsigned long long")',
             "int main(void) {"]
    for tag, fields in records:
        t = f"struct {tag}"
        lines.append(f'printf("R {tag} %zu %zu\\n", sizeof({t}), _Alignof({t}));')
        for f in fields:
            lines.append(f'printf("F {tag} {f} %zu %zu\\n", offsetof({t}, {f}), sizeof((({t} *)0)->{f}));')
    for name in scalar_typedefs:
        lines.append(f'printf("T {name} %zu\\n", sizeof({name}));')
    for name in ints:
        lines.append(f'printf("I {name} %lld %s\\n", (long long)({name}), TYPE_NAME({name}));')
    for name in strings:
        lines.append(f'printf("S {name} %s\\n", {name});')
    lines += ["return 0;", "}"]
    with tempfile.TemporaryDirectory() as tmp:
        src, exe = os.path.join(tmp, "measure.c"), os.path.join(tmp, "measure")
        with open(src, "w") as f:
            f.write("\n".join(lines) + "\n")
        cc = os.environ.get("CC", "cc")
        subprocess.run([cc, "-std=c11", "-o", exe, src], check=True)
        return subprocess.run([exe], capture_output=True, text=True, check=True).stdout.splitlines()


def check_probe(records, scalar_typedefs):
    """abidiff sees only the types the probe's functions reach: every struct and typedef must be named there."""
    text = open(PROBE, encoding="utf-8").read()
    missing = [n for n in [tag for tag, _ in records] + scalar_typedefs if not re.search(rf"\b{n}\b", text)]
    if missing:
        sys.exit(f"{os.path.relpath(PROBE)} does not use {', '.join(missing)}: add them, or abidiff cannot see them")


def c_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def golden(header, measured, opaque, others, functions):
    version = {}
    out = [f"/* Generated by sdk/abi/gen_layout.py from sdk/include/portico/abi.h for x86_64 LP64. Do not edit.",
           " * A new minor appends lines; a changed or removed line is a broken ABI (a new major).",
           " * RECORD(struct, size, align)  FIELD(struct, field, offset, size)  TYPE(typedef, size)",
           " * INT(macro, value, type)  STRING(macro, value)",
           f" * Opaque handles (no layout to check): {', '.join(opaque)}.",
           f" * Not constants: {', '.join(others)}; function-like macros, checked by compiling"
           f" abi_c99_check.c: {', '.join(functions)}. */"]
    for line in measured:
        kind, rest = line.split(" ", 1)
        if kind == "R":
            tag, size, align = rest.split()
            out.append(f"PORTICO_GOLDEN_RECORD({tag}, {size}, {align})")
        elif kind == "F":
            tag, field, offset, size = rest.split()
            out.append(f"PORTICO_GOLDEN_FIELD({tag}, {field}, {offset}, {size})")
        elif kind == "T":
            name, size = rest.split()
            out.append(f"PORTICO_GOLDEN_TYPE({name}, {size})")
        elif kind == "I":
            name, value, type_name = rest.split(" ", 2)
            version[name] = value
            out.append(f"PORTICO_GOLDEN_INT({name}, {value}, {type_name})")
        elif kind == "S":
            name, value = rest.split(" ", 1)
            out.append(f"PORTICO_GOLDEN_STRING({name}, {c_string(value)})")
    return out, version


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--header", default=DEFAULT_HEADER)
    parser.add_argument("--output", default=DEFAULT_OUTPUT, help="'-' for stdout")
    args = parser.parse_args()
    if platform.machine() != "x86_64":
        sys.exit("the golden layout is for x86_64 LP64; run this on x86_64")
    records, scalar_typedefs, opaque = records_and_typedefs(ast_of(args.header))
    check_probe(records, scalar_typedefs)
    ints, strings, others, functions = constants_of(args.header)
    measured = measure(args.header, records, scalar_typedefs, ints, strings)
    lines, version = golden(args.header, measured, opaque, others, functions)
    text = "\n".join(lines) + "\n"
    if args.output == "-":
        sys.stdout.write(text)
    else:
        with open(args.output, "w") as f:
            f.write(text)
    n_fields = sum(len(f) for _, f in records)
    print(f"ABI {version.get('PORTICO_ABI_MAJOR')}.{version.get('PORTICO_ABI_MINOR')}: {len(records)} structs, "
          f"{n_fields} fields, {len(scalar_typedefs)} typedefs, {len(ints) + len(strings)} constants"
          + ("" if args.output == "-" else f" -> {os.path.relpath(args.output)}"), file=sys.stderr)


if __name__ == "__main__":
    main()
