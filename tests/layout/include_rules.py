#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""The layout's two rules, checked on the tree (DEVELOPERS.md, "Layout").

1. No folder holds more than MAX_FILES source files: a folder that grows past it is split by
   stage, not left to become a heap again.
2. Includes point one way: from a stage to what it is built on, never back up. A header a folder
   includes is either in the folder itself or in one of the folders its entry in ALLOWED names.

Prints one line per breach (file:line: what is wrong) and exits 1 if there is any.
"""
import os
import re
import sys

MAX_FILES = 16
SOURCE = ('.cpp', '.hpp', '.c', '.h')
SKIP_DIRS = {'.git', 'build', 'node_modules', 'debian'}

# folder -> the folders its files may include from besides itself. A folder absent here inherits
# its parent's entry. "shared/" alone means shared's root files, "shared/**" the whole tree.
BASE_SHARED = ['shared/']
ALLOWED = {
    'shared/': [],
    'shared/config/': BASE_SHARED,
    'shared/store/': BASE_SHARED + ['shared/config/'],
    'shared/queue/': BASE_SHARED + ['shared/config/'],
    'shared/metrics/': BASE_SHARED + ['shared/config/'],
    # nginx-free request logic and pages: never the nginx glue at the module's root.
    'ngx_module/api/': ['shared/**'],
    'ngx_module/admin/': ['shared/**', 'ngx_module/api/'],
    'ngx_module/writes/': ['shared/**', 'ngx_module/', 'ngx_module/api/'],
    'ngx_module/': ['shared/**', 'ngx_module/**'],
    # the sender: its root holds the base every stage builds on (transport.hpp: the seam) and the
    # pipeline that wires the stages; the stages never reach a platform, a platform never a stage.
    'sender/': ['shared/**', 'sender/intake/', 'sender/fanout/', 'sender/dispatch/'],
    'sender/intake/': ['shared/**', 'sender/'],
    'sender/fanout/': ['shared/**', 'sender/', 'sender/intake/'],
    'sender/dispatch/': ['shared/**', 'sender/', 'sender/intake/', 'sender/fanout/'],
    'sender/net/': ['shared/**', 'sender/'],
    'sender/apns/': ['shared/**', 'sender/', 'sender/net/'],
    'sender/fcm/auth/': ['shared/**', 'sender/'],
    'sender/fcm/': ['shared/**', 'sender/', 'sender/net/', 'sender/fcm/auth/'],
    'sender/webpush/': ['shared/**', 'sender/', 'sender/net/'],
    'sender/daemon/': ['shared/**', 'sender/**'],
    'cli/': ['shared/**', 'cli/commands/'],
    # check credentials reads every key file with the sender's own parsers.
    'cli/commands/': ['shared/**', 'cli/', 'sender/apns/', 'sender/net/', 'sender/fcm/auth/'],
    # the simulators: tools/sim-common is what they share, below both (net/ is plain sockets,
    # TLS and OpenSSL handles, below everything); it never reaches a simulator, nor one the other.
    'tools/sim-common/net/': [],
    'tools/sim-common/log/': [],
    'tools/sim-common/control/': ['tools/sim-common/net/'],
    'tools/sim-common/h2/': ['tools/sim-common/net/', 'tools/sim-common/log/'],
    'tools/sim-common/': ['tools/sim-common/**'],
    # a simulator's root holds its options (the base) and the servers that wire the parts.
    'tools/apns-sim/requests/': ['tools/apns-sim/', 'tools/sim-common/**'],
    'tools/apns-sim/auth/': ['tools/apns-sim/', 'tools/apns-sim/requests/', 'tools/sim-common/**'],
    'tools/apns-sim/': ['tools/apns-sim/**', 'tools/sim-common/**'],
    'tools/fcm-sim/auth/': ['tools/fcm-sim/', 'tools/sim-common/**'],
    'tools/fcm-sim/send/': ['tools/fcm-sim/', 'tools/sim-common/**'],
    'tools/fcm-sim/': ['tools/fcm-sim/**', 'tools/sim-common/**'],
    'tests/': ['**'],
    'bench/': ['**'],
}
# Folders whose files' quoted includes are relative to them rather than to the repository root;
# an include not found there is looked up from the root (tools/sim-common/... in a simulator).
RELATIVE_ROOTS = ['tools/apns-sim/', 'tools/fcm-sim/']
# The per-folder limit does not apply to data folders of the tests (seed corpora).
COUNT_EXEMPT = ('tests/fuzz/seeds',)

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def rule_for(folder):
    f = folder
    while True:
        if f in ALLOWED:
            return ALLOWED[f]
        if f == '':
            return ['**']
        f = f[:-1].rpartition('/')[0]
        f = f + '/' if f else ''


def permitted(target_folder, own, allowed):
    if target_folder == own:
        return True
    for a in allowed:
        if a == '**':
            return True
        if a.endswith('/**'):
            if target_folder.startswith(a[:-2]):
                return True
        elif target_folder == a:
            return True
    return False


def main(root):
    breaches = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        rel = os.path.relpath(dirpath, root)
        folder = '' if rel == '.' else rel + '/'
        sources = [f for f in filenames if f.endswith(SOURCE)]
        if len(sources) > MAX_FILES and not folder.startswith(COUNT_EXEMPT):
            breaches.append(f'{folder}: {len(sources)} source files, more than {MAX_FILES}: split it by stage')
        for name in sorted(sources):
            path = folder + name
            allowed = rule_for(folder)
            base = next((r for r in RELATIVE_ROOTS if path.startswith(r)), '')
            with open(os.path.join(root, path), encoding='utf-8', errors='replace') as fh:
                for n, line in enumerate(fh, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    target = base + m.group(1)
                    if base and not os.path.exists(os.path.join(root, target)):
                        target = m.group(1)
                    if not os.path.exists(os.path.join(root, target)):
                        continue  # a generated header (pushsync_version.hpp) or a system one
                    tfolder = target.rpartition('/')[0] + '/' if '/' in target else ''
                    if not permitted(tfolder, folder, allowed):
                        breaches.append(f'{path}:{n}: includes {target}, which {folder} may not '
                                        f'(it may include {", ".join(allowed) or "only its own folder"})')
    for b in breaches:
        print(b)
    if breaches:
        print(f'{len(breaches)} layout breaches')
        return 1
    print('layout: every folder within its size, every include pointing down')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', '..')))
