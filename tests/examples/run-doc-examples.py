#!/usr/bin/env python3
"""Runs the examples of the user guides as written and checks their exit codes.

For each page, the ```sh blocks run in order in one bash process, from a stand-in for the
repository's top folder (holding a copy of samples/ and build/cli/tfadesk, a link to the binary
under test), as a reader following the page would run them. Each command must exit 0, or N when
its line ends in `# exit N`. A block right after a line `<!-- not run: ... -->` is skipped (a
crontab, a fragment); a block right after `<!-- file: NAME -->` is written to NAME, in the
current folder at that point, instead of being run.

Usage: run-doc-examples.py TFADESK_BINARY SOURCE_DIR [PAGE.md ...]
"""
import os, re, shlex, shutil, subprocess, sys, tempfile

PAGES = ["docs/agent-guide.md", "docs/operator-guide.md", "docs/auditor-guide.md",
         "docs/admin-guide.md", "docs/commands.md", "docs/formats.md", "docs/exit-codes.md",
         "docs/backup.md"]  # SPEC §16


def script_for(page_text):
    """The page's runnable examples as one bash script that reports each wrong exit code."""
    lines = page_text.split("\n")
    out = ['__fail=0',
           '__check() { if [ "$2" != "$1" ]; then echo "FAIL line $3: expected exit $1, got $2" >&2; __fail=1; fi; }']
    marker, i, commands = None, 0, 0
    while i < len(lines):
        m = re.match(r'^<!--\s*(not run|file:\s*(\S+))', lines[i])
        if m:
            marker = ("file", m.group(2)) if m.group(2) else ("skip", None)
            i += 1
            continue
        fence = re.match(r'^(\s*)```(\S+)\s*$', lines[i])
        if not fence:
            if lines[i].strip():
                marker = None
            i += 1
            continue
        indent, lang, start = len(fence.group(1)), fence.group(2), i + 1
        end = start
        while not lines[end].strip().startswith("```"):
            end += 1
        body = [l[indent:] for l in lines[start:end]]
        if marker and marker[0] == "file":
            out += ["cat > %s <<'__DOC_EOF__'" % marker[1]] + body + ["__DOC_EOF__"]
        elif lang == "sh" and not marker:
            k = 0
            while k < len(body):
                first, cmd = start + k + 1, [body[k]]
                while cmd[-1].endswith("\\") and k + 1 < len(body):
                    k += 1
                    cmd.append(body[k])
                k += 1
                text = "\n".join(cmd)
                if not text.strip() or text.lstrip().startswith("#"):
                    continue
                want = re.search(r'#\s*exit (\d+)\s*$', cmd[-1])
                out += ["echo %s" % shlex.quote("$ " + text), text,
                        "__check %s $? %d" % (want.group(1) if want else "0", first)]
                commands += 1
        marker = None
        i = end + 1
    return "\n".join(out + ['exit $__fail']) + "\n", commands


def main():
    binary, source = os.path.realpath(sys.argv[1]), os.path.realpath(sys.argv[2])
    pages = sys.argv[3:] or PAGES
    failed = 0
    for page in pages:
        with tempfile.TemporaryDirectory(prefix="tfadesk-docs-") as work:
            repo = os.path.join(work, "repo")
            os.makedirs(os.path.join(repo, "build", "cli"))
            os.symlink(binary, os.path.join(repo, "build", "cli", "tfadesk"))
            shutil.copytree(os.path.join(source, "samples"), os.path.join(repo, "samples"))
            os.makedirs(os.path.join(work, "tmp"))
            with open(os.path.join(source, page), encoding="utf-8") as f:
                script, commands = script_for(f.read())
            env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": work, "LANG": "C.UTF-8",
                   "TMPDIR": os.path.join(work, "tmp")}
            r = subprocess.run(["bash", "-c", script], cwd=repo, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            ok = r.returncode == 0 and commands > 0
            print("%s %s (%d commands)" % ("ok  " if ok else "FAIL", page, commands))
            if not ok:
                failed += 1
                print(r.stdout)
    print("%d page(s) failed" % failed if failed else "all pages passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
