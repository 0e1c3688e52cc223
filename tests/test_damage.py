"""A memory that never pretends, on real states of the bundled model.

Fault injection at every file-system step of the saves of `remember` and `sleep` (an edit file, the
adapter, the anchors, the way back, the ledger, the pruning): a kill there, ENOSPC there, EROFS
there. After each the state must load whole with the old content or the new, the facts confirmed
before must be recalled as before, and a failed save must leave the old state. Then one test for each
way a user meets trouble: damaged edit files, a missing memory, a ledger that is not one, a newer
format, unknown files, recover on a healthy state, a closed pipe, a model that is not on this machine,
a full disk before the compute.
"""
import dataclasses
import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fast import fast_config

from logos_core.app import cli
from logos_core.measure.evaluate import recall
from logos_core.measure.facts import load_bank
from logos_core.memory import state
from logos_core.memory.files import read_adapters, read_edits, read_ledger
from logos_core.memory.machine import LogosMachine


class Killed(BaseException):
    """The process died here: nothing after this point runs, cleanup included."""


class Faults:
    """Counts the file-system calls made under `root` (open, write, fsync, rename, unlink, mkdir) and
    makes the `at`-th one fail: with OSError(`err`) (then the file system works again), or, with
    err=None, as a kill (that call and every later one raise Killed, so no cleanup runs either, as
    after SIGKILL)."""

    def __init__(self, root: Path, at: int | None = None, err: int | None = None):
        self.root, self.at, self.err = str(root), at, err
        self.n, self.dead, self.fds, self.steps = 0, False, set(), []

    def _under(self, p) -> bool:
        return isinstance(p, (str, os.PathLike)) and os.path.abspath(os.fspath(p)).startswith(self.root)

    def step(self, what: str, where) -> None:
        if self.dead:
            raise Killed()
        self.n += 1
        self.steps.append(f"{what} {os.path.relpath(os.fspath(where), self.root) if where else ''}")
        if self.n == self.at:
            if self.err is None:
                self.dead = True
                raise Killed()
            raise OSError(self.err, os.strerror(self.err), os.fspath(where) if where else None)

    def install(self, mp) -> "Faults":
        real = {k: getattr(os, k) for k in ("open", "fsync", "replace", "unlink", "mkdir", "fdopen")}
        me = self

        def open_(p, *a, **k):
            if me._under(p):
                me.step("open", p)
                fd = real["open"](p, *a, **k)
                me.fds.add(fd)
                return fd
            return real["open"](p, *a, **k)

        def fsync(fd):
            if fd in me.fds:
                me.step("fsync", None)
            return real["fsync"](fd)

        def replace(a, b, *x, **k):
            if me._under(b):
                me.step("rename", b)
            return real["replace"](a, b, *x, **k)

        def unlink(p, *a, **k):
            if me._under(p):
                me.step("unlink", p)
            return real["unlink"](p, *a, **k)

        def mkdir(p, *a, **k):
            if me._under(p):
                me.step("mkdir", p)
            return real["mkdir"](p, *a, **k)

        class Written:
            def __init__(self, f):
                self.f = f

            def write(self, b):
                me.step("write", None)
                return self.f.write(b)

            def __getattr__(self, k):
                return getattr(self.f, k)

            def __enter__(self):
                return self

            def __exit__(self, *e):
                self.f.close()

        def fdopen(fd, *a, **k):
            f = real["fdopen"](fd, *a, **k)
            return Written(f) if fd in me.fds else f

        for k, v in dict(open=open_, fsync=fsync, replace=replace, unlink=unlink, mkdir=mkdir, fdopen=fdopen).items():
            mp.setattr(os, k, v)
        return self


def _content(path: Path) -> dict:
    """What a state holds: its ledger and the bytes of every file the ledger names (read whole)."""
    d = read_ledger(path)
    edits, damaged = read_edits(path, d)
    assert not damaged, damaged
    read_adapters(path, d)
    files = {f"edits/{e['id']}": (path / "edits" / f"{e['id']}.safetensors").read_bytes() for e in d["edits"]}
    files |= {f"adapters/{a['id']}": (path / "adapters" / f"{a['id']}.safetensors").read_bytes() for a in d["adapters"]}
    if d["anchors"]:
        files["anchors"] = (path / "anchors.safetensors").read_bytes() + (path / "anchors.json").read_bytes()
    return {"ledger": d, "files": files}


def _copy(src: Path, dst: Path) -> Path:
    # hard links: a state's files are never rewritten in place (temp file, then rename), so a copy
    # made of links stays as it was whatever is done to the other
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst, copy_function=os.link)
    return dst


def _chat_hits(path: Path) -> dict:
    m = LogosMachine.open(path, write=False)
    facts = m.facts()
    r = recall(m.lm, facts, modes=("chat",))
    return {f.statement: bool(h) for f, h in zip(facts, r["chat_hits"])}


def _no_leftovers(path: Path) -> None:
    tmp = [f for f in path.rglob("*.tmp")]
    d = read_ledger(path)
    named = {e["id"] for e in d["edits"]} | {a["id"] for a in d["adapters"]}
    prev = read_ledger(path, state.PREV) or {"edits": [], "adapters": []}
    named |= {e["id"] for e in prev["edits"]} | {a["id"] for a in prev["adapters"]}
    orphans = [f for sub in ("edits", "adapters") for f in (path / sub).glob("*.safetensors")
               if f.name.split(".")[0] not in named]
    assert not tmp and not orphans, (tmp, orphans)


def _fault_every_step(m, old_dir: Path, work: Path, monkeypatch) -> dict:
    """Save `m` (whose saved state is old_dir) with a fault at every step: kills, ENOSPC, EROFS."""
    old = _content(old_dir)
    _copy(old_dir, work)
    counted = Faults(work.resolve())
    with monkeypatch.context() as mp:
        counted.install(mp)
        state.save_state(m, work)
    new = _content(work)
    assert new != old and counted.n >= 10, counted.steps
    outcomes = {"old": 0, "new": 0}
    for at in range(1, counted.n + 1):
        for err in (None, errno.ENOSPC, errno.EROFS):
            _copy(old_dir, work)
            f = Faults(work.resolve(), at, err)
            failed = None
            with monkeypatch.context() as mp:
                f.install(mp)
                try:
                    state.save_state(m, work)
                except (Killed, OSError) as e:
                    failed = e
            got = _content(work)                  # loads whole, every named file read
            where = (at, err, counted.steps[at - 1])
            assert got in (old, new), where
            outcomes["old" if got == old else "new"] += 1
            if isinstance(failed, OSError):
                # a failure the command reports leaves the old state, except once the ledger is
                # renamed into place (its folder's fsync fails): then the new state is there, whole
                assert got == old or "rename ledger.json" in counted.steps[:at - 1], where
                line = cli.os_error_line(failed)
                assert "\n" not in line and ("disk is full" in line or "read-only" in line), line
            elif failed is None:
                assert got == new, where          # a fault the save can do without (pruning)
            state.save_state(m, work)              # the next save completes and tidies up
            assert _content(work) == new, where
            _no_leftovers(work)
    outcomes["points"] = counted.n
    return outcomes


@pytest.fixture(scope="module")
def states(tmp_path_factory, lm):
    """Real states: 'told' (two facts, then one corrected, so its old edit is in the way back only),
    and the machine that slept once on it (not saved), for sleep's save."""
    root = tmp_path_factory.mktemp("states")
    facts = load_bank().sample(3, seed=5)
    m = LogosMachine.open(root / "told", cfg=fast_config())
    m.inject(facts[:2])
    m.save()
    m.inject([dataclasses.replace(facts[0], object="Reykjavik", statement=f"{facts[0].subject} moved to Reykjavik.")])
    m.save()
    m.close()
    return root / "told", facts


def test_faults_at_every_step_of_remember_and_sleep(states, tmp_path, monkeypatch, capsys):
    told, facts = states
    m = LogosMachine.open(_copy(told, tmp_path / "sleeping"), write=False)
    m.sleep(1)                                            # adapter, anchors, ledger; the corrected edit pruned
    slept = tmp_path / "slept"
    state.save_state(m, _copy(told, slept))
    sleep_out = _fault_every_step(m, told, tmp_path / "w", monkeypatch)
    m = LogosMachine.open(slept, write=False)
    m.inject(facts[2:])                                   # remember one more fact on the slept state
    remember_out = _fault_every_step(m, slept, tmp_path / "w", monkeypatch)
    # the facts confirmed before are recalled as before, in the old and the new content alike
    before = _chat_hits(slept)
    state.save_state(m, slept)
    after = _chat_hits(slept)
    assert all(after[s] == h for s, h in before.items()), (before, after)
    with capsys.disabled():
        print(f"\nfault points x outcomes: remember {remember_out['points']} x 3, sleep {sleep_out['points']} x 3; "
              f"left old/new: remember {remember_out['old']}/{remember_out['new']}, "
              f"sleep {sleep_out['old']}/{sleep_out['new']}")


def _damaged(told: Path, tmp_path: Path, how: str) -> tuple:
    path = _copy(told, tmp_path / how)
    d = read_ledger(path)
    held = {e["edit"]: e["fact"]["statement"] for e in d["ledger"]["facts"]}
    eid = d["edits"][-1]["id"]
    f = path / "edits" / f"{eid}.safetensors"
    data = f.read_bytes()
    f.unlink()                                   # a new file: the copy's link to the original goes
    if how == "missing":
        pass
    elif how == "truncated":
        f.write_bytes(data[: len(data) // 2])
    elif how == "empty":
        f.write_bytes(b"")
    else:
        from safetensors.torch import load_file, save_file
        save_file({}, str(f))
        t = load_file(str(told / "edits" / f"{eid}.safetensors"))
        if how == "wrong_shape":
            t = {k: (v[:-1] if k.startswith("u.") else v) for k, v in t.items()}
        elif how == "no_factor":
            t = {k: v for k, v in t.items() if not k.startswith("v.")}
        elif how == "no_update":
            t = {k: v for k, v in t.items() if k.startswith("key.")}
        save_file(t, str(f))
    return path, held[eid], [s for e, s in held.items() if e != eid]


@pytest.mark.parametrize("how", ["missing", "truncated", "empty", "wrong_shape", "no_factor", "no_update"])
def test_a_damaged_edit_costs_only_its_fact(states, tmp_path, capsys, how):
    told = states[0]
    path, lost, kept = _damaged(told, tmp_path, how)
    m = LogosMachine.open(path, write=False)          # the rest loads and answers
    assert len(m.damaged) == 1 and len(m.book.edits) == len(kept)
    m.close()
    if how != "truncated":
        return
    # the whole way out, once: named by every command, refused by a writer, withdrawn by repair
    st = str(path)
    q = load_bank().sample(3, seed=5)[1].chat_question
    assert cli.main(["ask", q, "--state", st]) == 0
    out = capsys.readouterr()
    err = out.err.strip().splitlines()
    assert len(err) == 1 and lost in err[0] and "logos repair" in err[0], err
    assert cli.main(["remember", "Ilse Varnhagen lives in Tromso.", "--state", st]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "logos repair" in err[0], err
    before = read_ledger(path)
    assert cli.main(["repair", "--state", st]) == 0
    assert lost in capsys.readouterr().err
    d = read_ledger(path)
    assert [e["fact"]["statement"] for e in d["ledger"]["facts"]] == kept
    gone = [e for e in d["ledger"]["retired"] if e["fact"]["statement"] == lost]
    assert gone and gone[0]["history"][-1]["event"] == "damaged"    # kept, so it can be told again
    assert len(d["ledger"]["retired"]) == len(before["ledger"]["retired"]) + 1
    assert cli.main(["repair", "--state", st]) == 0 and "nothing to repair" in capsys.readouterr().err
    assert _chat_hits(path) == {s: h for s, h in _chat_hits(told).items() if s in kept}


def _one_line(capsys, *want) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err and all(w in err for w in want), err
    return err


def test_a_missing_memory_is_never_an_empty_one(states, tmp_path, capsys):
    told = states[0]
    gone = _copy(told, tmp_path / "no_ledger")
    (gone / "ledger.json").unlink()
    for cmd in (["status"], ["ask", "Where?"], ["remember", "Ilse Varnhagen lives in Tromso."], ["sleep"]):
        assert cli.main([*cmd, "--state", str(gone)]) == 2, cmd
        _one_line(capsys, "no ledger.json", "logos recover")
    assert cli.main(["recover", "--state", str(gone)]) == 0 and read_ledger(gone) is not None
    capsys.readouterr()
    f = tmp_path / "a_file"
    f.write_text("notes")
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "holiday.jpg").write_bytes(b"\xff\xd8")
    for where, want in ((f, "is a file"), (foreign, "not a logos memory"), (tmp_path / "no" / "such" / "dir", "does not exist"),
                        (Path("/proc/self/status_dir"), "")):
        for cmd in (["status"], ["remember", "Ilse Varnhagen lives in Tromso."]):
            assert cli.main([*cmd, "--state", str(where)]) == 2, (cmd, where)
            _one_line(capsys, want)
    assert (foreign / "holiday.jpg").exists() and f.read_text() == "notes"
    for cmd in (["status"], ["ask", "Where?"], ["recall"], ["repair"], ["sleep"]):
        assert cli.main([*cmd, "--state", str(tmp_path / "never_made")]) == 2, cmd
        _one_line(capsys, "no memory at")
    assert not (tmp_path / "never_made").exists()


def test_the_ledger_is_checked_by_its_schema(states, tmp_path, capsys):
    told = states[0]
    d = read_ledger(told)
    broken = [{"format": 2, "ledger": {}}, [1, 2], dict(d, cycle="three"), dict(d, edits=[{"id": "x", "scale": 1}]),
              dict(d, ledger=dict(d["ledger"], facts="Aria lives in Lisbon.")),
              dict(d, ledger=dict(d["ledger"], facts=[dict(d["ledger"]["facts"][0], stage=7)])),
              dict(d, ledger=dict(d["ledger"], facts=[dict(d["ledger"]["facts"][0], edit="0123456789ab")])),
              dict(d, adapters=[{"id": "cycle0001", "scaling": {"m": "big"}}]), dict(d, base_ppl="low")]
    path = tmp_path / "bad"
    for i, bad in enumerate(broken):
        _copy(told, path)
        (path / "ledger.json").unlink()
        (path / "ledger.json").write_text(json.dumps(bad))
        for cmd in (["status"], ["ask", "Where?"]):
            assert cli.main([*cmd, "--state", str(path)]) == 2, (i, cmd)
            _one_line(capsys, "damaged", "logos recover")
    # a newer format is newer, not damaged: no recover offered, none done
    (path / "ledger.json").unlink()
    (path / "ledger.json").write_text(json.dumps(dict(d, format=3)))
    for cmd in (["status"], ["ask", "Where?"], ["recover", "--yes"]):
        assert cli.main([*cmd, "--state", str(path)]) == 2, cmd
        _one_line(capsys, "newer logos", "upgrade")
    assert json.loads((path / "ledger.json").read_text())["format"] == 3


def test_recover_asks_and_unknown_files_stay(states, tmp_path, capsys):
    path = _copy(states[0], tmp_path / "s")
    now = (path / "ledger.json").read_bytes()
    assert cli.main(["recover", "--state", str(path)]) == 2
    _one_line(capsys, "healthy", "--yes")
    assert (path / "ledger.json").read_bytes() == now
    mine = [path / "edits" / "backup-of-aria.safetensors", path / "adapters" / "notes.txt", path / "README"]
    (path / "adapters").mkdir(exist_ok=True)
    for f in mine:
        f.write_text("mine")
    assert cli.main(["remember", "Ilse Varnhagen lives in Tromso.", "--state", str(path)]) == 0
    assert cli.main(["recover", "--yes", "--state", str(path)]) == 0
    assert (path / "ledger.json").read_bytes() == now and all(f.read_text() == "mine" for f in mine)


def test_a_full_disk_is_found_before_the_compute(states, tmp_path, capsys, monkeypatch):
    from logos_core.app import remember
    from logos_core.memory import state

    path = _copy(states[0], tmp_path / "s")
    before = _content(path)
    opened = []     # the full machine and the plain one both open a state here
    monkeypatch.setattr(state, "open_state", lambda *a, **k: opened.append(1))
    monkeypatch.setattr(remember.shutil, "disk_usage", lambda p: shutil._ntuple_diskusage(10**9, 10**9 - 2**20, 2**20))
    for cmd in (["remember", "Ilse Varnhagen lives in Tromso."], ["sleep"], ["repair"]):
        assert cli.main([*cmd, "--state", str(path)]) == 2, cmd
        _one_line(capsys, "1 MB free", "free some space")
    assert not opened and _content(path) == before


@pytest.mark.parametrize("err,want", [(errno.ENOSPC, "disk is full"), (errno.EROFS, "read-only")])
def test_a_save_that_fails_is_one_line_and_changes_nothing(states, tmp_path, capsys, monkeypatch, err, want):
    """The disk fills (or turns read-only) after the compute, as the fact is written."""
    path = _copy(states[0], tmp_path / "s")
    before = _content(path)
    f = Faults(path.resolve(), at=1, err=err)
    real = f.step
    # the first file opened or written for the save fails (the lock, taken before the compute, works)
    f.step = lambda what, where: real(what, where) if what in ("open", "write") and ".lock" not in str(where) else None
    with monkeypatch.context() as mp:
        f.install(mp)
        assert cli.main(["remember", "Ilse Varnhagen lives in Tromso.", "--state", str(path)]) == 2
    _one_line(capsys, want, "as it was")
    assert _content(path) == before
    _no_leftovers(path)


def test_a_closed_pipe_and_a_missing_model_are_one_line(states, tmp_path):
    path = _copy(states[0], tmp_path / "s")
    p = subprocess.Popen([sys.executable, "-m", "logos_core.app.cli", "status", "--state", str(path)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    p.stdout.close()                             # `logos status | head -0`: the reader is gone at once
    err = p.stderr.read().strip()
    assert p.wait(timeout=120) == 2 and "\n" not in err and "output was closed" in err, err
    # a state whose model is not on this machine: one line at once (an unroutable hub address
    # would hang the command if it tried the network), and --model cannot override the state's
    d = read_ledger(path)
    (path / "ledger.json").unlink()
    (path / "ledger.json").write_text(json.dumps(dict(d, model="logos-test/not-on-this-machine")))
    env = {**os.environ, "HF_ENDPOINT": "http://10.255.255.1", "HF_HUB_ETAG_TIMEOUT": "600"}
    env.pop("HF_HUB_OFFLINE", None)
    r = subprocess.run([sys.executable, "-m", "logos_core.app.cli", "ask", "Where?", "--model", "135m",
                        "--state", str(path)], capture_output=True, text=True, env=env, timeout=120)
    err = r.stderr.strip()
    assert r.returncode == 2 and "\n" not in err and "not-on-this-machine" in err and "LOGOS_DOWNLOAD" in err, err
    assert str(path) in err
