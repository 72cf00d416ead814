#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""docs/hosting.md promises that every example API location sets `client_max_body_size 16k;` and
`error_page 413 @pushsync_body_too_large;`, and names the location that answers it: checked over
every nginx block of README.md and docs/hosting.md and over the shipped conf/nginx.conf."""
import pathlib
import re
import sys

REQUIRED = ['client_max_body_size 16k;', 'error_page 413 @pushsync_body_too_large;']


def locations(text):
    """(name, body) of every `location NAME { … }`, braces balanced, comments dropped."""
    text = re.sub(r'#[^\n]*', '', text)
    for m in re.finditer(r'\blocation\s+([^{;]*?)\s*\{', text):
        depth, i = 1, m.end()
        while i < len(text) and depth:
            depth += {'{': 1, '}': -1}.get(text[i], 0)
            i += 1
        yield m.group(1), text[m.end():i - 1]


def check(label, sources, problems):
    names = set()
    api = 0
    for where, text in sources:
        for name, body in locations(text):
            names.add(name)
            if not re.search(r'\bpushsync_api;', body) or body.strip() == 'pushsync_api;':
                continue  # `location /v1/ { pushsync_api; }` only shows where paths start
            api += 1
            for line in REQUIRED:
                if line not in ' '.join(body.split()):
                    problems.append(f'{where}: location {name} serves pushsync_api without `{line}`')
    if api and '@pushsync_body_too_large' not in names:
        problems.append(f'{label}: no `location @pushsync_body_too_large` for the error_page to name')
    if not api:
        problems.append(f'{label}: no API location found (has the example moved?)')


def main(root):
    root = pathlib.Path(root)
    problems = []
    for doc in ['README.md', 'docs/hosting.md']:
        text = (root / doc).read_text()
        blocks = []
        for m in re.finditer(r'```nginx\n(.*?)```', text, re.S):
            line = text.count('\n', 0, m.start()) + 1
            blocks.append((f'{doc}:{line}', m.group(1)))
        check(doc, blocks, problems)
    conf = root / 'conf/nginx.conf'
    check('conf/nginx.conf', [('conf/nginx.conf', conf.read_text())], problems)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
