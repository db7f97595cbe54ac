#!/usr/bin/env python3
"""man-examples.py: the examples of the EXAMPLES sections of mdoc pages, as files a test runs.

  man-examples.py OUTDIR PAGE...

For each example of a page's EXAMPLES section (a .Bd -literal display, or a .Dl line) it writes
OUTDIR/<page>.<n>.sh, the commands, and prints one line to standard output:

  ID <TAB> KIND <TAB> PG <TAB> WHERE <TAB> TITLE

  ID     <page>.<n>, the stem of the files written
  KIND   sh          a script: ID.sh
         transcript  "$ command" lines and the output they print: ID.sh and ID.out
         record      an audit record the page shows (JSON, folded for reading): ID.json,
                     and in ID.sh the command of the paragraph that introduces it (its .Ql)
         bad         an example this script cannot turn into commands (the reason is TITLE)
  PG     1 when the example needs a PostgreSQL server (it runs psql, pg_dump or pg_restore)
  WHERE  page:line of the example in the source
  TITLE  the sentence that introduces it, for messages

roff escapes are turned into the characters they print; an escape this script does not know
makes the example bad, so that nothing is run other than what the page shows.
"""
import json
import os
import re
import sys

ESCAPES = {
    "e": "\\", "\\": "\\", "&": "", "-": "-", " ": " ", "|": "", "^": "", ".": ".",
    "(dq": '"', "(aq": "'", "(ga": "`", "(ti": "~", "(ha": "^", "(lq": '"', "(rq": '"',
    "(oq": "'", "(cq": "'", "(em": "--", "(en": "-", "(hy": "-", "(bu": "*",
}
MACRO = re.compile(r"^[A-Z][a-z][a-z]?$")
PG = re.compile(r"(^|[\s|;(])(psql|pg_dump|pg_restore)(\s|$)")


class Bad(Exception):
    pass


def unescape(s):
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        for key in ("(" + s[i + 2:i + 4] if s[i + 1:i + 2] == "(" else None, s[i + 1:i + 2]):
            if key and key in ESCAPES:
                out.append(ESCAPES[key])
                i += 1 + len(key)
                break
        else:
            raise Bad("unknown roff escape \\" + s[i + 1:i + 4])
    return "".join(out)


def words(line):
    """A macro line's arguments, with mdoc's quoting."""
    return [a[1:-1].replace('""', '"') if a.startswith('"') else a
            for a in re.findall(r'"(?:[^"]|"")*"|\S+', line)]


def plain(lines):
    """The text of a paragraph, macros left out, for titles."""
    text = []
    for ln in lines:
        if ln.startswith("."):
            flag = False
            for w in words(ln):
                if MACRO.match(w.lstrip(".")):
                    flag = w.lstrip(".") == "Fl"
                else:
                    text.append("-" + w if flag and not re.match(r"^[,.:;()]$", w) else w)
        else:
            text.append(ln)
    try:
        t = unescape(" ".join(text))
    except Bad:
        t = " ".join(text)
    t = re.sub(r"\s+([,.:;)])", r"\1", re.sub(r"\(\s+", "(", t))
    return t.strip()


def ql_command(lines):
    """The argument of the paragraph's .Ql that names an anon tool, if any."""
    for ln in lines:
        if ln.startswith(".Ql "):
            args = words(ln)[1:]
            if args and re.match(r"^[,.:;)]$", args[-1]):
                args = args[:-1]
            cmd = unescape(" ".join(args))
            if cmd.startswith("anon-"):
                return cmd
    return None


def split_transcript(body):
    """'$ ' command lines (and their backslash continuations) from the output lines."""
    cmds, out, cont = [], [], False
    for ln in body:
        if cont or ln.startswith("$ "):
            cmds.append(ln if cont else ln[2:])
            cont = ln.endswith("\\")
        else:
            out.append(ln)
    return cmds, out


def examples(path):
    name = os.path.basename(path)
    with open(path, encoding="utf-8") as f:
        src = f.read().split("\n")
    in_ex, para, found, i = False, [], [], 0
    while i < len(src):
        ln, where = src[i], "%s:%d" % (name, i + 1)
        i += 1
        if ln.startswith(".Sh "):
            in_ex = ln.split(None, 1)[1].strip() == "EXAMPLES"
            para = []
            continue
        if not in_ex:
            continue
        if ln in (".Pp", ".Lp", ".PP"):
            para = []
        elif ln.startswith(".Bd ") and "-literal" in ln.split():
            body = []
            while i < len(src) and src[i] != ".Ed":
                body.append(src[i])
                i += 1
            i += 1
            found.append((where, para, body, False))
            para = []
        elif ln.startswith(".Dl "):
            found.append((where, para, [ln[4:]], True))
        else:
            para.append(ln)
    return found


def main(argv):
    outdir, pages = argv[1], argv[2:]
    for path in pages:
        page = os.path.basename(path)
        for n, (where, para, body, dl) in enumerate(examples(path), 1):
            ident = "%s.%d" % (page, n)
            title = plain(para) or "(no introduction)"
            kind, files = "sh", {}
            try:
                if any(ln.startswith(".") for ln in body):
                    raise Bad("a macro inside the display")
                if dl:
                    # mdoc reads a .Dl line as macro arguments: quotes are removed
                    if any(MACRO.match(w) for w in words(body[0])):
                        raise Bad(".Dl with macros: write the command as plain text")
                    body = [" ".join(words(body[0]))]
                lines = [unescape(ln) for ln in body]
                if lines and lines[0].lstrip().startswith("{"):
                    kind = "record"
                    record = json.loads(" ".join(lines))
                    files["json"] = json.dumps(record) + "\n"
                    cmd = ql_command(para)
                    if not cmd:
                        raise Bad("an audit record with no .Ql command before it")
                    files["sh"] = cmd + "\n"
                elif lines and lines[0].startswith("$ "):
                    kind = "transcript"
                    cmds, out = split_transcript(lines)
                    files["sh"] = "\n".join(cmds) + "\n"
                    files["out"] = "".join(o + "\n" for o in out)
                else:
                    files["sh"] = "\n".join(lines) + "\n"
            except (Bad, ValueError) as e:
                kind, title, files = "bad", "%s: %s" % (title, e), {}
            for ext, text in files.items():
                with open(os.path.join(outdir, ident + "." + ext), "w", encoding="utf-8") as f:
                    f.write(text)
            pg = "1" if PG.search(files.get("sh", "")) else "0"
            print("\t".join((ident, kind, pg, where, title.replace("\t", " "))))



if __name__ == "__main__":
    main(sys.argv)
