#!/usr/bin/env python3
"""Every source file of the tree names its licence in its first lines (after a #! line):
`SPDX-License-Identifier: BSD-2-Clause`, in the comment syntax of its language. Lists each file
that does not and exits 1 if there is any."""
import os
import subprocess
import sys

LINE = 'SPDX-License-Identifier: BSD-2-Clause'
BY_SUFFIX = {
    ('.cpp', '.hpp', '.c', '.h', '.mjs', '.js'): '// ' + LINE,
    ('.py', '.sh', '.cmake', '.yaml', '.yml'): '# ' + LINE,
    ('.lua',): '-- ' + LINE,
}
BY_NAME = {'CMakeLists.txt': '# ' + LINE}
# Folders of scripts without a suffix: each is a program with a #! line.
SCRIPT_DIRS = ('scripts/', '.ci/', 'tools/devcerts')
# Data, not source: seed corpora, generated or vendored files, the contract's example bodies.
EXEMPT = ('tests/fuzz/seeds', 'debian/', 'node_modules/', 'package-lock.json', 'docs/')


def comment_for(path):
    name = os.path.basename(path)
    if name in BY_NAME:
        return BY_NAME[name]
    for suffixes, comment in BY_SUFFIX.items():
        if path.endswith(suffixes):
            return comment
    if path.startswith(SCRIPT_DIRS) and '.' not in name:
        return '# ' + LINE
    return None


def wanted(path):
    return not path.startswith(EXEMPT) and not path.endswith('.in')


def has_line(text):
    head = text.split('\n', 3)[:3]
    return any(LINE in h for h in head)


def main(root):
    files = subprocess.run(['git', '-C', root, 'ls-files'], capture_output=True, text=True,
                           check=True).stdout.split()
    missing = []
    for f in files:
        if comment_for(f) is None or not wanted(f) or not os.path.isfile(os.path.join(root, f)):
            continue
        with open(os.path.join(root, f), encoding='utf-8', errors='replace') as fh:
            if not has_line(fh.read(4096)):
                missing.append(f)
    for f in missing:
        print(f'{f}: no "{LINE}" line at its top')
    if missing:
        print(f'{len(missing)} source files without their licence line')
        return 1
    print(f'every source file names its licence ({LINE})')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', '..')))
